use echo_test_support::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

on_both_backends! {
    async fn semantic_search_finds_a_paraphrase_that_keyword_search_misses(app: TestApp) {
        // Arrange
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let talk = conversation(&app, &owner).await;
        wait_indexed(&app, &owner).await;
        let target = &talk.deploy_ids[4]; // "The checkout page crashed and buyers couldn't complete their purchases…"
        let query = "shopping cart outage";

        // Act
        let keyword = search(&app, &owner, &talk.ws, query, "keyword").await;
        let semantic = search(&app, &owner, &talk.ws, query, "semantic").await;
        let hybrid = search(&app, &owner, &talk.ws, query, "hybrid").await;

        // Assert
        assert!(!keyword.contains(target), "no word of the query is in the message");
        assert_eq!(semantic.first(), Some(target), "{semantic:?}");
        assert_eq!(hybrid.first(), Some(target), "{hybrid:?}");
    }

    async fn edits_are_re_embedded_and_deletes_disappear(app: TestApp) {
        // Arrange
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let talk = conversation(&app, &owner).await;
        wait_indexed(&app, &owner).await;
        let lunch = &talk.general_ids[0];

        // Act: the lunch message becomes one about a database outage
        let (status, body) = app
            .patch(&owner, &format!("/api/v1/messages/{lunch}"), json!({"text": "The primary database ran out of disk space overnight."}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        wait_indexed(&app, &owner).await;
        let after_edit = search(&app, &owner, &talk.ws, "storage full on the main db server", "semantic").await;
        let (status, _) = app.delete(&owner, &format!("/api/v1/messages/{lunch}")).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        wait_indexed(&app, &owner).await;
        let after_delete = search(&app, &owner, &talk.ws, "storage full on the main db server", "hybrid").await;

        // Assert
        assert_eq!(after_edit.first(), Some(lunch), "{after_edit:?}");
        assert!(!after_delete.contains(lunch), "{after_delete:?}");
    }

    async fn bad_search_input_is_a_400_and_another_workspace_a_404(app: TestApp) {
        // Arrange
        let owner = app.register("Owner").await;
        let stranger = app.register("Stranger").await;
        let (ws, _) = workspace(&app, &owner, "Acme").await;
        wait_indexed(&app, &owner).await;

        // Act
        let (empty, body1) = app.get(&owner, &format!("/api/v1/ai/search?workspace_id={ws}&q=")).await;
        let (limit, body2) = app.get(&owner, &format!("/api/v1/ai/search?workspace_id={ws}&q=x&limit=0")).await;
        let (bad_id, _) = app.get(&owner, "/api/v1/ai/search?workspace_id=nope&q=x").await;
        let (foreign, body3) = app.get(&stranger, &format!("/api/v1/ai/search?workspace_id={ws}&q=deploy")).await;

        // Assert
        assert_eq!(empty, StatusCode::BAD_REQUEST, "{body1}");
        assert_eq!(body1["error"]["code"], "invalid_input");
        assert_eq!(limit, StatusCode::BAD_REQUEST, "{body2}");
        assert_eq!(bad_id, StatusCode::BAD_REQUEST);
        assert_eq!(foreign, StatusCode::NOT_FOUND, "{body3}");
        assert_eq!(body3["error"]["code"], "not_found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_survives_a_restart_without_re_embedding() {
    // Arrange
    let mut app = spawn(Backend::Sqlite).await;
    let owner = app.register("Owner").await;
    let talk = conversation(&app, &owner).await;
    // "No lag" can be read before the last posts leave message-service's outbox: wait for them all.
    let posted = talk.deploy_ids.len() + talk.general_ids.len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let before = loop {
        let (_, status) = app.get(&owner, "/api/v1/ai/status").await;
        if status["indexed_messages"].as_u64() == Some(posted as u64) && status["lag"] == 0 {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never indexed all {posted} messages: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    };

    // Act
    app.restart().await;
    let (status, after) = app.get(&owner, "/api/v1/ai/status").await;
    let found = search(&app, &owner, &talk.ws, "shopping cart outage", "semantic").await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["indexed_messages"], before["indexed_messages"], "{after}");
    assert_eq!(found.first(), Some(&talk.deploy_ids[4]));
}
