use echo_test_support::on_both_backends;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

on_both_backends! {
    async fn the_same_people_always_get_the_same_dm(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (bob, carol, outsider) = (app.register("Bob").await, app.register("Carol").await, app.register("Out").await);
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        join(&app, &alice, &ws, &carol, "member").await;
        let dms = format!("/api/v1/workspaces/{ws}/dms");
        // Act
        let (first, dm) = app.post(&alice, &dms, json!({"user_ids": [bob.id]})).await;
        let (second, same) = app.post(&bob, &dms, json!({"user_ids": [alice.id, bob.id]})).await;
        let (group, group_dm) = app.post(&carol, &dms, json!({"user_ids": [alice.id, bob.id]})).await;
        let (group_again, group_same) = app.post(&bob, &dms, json!({"user_ids": [carol.id, alice.id, alice.id]})).await;
        // Assert
        assert_eq!(first, StatusCode::CREATED, "{dm}");
        assert_eq!(dm["kind"], "dm");
        assert_eq!(dm["member_ids"].as_array().map(Vec::len), Some(2));
        assert_eq!(second, StatusCode::OK);
        assert_eq!(same["id"], dm["id"]);
        assert_eq!(group, StatusCode::CREATED);
        assert_eq!(group_dm["kind"], "group_dm");
        assert_eq!(group_again, StatusCode::OK);
        assert_eq!(group_same["id"], group_dm["id"]);
        assert!(entry(&app, &bob, &ws, &id(&dm)).await.is_some());
        assert!(entry(&app, &carol, &ws, &id(&dm)).await.is_none(), "a DM is private to its people");
        // Refusals.
        let (status, _) = app.post(&alice, &dms, json!({"user_ids": [outsider.id]})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "only workspace members");
        let (status, _) = app.post(&alice, &dms, json!({"user_ids": []})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let nine: Vec<String> = (0..9).map(|_| uuid::Uuid::now_v7().to_string()).collect();
        let (status, _) = app.post(&alice, &dms, json!({"user_ids": nine})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "at most 8 others");
        let (status, _) = app.post(&outsider, &dms, json!({"user_ids": [alice.id]})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn concurrent_opens_of_one_dm_give_one_channel(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let dms = format!("/api/v1/workspaces/{ws}/dms");
        // Act
        let opens = (0..6).map(|i| {
            let (me, other) = if i % 2 == 0 { (&alice, &bob) } else { (&bob, &alice) };
            app.post(me, &dms, json!({"user_ids": [other.id]}))
        });
        let results = futures::future::join_all(opens).await;
        // Assert
        let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        assert_eq!(created, 1, "{results:?}");
        assert!(results.iter().all(|(s, b)| s.is_success() && b["id"] == results[0].1["id"]));
    }
}
