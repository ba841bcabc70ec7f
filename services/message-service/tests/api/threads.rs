use echo_test_support::on_both_backends;
use reqwest::StatusCode;

use crate::helpers::*;

on_both_backends! {
    async fn replies_attach_to_the_root_and_stay_out_of_history(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (_, general) = workspace(&app, &alice, "Acme").await;
        let root = post(&app, &alice, &general, "root").await;
        // Act
        let first = reply(&app, &alice, &general, &id(&root), "one").await;
        let second = reply(&app, &alice, &general, &id(&first), "two, to a reply").await;
        post(&app, &alice, &general, "after").await;
        // Assert
        assert_eq!(first["thread_root_id"], root["id"]);
        assert_eq!(second["thread_root_id"], root["id"], "a reply to a reply joins the root's thread");
        let (status, replies) = app.get(&alice, &format!("/api/v1/messages/{}/replies", id(&root))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ids(&replies), vec![id(&first), id(&second)], "oldest first");
        assert_eq!(replies["has_more"], false);
        let page = history(&app, &alice, &general, "").await;
        assert_eq!(page["messages"].as_array().map(Vec::len), Some(2), "replies are not in the history");
        assert_eq!(page["messages"][1]["reply_count"], 2);
        let (_, paged) = app.get(&alice, &format!("/api/v1/messages/{}/replies?limit=1", id(&root))).await;
        assert_eq!((ids(&paged), paged["has_more"].clone()), (vec![id(&first)], serde_json::json!(true)));
        let (_, rest) = app.get(&alice, &format!("/api/v1/messages/{}/replies?after={}", id(&root), id(&first))).await;
        assert_eq!(ids(&rest), vec![id(&second)]);
    }
}
