use echo_test_support::{TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn post_anon(app: &TestApp, path: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    app.request(Method::POST, path, None, Some(body)).await
}

on_both_backends! {
    async fn registering_returns_the_user_and_a_working_session(app: TestApp) {
        let (status, body) = post_anon(&app, "/api/v1/auth/register",
            json!({"email": "  Alice@Example.COM ", "password": "correct horse battery staple", "display_name": " Alice "})).await;

        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["user"]["email"], "alice@example.com");
        assert_eq!(body["user"]["display_name"], "Alice");
        assert!(body["expires_in"].as_u64().unwrap() > 60);
        assert!(body["refresh_token"].as_str().unwrap().len() > 30);
        let token = body["access_token"].as_str().unwrap();
        let (status, me) = app.request(Method::GET, "/api/v1/users/me", Some(token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["id"], body["user"]["id"]);
        assert_eq!(me["email"], "alice@example.com");
    }

    async fn an_email_registers_once_whatever_its_case(app: TestApp) {
        let alice = app.register("Alice").await;

        let (status, body) = post_anon(&app, "/api/v1/auth/register",
            json!({"email": alice.email.to_uppercase(), "password": "another long password", "display_name": "Mallory"})).await;

        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["code"], "email_taken");
    }

    async fn invalid_registrations_are_refused_naming_the_field(app: TestApp) {
        let cases = [
            (json!({"email": "not-an-email", "password": "correct horse battery", "display_name": "A"}), "email"),
            (json!({"email": "a@example.com", "password": "short", "display_name": "A"}), "password"),
            (json!({"email": "a@example.com", "password": "password123", "display_name": "A"}), "password"),
            (json!({"email": "a@example.com", "password": "x".repeat(257), "display_name": "A"}), "password"),
            (json!({"email": "a@example.com", "password": "correct horse battery", "display_name": "  "}), "display_name"),
            (json!({"email": "a@example.com", "password": "correct horse battery", "display_name": "bell\u{7}"}), "display_name"),
            (json!({"email": "a@example.com", "password": "correct horse battery"}), "display_name"),
            (json!({"email": 42, "password": "correct horse battery", "display_name": "A"}), "email"),
        ];
        for (body, field) in cases {
            let (status, error) = post_anon(&app, "/api/v1/auth/register", body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {error}");
            assert!(error["error"]["message"].as_str().unwrap().contains(field), "{body} -> {error}");
        }
    }

    async fn malformed_bodies_get_a_contract_error(app: TestApp) {
        let response = app.http.post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json").body("{\"email\": ").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "malformed_json");

        let response = app.http.post(app.url("/api/v1/auth/login")).body("email=a").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    async fn wrong_password_and_unknown_email_get_the_same_answer(app: TestApp) {
        let alice = app.register("Alice").await;

        let wrong_password = post_anon(&app, "/api/v1/auth/login", json!({"email": alice.email, "password": "not the password"})).await;
        let unknown_email = post_anon(&app, "/api/v1/auth/login", json!({"email": "nobody@example.test", "password": "not the password"})).await;

        assert_eq!(wrong_password.0, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_password, unknown_email);
    }

    async fn logging_in_opens_a_new_session(app: TestApp) {
        let alice = app.register("Alice").await;

        let (status, body) = post_anon(&app, "/api/v1/auth/login", json!({"email": alice.email.to_uppercase(), "password": alice.password})).await;

        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["id"], alice.id.to_string());
        assert_ne!(body["access_token"], alice.token.as_str());
        let (_, sessions) = app.get(&alice, "/api/v1/users/me/sessions").await;
        assert_eq!(sessions["sessions"].as_array().unwrap().len(), 2);
    }

    async fn refreshing_rotates_the_refresh_token(app: TestApp) {
        let alice = app.register("Alice").await;

        let (status, first) = post_anon(&app, "/api/v1/auth/refresh", json!({"refresh_token": alice.refresh_token})).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (status, second) = post_anon(&app, "/api/v1/auth/refresh", json!({"refresh_token": first["refresh_token"]})).await;

        assert_eq!(status, StatusCode::OK, "{second}");
        assert_ne!(first["refresh_token"], second["refresh_token"]);
        let token = second["access_token"].as_str().unwrap();
        assert_eq!(app.request(Method::GET, "/api/v1/users/me", Some(token), None).await.0, StatusCode::OK);
    }

    async fn presenting_a_rotated_refresh_token_revokes_the_whole_session(app: TestApp) {
        let alice = app.register("Alice").await;
        let (_, rotated) = post_anon(&app, "/api/v1/auth/refresh", json!({"refresh_token": alice.refresh_token})).await;

        let (status, body) = post_anon(&app, "/api/v1/auth/refresh", json!({"refresh_token": alice.refresh_token})).await;

        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let (status, _) = post_anon(&app, "/api/v1/auth/refresh", json!({"refresh_token": rotated["refresh_token"]})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the thief's copy dies with the session");
        let token = rotated["access_token"].as_str().unwrap();
        assert_eq!(app.request(Method::GET, "/api/v1/users/me", Some(token), None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.request(Method::GET, "/api/v1/users/me", Some(&alice.token), None).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn an_unknown_refresh_token_is_refused(app: TestApp) {
        let (status, body) = post_anon(&app, "/api/v1/auth/refresh", json!({"refresh_token": "ert_made_up"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "invalid_refresh_token");
    }

    async fn logging_out_stops_the_session_at_once(app: TestApp) {
        let alice = app.register("Alice").await;

        let (status, _) = app.request(Method::POST, "/api/v1/auth/logout", Some(&alice.token), None).await;

        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = app.get(&alice, "/api/v1/users/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "session_revoked");
        let (status, _) = post_anon(&app, "/api/v1/auth/refresh", json!({"refresh_token": alice.refresh_token})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    async fn requests_without_a_valid_token_are_unauthorized(app: TestApp) {
        for token in [None, Some("garbage"), Some("a.b.c"), Some("")] {
            let (status, body) = app.request(Method::GET, "/api/v1/users/me", token, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
            assert!(body["error"]["code"].is_string(), "{body}");
        }
    }
}
