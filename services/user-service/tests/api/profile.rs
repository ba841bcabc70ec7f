use std::time::Duration;

use echo_events::Envelope;
use echo_test_support::{Backend, TestApp, TestUser, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

on_both_backends! {
    async fn a_user_edits_their_profile(app: TestApp) {
        let alice = app.register("Alice").await;

        let (status, body) = app.patch(&alice, "/api/v1/users/me", json!({
            "display_name": "Alice Liddell", "title": "Engineer", "timezone": "Europe/Paris",
            "status_text": "In a meeting", "status_emoji": ":calendar:"
        })).await;

        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["display_name"], "Alice Liddell");
        assert_eq!(body["title"], "Engineer");
        assert_eq!(body["timezone"], "Europe/Paris");
        assert_eq!(body["status_emoji"], "calendar");
        let (_, me) = app.get(&alice, "/api/v1/users/me").await;
        assert_eq!(me["status_text"], "In a meeting");
    }

    async fn invalid_profile_changes_are_refused(app: TestApp) {
        let alice = app.register("Alice").await;
        for body in [json!({"display_name": ""}), json!({"timezone": "not a zone"}), json!({"status_emoji": "<b>"}), json!({"title": "x".repeat(101)})] {
            let (status, error) = app.patch(&alice, "/api/v1/users/me", body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {error}");
        }
    }

    async fn preferences_are_a_free_form_bounded_document(app: TestApp) {
        let alice = app.register("Alice").await;
        let (status, empty) = app.get(&alice, "/api/v1/users/me/preferences").await;
        assert_eq!((status, empty), (StatusCode::OK, json!({})));

        let prefs = json!({"theme": "dark", "notifications": {"default": "mentions"}});
        assert_eq!(app.put(&alice, "/api/v1/users/me/preferences", prefs.clone()).await.0, StatusCode::OK);
        assert_eq!(app.get(&alice, "/api/v1/users/me/preferences").await.1, prefs);

        let (status, _) = app.put(&alice, "/api/v1/users/me/preferences", json!(["not", "an", "object"])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = app.put(&alice, "/api/v1/users/me/preferences", json!({"blob": "x".repeat(17 * 1024)})).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    async fn profiles_of_strangers_are_not_found(app: TestApp) {
        let alice = app.register("Alice").await;
        let stranger = app.register("Stranger").await;

        let (status, _) = app.get(&alice, &format!("/api/v1/users/{}", stranger.id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, own) = app.get(&alice, &format!("/api/v1/users/{}", alice.id)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(own["id"], alice.id.to_string());
    }

    async fn presence_reads_invisible_and_disconnected_users_as_offline(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;

        assert_eq!(app.put(&alice, "/api/v1/users/me/presence", json!({"status": "dnd"})).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.put(&alice, "/api/v1/users/me/presence", json!({"status": "busy"})).await.0, StatusCode::BAD_REQUEST);

        let (status, own) = app.get(&alice, &format!("/api/v1/presence?user_ids={}", alice.id)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(own["presence"][alice.id.to_string()], "dnd");
        let (_, seen_by_bob) = app.get(&bob, &format!("/api/v1/presence?user_ids={},{}", alice.id, bob.id)).await;
        assert_eq!(seen_by_bob["presence"][alice.id.to_string()], "offline", "no live connection");
        let (status, _) = app.get(&bob, "/api/v1/presence?user_ids=nonsense").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

/// A message-service replica dies without reporting its connections closed: once it has been
/// silent for the timeout while another replica kept beating, its users go offline.
async fn connections_of_a_silent_replica_are_closed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.users.replica_timeout_ms = 1_000).await;
    let alice = app.register("Alice").await;
    let bob = app.register("Bob").await;
    let (crashed, alive) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let report = |kind: &str, payload| Envelope::new(kind, 1, "message-service", payload);

    app.bus
        .publish(&[report(
            "connection.opened",
            json!({"connection_id": Uuid::now_v7(), "user_id": alice.id, "replica_id": crashed}),
        )])
        .await
        .unwrap();
    wait_for_presence(&app, &bob, &alice, "online").await;

    tokio::time::sleep(Duration::from_millis(1_200)).await;
    app.bus
        .publish(&[report("realtime.replica_alive", json!({"replica_id": alive}))])
        .await
        .unwrap();
    wait_for_presence(&app, &bob, &alice, "offline").await;
}

mod replicas {
    use super::*;

    echo_test_support::each_backend!(connections_of_a_silent_replica_are_closed);
}

async fn wait_for_presence(app: &TestApp, viewer: &TestUser, user: &TestUser, expected: &str) {
    let mut seen = serde_json::Value::Null;
    for _ in 0..100 {
        let (_, body) = app
            .get(viewer, &format!("/api/v1/presence?user_ids={}", user.id))
            .await;
        seen = body["presence"][user.id.to_string()].clone();
        if seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("presence stayed {seen}, expected {expected}");
}
