//! Importing a Slack export: people, channels, threads, reactions and original timestamps, and
//! nothing twice.

use std::io::Write;

use echo_test_support::{TestApp, on_both_backends};
use message_service::integrations::import::{Report, import_slack};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::slack_api::slack;

fn export(dir: &std::path::Path, files: &[(&str, Value)]) -> std::path::PathBuf {
    let path = dir.join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, value) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(value.to_string().as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path
}

async fn run(app: &TestApp, path: &std::path::Path, ws: &str) -> Report {
    let state = app.system.messages.state();
    import_slack(
        state.store.clone(),
        state.integrations.clone(),
        path,
        Uuid::parse_str(ws).unwrap(),
        |_| {},
        &|_| {},
    )
    .await
    .unwrap()
}

on_both_backends! {
    async fn a_slack_export_is_imported_once_with_its_threads_and_timestamps(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        // The import matches people by the addresses user-service reports on the bus.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let dir = tempfile::tempdir().unwrap();
        let path = export(dir.path(), &[
            ("users.json", json!([
                {"id": "U1", "name": "alice", "profile": {"email": alice.email, "real_name": "Alice"}},
                {"id": "U2", "name": "bob", "profile": {"email": bob.email}},
                {"id": "U3", "name": "carol", "real_name": "Carol Jones", "profile": {"email": "carol@elsewhere.test"}},
            ])),
            ("channels.json", json!([
                {"id": "C1", "name": "general", "members": ["U1", "U2", "U3"], "is_general": true},
                {"id": "C2", "name": "old-builds", "creator": "U1", "members": ["U1"], "is_archived": true, "topic": {"value": "CI"}},
            ])),
            ("dms.json", json!([{"id": "D1", "members": ["U1", "U2"]}])),
            ("general/2024-01-02.json", json!([
                {"type": "message", "user": "U1", "text": "hello <@U2>, see <#C2|old-builds>", "ts": "1704196800.000100"},
                {"type": "message", "user": "U2", "text": "on it", "ts": "1704196801.000200", "thread_ts": "1704196800.000100"},
                {"type": "message", "subtype": "channel_join", "user": "U3", "text": "<@U3> has joined the channel", "ts": "1704196801.500000"},
                {"type": "message", "user": "U3", "text": "carol here", "ts": "1704196802.000300",
                 "reactions": [{"name": "tada", "users": ["U1", "U2"], "count": 2}]},
            ])),
            ("old-builds/2024-01-01.json", json!([
                {"type": "message", "subtype": "bot_message", "bot_id": "B1", "username": "ci", "text": "build 7 ok", "ts": "1704110400.000001"},
            ])),
            ("D1/2024-01-03.json", json!([{"type": "message", "user": "U1", "text": "just us", "ts": "1704283200.000000"}])),
        ]);
        // Act
        let first = run(&app, &path, &ws).await;
        let second = run(&app, &path, &ws).await;
        // Assert
        assert_eq!(first, Report { users_matched: 2, users_created: 2, channels_created: 1, messages_imported: 5, messages_skipped: 0 });
        assert_eq!(second, Report { users_matched: 2, users_created: 0, channels_created: 0, messages_imported: 0, messages_skipped: 5 });
        let history = slack(&app, &alice.token, "conversations.history", json!({"channel": general})).await;
        let messages = history["messages"].as_array().unwrap();
        let seen: Vec<(&str, &str)> = messages.iter().map(|m| (m["ts"].as_str().unwrap(), m["text"].as_str().unwrap())).collect();
        assert_eq!(seen, [
            ("1704196802.000300", "carol here"),
            ("1704196800.000100", &*format!("hello <@{}>, see #old-builds", bob.id)),
        ]);
        assert_eq!(messages[1]["user"], json!(alice.id));
        assert_eq!(messages[1]["reply_count"], 1);
        assert_eq!(messages[0]["reactions"][0]["count"], 2);
        let carol = messages[0]["user"].as_str().unwrap().to_owned();
        let profile = slack(&app, &alice.token, "users.info", json!({"user": carol})).await;
        assert_eq!(profile["user"]["real_name"], "Carol Jones");
        let thread = slack(&app, &alice.token, "conversations.replies", json!({"channel": general, "ts": "1704196800.000100"})).await;
        assert_eq!(thread["messages"][1]["text"], "on it");
        assert_eq!(thread["messages"][1]["user"], json!(bob.id));
        assert_eq!(thread["messages"][1]["ts"], "1704196801.000200");
        let old = slack(&app, &alice.token, "conversations.info", json!({"channel": "#old-builds"})).await;
        assert_eq!(old["channel"]["is_archived"], true);
        let builds = slack(&app, &alice.token, "conversations.history", json!({"channel": old["channel"]["id"]})).await;
        assert_eq!(builds["messages"][0]["text"], "build 7 ok");
        let dm = slack(&app, &alice.token, "conversations.open", json!({"users": bob.id.to_string()})).await;
        let dm_history = slack(&app, &bob.token, "conversations.history", json!({"channel": dm["channel"]["id"]})).await;
        assert_eq!(dm_history["messages"][0]["text"], "just us");
        // The imported messages are searchable like any other.
        let (status, found) = app.get(&alice, &format!("/api/v1/workspaces/{ws}/search?q=carol")).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        assert_eq!(found["results"].as_array().unwrap().len(), 1);
    }
}
