use echo_test_support::on_both_backends;
use reqwest::StatusCode;

use crate::helpers::*;

on_both_backends! {
    async fn insights_show_topics_mood_action_items_and_activity(app: TestApp) {
        // Arrange
        let owner = app.register("Owner").await;
        let talk = conversation(&app, &owner).await;
        wait_indexed(&app, &owner).await;

        // Act
        let (status, insights) = app.get(&owner, &format!("/api/v1/ai/insights?channel_id={}", talk.deploys)).await;
        let (bad, _) = app.get(&owner, "/api/v1/ai/insights?channel_id=42").await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{insights}");
        let topics: Vec<&str> = insights["topics"].as_array().expect("topics").iter().filter_map(|t| t.as_str()).collect();
        assert!(topics.iter().any(|t| t.starts_with("rollout") || t.starts_with("error") || t.starts_with("variable")), "{topics:?}");
        assert!(insights["sentiment"]["label"].is_string());
        let actions = insights["action_items"].as_array().expect("action items");
        assert!(actions.iter().any(|a| a["message_id"] == talk.deploy_ids[5].as_str()), "the 'Can you … before Friday?' request: {actions:?}");
        assert_eq!(insights["activity"]["messages"], 8);
        assert_eq!(insights["activity"]["per_hour"].as_array().expect("hours").len(), 24);
        assert_eq!(insights["activity"]["top_posters"][0]["user_id"], owner.id.to_string());
        assert_eq!(bad, StatusCode::BAD_REQUEST);
    }

    async fn recommendations_suggest_similar_channels_and_people(app: TestApp) {
        // Arrange: Rita writes about Rust in #general; #rust-help and #cooking are open to her
        require_model(&app).await;
        let owner = app.register("Owner").await;
        let rita = app.register("Rita").await;
        let (ws, general) = workspace(&app, &owner, "Acme").await;
        join(&app, &owner, &ws, &rita, "member").await;
        let rust = create_channel(&app, &owner, &ws, "rust-help", "public").await;
        let cooking = create_channel(&app, &owner, &ws, "cooking", "public").await;
        post(&app, &rita, &general, "The borrow checker rejects my lifetime annotations in this async function.").await;
        post(&app, &rita, &general, "Should I use Arc<Mutex> or a channel to share state between tokio tasks?").await;
        post(&app, &owner, &rust, "Cargo clippy warns about needless clones in the parser crate.").await;
        post(&app, &owner, &rust, "Compile times improved after splitting the workspace into smaller crates.").await;
        post(&app, &owner, &cooking, "My sourdough bread finally rose properly after a long fermentation.").await;
        post(&app, &owner, &cooking, "Roast the vegetables with olive oil and garlic at 220 degrees.").await;
        wait_indexed(&app, &owner).await;

        // Act
        let (status, recs) = app.get(&rita, &format!("/api/v1/ai/recommendations?workspace_id={ws}")).await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{recs}");
        let channels = recs["channels"].as_array().expect("channels");
        assert_eq!(channels[0]["channel_id"], rust.as_str(), "{recs}");
        assert!(channels.iter().any(|c| c["channel_id"] == cooking.as_str()));
        assert!(channels.iter().all(|c| c["channel_id"] != general.as_str()), "already joined");
        assert_eq!(recs["people"][0]["user_id"], owner.id.to_string(), "{recs}");
    }
}
