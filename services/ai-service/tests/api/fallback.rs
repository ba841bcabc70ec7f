//! Without the model files Echo still starts and every AI feature runs on lexical methods.

use echo_test_support::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_model_everything_runs_on_the_lexical_fallback() {
    // Arrange
    let missing = std::env::temp_dir().join(format!("no-model-{}", uuid_like()));
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.ai.model_dir = Some(missing)).await;
    let owner = app.register("Owner").await;
    let talk = conversation(&app, &owner).await;
    wait_indexed(&app, &owner).await;

    // Act
    let (_, status) = app.get(&owner, "/api/v1/ai/status").await;
    let hits = search(&app, &owner, &talk.ws, "rolled back release", "hybrid").await;
    let (_, summary) = app
        .post(
            &owner,
            "/api/v1/ai/summaries",
            json!({"channel_id": talk.deploys}),
        )
        .await;
    let (code, answer) = app
        .post(
            &owner,
            "/api/v1/ai/ask",
            json!({"workspace_id": talk.ws, "question": "why was the release rolled back?"}),
        )
        .await;
    let (_, declined) = app
        .post(
            &owner,
            "/api/v1/ai/ask",
            json!({"workspace_id": talk.ws, "question": "airspeed of an unladen swallow"}),
        )
        .await;

    // Assert
    assert_eq!(status["embedder"], "lexical", "{status}");
    assert_eq!(status["llm"], serde_json::Value::Null);
    assert_eq!(status["indexed_messages"].as_u64(), Some(11), "{status}");
    assert_eq!(hits.first(), Some(&talk.deploy_ids[2]), "{hits:?}");
    assert_eq!(summary["model"], "extractive-textrank/lexical");
    assert!(summary["bullets"].as_array().expect("bullets").iter().all(|b| {
        b["message_ids"]
            .as_array()
            .expect("ids")
            .iter()
            .all(|i| talk.deploy_ids.iter().any(|d| i == d.as_str()))
    }));
    assert_eq!(code, StatusCode::OK);
    assert_eq!(answer["model"], "extractive/lexical");
    assert_eq!(
        answer["citations"][0]["message_id"],
        talk.deploy_ids[2].as_str(),
        "{answer}"
    );
    assert!(
        declined["citations"].as_array().expect("citations").is_empty(),
        "{declined}"
    );
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
