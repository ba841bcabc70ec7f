//! Bots, personal access tokens and incoming webhooks through the Echo API.

use std::time::Duration;

use echo_test_support::{TestApp, TestUser, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A bot of `ws` made by `admin`: its creation answer (with `token` and `signing_secret`).
pub async fn bot(app: &TestApp, admin: &TestUser, ws: &str, body: Value) -> Value {
    let (status, bot) = app
        .post(admin, &format!("/api/v1/workspaces/{ws}/bots"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bot}");
    bot
}

/// A request with an API token (or any bearer string).
pub async fn with_token(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.request(method, path, Some(token), body).await
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(
        body["error"]["code"].is_string(),
        "the contract's error body: {body}"
    );
}

on_both_backends! {
    async fn an_admin_creates_a_bot_whose_token_acts_as_the_bot(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let eve = app.register("Eve").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        // Act
        let created = bot(&app, &alice, &ws, json!({"name": "Deploy Bot", "scopes": ["chat:write", "channels:join", "channels:history", "channels:read"]})).await;
        let token = created["token"].as_str().unwrap().to_owned();
        let bot_user = created["user_id"].as_str().unwrap().to_owned();
        // Assert
        assert!(token.starts_with("xoxb-") && token.len() > 40, "{token}");
        assert!(created["signing_secret"].as_str().is_some_and(|s| s.len() >= 32));
        assert_eq!(created["scopes"], json!(["chat:write", "channels:join", "channels:history", "channels:read"]));
        let (status, list) = app.get(&bob, &format!("/api/v1/workspaces/{ws}/bots")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["bots"].as_array().unwrap().len(), 1);
        assert!(!list.to_string().contains(&token), "lists never show tokens");
        assert!(list["bots"][0].get("signing_secret").is_none());

        let (status, _) = with_token(&app, &token, Method::POST, &format!("/api/v1/channels/{general}/join"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, message) = with_token(&app, &token, Method::POST, &format!("/api/v1/channels/{general}/messages"),
            Some(json!({"text": "deployed v1.2"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message["author_id"], json!(bot_user), "attributed to the bot");
        let (_, members) = app.get(&alice, &format!("/api/v1/workspaces/{ws}/members")).await;
        assert!(members["members"].as_array().unwrap().iter().any(|m| m["user_id"] == json!(bot_user)));

        // user-service learns of the bot from the bus: its profile says is_bot.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, profile) = app.get(&alice, &format!("/api/v1/users/{bot_user}")).await;
            if status == StatusCode::OK {
                assert_eq!(profile["is_bot"], true, "{profile}");
                assert_eq!(profile["display_name"], "Deploy Bot");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the bot's profile never appeared: {status} {profile}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // Only owners and admins create bots; outsiders see nothing; bad input is a 400.
        let (status, body) = app.post(&bob, &format!("/api/v1/workspaces/{ws}/bots"), json!({"name": "Mine"})).await;
        assert_error(status, &body, StatusCode::FORBIDDEN);
        let (status, body) = app.post(&eve, &format!("/api/v1/workspaces/{ws}/bots"), json!({"name": "Mine"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
        let (status, body) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/bots"), json!({"name": "  "})).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
        let (status, body) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/bots"), json!({"name": "X", "scopes": ["admin"]})).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
        let (status, body) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/bots"), json!({"name": "X", "request_url": "ftp://x"})).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
        let (status, body) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/bots"), json!({"nom": "X"})).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
    }

    async fn revoking_a_bot_or_a_token_stops_it_at_once(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let created = bot(&app, &alice, &ws, json!({"name": "Helper"})).await;
        let bot_token = created["token"].as_str().unwrap().to_owned();
        let (status, pat) = app.post(&alice, "/api/v1/tokens", json!({"name": "laptop script"})).await;
        assert_eq!(status, StatusCode::CREATED, "{pat}");
        let pat_token = pat["token"].as_str().unwrap().to_owned();
        assert!(pat_token.starts_with("xoxp-"));
        let (status, list) = app.get(&alice, "/api/v1/tokens").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["tokens"][0]["hint"], json!(&pat_token[pat_token.len() - 4..]));
        assert!(!list.to_string().contains(&pat_token));
        for token in [&bot_token, &pat_token] {
            let (status, body) = with_token(&app, token, Method::GET, "/api/v1/workspaces", None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // Act
        let (status, _) = app.delete(&alice, &format!("/api/v1/tokens/{}", id(&pat))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = app.delete(&alice, &format!("/api/v1/workspaces/{ws}/bots/{}", id(&created))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // Assert
        for token in [&bot_token, &pat_token] {
            let (status, body) = with_token(&app, token, Method::GET, "/api/v1/workspaces", None).await;
            assert_error(status, &body, StatusCode::UNAUTHORIZED);
        }
        let (status, body) = app.delete(&alice, &format!("/api/v1/tokens/{}", id(&pat))).await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
        let (status, body) = with_token(&app, "xoxb-not-a-token", Method::GET, "/api/v1/workspaces", None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED);
    }

    async fn scopes_limit_what_a_token_can_do(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let (_, pat) = app.post(&alice, "/api/v1/tokens", json!({"name": "reader", "scopes": ["channels:read"]})).await;
        let token = pat["token"].as_str().unwrap().to_owned();
        // Act / Assert
        let (status, _) = with_token(&app, &token, Method::GET, &format!("/api/v1/workspaces/{ws}/channels"), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = with_token(&app, &token, Method::POST, &format!("/api/v1/channels/{general}/messages"),
            Some(json!({"text": "hi"}))).await;
        assert_error(status, &body, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "missing_scope");
        let (status, body) = with_token(&app, &token, Method::POST, "/api/v1/tokens", Some(json!({"name": "more"}))).await;
        assert_error(status, &body, StatusCode::FORBIDDEN);
        let (status, body) = with_token(&app, &token, Method::POST, &format!("/api/v1/workspaces/{ws}/bots"), Some(json!({"name": "b"}))).await;
        assert_error(status, &body, StatusCode::FORBIDDEN);
        // API tokens reach message-service's API only.
        let (status, body) = with_token(&app, &token, Method::GET, "/api/v1/users/me", None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED);
        let (status, body) = app.post(&alice, "/api/v1/tokens", json!({"name": "x", "scopes": ["nope"]})).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
    }

    async fn a_webhook_posts_into_its_channel(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let (status, hook) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/webhooks"),
            json!({"channel_id": general, "name": "CI"})).await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        let url = hook["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&app.base_url) && url.contains("/hooks/"), "{url}");
        let send = |body: String, content_type: &'static str| {
            let http = app.http.clone();
            let url = url.clone();
            async move {
                let response = http.post(&url).header("content-type", content_type).body(body).send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };
        // Act
        let plain = send(json!({"text": "build 42 passed", "username": "ci", "icon_emoji": ":robot:"}).to_string(), "application/json").await;
        let blocks = send(json!({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*deploy* done"}}]}).to_string(), "application/json").await;
        let form = send(format!("payload={}", urlencode(&json!({"text": "from a form"}).to_string())), "application/x-www-form-urlencoded").await;
        // Assert
        assert_eq!(plain, (StatusCode::OK, "ok".to_owned()));
        assert_eq!(blocks, (StatusCode::OK, "ok".to_owned()));
        assert_eq!(form, (StatusCode::OK, "ok".to_owned()));
        let page = history(&app, &alice, &general, "").await;
        let texts: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["from a form", "*deploy* done", "build 42 passed"]);
        assert_eq!(page["messages"][0]["author_id"], hook["user_id"]);
        assert_eq!(send("{not json".into(), "application/json").await, (StatusCode::BAD_REQUEST, "invalid_payload".to_owned()));
        assert_eq!(send(json!({"text": " "}).to_string(), "application/json").await, (StatusCode::BAD_REQUEST, "no_text".to_owned()));
        assert_eq!(send(json!({"text": "x", "thread_ts": "1.000001"}).to_string(), "application/json").await.0, StatusCode::BAD_REQUEST);
        let wrong = app.http.post(app.url("/hooks/nope")).json(&json!({"text": "x"})).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
        // Listing never shows the URL; outsiders get 404; revoked hooks stop.
        let (status, list) = app.get(&alice, &format!("/api/v1/workspaces/{ws}/webhooks")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!list.to_string().contains(&url));
        let (status, body) = app.post(&bob, &format!("/api/v1/workspaces/{ws}/webhooks"), json!({"channel_id": general})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
        let (status, _) = app.delete(&alice, &format!("/api/v1/workspaces/{ws}/webhooks/{}", id(&hook))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(send(json!({"text": "late"}).to_string(), "application/json").await.0, StatusCode::NOT_FOUND);
        // Everything is documented.
        let (status, doc) = app.request(Method::GET, "/api/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        for path in ["/api/v1/workspaces/{ws}/bots", "/api/v1/workspaces/{ws}/bots/{id}", "/api/v1/tokens", "/api/v1/tokens/{id}",
            "/api/v1/workspaces/{ws}/webhooks", "/api/v1/workspaces/{ws}/webhooks/{id}", "/hooks/{secret}", "/slack/api/{method}"] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
    }
}

pub fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
