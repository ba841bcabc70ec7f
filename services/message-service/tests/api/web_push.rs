//! Web Push to a real HTTP push endpoint in the test, which decrypts every message as a browser
//! would (RFC 8291) and checks the VAPID signature (RFC 8292) with another library: delivery to
//! people without a live connection, none to those with one, retries with backoff, nothing sent
//! twice across a restart, and expired subscriptions dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use echo_test_support::{Backend, TestApp, TestUser, WsClient};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::{id, join, post, workspace};

const WAIT: Duration = Duration::from_secs(10);

/// One request the push endpoint received, decrypted.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    /// The decrypted payload, as JSON.
    payload: Value,
    /// What the endpoint answered.
    answered: u16,
}

/// A push service endpoint: answers `fail_next` requests with `failure`, then 201.
struct PushService {
    browser: Browser,
    received: Mutex<Vec<Received>>,
    fail_next: AtomicUsize,
    failure: AtomicU16,
    url: String,
}

impl PushService {
    async fn start() -> Arc<PushService> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let service = Arc::new(PushService {
            browser: Browser::new(),
            received: Mutex::new(Vec::new()),
            fail_next: AtomicUsize::new(0),
            failure: AtomicU16::new(500),
            url,
        });
        let app = axum::Router::new()
            .route("/push/{name}", axum::routing::post(receive))
            .with_state(service.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        service
    }

    fn endpoint(&self) -> String {
        format!("{}/push/browser-1", self.url)
    }

    /// The next `n` requests fail with `status`.
    fn fail(&self, n: usize, status: u16) {
        self.failure.store(status, Ordering::SeqCst);
        self.fail_next.store(n, Ordering::SeqCst);
    }

    async fn received(&self) -> Vec<Received> {
        self.received.lock().await.clone()
    }

    /// The accepted pushes of one notification.
    async fn accepted_for(&self, notification_id: &str) -> Vec<Received> {
        self.received()
            .await
            .into_iter()
            .filter(|r| r.answered == 201 && r.payload["notification"]["id"] == notification_id)
            .collect()
    }

    /// Waits until `count` pushes of the message were accepted; returns them.
    async fn await_accepted(&self, message_id: &str, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let accepted: Vec<Received> = self
                .received()
                .await
                .into_iter()
                .filter(|r| r.answered == 201 && r.payload["notification"]["message_id"] == message_id)
                .collect();
            if accepted.len() >= count {
                return accepted;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no push for {message_id}: {:?}",
                self.received().await
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn receive(State(service): State<Arc<PushService>>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    let payload = service.browser.decrypt(&body);
    let failing = service
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answered = if failing {
        service.failure.load(Ordering::SeqCst)
    } else {
        201
    };
    service.received.lock().await.push(Received {
        headers,
        payload,
        answered,
    });
    AxumStatus::from_u16(answered).unwrap()
}

/// A browser's push keys, and the receiving half of RFC 8291.
pub(crate) struct Browser {
    private: PrivateKey,
    public: Vec<u8>,
    auth: [u8; 16],
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    Salt::new(HKDF_SHA256, salt)
        .extract(ikm)
        .expand(&[info], Len(len))
        .unwrap()
        .fill(&mut out)
        .unwrap();
    out
}

impl Browser {
    pub(crate) fn new() -> Browser {
        let private = PrivateKey::generate(&ECDH_P256).unwrap();
        let public = private.compute_public_key().unwrap().as_ref().to_vec();
        Browser {
            private,
            public,
            auth: rand::random(),
        }
    }

    pub(crate) fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "keys": {"p256dh": URL_SAFE_NO_PAD.encode(&self.public), "auth": URL_SAFE_NO_PAD.encode(self.auth)}})
    }

    /// Decrypts an `aes128gcm` body of one record, as the browser's push service client does.
    fn decrypt(&self, body: &[u8]) -> Value {
        let (salt, rest) = body.split_at(16);
        let record_size = u32::from_be_bytes(rest[..4].try_into().unwrap());
        assert!(record_size >= 18, "record size {record_size}");
        let id_len = rest[4] as usize;
        let (sender_public, ciphertext) = rest[5..].split_at(id_len);
        let secret = agreement::agree(
            &self.private,
            UnparsedPublicKey::new(&ECDH_P256, sender_public),
            (),
            |s| Ok(s.to_vec()),
        )
        .unwrap();
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public);
        info.extend_from_slice(sender_public);
        let ikm = hkdf(&self.auth, &secret, &info, 32);
        let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
        let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12);
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).unwrap());
        let mut record = ciphertext.to_vec();
        let plain = key
            .open_in_place(
                Nonce::try_assume_unique_for_key(&nonce).unwrap(),
                Aad::empty(),
                &mut record,
            )
            .unwrap();
        // Strip the padding: zeros, then the last record's delimiter 2.
        let end = plain.iter().rposition(|b| *b != 0).unwrap();
        assert_eq!(plain[end], 2, "last-record delimiter");
        serde_json::from_slice(&plain[..end]).unwrap()
    }
}

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        let n = &mut config.messages.notifications;
        n.allow_insecure_push_endpoints = true;
        n.delivery_poll_ms = 50;
        n.delivery_backoff_ms = 100;
        n.delivery_backoff_max_ms = 400;
    })
    .await
}

async fn subscribe(app: &TestApp, user: &TestUser, service: &PushService) -> Value {
    let (status, body) = app
        .post(
            user,
            "/api/v1/users/me/push-subscriptions",
            service.browser.subscription(&service.endpoint()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Explain's `via` for `user`, once it lists `channel`.
async fn await_via(app: &TestApp, user: &TestUser, message: &Value, channel: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = app
            .get(
                user,
                &format!("/api/v1/notifications/explain?message_id={}", id(message)),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        if body["via"]
            .as_array()
            .is_some_and(|via| via.iter().any(|v| v == channel))
        {
            return body["via"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never via {channel}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the notifier can know `user` has a live connection (the event is in the log).
async fn await_connected(app: &TestApp, user: &TestUser) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let logged = app.bus.read_after(None, 100_000).await.unwrap();
        if logged.iter().any(|l| {
            l.envelope.kind == "connection.opened" && l.envelope.payload["user_id"] == user.id.to_string()
        }) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never connected",
            user.display_name
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn pair(app: &TestApp) -> (TestUser, TestUser, String) {
    let alice = app.register("Alice").await;
    let bob = app.register("Bob").await;
    let (ws, general) = workspace(app, &alice, "Acme").await;
    join(app, &alice, &ws, &bob, "member").await;
    (alice, bob, general)
}

async fn a_mention_of_someone_offline_is_pushed_to_their_browser_encrypted_and_signed(backend: Backend) {
    let app = spawn(backend).await;
    let service = PushService::start().await;
    let (alice, bob, general) = pair(&app).await;
    subscribe(&app, &bob, &service).await;

    let sent = post(&app, &alice, &general, &format!("<@{}> are you there?", bob.id)).await;

    let pushes = service.await_accepted(sent["id"].as_str().unwrap(), 1).await;
    let push = &pushes[0];
    let (status, inbox) = app.get(&bob, "/api/v1/notifications").await;
    assert_eq!(status, StatusCode::OK);
    let listed = &inbox["notifications"][0];
    for field in ["id", "kind", "message_id", "channel_id", "created_at"] {
        assert_eq!(
            push.payload["notification"][field], listed[field],
            "{field}: {}",
            push.payload
        );
    }
    assert_eq!(push.payload["preview"], sent["text"]);
    assert_eq!(push.headers["content-encoding"], "aes128gcm");
    assert_eq!(push.headers["urgency"], "high");
    assert_eq!(
        push.headers["topic"],
        listed["id"].as_str().unwrap().replace('-', "")
    );
    assert!(push.headers["ttl"].to_str().unwrap().parse::<u32>().unwrap() > 0);

    // The VAPID token verifies with the advertised key, for this push service's origin.
    let authorization = push.headers["authorization"].to_str().unwrap();
    let (token, key) = authorization
        .strip_prefix("vapid t=")
        .unwrap()
        .split_once(", k=")
        .unwrap();
    let (status, advertised) = app.get(&bob, "/api/v1/push/vapid-public-key").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(advertised["public_key"], key);
    let point = URL_SAFE_NO_PAD.decode(key).unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(
        &URL_SAFE_NO_PAD.encode(&point[1..33]),
        &URL_SAFE_NO_PAD.encode(&point[33..]),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[service.url.as_str()]);
    let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .expect("a valid VAPID token")
        .claims;
    assert!(claims["sub"].as_str().unwrap().starts_with("mailto:"));

    assert_eq!(
        await_via(&app, &bob, &sent, "web_push").await,
        json!(["inbox", "web_push"])
    );
    assert_eq!(service.received().await.len(), 1, "once");
}

async fn someone_with_a_live_connection_gets_the_event_and_no_push(backend: Backend) {
    let app = spawn(backend).await;
    let service = PushService::start().await;
    let (alice, bob, general) = pair(&app).await;
    subscribe(&app, &bob, &service).await;
    let mut socket = WsClient::connect(&app, &bob, None).await.unwrap();
    socket.next(WAIT).await.unwrap();
    await_connected(&app, &bob).await;

    let sent = post(&app, &alice, &general, &format!("<@{}> live", bob.id)).await;

    let frame = socket.next_of("notification", WAIT).await.unwrap();
    assert_eq!(frame["data"]["message_id"], sent["id"]);
    assert_eq!(
        await_via(&app, &bob, &sent, "websocket").await,
        json!(["inbox", "websocket"])
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(service.received().await.is_empty(), "no push while connected");
}

async fn failed_pushes_are_retried_and_delivered_once_even_across_a_restart(backend: Backend) {
    let mut app = spawn(backend).await;
    let service = PushService::start().await;
    let (alice, bob, general) = pair(&app).await;
    subscribe(&app, &bob, &service).await;

    service.fail(2, 503);
    let first = post(&app, &alice, &general, &format!("<@{}> one", bob.id)).await;
    let accepted = service.await_accepted(first["id"].as_str().unwrap(), 1).await;
    let first_notification = accepted[0].payload["notification"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        service.received().await.len(),
        3,
        "two failures, then the delivery"
    );

    // The push service fails for as long as Echo is down and restarting.
    service.fail(usize::MAX, 500);
    let second = post(&app, &alice, &general, &format!("<@{}> two", bob.id)).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while service.received().await.len() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no attempt at the second push"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    app.restart().await;
    service.fail(0, 500);

    let accepted = service.await_accepted(second["id"].as_str().unwrap(), 1).await;
    let second_notification = accepted[0].payload["notification"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        service.accepted_for(&first_notification).await.len(),
        1,
        "the first is not sent again after the restart"
    );
    assert_eq!(
        service.accepted_for(&second_notification).await.len(),
        1,
        "the second is sent once"
    );
    assert_eq!(
        await_via(&app, &bob, &second, "web_push").await,
        json!(["inbox", "web_push"])
    );
}

async fn a_subscription_the_push_service_says_is_gone_is_removed(backend: Backend) {
    let app = spawn(backend).await;
    let service = PushService::start().await;
    let (alice, bob, general) = pair(&app).await;
    subscribe(&app, &bob, &service).await;
    service.fail(usize::MAX, 410);

    let sent = post(&app, &alice, &general, &format!("<@{}> hello?", bob.id)).await;

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, list) = app.get(&bob, "/api/v1/users/me/push-subscriptions").await;
        if list["subscriptions"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the subscription was kept: {list}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        service.received().await.len(),
        1,
        "no retry to a gone subscription"
    );
    let (_, explained) = app
        .get(
            &bob,
            &format!("/api/v1/notifications/explain?message_id={}", id(&sent)),
        )
        .await;
    assert_eq!(explained["via"], json!(["inbox"]));
}

async fn subscriptions_are_validated_and_private_to_their_owner(backend: Backend) {
    let app = spawn(backend).await;
    let service = PushService::start().await;
    let (alice, bob, _general) = pair(&app).await;
    let mine = subscribe(&app, &bob, &service).await;
    let again = subscribe(&app, &bob, &service).await;
    assert_eq!(again["id"], mine["id"], "the same endpoint is one subscription");

    let good = service.browser.subscription(&service.endpoint());
    for (body, field) in [
        (
            json!({"endpoint": "ftp://example.com/x", "keys": good["keys"]}),
            Some("endpoint"),
        ),
        (
            json!({"endpoint": service.endpoint(), "keys": {"p256dh": "AAAA", "auth": good["keys"]["auth"]}}),
            Some("keys"),
        ),
        (
            json!({"endpoint": service.endpoint(), "keys": {"p256dh": good["keys"]["p256dh"], "auth": "!!"}}),
            Some("keys"),
        ),
        (json!({"endpoint": service.endpoint()}), None),
    ] {
        let (status, answer) = app
            .post(&bob, "/api/v1/users/me/push-subscriptions", body.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_input", "{answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["fields"][0]["field"], field, "{answer}");
        }
    }

    let (status, _) = app
        .delete(
            &alice,
            &format!("/api/v1/users/me/push-subscriptions/{}", id(&mine)),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not alice's");
    let (_, list) = app.get(&alice, "/api/v1/users/me/push-subscriptions").await;
    assert_eq!(list["subscriptions"], json!([]));
    let (status, _) = app
        .delete(
            &bob,
            &format!("/api/v1/users/me/push-subscriptions/{}", id(&mine)),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get(&bob, "/api/v1/users/me/push-subscriptions").await;
    assert_eq!(list["subscriptions"], json!([]));
}

echo_test_support::each_backend!(
    a_mention_of_someone_offline_is_pushed_to_their_browser_encrypted_and_signed,
    someone_with_a_live_connection_gets_the_event_and_no_push,
    failed_pushes_are_retried_and_delivered_once_even_across_a_restart,
    a_subscription_the_push_service_says_is_gone_is_removed,
    subscriptions_are_validated_and_private_to_their_owner,
);
