//! Forged and damaged access tokens. The deployment under test signs with a key the test knows, so
//! the test can mint tokens that are valid in every respect but the one under test.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use echo_auth::{Claims, SigningKey};
use echo_test_support::{Backend, TestApp, TestUser};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use user_service::config::KeyConfig;

async fn app_with_known_key(backend: Backend) -> (TestApp, SigningKey) {
    let key = SigningKey::generate("test-key").unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(key.pkcs8_der())
    );
    let app = TestApp::spawn_with(backend, |config| {
        config.users.signing_keys = vec![KeyConfig {
            kid: "test-key".into(),
            private_key_pem: SecretString::from(pem),
        }];
    })
    .await;
    (app, key)
}

/// The claims of a real session, to alter one at a time.
fn claims_of(user: &TestUser) -> Claims {
    let payload = user.token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn status_with(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.request(Method::GET, "/api/v1/users/me", Some(token), None)
        .await
}

async fn forged_tokens_are_refused(backend: Backend) {
    let (app, key) = app_with_known_key(backend).await;
    let alice = app.register("Alice").await;
    let real = claims_of(&alice);
    let now = chrono::Utc::now().timestamp();

    // The harness really signs with the known key: a faithful copy of the claims works.
    let faithful = key
        .sign(&Claims {
            iat: now,
            ..real.clone()
        })
        .unwrap();
    assert_eq!(status_with(&app, &faithful).await.0, StatusCode::OK);

    let expired = key
        .sign(&Claims {
            iat: now - 3600,
            exp: now - 60,
            ..real.clone()
        })
        .unwrap();
    let (status, body) = status_with(&app, &expired).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_expired"))
    );

    let wrong_audience = key
        .sign(&Claims {
            aud: "another-app".into(),
            ..real.clone()
        })
        .unwrap();
    assert_eq!(
        status_with(&app, &wrong_audience).await.0,
        StatusCode::UNAUTHORIZED
    );
    let wrong_issuer = key
        .sign(&Claims {
            iss: "someone-else".into(),
            ..real.clone()
        })
        .unwrap();
    assert_eq!(status_with(&app, &wrong_issuer).await.0, StatusCode::UNAUTHORIZED);

    let stranger_key = SigningKey::generate("test-key").unwrap();
    let same_kid_other_key = stranger_key.sign(&real).unwrap();
    assert_eq!(
        status_with(&app, &same_kid_other_key).await.0,
        StatusCode::UNAUTHORIZED
    );
    let unknown_kid = SigningKey::generate("who-knows").unwrap().sign(&real).unwrap();
    assert_eq!(status_with(&app, &unknown_kid).await.0, StatusCode::UNAUTHORIZED);

    let header_none =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": "test-key"}).to_string());
    let body_part = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&real).unwrap());
    assert_eq!(
        status_with(&app, &format!("{header_none}.{body_part}.")).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Algorithm confusion: HMAC keyed with the public key the JWKS publishes.
    let (_, jwks) = app
        .request(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    let public_x = jwks["keys"][0]["x"].as_str().unwrap();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some("test-key".into());
    for secret in [
        public_x.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(public_x).unwrap(),
    ] {
        let confused = jsonwebtoken::encode(&hs_header, &real, &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(status_with(&app, &confused).await.0, StatusCode::UNAUTHORIZED);
    }

    let mut tampered = faithful.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(status_with(&app, &tampered).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_are_refused_on_sqlite() {
    forged_tokens_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_are_refused_on_postgres() {
    forged_tokens_are_refused(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_publishes_the_signing_key() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let alice = app.register("Alice").await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(alice.token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();

    let (status, jwks) = app
        .request(Method::GET, "/.well-known/jwks.json", None, None)
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(header["alg"], "EdDSA");
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert_eq!(key["kid"], header["kid"]);
    assert!(key.get("d").is_none(), "never the private part");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_signs_new_tokens_while_old_ones_still_verify() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let alice = app.register("Alice").await;

    app.system.users.rotate_signing_key().await.unwrap();
    let bob = app.register("Bob").await;

    let kid = |t: &str| {
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(t.split('.').next().unwrap()).unwrap())
            .unwrap()["kid"]
            .clone()
    };
    assert_ne!(kid(&alice.token), kid(&bob.token));
    assert_eq!(app.get(&alice, "/api/v1/users/me").await.0, StatusCode::OK);
    assert_eq!(app.get(&bob, "/api/v1/users/me").await.0, StatusCode::OK);
}
