use echo_test_support::{Backend, TestApp, on_both_backends};
use message_service::mentions::Mentions;
use message_service::store::NewMessage;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

/// How many rows of the message database still hold `needle` anywhere a text is kept.
async fn rows_containing(app: &TestApp, needle: &str) -> i64 {
    let url = app.config.messages.database_url.clone();
    let pattern = format!("%{needle}%");
    let sql = "SELECT (SELECT COUNT(*) FROM messages WHERE text LIKE $1) + (SELECT COUNT(*) FROM message_versions WHERE text LIKE $1)";
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("open sqlite");
            sqlx::query_scalar(sql)
                .bind(pattern)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.expect("open postgres");
            sqlx::query_scalar(sql)
                .bind(pattern)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    }
}

on_both_backends! {
    async fn resending_a_client_msg_id_returns_the_first_message(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let path = format!("/api/v1/channels/{general}/messages");
        let body = json!({"text": "hello", "client_msg_id": "c-1"});
        // Act
        let (first, message) = app.post(&alice, &path, body.clone()).await;
        let (again, same) = app.post(&alice, &path, json!({"text": "hello (edited by the client)", "client_msg_id": "c-1"})).await;
        let concurrent = futures::future::join_all((0..6).map(|_| app.post(&alice, &path, json!({"text": "race", "client_msg_id": "c-2"})))).await;
        // Assert
        assert_eq!(first, StatusCode::CREATED);
        assert_eq!(message["client_msg_id"], "c-1");
        assert_eq!(again, StatusCode::OK);
        assert_eq!(same["id"], message["id"]);
        assert_eq!(same["text"], "hello");
        assert_eq!(concurrent.iter().filter(|(s, _)| *s == StatusCode::CREATED).count(), 1, "{concurrent:?}");
        assert!(concurrent.iter().all(|(s, b)| s.is_success() && b["id"] == concurrent[0].1["id"]));
        assert_eq!(ids(&history(&app, &alice, &general, "").await).len(), 2);
        let _ = ws;
    }

    async fn edits_keep_a_history_and_deletes_erase_the_text_everywhere(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let message = post(&app, &alice, &general, "first zebracorn").await;
        let path = format!("/api/v1/messages/{}", id(&message));
        // Act: two edits
        let (status, edited) = app.patch(&alice, &path, json!({"text": "second zebracorn"})).await;
        assert_eq!(status, StatusCode::OK);
        app.patch(&alice, &path, json!({"text": "third zebracorn"})).await;
        let (_, versions) = app.get(&bob, &format!("{path}/history")).await;
        // Assert
        assert!(edited["edited_at"].is_string());
        assert_eq!(edited["text"], "second zebracorn");
        let texts: Vec<&str> = versions["versions"].as_array().expect("versions").iter().filter_map(|v| v["text"].as_str()).collect();
        assert_eq!(texts, vec!["first zebracorn", "second zebracorn"]);
        // Act: react, then delete
        app.put(&bob, &format!("{path}/reactions/tada"), json!({})).await;
        let (status, _) = app.delete(&alice, &path).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // Assert: a tombstone, and the words gone from storage
        let (_, tombstone) = app.get(&bob, &path).await;
        assert_eq!(tombstone["deleted"], true);
        assert_eq!(tombstone["text"], "");
        assert_eq!(tombstone["reactions"], json!([]));
        assert_eq!(tombstone["mentions"], json!([]));
        let (_, versions) = app.get(&bob, &format!("{path}/history")).await;
        assert_eq!(versions["versions"], json!([]));
        assert_eq!(history(&app, &bob, &general, "").await["messages"][0]["deleted"], true);
        assert_eq!(rows_containing(&app, "zebracorn").await, 0);
        let (status, _) = app.delete(&alice, &path).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "deleting twice is harmless");
    }

    async fn only_authors_edit_and_authors_or_admins_delete(app: TestApp) {
        // Arrange
        let owner = app.register("Owner").await;
        let (bob, carol) = (app.register("Bob").await, app.register("Carol").await);
        let (ws, general) = workspace(&app, &owner, "Acme").await;
        join(&app, &owner, &ws, &bob, "member").await;
        join(&app, &owner, &ws, &carol, "member").await;
        let bobs = post(&app, &bob, &general, "bob's words").await;
        let path = format!("/api/v1/messages/{}", id(&bobs));
        // Act + Assert
        let (status, _) = app.patch(&carol, &path, json!({"text": "not mine"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app.patch(&owner, &path, json!({"text": "not mine either"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "admins delete but do not edit");
        let (status, _) = app.delete(&carol, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app.delete(&owner, &path).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = app.patch(&bob, &path, json!({"text": "revive"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a tombstone stays one");
    }

    async fn message_input_is_validated_per_the_contract(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let other = create_channel(&app, &alice, &ws, "other", "public").await;
        let elsewhere = post(&app, &alice, &other, "elsewhere").await;
        let path = format!("/api/v1/channels/{general}/messages");
        // Act + Assert
        let (status, _) = app.post(&alice, &path, json!({"text": "   "})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = app.post(&alice, &path, json!({"text": "a".repeat(40_001)})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = app.post(&alice, &path, json!({"text": "a".repeat(40_000)})).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = app.post(&alice, &path, json!({"text": "x", "thread_root_id": id(&elsewhere)})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a root must be in the same channel");
        let (status, _) = app.post(&alice, &path, json!({"nope": 1})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, body) = app.post(&alice, &path, json!({"text": "with files", "file_ids": []})).await;
        assert_eq!((status, body["files"].clone()), (StatusCode::CREATED, json!([])));
        for query in ["?limit=0", "?limit=201", "?before=zzz"] {
            let (status, _) = app.get(&alice, &format!("{path}{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        }
        let (status, _) = app.get(&alice, &format!("/api/v1/messages/{}", uuid::Uuid::now_v7())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn mentions_are_parsed_on_write_and_on_edit(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (bob, outsider) = (app.register("Bob").await, app.register("Out").await);
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        // Act
        let message = post(&app, &alice, &general, &format!("hi <@{}> and <@{}> @here", bob.id, outsider.id)).await;
        let (_, edited) = app.patch(&alice, &format!("/api/v1/messages/{}", id(&message)), json!({"text": "@channel only"})).await;
        // Assert
        assert_eq!(message["mentions"], json!([bob.id]));
        assert_eq!(message["mentions_here"], true);
        assert_eq!(message["mentions_channel"], false);
        assert_eq!(edited["mentions"], json!([]));
        assert_eq!(edited["mentions_channel"], true);
        assert_eq!(edited["mentions_here"], false);
    }

    async fn a_batch_of_posts_is_one_commit_answered_in_order(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let root = post(&app, &alice, &general, "root").await;
        let store = app.system.messages.state().store.clone();
        let (workspace_id, channel_id): (Uuid, Uuid) = (ws.parse().expect("uuid"), general.parse().expect("uuid"));
        let new = |author_id: Uuid, text: &str, client_msg_id: Option<&str>, thread_root_id: Option<Uuid>, mentioned: Vec<Uuid>| NewMessage {
            id: Uuid::now_v7(),
            channel_id,
            workspace_id,
            author_id,
            text: text.to_owned(),
            thread_root_id,
            client_msg_id: client_msg_id.map(str::to_owned),
            mentions: Mentions { user_ids: mentioned, ..Mentions::default() },
            file_ids: Vec::new(),
            now: echo_domain::time::now_ms(),
        };
        let batch = vec![
            new(alice.id, "first zebracorn", Some("c-1"), None, vec![]),
            new(bob.id, "hello", None, None, vec![alice.id]),
            new(alice.id, "first zebracorn, resent", Some("c-1"), None, vec![]),
            new(bob.id, "in the thread", None, Some(id(&root).parse().expect("uuid")), vec![]),
            new(alice.id, "second zebracorn", None, None, vec![]),
        ];
        // Act
        let posted = store.post_messages(&batch).await.expect("posted");
        // Assert: answers in the batch's order, the resend answered with the first message
        let created: Vec<bool> = posted.iter().map(|(_, created)| *created).collect();
        assert_eq!(created, vec![true, true, false, true, true]);
        assert_eq!(posted[2].0.id, batch[0].id);
        assert_eq!(posted[2].0.text, "first zebracorn");
        assert_eq!(posted[1].0.mentions, vec![alice.id]);
        // Assert: the messages, the thread, the read markers and the search index
        let expected: Vec<String> = [&batch[4], &batch[1], &batch[0]].iter().map(|n| n.id.to_string()).chain([id(&root)]).collect();
        assert_eq!(ids(&history(&app, &alice, &general, "").await), expected);
        let (_, root_now) = app.get(&alice, &format!("/api/v1/messages/{}", id(&root))).await;
        assert_eq!(root_now["reply_count"], 1);
        assert_eq!(counts(&app, &alice, &ws, &general).await, (0, 0), "posting reads up to one's newest post");
        assert_eq!(counts(&app, &bob, &ws, &general).await, (1, 0), "alice's second post is after bob's");
        let (_, found) = app.get(&bob, &format!("/api/v1/workspaces/{ws}/search?q=zebracorn")).await;
        assert_eq!(found["results"].as_array().map(Vec::len), Some(2), "{found}");
    }

    async fn a_post_that_cannot_be_committed_fails_alone(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let state = app.system.messages.state();
        let new = |channel_id: Uuid, text: &str| NewMessage {
            id: Uuid::now_v7(),
            channel_id,
            workspace_id: ws.parse().expect("uuid"),
            author_id: alice.id,
            text: text.to_owned(),
            thread_root_id: None,
            client_msg_id: None,
            mentions: Mentions::default(),
            file_ids: Vec::new(),
            now: echo_domain::time::now_ms(),
        };
        let general: Uuid = general.parse().expect("uuid");
        let gone = Uuid::now_v7();
        // Act: a batch with a post into a channel that does not exist is one failed transaction...
        let together = state.store.post_messages(&[new(general, "kept"), new(gone, "lost")]).await;
        // ...but through the queue the other posts are committed all the same.
        let queued = futures::future::join_all(
            (0..20).map(|i| state.posts.post(new(if i == 7 { gone } else { general }, &format!("post {i}")))),
        )
        .await;
        // Assert
        assert!(together.is_err());
        for (i, answer) in queued.iter().enumerate() {
            assert_eq!(answer.is_ok(), i != 7, "post {i}: {answer:?}");
        }
        assert_eq!(ids(&history(&app, &alice, &general.to_string(), "?limit=100").await).len(), 19);
    }
}
