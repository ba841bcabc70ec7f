//! Workspace export: the streamed endpoint, for owners and admins only, with everything in the
//! documented layout; and its import on another Echo, once, with threads, edits, reactions,
//! mentions and files intact.

use std::io::Read;
use std::time::Duration;

use echo_test_support::{TestApp, TestUser, on_both_backends};
use message_service::export::import::{Destination, Report, import_export};
use message_service::export::{ChannelRecord, Manifest, MessageRecord, Person};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

async fn download(app: &TestApp, user: &TestUser, ws: &str) -> reqwest::Response {
    app.http
        .get(app.url(&format!("/api/v1/workspaces/{ws}/export")))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("export reaches Echo")
}

struct Archive(zip::ZipArchive<std::io::Cursor<Vec<u8>>>);

impl Archive {
    fn entry(&mut self, path: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.0
            .by_name(path)
            .unwrap_or_else(|_| panic!("{path} in the export"))
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, path: &str) -> T {
        serde_json::from_slice(&self.entry(path)).unwrap()
    }

    fn messages(&mut self, channel: &str) -> Vec<MessageRecord> {
        let bytes = self.entry(&format!("channels/{channel}/messages.jsonl"));
        bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    }
}

/// An export of `ws` once everyone's email has reached message-service (over the bus).
async fn export_with_emails(app: &TestApp, owner: &TestUser, ws: &str, people: usize) -> (Vec<u8>, Archive) {
    for _ in 0..100 {
        let response = download(app, owner, ws).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/zip");
        let bytes = response.bytes().await.unwrap().to_vec();
        let mut archive =
            Archive(zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).expect("a whole ZIP"));
        let found: Vec<Person> = archive.json("people.json");
        if found.iter().filter(|p| p.email.is_some()).count() == people {
            return (bytes, archive);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the people's emails never reached message-service");
}

async fn register_as(app: &TestApp, email: &str, name: &str) -> TestUser {
    let password = "correct horse battery staple 42";
    let (status, body) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": password, "display_name": name})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    TestUser {
        id: body["user"]["id"].as_str().and_then(|s| s.parse().ok()).unwrap(),
        token: body["access_token"].as_str().unwrap().to_owned(),
        refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
        display_name: name.to_owned(),
    }
}

async fn import(app: &TestApp, path: &std::path::Path, ws: &str) -> anyhow::Result<Report> {
    let state = app.system.messages.state();
    let destination = Destination {
        store: state.store.as_ref(),
        integrations: state.integrations.as_ref(),
        files: &state.files,
        thumbnail_px: 64,
        max_file_bytes: 1 << 20,
        workspace_id: Uuid::parse_str(ws).unwrap(),
    };
    import_export(&destination, path, |_| {}, &|_| {}).await
}

on_both_backends! {
    async fn an_export_holds_the_whole_workspace_and_imports_on_another_echo_once(app: TestApp) {
        // Arrange: a workspace with a thread, edits, reactions, a file, a tombstone, a private
        // channel, a DM and a former member.
        let (alice, bob, carol, dave) =
            (app.register("Alice").await, app.register("Bob").await, app.register("Carol").await, app.register("Dave").await);
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        join(&app, &alice, &ws, &carol, "member").await;
        let root = id(&post(&app, &alice, &general, &format!("plan zebracorn for <@{}>", bob.id)).await);
        for text in ["plan zebracorn v2", &format!("final plan zebracorn for <@{}>", bob.id)] {
            let (status, _) = app.patch(&alice, &format!("/api/v1/messages/{root}"), json!({"text": text})).await;
            assert_eq!(status, StatusCode::OK);
        }
        let answer = id(&reply(&app, &bob, &general, &root, "on it").await);
        for (user, emoji) in [(&alice, "tada"), (&bob, "tada"), (&bob, "eyes")] {
            app.put(user, &format!("/api/v1/messages/{root}/reactions/{emoji}"), json!({})).await;
        }
        let form = reqwest::multipart::Form::new().text("workspace_id", ws.clone())
            .part("file", reqwest::multipart::Part::bytes(b"step one\nstep two\n".to_vec()).file_name("steps.txt"));
        let uploaded: serde_json::Value = app.http.post(app.url("/api/v1/files")).bearer_auth(&alice.token)
            .multipart(form).send().await.unwrap().json().await.unwrap();
        let file = id(&uploaded);
        let (status, _) = app.post(&alice, &format!("/api/v1/channels/{general}/messages"),
            json!({"text": "the steps", "file_ids": [file]})).await;
        assert_eq!(status, StatusCode::CREATED);
        let gone = id(&post(&app, &carol, &general, "carol was here").await);
        app.delete(&carol, &format!("/api/v1/messages/{gone}")).await;
        let secret = create_channel(&app, &alice, &ws, "secret", "private").await;
        app.post(&alice, &format!("/api/v1/channels/{secret}/members"), json!({"user_id": bob.id})).await;
        post(&app, &bob, &secret, "between us").await;
        let (_, dm) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/dms"), json!({"user_ids": [bob.id]})).await;
        post(&app, &alice, &id(&dm), "psst").await;
        app.delete(&alice, &format!("/api/v1/workspaces/{ws}/members/{}", carol.id)).await;

        // Act: who may export
        let as_member = download(&app, &bob, &ws).await.status();
        let as_outsider = download(&app, &dave, &ws).await.status();
        let (bytes, mut archive) = export_with_emails(&app, &alice, &ws, 3).await;

        // Assert: the layout
        assert_eq!(as_member, StatusCode::FORBIDDEN);
        assert_eq!(as_outsider, StatusCode::NOT_FOUND);
        let manifest: Manifest = archive.json("export.json");
        assert_eq!((manifest.format.as_str(), manifest.version), ("echo-export", 1));
        assert_eq!(manifest.workspace.name, "Acme");
        assert_eq!((manifest.counts.people, manifest.counts.channels, manifest.counts.messages, manifest.counts.files), (3, 3, 6, 1));
        let people: Vec<Person> = archive.json("people.json");
        let role = |user: &TestUser| people.iter().find(|p| p.id == user.id).map(|p| (p.role, p.email.clone(), p.display_name.clone()));
        assert_eq!(role(&alice), Some((Some(message_service::model::Role::Owner), Some(alice.email.clone()), "Alice".to_owned())));
        assert_eq!(role(&carol), Some((None, Some(carol.email.clone()), "Carol".to_owned())), "a former member, still in history");
        assert_eq!(role(&dave), None);
        let channels: Vec<ChannelRecord> = archive.json("channels.json");
        let secret_record = channels.iter().find(|c| c.name == "secret").unwrap();
        assert_eq!(secret_record.members.len(), 2);
        let messages = archive.messages(&general);
        let first = messages.iter().find(|m| m.id.to_string() == root).unwrap();
        assert_eq!(first.text, format!("final plan zebracorn for <@{}>", bob.id));
        let edits: Vec<&str> = first.edits.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(edits, [&*format!("plan zebracorn for <@{}>", bob.id), "plan zebracorn v2"]);
        let reactions: Vec<(&str, usize)> = first.reactions.iter().map(|r| (r.emoji.as_str(), r.users.len())).collect();
        assert_eq!(reactions, [("tada", 2), ("eyes", 1)]);
        let thread = messages.iter().find(|m| m.id.to_string() == answer).unwrap();
        assert_eq!(thread.thread_root_id.map(|r| r.to_string()), Some(root.clone()));
        let tombstone = messages.iter().find(|m| m.id.to_string() == gone).unwrap();
        assert!(tombstone.deleted && tombstone.text.is_empty());
        assert_eq!(archive.entry(&format!("files/{file}/steps.txt")), b"step one\nstep two\n");
        assert_eq!(archive.messages(&secret)[0].text, "between us");
        let mut recorded = Vec::new();
        for _ in 0..100 {
            let (_, log) = app.get(&alice, &format!("/api/v1/workspaces/{ws}/audit-log?action=workspace_exported")).await;
            recorded = log["entries"].as_array().unwrap().clone();
            if !recorded.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!recorded.is_empty() && recorded.iter().all(|e| e["actor_id"] == json!(alice.id)), "{recorded:?}");

        // Act: import on another Echo, where only Alice has an account, twice
        let other = TestApp::spawn(app.backend).await;
        let alice_there = register_as(&other, &alice.email, "Alice").await;
        let (ws_there, general_there) = workspace(&other, &alice_there, "Acme again").await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.zip");
        std::fs::write(&path, &bytes).unwrap();
        // Alice is matched by the email user-service reports on the bus: wait for it.
        let integrations = other.system.messages.state().integrations.clone();
        for _ in 0..100 {
            if integrations.user_by_email(&alice.email).await.unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let first_run = import(&other, &path, &ws_there).await.unwrap();
        let second_run = import(&other, &path, &ws_there).await.unwrap();

        // Assert: everything once, as it was
        assert_eq!(first_run, Report { people_matched: 1, people_created: 2, channels_created: 2, messages_imported: 6,
            messages_skipped: 0, messages_rejected: 0, files_imported: 1 });
        assert_eq!(second_run, Report { people_matched: 1, people_created: 0, channels_created: 0, messages_imported: 0,
            messages_skipped: 6, messages_rejected: 0, files_imported: 0 });
        let (status, imported) = other.get(&alice_there, &format!("/api/v1/messages/{root}")).await;
        assert_eq!(status, StatusCode::OK, "{imported}");
        assert_eq!(imported["channel_id"], general_there);
        assert_eq!(imported["author_id"], json!(alice_there.id));
        assert_eq!(imported["reply_count"], 1);
        let bob_there = imported["text"].as_str().unwrap().trim_start_matches("final plan zebracorn for <@").trim_end_matches('>').to_owned();
        assert_ne!(bob_there, bob.id.to_string(), "mentions point at Bob's placeholder here");
        assert_eq!(imported["reactions"][0]["user_ids"], json!([alice_there.id, bob_there]));
        let (_, versions) = other.get(&alice_there, &format!("/api/v1/messages/{root}/history")).await;
        assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
        let (_, replies) = other.get(&alice_there, &format!("/api/v1/messages/{root}/replies")).await;
        assert_eq!(replies["messages"][0]["text"], "on it");
        let content = other.http.get(other.url(&format!("/api/v1/files/{file}/content"))).bearer_auth(&alice_there.token)
            .send().await.unwrap();
        assert_eq!(content.status(), StatusCode::OK);
        assert_eq!(content.bytes().await.unwrap().as_ref(), b"step one\nstep two\n");
        let (_, found) = other.get(&alice_there, &format!("/api/v1/workspaces/{ws_there}/search?q=zebracorn")).await;
        assert_eq!(found["results"].as_array().unwrap().len(), 1, "{found}");
        // A private channel's history never lands in a public channel of the same name.
        let (third, _) = workspace(&other, &alice_there, "Third").await;
        create_channel(&other, &alice_there, &third, "secret", "public").await;
        let refused = import(&other, &path, &third).await.unwrap_err();
        assert!(format!("{refused:#}").contains("#secret is public here but private in the export"), "{refused:#}");
        let (_, third_channels) = other.get(&alice_there, &format!("/api/v1/workspaces/{third}/channels")).await;
        assert_eq!(third_channels["channels"].as_array().unwrap().len(), 2, "nothing was written: {third_channels}");
        // The same export refuses a second workspace of the same Echo rather than duplicating it.
        let (elsewhere, _) = workspace(&other, &alice_there, "Elsewhere").await;
        let refused = import(&other, &path, &elsewhere).await.unwrap_err();
        assert!(format!("{refused:#}").contains("another workspace"), "{refused:#}");
    }

    async fn an_export_that_fails_midway_ends_as_a_broken_transfer_not_a_short_archive(app: TestApp) {
        // Arrange: a file a message shows, whose bytes have gone from the file store.
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let form = reqwest::multipart::Form::new().text("workspace_id", ws.clone())
            .part("file", reqwest::multipart::Part::bytes(b"soon gone".to_vec()).file_name("gone.txt"));
        let uploaded: serde_json::Value = app.http.post(app.url("/api/v1/files")).bearer_auth(&alice.token)
            .multipart(form).send().await.unwrap().json().await.unwrap();
        let file = id(&uploaded);
        app.post(&alice, &format!("/api/v1/channels/{general}/messages"), json!({"text": "see file", "file_ids": [file]})).await;
        let state = app.system.messages.state();
        state.files.delete(&message_service::files::store::content_key(file.parse().unwrap())).await.unwrap();
        // Act
        let response = download(&app, &alice, &ws).await;
        let status = response.status();
        let body = response.bytes().await;
        // Assert: the transfer breaks; nothing that arrived reads as a whole archive.
        assert_eq!(status, StatusCode::OK, "the export had started");
        assert!(body.is_err(), "a cut transfer, not {} bytes that end", body.map(|b| b.len()).unwrap_or_default());
    }
}
