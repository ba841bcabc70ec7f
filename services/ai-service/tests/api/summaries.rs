use echo_test_support::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn bullet_ids(summary: &Value) -> Vec<String> {
    summary["bullets"]
        .as_array()
        .expect("bullets")
        .iter()
        .flat_map(|b| {
            b["message_ids"]
                .as_array()
                .expect("message_ids")
                .iter()
                .map(|i| i.as_str().expect("id").to_owned())
        })
        .collect()
}

on_both_backends! {
    async fn an_extractive_summary_cites_real_messages_of_the_channel(app: TestApp) {
        // Arrange
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let talk = conversation(&app, &owner).await;
        wait_indexed(&app, &owner).await;

        // Act
        let (status, summary) = app.post(&owner, "/api/v1/ai/summaries", json!({"channel_id": talk.deploys})).await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert_eq!(summary["model"], "extractive-textrank/all-MiniLM-L6-v2");
        assert!(summary["summary"].as_str().expect("summary").starts_with("8 messages from 1 person"), "{summary}");
        let ids = bullet_ids(&summary);
        assert!(!ids.is_empty(), "{summary}");
        assert!(ids.iter().all(|id| talk.deploy_ids.contains(id)), "only messages of #deploys: {summary}");
        assert!(summary["bullets"].as_array().expect("bullets").iter().all(|b| !b["text"].as_str().unwrap_or_default().is_empty()));
    }

    async fn since_last_read_summarizes_only_what_the_caller_has_not_read(app: TestApp) {
        // Arrange: a reader who has read up to the fourth message
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let reader = app.register("Reader").await;
        let (ws, _) = workspace(&app, &owner, "Acme").await;
        let deploys = create_channel(&app, &owner, &ws, "deploys", "public").await;
        join(&app, &owner, &ws, &reader, "member").await;
        let (status, _) = app.post(&reader, &format!("/api/v1/channels/{deploys}/join"), json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let mut ids = Vec::new();
        for text in DEPLOY_TALK {
            ids.push(post(&app, &owner, &deploys, text).await);
        }
        let (status, body) = app.post(&reader, &format!("/api/v1/channels/{deploys}/read"), json!({"message_id": ids[3]})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        wait_indexed(&app, &owner).await;

        // Act
        let (status, summary) = app.post(&reader, "/api/v1/ai/summaries", json!({"channel_id": deploys, "since": "last_read"})).await;
        let (_, bad) = app.post(&reader, "/api/v1/ai/summaries", json!({"channel_id": deploys, "since": "yesterday"})).await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{summary}");
        assert!(summary["summary"].as_str().expect("summary").starts_with("4 messages"), "{summary}");
        assert!(bullet_ids(&summary).iter().all(|id| ids[4..].contains(id)), "{summary}");
        assert_eq!(bad["error"]["code"], "invalid_input", "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_summary_cites_only_the_thread() {
    // Arrange
    let app = spawn(echo_test_support::Backend::Sqlite).await;
    let owner = app.register("Owner").await;
    let talk = conversation(&app, &owner).await;
    let root = &talk.deploy_ids[1];
    let mut thread = vec![root.clone()];
    for text in [
        "Is it the load balancer again?",
        "No, the new build crashes on start without the variable.",
        "Pausing all regions until it is fixed.",
    ] {
        let (status, body) = app
            .post(
                &owner,
                &format!("/api/v1/channels/{}/messages", talk.deploys),
                json!({"text": text, "thread_root_id": root}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        thread.push(id(&body));
    }
    wait_indexed(&app, &owner).await;

    // Act
    let (status, summary) = app
        .post(
            &owner,
            "/api/v1/ai/summaries",
            json!({"channel_id": talk.deploys, "thread_root_id": root}),
        )
        .await;
    let (missing, _) = app
        .post(
            &owner,
            "/api/v1/ai/summaries",
            json!({"channel_id": talk.deploys, "thread_root_id": talk.general_ids[0]}),
        )
        .await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert!(
        summary["summary"]
            .as_str()
            .expect("summary")
            .starts_with("4 messages"),
        "{summary}"
    );
    assert!(
        bullet_ids(&summary).iter().all(|id| thread.contains(id)),
        "{summary}"
    );
    assert_eq!(missing, StatusCode::NOT_FOUND);
}
