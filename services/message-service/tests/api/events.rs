use std::time::Duration;

use echo_test_support::{TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::helpers::*;

/// Events of `kind` published so far, waiting (with a timeout) until `want` of them are there.
async fn events_of(app: &TestApp, kind: &str, want: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let logged = app.bus.read_after(None, 10_000).await.expect("read the bus");
        let found: Vec<Value> = logged
            .into_iter()
            .filter(|l| l.envelope.kind == kind && l.envelope.producer == "message-service")
            .inspect(|l| assert_eq!(l.envelope.version, 1))
            .map(|l| l.envelope.payload)
            .collect();
        if found.len() >= want || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Events of `kind` published so far that `matches` accepts, waiting (with a timeout) until one is
/// there: each service's relay publishes a moment after the change, so others may come first.
async fn events_where(app: &TestApp, kind: &str, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<Value> = events_of(app, kind, 0)
            .await
            .into_iter()
            .filter(|e| matches(e))
            .collect();
        if !found.is_empty() || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends! {
    async fn every_change_is_published_with_its_workspace(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        // Act
        let (_, invite) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/invites"), json!({})).await;
        let code = invite["code"].as_str().expect("code").to_owned();
        app.post(&bob, &format!("/api/v1/invites/{code}/accept"), json!({})).await;
        let message = post(&app, &alice, &general, "hello").await;
        let path = format!("/api/v1/messages/{}", id(&message));
        app.patch(&alice, &path, json!({"text": "hello again"})).await;
        app.put(&bob, &format!("{path}/reactions/tada"), json!({})).await;
        app.delete(&bob, &format!("{path}/reactions/tada")).await;
        app.put(&bob, &format!("/api/v1/channels/{general}/pins/{}", id(&message)), json!({})).await;
        let last = post(&app, &alice, &general, "bye").await;
        app.post(&bob, &format!("/api/v1/channels/{general}/read"), json!({"message_id": id(&last)})).await;
        app.patch(&alice, &format!("/api/v1/channels/{general}"), json!({"topic": "news"})).await;
        app.post(&bob, &format!("/api/v1/channels/{general}/leave"), json!({})).await;
        app.delete(&alice, &path).await;
        // Assert
        let ws_id = json!(ws);
        let created = events_of(&app, "workspace.created", 1).await;
        assert_eq!(created[0]["workspace"]["name"], "Acme");
        let invited = events_of(&app, "invite.created", 1).await;
        assert_eq!(invited[0]["workspace_id"], ws_id);
        assert!(!invited[0].to_string().contains(&code), "never the full code");
        let joined = events_of(&app, "workspace.member_joined", 2).await;
        assert!(joined.iter().any(|e| e["user_id"] == json!(bob.id) && e["member"]["role"] == "member"));
        let messages = events_of(&app, "message.created", 2).await;
        assert_eq!(messages[0]["message"]["id"], message["id"]);
        assert_eq!(messages[0]["channel_id"], json!(general));
        assert_eq!(messages[0]["workspace_id"], ws_id);
        let updated = events_of(&app, "message.updated", 1).await;
        assert_eq!(updated[0]["message"]["text"], "hello again");
        let reaction = events_of(&app, "reaction.added", 1).await;
        assert_eq!(reaction[0], json!({"workspace_id": ws, "channel_id": general, "message_id": message["id"], "emoji": "tada", "user_id": bob.id}));
        assert_eq!(events_of(&app, "reaction.removed", 1).await.len(), 1);
        let pinned = events_of(&app, "pin.added", 1).await;
        assert_eq!(pinned[0]["user_id"], json!(bob.id));
        // The authors' own read markers are published too, so wait for bob's in particular.
        let read = events_where(&app, "read_marker.updated", |e| e["user_id"] == json!(bob.id) && e["message_id"] == last["id"]).await;
        assert_eq!(read.len(), 1, "bob's read marker");
        let channel = events_of(&app, "channel.updated", 1).await;
        assert_eq!(channel[0]["channel"]["topic"], "news");
        let left = events_of(&app, "channel.member_left", 1).await;
        assert_eq!(left[0]["user_id"], json!(bob.id));
        assert_eq!(left[0]["channel"]["id"], json!(general));
        let deleted = events_of(&app, "message.deleted", 1).await;
        assert_eq!(deleted[0]["message_id"], message["id"]);
        assert_eq!(deleted[0]["message"]["deleted"], true);
        assert_eq!(deleted[0]["message"]["text"], "");
        assert_eq!(events_of(&app, "channel.created", 1).await[0]["workspace_id"], ws_id);
    }
}
