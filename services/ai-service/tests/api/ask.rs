use echo_test_support::on_both_backends;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

on_both_backends! {
    async fn the_assistant_answers_from_relevant_messages_with_citations(app: TestApp) {
        // Arrange
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let talk = conversation(&app, &owner).await;
        wait_indexed(&app, &owner).await;

        // Act
        let (status, answer) = app
            .post(&owner, "/api/v1/ai/ask", json!({"workspace_id": talk.ws, "question": "Why did we roll back the release?"}))
            .await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["model"], "extractive/all-MiniLM-L6-v2");
        let citations = answer["citations"].as_array().expect("citations");
        assert!(!citations.is_empty(), "{answer}");
        for c in citations {
            assert!(talk.deploy_ids.iter().any(|id| c["message_id"] == id.as_str()), "{c}");
            assert_eq!(c["channel_id"], talk.deploys.as_str());
            assert!(!c["snippet"].as_str().expect("snippet").is_empty());
        }
        let cited: Vec<&str> = citations.iter().filter_map(|c| c["message_id"].as_str()).collect();
        assert!(cited.contains(&talk.deploy_ids[2].as_str()) || cited.contains(&talk.deploy_ids[3].as_str()), "{answer}");
    }

    async fn the_assistant_declines_when_nothing_relevant_exists(app: TestApp) {
        // Arrange
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let talk = conversation(&app, &owner).await;
        wait_indexed(&app, &owner).await;

        // Act
        let (status, answer) = app
            .post(&owner, "/api/v1/ai/ask", json!({"workspace_id": talk.ws, "question": "What is the airspeed velocity of an unladen swallow?"}))
            .await;
        let (empty, _) = app.post(&owner, "/api/v1/ai/ask", json!({"workspace_id": talk.ws, "question": "  "})).await;
        let (scoped, in_general) = app
            .post(&owner, "/api/v1/ai/ask", json!({"workspace_id": talk.ws, "question": "Why did we roll back the release?", "channel_id": talk.general}))
            .await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(answer["citations"].as_array().expect("citations").is_empty(), "{answer}");
        assert!(answer["answer"].as_str().expect("answer").contains("couldn't find"), "{answer}");
        assert_eq!(empty, StatusCode::BAD_REQUEST);
        assert_eq!(scoped, StatusCode::OK);
        assert!(in_general["citations"].as_array().expect("citations").iter().all(|c| c["channel_id"] == talk.general.as_str()), "{in_general}");
    }
}
