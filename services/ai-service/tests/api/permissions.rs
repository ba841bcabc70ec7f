use echo_test_support::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn cited(body: &Value, list: &str, field: &str) -> Vec<String> {
    body[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

on_both_backends! {
    async fn a_private_channel_is_never_searched_cited_or_summarized_for_a_non_member(app: TestApp) {
        // Arrange: a private channel of the owner with a secret; a member and a guest outside it
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let member = app.register("Member").await;
        let guest = app.register("Guest").await;
        let talk = conversation(&app, &owner).await;
        join(&app, &owner, &talk.ws, &member, "member").await;
        join(&app, &owner, &talk.ws, &guest, "guest").await;
        let private = create_channel(&app, &owner, &talk.ws, "acquisition", "private").await;
        let secret = post(&app, &owner, &private, "We are acquiring the robotics startup Zentrix for forty million dollars.").await;
        wait_indexed(&app, &owner).await;
        let question = json!({"workspace_id": talk.ws, "question": "Which startup are we acquiring?"});

        // Act
        let owner_hits = search(&app, &owner, &talk.ws, "acquiring Zentrix robotics", "hybrid").await;
        let member_hits = search(&app, &member, &talk.ws, "acquiring Zentrix robotics", "hybrid").await;
        let (_, owner_answer) = app.post(&owner, "/api/v1/ai/ask", question.clone()).await;
        let (status, member_answer) = app.post(&member, "/api/v1/ai/ask", question).await;
        let (summary_status, summary) = app.post(&member, "/api/v1/ai/summaries", json!({"channel_id": private})).await;
        let (insights_status, _) = app.get(&member, &format!("/api/v1/ai/insights?channel_id={private}")).await;
        let guest_hits = search(&app, &guest, &talk.ws, "rollback of the release", "hybrid").await;

        // Assert
        assert_eq!(owner_hits.first(), Some(&secret), "the member of the channel finds it");
        assert!(cited(&owner_answer, "citations", "message_id").contains(&secret), "{owner_answer}");
        assert!(!member_hits.contains(&secret), "{member_hits:?}");
        assert_eq!(status, StatusCode::OK);
        assert!(!cited(&member_answer, "citations", "message_id").contains(&secret), "{member_answer}");
        assert!(!member_answer["answer"].as_str().unwrap_or_default().contains("Zentrix"), "{member_answer}");
        assert_eq!(summary_status, StatusCode::NOT_FOUND, "{summary}");
        assert_eq!(insights_status, StatusCode::NOT_FOUND);
        assert!(guest_hits.iter().all(|h| !talk.deploy_ids.contains(h)), "a guest reads no public channel they have not joined: {guest_hits:?}");
    }

    async fn another_workspaces_things_are_404_everywhere(app: TestApp) {
        // Arrange
        let owner = app.register("Owner").await;
        let stranger = app.register("Stranger").await;
        let talk = conversation(&app, &owner).await;
        workspace(&app, &stranger, "Elsewhere").await;
        wait_indexed(&app, &owner).await;

        // Act
        let (ask, _) = app.post(&stranger, "/api/v1/ai/ask", json!({"workspace_id": talk.ws, "question": "what broke?"})).await;
        let (summary, _) = app.post(&stranger, "/api/v1/ai/summaries", json!({"channel_id": talk.deploys})).await;
        let (insights, _) = app.get(&stranger, &format!("/api/v1/ai/insights?channel_id={}", talk.deploys)).await;
        let (recs, body) = app.get(&stranger, &format!("/api/v1/ai/recommendations?workspace_id={}", talk.ws)).await;

        // Assert
        assert_eq!([ask, summary, insights, recs], [StatusCode::NOT_FOUND; 4]);
        assert_eq!(body["error"]["code"], "not_found");
    }
}
