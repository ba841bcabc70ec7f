use echo_test_support::on_both_backends;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

on_both_backends! {
    async fn reactions_are_idempotent_and_grouped_by_emoji(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let message = post(&app, &alice, &general, "react to me").await;
        let path = format!("/api/v1/messages/{}", id(&message));
        // Act
        for (user, emoji) in [(&alice, "tada"), (&alice, "tada"), (&bob, "tada"), (&bob, "+1")] {
            let (status, _) = app.put(user, &format!("{path}/reactions/{emoji}"), json!({})).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        let (_, reacted) = app.get(&alice, &path).await;
        app.delete(&bob, &format!("{path}/reactions/tada")).await;
        let (status, _) = app.delete(&bob, &format!("{path}/reactions/tada")).await;
        let (_, after) = app.get(&alice, &path).await;
        // Assert
        assert_eq!(reacted["reactions"], json!([
            {"emoji": "tada", "count": 2, "user_ids": [alice.id, bob.id]},
            {"emoji": "+1", "count": 1, "user_ids": [bob.id]},
        ]));
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(after["reactions"], json!([
            {"emoji": "tada", "count": 1, "user_ids": [alice.id]},
            {"emoji": "+1", "count": 1, "user_ids": [bob.id]},
        ]));
        let (status, _) = app.put(&alice, &format!("{path}/reactions/%3Cscript%3E"), json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn pins_are_added_listed_and_removed(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let other = create_channel(&app, &alice, &ws, "other", "public").await;
        let first = post(&app, &alice, &general, "pin me").await;
        let second = post(&app, &alice, &general, "pin me too").await;
        let pins = format!("/api/v1/channels/{general}/pins");
        // Act
        for m in [&first, &second, &first] {
            let (status, _) = app.put(&alice, &format!("{pins}/{}", id(m)), json!({})).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        let (_, listed) = app.get(&alice, &pins).await;
        app.delete(&alice, &format!("{pins}/{}", id(&first))).await;
        let (_, after) = app.get(&alice, &pins).await;
        let (wrong, _) = app.put(&alice, &format!("/api/v1/channels/{other}/pins/{}", id(&first)), json!({})).await;
        // Assert
        let pinned: Vec<String> = listed["pins"].as_array().expect("pins").iter().map(|p| id(&p["message"])).collect();
        assert_eq!(pinned.len(), 2);
        assert!(pinned.contains(&id(&first)) && pinned.contains(&id(&second)));
        assert_eq!(after["pins"].as_array().map(Vec::len), Some(1));
        assert_eq!(after["pins"][0]["message"]["id"], second["id"]);
        assert_eq!(wrong, StatusCode::NOT_FOUND, "a message pins only in its own channel");
    }
}
