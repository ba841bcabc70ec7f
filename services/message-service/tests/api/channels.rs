use echo_test_support::on_both_backends;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

on_both_backends! {
    async fn channel_names_are_unique_per_workspace(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let (other_ws, _) = workspace(&app, &alice, "Other").await;
        let random = create_channel(&app, &alice, &ws, "random", "public").await;
        // Act
        let (dup, body) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/channels"), json!({"name": "Random", "visibility": "private"})).await;
        let (elsewhere, _) = app.post(&alice, &format!("/api/v1/workspaces/{other_ws}/channels"), json!({"name": "random", "visibility": "public"})).await;
        let (rename, _) = app.patch(&alice, &format!("/api/v1/channels/{random}"), json!({"name": "general"})).await;
        let (bad, _) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/channels"), json!({"name": "no/slash", "visibility": "public"})).await;
        // Assert
        assert_eq!(dup, StatusCode::CONFLICT, "{body}");
        assert_eq!(elsewhere, StatusCode::CREATED);
        assert_eq!(rename, StatusCode::CONFLICT);
        assert_eq!(bad, StatusCode::BAD_REQUEST);
    }

    async fn private_channels_are_invisible_to_non_members(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let secret = create_channel(&app, &alice, &ws, "secret", "private").await;
        let message = post(&app, &alice, &secret, "hush").await;
        // Act + Assert: nothing of it shows
        assert!(entry(&app, &bob, &ws, &secret).await.is_none());
        for path in [format!("/api/v1/channels/{secret}"), format!("/api/v1/channels/{secret}/messages"), format!("/api/v1/messages/{}", id(&message))] {
            let (status, _) = app.get(&bob, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (status, _) = app.post(&bob, &format!("/api/v1/channels/{secret}/join"), json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Once added, it shows.
        let (status, _) = app.post(&alice, &format!("/api/v1/channels/{secret}/members"), json!({"user_id": bob.id})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(entry(&app, &bob, &ws, &secret).await.expect("listed")["is_member"], true);
        assert_eq!(ids(&history(&app, &bob, &secret, "").await), vec![id(&message)]);
    }

    async fn public_channels_are_joined_and_left_freely(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let random = create_channel(&app, &alice, &ws, "random", "public").await;
        assert_eq!(entry(&app, &bob, &ws, &random).await.expect("listed")["is_member"], false);
        let (status, _) = app.post(&bob, &format!("/api/v1/channels/{random}/messages"), json!({"text": "hi"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "post needs membership");
        // Act
        let (joined, _) = app.post(&bob, &format!("/api/v1/channels/{random}/join"), json!({})).await;
        let listed = entry(&app, &bob, &ws, &random).await.expect("listed");
        let (left, _) = app.post(&bob, &format!("/api/v1/channels/{random}/leave"), json!({})).await;
        // Assert
        assert_eq!(joined, StatusCode::NO_CONTENT);
        assert_eq!(listed["is_member"], true);
        assert_eq!(left, StatusCode::NO_CONTENT);
        assert_eq!(entry(&app, &bob, &ws, &random).await.expect("listed")["is_member"], false);
    }

    async fn archived_channels_are_read_only_and_patch_rules_hold(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let project = create_channel(&app, &alice, &ws, "project", "public").await;
        app.post(&bob, &format!("/api/v1/channels/{project}/join"), json!({})).await;
        let message = post(&app, &bob, &project, "before archive").await;
        let path = format!("/api/v1/channels/{project}");
        // Act + Assert: who may change what
        let (status, body) = app.patch(&bob, &path, json!({"topic": "Ship it"})).await;
        assert_eq!((status, body["topic"].clone()), (StatusCode::OK, json!("Ship it")));
        let (status, _) = app.patch(&bob, &path, json!({"name": "mine"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a member who did not create it cannot rename it");
        let (status, _) = app.patch(&alice, &format!("/api/v1/channels/{general}"), json!({"archived": true})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "general stays");
        let (status, body) = app.patch(&alice, &path, json!({"archived": true})).await;
        assert_eq!((status, body["archived"].clone()), (StatusCode::OK, json!(true)));
        // Archived: read-only.
        let (status, body) = app.post(&bob, &format!("/api/v1/channels/{project}/messages"), json!({"text": "late"})).await;
        assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("channel_archived")));
        let (status, body) = app.put(&bob, &format!("/api/v1/messages/{}/reactions/tada", id(&message)), json!({})).await;
        assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("channel_archived")));
        let (status, body) = app.put(&bob, &format!("/api/v1/channels/{project}/pins/{}", id(&message)), json!({})).await;
        assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("channel_archived")));
        let (status, _) = app.patch(&bob, &path, json!({"topic": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(ids(&history(&app, &bob, &project, "").await).len(), 1, "still readable");
        // Unarchive.
        let (status, _) = app.patch(&alice, &path, json!({"archived": false})).await;
        assert_eq!(status, StatusCode::OK);
        post(&app, &bob, &project, "back").await;
    }
}
