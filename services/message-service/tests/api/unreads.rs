use echo_test_support::on_both_backends;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

on_both_backends! {
    async fn unread_and_mention_counts_follow_every_change(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (0, 0));

        // A plain message: unread, no mention. One's own is never unread.
        let plain = post(&app, &alice, &general, "hello").await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (1, 0));
        assert_eq!(counts(&app, &alice, &ws, &general).await, (0, 0));

        // A mention.
        let mention = post(&app, &alice, &general, &format!("<@{}> look", bob.id)).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (2, 1));

        // An edit removing the mention uncounts it; an edit adding one counts it.
        let edit = |m: &serde_json::Value, text: String| {
            let path = format!("/api/v1/messages/{}", id(m));
            let alice = alice.clone();
            let app = &app;
            async move { app.patch(&alice, &path, json!({"text": text})).await }
        };
        edit(&mention, "never mind".into()).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (2, 0));
        edit(&plain, format!("hello <@{}>", bob.id)).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (2, 1));

        // @channel and @here count as mentions.
        let broadcast = post(&app, &alice, &general, "@channel standup").await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (3, 2));

        // A thread reply does not count in the channel.
        reply(&app, &alice, &general, &id(&broadcast), &format!("<@{}> in a thread", bob.id)).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (3, 2));

        // Deleting an unread message uncounts it.
        app.delete(&alice, &format!("/api/v1/messages/{}", id(&plain))).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (2, 1));

        // Reading moves the marker forward only.
        let (status, _) = app.post(&bob, &format!("/api/v1/channels/{general}/read"), json!({"message_id": id(&mention)})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(counts(&app, &bob, &ws, &general).await, (1, 1));
        let e = entry(&app, &bob, &ws, &general).await.expect("listed");
        assert_eq!(e["last_read_message_id"], mention["id"]);
        app.post(&bob, &format!("/api/v1/channels/{general}/read"), json!({"message_id": id(&plain)})).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (1, 1), "the marker never moves back");

        // Posting moves one's own marker.
        post(&app, &bob, &general, "caught up").await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (0, 0));

        // Leaving makes the counts vanish; rejoining starts from the newest message.
        post(&app, &alice, &general, &format!("<@{}> ping", bob.id)).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (1, 1));
        app.post(&bob, &format!("/api/v1/channels/{general}/leave"), json!({})).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (0, 0));
        assert_eq!(entry(&app, &bob, &ws, &general).await.expect("listed")["is_member"], false);
        app.post(&bob, &format!("/api/v1/channels/{general}/join"), json!({})).await;
        assert_eq!(counts(&app, &bob, &ws, &general).await, (0, 0));
    }

    async fn every_dm_message_counts_as_a_mention(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let (_, dm) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/dms"), json!({"user_ids": [bob.id]})).await;
        let dm = id(&dm);
        // Act
        post(&app, &alice, &dm, "hey").await;
        let second = post(&app, &alice, &dm, "you there?").await;
        // Assert
        assert_eq!(counts(&app, &bob, &ws, &dm).await, (2, 2));
        assert_eq!(counts(&app, &alice, &ws, &dm).await, (0, 0));
        app.post(&bob, &format!("/api/v1/channels/{dm}/read"), json!({"message_id": id(&second)})).await;
        assert_eq!(counts(&app, &bob, &ws, &dm).await, (0, 0));
    }

    async fn thread_replies_count_for_the_thread_followers(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (bob, carol) = (app.register("Bob").await, app.register("Carol").await);
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        join(&app, &alice, &ws, &carol, "member").await;
        let store = app.system.messages.state().store.clone();
        let root = post(&app, &alice, &general, "root").await;
        let root_id: uuid::Uuid = id(&root).parse().expect("uuid");
        // Act
        reply(&app, &bob, &general, &id(&root), "first").await;
        let second = reply(&app, &bob, &general, &id(&root), &format!("<@{}> second", alice.id)).await;
        // Assert: the root's author follows; the replier has read up to their reply; others don't follow
        assert_eq!(store.thread_unread(root_id, alice.id).await.expect("count"), Some((2, 1)));
        assert_eq!(store.thread_unread(root_id, bob.id).await.expect("count"), Some((0, 0)));
        assert_eq!(store.thread_unread(root_id, carol.id).await.expect("count"), None);
        assert_eq!(counts(&app, &alice, &ws, &general).await, (0, 0), "replies stay out of the channel count");
        // Reading up to a reply reads the thread.
        let (status, _) = app.post(&alice, &format!("/api/v1/channels/{general}/read"), json!({"message_id": id(&second)})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(store.thread_unread(root_id, alice.id).await.expect("count"), Some((0, 0)));
        // A deleted reply no longer counts.
        let third = reply(&app, &bob, &general, &id(&root), "third").await;
        assert_eq!(store.thread_unread(root_id, alice.id).await.expect("count"), Some((1, 0)));
        app.delete(&bob, &format!("/api/v1/messages/{}", id(&third))).await;
        assert_eq!(store.thread_unread(root_id, alice.id).await.expect("count"), Some((0, 0)));
    }
}
