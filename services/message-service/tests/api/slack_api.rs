//! The Slack-compatible Web API: each method, its errors, its paging, as a Slack client calls it.

use echo_test_support::{TestApp, TestUser, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::integrations::{bot, urlencode};

/// Calls a method with a JSON body and a bearer token; the answer must be HTTP 200 JSON.
pub async fn slack(app: &TestApp, token: &str, method: &str, args: Value) -> Value {
    let response = app
        .http
        .post(app.url(&format!("/slack/api/{method}")))
        .bearer_auth(token)
        .json(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{method}");
    response.json().await.unwrap()
}

/// Calls a method form-encoded, with the token as a parameter (as older clients do).
async fn slack_form(app: &TestApp, method: &str, args: &[(&str, &str)]) -> Value {
    let body: Vec<String> = args
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    let response = app
        .http
        .post(app.url(&format!("/slack/api/{method}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{method}");
    response.json().await.unwrap()
}

/// Calls a method with GET and query parameters.
async fn slack_get(app: &TestApp, token: &str, method: &str, query: &str) -> Value {
    let response = app
        .http
        .get(app.url(&format!("/slack/api/{method}?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{method}");
    response.json().await.unwrap()
}

fn ok(answer: &Value) {
    assert_eq!(answer["ok"], true, "{answer}");
}

fn fails(answer: &Value, error: &str) {
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["error"], error, "{answer}");
}

/// A workspace with a bot: (workspace, general, bot token, bot user id).
async fn setup(app: &TestApp, alice: &TestUser) -> (String, String, String, String) {
    let (ws, general) = workspace(app, alice, "Acme").await;
    let created = bot(app, alice, &ws, json!({"name": "Helper"})).await;
    (
        ws,
        general,
        created["token"].as_str().unwrap().to_owned(),
        created["user_id"].as_str().unwrap().to_owned(),
    )
}

on_both_backends! {
    async fn auth_test_and_the_chat_methods(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, general, token, bot_user) = setup(&app, &alice).await;
        // Act / Assert
        let me = slack(&app, &token, "auth.test", json!({})).await;
        ok(&me);
        assert_eq!(me["user_id"], json!(bot_user));
        assert_eq!(me["team_id"], json!(ws));
        assert_eq!(me["team"], "Acme");
        assert!(me["bot_id"].is_string());
        fails(&slack(&app, "xoxb-unknown", "auth.test", json!({})).await, "invalid_auth");
        let anonymous = app.http.post(app.url("/slack/api/auth.test")).send().await.unwrap();
        assert_eq!(anonymous.json::<Value>().await.unwrap()["error"], "not_authed");
        ok(&slack(&app, &alice.token, "auth.test", json!({})).await);
        fails(&slack(&app, &token, "chat.nonsense", json!({})).await, "unknown_method");

        fails(&slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": "hi"})).await, "not_in_channel");
        ok(&slack(&app, &token, "conversations.join", json!({"channel": general})).await);
        let posted = slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": "hello <@ALICE>"})).await;
        ok(&posted);
        let ts = posted["ts"].as_str().unwrap().to_owned();
        assert!(ts.contains('.') && ts.split('.').nth(1).unwrap().len() == 6, "{ts}");
        assert_eq!(posted["message"]["user"], json!(bot_user));
        assert_eq!(posted["message"]["bot_id"], me["bot_id"]);
        let by_name = slack(&app, &token, "chat.postMessage", json!({"channel": "#general", "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "from blocks"}}]})).await;
        ok(&by_name);
        assert_eq!(by_name["message"]["text"], "from blocks");
        let reply = slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": "in thread", "thread_ts": ts})).await;
        assert_eq!(reply["message"]["thread_ts"], json!(ts));

        let updated = slack(&app, &token, "chat.update", json!({"channel": general, "ts": ts, "text": "edited"})).await;
        ok(&updated);
        assert_eq!(updated["text"], "edited");
        assert_eq!(updated["ts"], json!(ts), "a ts never changes");
        let link = slack(&app, &token, "chat.getPermalink", json!({"channel": general, "message_ts": ts})).await;
        ok(&link);
        assert!(link["permalink"].as_str().unwrap().contains(&ts.replace('.', "")));

        // Someone else's message cannot be changed by the bot.
        let theirs = post(&app, &alice, &general, "mine").await;
        let history = slack(&app, &token, "conversations.history", json!({"channel": general, "limit": 1})).await;
        assert_eq!(history["messages"][0]["text"], theirs["text"]);
        let their_ts = history["messages"][0]["ts"].as_str().unwrap().to_owned();
        fails(&slack(&app, &token, "chat.update", json!({"channel": general, "ts": their_ts, "text": "x"})).await, "cant_update_message");
        fails(&slack(&app, &token, "chat.delete", json!({"channel": general, "ts": their_ts})).await, "cant_delete_message");

        ok(&slack(&app, &token, "chat.delete", json!({"channel": general, "ts": ts})).await);
        fails(&slack(&app, &token, "chat.update", json!({"channel": general, "ts": ts, "text": "again"})).await, "message_not_found");
        fails(&slack(&app, &token, "chat.postMessage", json!({"channel": general})).await, "no_text");
        fails(&slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": "x".repeat(40_001)})).await, "msg_too_long");
        fails(&slack(&app, &token, "chat.postMessage", json!({"channel": "not-a-channel", "text": "x"})).await, "channel_not_found");
        fails(&slack(&app, &token, "chat.postMessage", json!({"channel": uuid::Uuid::now_v7(), "text": "x"})).await, "channel_not_found");
        fails(&slack(&app, &token, "chat.update", json!({"channel": general, "ts": "12.5", "text": "x"})).await, "message_not_found");
        fails(&slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": "x", "thread_ts": "1.000001"})).await, "thread_not_found");
        let malformed = app.http.post(app.url("/slack/api/chat.postMessage")).bearer_auth(&token)
            .header("content-type", "application/json").body("{oops").send().await.unwrap();
        assert_eq!(malformed.status(), StatusCode::OK);
        assert_eq!(malformed.json::<Value>().await.unwrap()["error"], "invalid_json");
    }

    async fn the_conversations_methods_page_with_cursors(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general, token, bot_user) = setup(&app, &alice).await;
        join(&app, &alice, &ws, &bob, "member").await;
        ok(&slack(&app, &token, "conversations.join", json!({"channel": general})).await);
        // Act / Assert: create, name taken, bad names.
        let created = slack(&app, &token, "conversations.create", json!({"name": "deploys"})).await;
        ok(&created);
        assert_eq!(created["channel"]["name"], "deploys");
        assert_eq!(created["channel"]["is_channel"], true);
        fails(&slack(&app, &token, "conversations.create", json!({"name": "deploys"})).await, "name_taken");
        fails(&slack(&app, &token, "conversations.create", json!({"name": "Bad Name!"})).await, "invalid_name_specials");
        let private = slack(&app, &token, "conversations.create", json!({"name": "secret", "is_private": true})).await;
        assert_eq!(private["channel"]["is_private"], true);

        // list, one per page.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = slack(&app, &token, "conversations.list", json!({"limit": 1, "cursor": cursor, "types": "public_channel,private_channel"})).await;
            ok(&page);
            seen.extend(page["channels"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()));
            cursor = page["response_metadata"]["next_cursor"].as_str().unwrap().to_owned();
            if cursor.is_empty() {
                break;
            }
        }
        seen.sort();
        assert_eq!(seen, ["deploys", "general", "secret"]);
        fails(&slack(&app, &token, "conversations.list", json!({"cursor": "garbage"})).await, "invalid_cursor");
        fails(&slack(&app, &token, "conversations.list", json!({"types": "nonsense"})).await, "invalid_types");

        let info = slack_get(&app, &token, "conversations.info", &format!("channel={general}&include_num_members=true")).await;
        ok(&info);
        assert_eq!(info["channel"]["is_general"], true);
        assert_eq!(info["channel"]["num_members"], 3);
        let members = slack(&app, &token, "conversations.members", json!({"channel": general, "limit": 2})).await;
        assert_eq!(members["members"].as_array().unwrap().len(), 2);
        let rest = slack(&app, &token, "conversations.members", json!({"channel": general, "cursor": members["response_metadata"]["next_cursor"]})).await;
        let mut everyone: Vec<Value> = members["members"].as_array().unwrap().clone();
        everyone.extend(rest["members"].as_array().unwrap().clone());
        assert!(everyone.contains(&json!(bot_user)) && everyone.contains(&json!(bob.id)) && everyone.len() == 3);

        // A DM with Bob, opened once.
        let dm = slack(&app, &token, "conversations.open", json!({"users": bob.id.to_string(), "return_im": true})).await;
        ok(&dm);
        assert_eq!(dm["channel"]["is_im"], true);
        assert_eq!(dm["channel"]["user"], json!(bob.id));
        let again = slack(&app, &token, "conversations.open", json!({"users": bob.id.to_string()})).await;
        assert_eq!(again["channel"]["id"], dm["channel"]["id"]);
        assert_eq!(again["already_open"], true);
        fails(&slack(&app, &token, "conversations.open", json!({"users": uuid::Uuid::now_v7().to_string()})).await, "user_not_found");
        ok(&slack(&app, &token, "chat.postMessage", json!({"channel": bob.id, "text": "psst"})).await);

        // history: newest first, in pages, form-encoded with the token as a parameter.
        for n in 0..5 {
            ok(&slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": format!("m{n}")})).await);
        }
        let mut texts = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = slack_form(&app, "conversations.history", &[("token", &token), ("channel", &general), ("limit", "2"), ("cursor", &cursor)]).await;
            ok(&page);
            texts.extend(page["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()));
            cursor = page["response_metadata"]["next_cursor"].as_str().unwrap().to_owned();
            assert_eq!(page["has_more"], !cursor.is_empty());
            if cursor.is_empty() {
                break;
            }
        }
        assert_eq!(texts, ["m4", "m3", "m2", "m1", "m0"]);
        let newest = slack(&app, &token, "conversations.history", json!({"channel": general, "limit": 5})).await;
        let ts: Vec<String> = newest["messages"].as_array().unwrap().iter().map(|m| m["ts"].as_str().unwrap().to_owned()).collect();
        let older = slack(&app, &token, "conversations.history", json!({"channel": general, "latest": ts[1]})).await;
        let older_texts: Vec<&str> = older["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(older_texts, ["m2", "m1", "m0"], "latest is exclusive");
        let newer = slack(&app, &token, "conversations.history", json!({"channel": general, "oldest": ts[2]})).await;
        assert_eq!(newer["messages"].as_array().unwrap().len(), 2, "oldest is exclusive");

        // replies: the parent first, then the thread.
        let root_ts = ts[4].clone();
        for n in 0..3 {
            ok(&slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": format!("r{n}"), "thread_ts": root_ts})).await);
        }
        let thread = slack(&app, &token, "conversations.replies", json!({"channel": general, "ts": root_ts, "limit": 2})).await;
        ok(&thread);
        let first: Vec<&str> = thread["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(first, ["m0", "r0", "r1"]);
        assert_eq!(thread["messages"][0]["reply_count"], 3);
        let rest = slack(&app, &token, "conversations.replies", json!({"channel": general, "ts": root_ts, "cursor": thread["response_metadata"]["next_cursor"]})).await;
        assert_eq!(rest["messages"][0]["text"], "r2");
        fails(&slack(&app, &token, "conversations.replies", json!({"channel": general, "ts": "1.000002"})).await, "thread_not_found");
        let history_again = slack(&app, &token, "conversations.history", json!({"channel": general, "limit": 1, "latest": ts[3]})).await;
        assert_eq!(history_again["messages"][0]["ts"], json!(root_ts), "a message keeps its ts");
        assert_eq!(history_again["messages"][0]["thread_ts"], json!(root_ts));

        // Private channels of others are invisible.
        let hidden = create_channel(&app, &alice, &ws, "board", "private").await;
        fails(&slack(&app, &token, "conversations.info", json!({"channel": hidden})).await, "channel_not_found");
        fails(&slack(&app, &token, "conversations.join", json!({"channel": hidden})).await, "channel_not_found");
        fails(&slack(&app, &token, "conversations.history", json!({"channel": hidden})).await, "channel_not_found");
    }

    async fn the_users_methods(app: TestApp) {
        // Arrange
        let alice = app.register("Alice Smith").await;
        let eve = app.register("Eve").await;
        let (_, _, token, bot_user) = setup(&app, &alice).await;
        // Act / Assert
        let info = slack(&app, &token, "users.info", json!({"user": alice.id})).await;
        ok(&info);
        assert_eq!(info["user"]["real_name"], "Alice Smith");
        assert_eq!(info["user"]["is_owner"], true);
        assert_eq!(info["user"]["is_bot"], false);
        let me = slack(&app, &token, "users.info", json!({"user": bot_user})).await;
        assert_eq!(me["user"]["is_bot"], true);
        assert_eq!(me["user"]["real_name"], "Helper");
        fails(&slack(&app, &token, "users.info", json!({"user": eve.id})).await, "user_not_found");
        fails(&slack(&app, &token, "users.info", json!({"user": "nobody"})).await, "user_not_found");
        fails(&slack(&app, &token, "users.info", json!({})).await, "invalid_arguments");
        let list = slack(&app, &token, "users.list", json!({"limit": 1})).await;
        ok(&list);
        assert_eq!(list["members"].as_array().unwrap().len(), 1);
        let next = slack(&app, &token, "users.list", json!({"cursor": list["response_metadata"]["next_cursor"]})).await;
        assert_eq!(next["members"].as_array().unwrap().len(), 1);
        // The address arrives with user.registered on the bus.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let found = loop {
            let found = slack(&app, &token, "users.lookupByEmail", json!({"email": alice.email.to_uppercase()})).await;
            if found["ok"] == true || tokio::time::Instant::now() > deadline {
                break found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        ok(&found);
        assert_eq!(found["user"]["id"], json!(alice.id));
        assert_eq!(found["user"]["profile"]["email"], json!(alice.email));
        fails(&slack(&app, &token, "users.lookupByEmail", json!({"email": eve.email})).await, "users_not_found");
    }

    async fn reactions_search_and_uploads(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (_, general, token, bot_user) = setup(&app, &alice).await;
        ok(&slack(&app, &token, "conversations.join", json!({"channel": general})).await);
        let posted = slack(&app, &token, "chat.postMessage", json!({"channel": general, "text": "quarterly kangaroo report"})).await;
        let ts = posted["ts"].as_str().unwrap().to_owned();
        // Act / Assert: reactions.
        ok(&slack(&app, &token, "reactions.add", json!({"channel": general, "timestamp": ts, "name": "thumbsup"})).await);
        fails(&slack(&app, &token, "reactions.add", json!({"channel": general, "timestamp": ts, "name": "thumbsup"})).await, "already_reacted");
        let got = slack(&app, &token, "reactions.get", json!({"channel": general, "timestamp": ts})).await;
        ok(&got);
        assert_eq!(got["message"]["reactions"], json!([{"name": "thumbsup", "count": 1, "users": [bot_user]}]));
        ok(&slack(&app, &token, "reactions.remove", json!({"channel": general, "timestamp": ts, "name": "thumbsup"})).await);
        fails(&slack(&app, &token, "reactions.remove", json!({"channel": general, "timestamp": ts, "name": "thumbsup"})).await, "no_reaction");
        fails(&slack(&app, &token, "reactions.add", json!({"channel": general, "timestamp": ts, "name": "bad name!"})).await, "invalid_name");
        fails(&slack(&app, &token, "reactions.add", json!({"channel": general, "timestamp": "5.5", "name": "x"})).await, "message_not_found");

        // search.messages
        let found = slack(&app, &token, "search.messages", json!({"query": "kangaroo"})).await;
        ok(&found);
        assert_eq!(found["messages"]["matches"][0]["ts"], json!(ts));
        assert_eq!(found["messages"]["matches"][0]["channel"]["name"], "general");
        assert_eq!(found["messages"]["total"], 1);
        fails(&slack(&app, &token, "search.messages", json!({})).await, "invalid_arguments");

        // files: URL, bytes, completion into the channel.
        let content = b"hello from a file\n".to_vec();
        let url = slack(&app, &token, "files.getUploadURLExternal", json!({"filename": "notes.txt", "length": content.len()})).await;
        ok(&url);
        let upload_url = url["upload_url"].as_str().unwrap().to_owned();
        let uploaded = app.http.post(&upload_url).body(content.clone()).send().await.unwrap();
        assert_eq!(uploaded.status(), StatusCode::OK);
        let again = app.http.post(&upload_url).body(content.clone()).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_FOUND, "an upload URL is used once");
        let done = slack_form(&app, "files.completeUploadExternal", &[("token", &token), ("channel_id", &general),
            ("initial_comment", "the notes"), ("files", &json!([{"id": url["file_id"], "title": "Notes.txt"}]).to_string())]).await;
        ok(&done);
        assert_eq!(done["files"][0]["id"], url["file_id"]);
        assert_eq!(done["files"][0]["name"], "Notes.txt");
        let history = slack(&app, &token, "conversations.history", json!({"channel": general, "limit": 1})).await;
        assert_eq!(history["messages"][0]["text"], "the notes");
        assert_eq!(history["messages"][0]["files"][0]["id"], url["file_id"]);
        let download = history["messages"][0]["files"][0]["url_private"].as_str().unwrap().to_owned();
        let bytes = app.http.get(&download).bearer_auth(&token).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(bytes.as_ref(), content.as_slice());
        fails(&slack(&app, &token, "files.completeUploadExternal", json!({"files": [{"id": url["file_id"]}], "channel_id": general})).await, "file_not_found");
        fails(&slack(&app, &token, "files.completeUploadExternal", json!({"files": "nope"})).await, "invalid_arguments");
        fails(&slack(&app, &token, "files.getUploadURLExternal", json!({"filename": "x", "length": "many"})).await, "invalid_arguments");
        let fake = app.http.post(upload_url.replace(url["file_id"].as_str().unwrap(), &uuid::Uuid::now_v7().to_string())).body("x").send().await.unwrap();
        assert_eq!(fake.status(), StatusCode::NOT_FOUND);
        let garbled = app.http.post(upload_url.replace(url["file_id"].as_str().unwrap(), "not-an-id")).body("x").send().await.unwrap();
        assert_eq!(garbled.status(), StatusCode::NOT_FOUND, "an id that does not parse is one more bad URL");
        assert_eq!(garbled.text().await.unwrap(), "invalid_upload_url");
    }

    async fn scoped_tokens_are_refused_methods_outside_their_scopes(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let reader = bot(&app, &alice, &ws, json!({"name": "Reader", "scopes": ["channels:read", "channels:history"]})).await;
        let token = reader["token"].as_str().unwrap();
        // Act / Assert
        ok(&slack(&app, token, "conversations.list", json!({})).await);
        ok(&slack(&app, token, "conversations.history", json!({"channel": general})).await);
        fails(&slack(&app, token, "chat.postMessage", json!({"channel": general, "text": "x"})).await, "missing_scope");
        fails(&slack(&app, token, "reactions.add", json!({"channel": general, "timestamp": "1.1", "name": "x"})).await, "missing_scope");
        fails(&slack(&app, token, "users.list", json!({})).await, "missing_scope");
        // A personal token acts as its person, in the workspace it was made for.
        let (_, pat) = app.post(&alice, "/api/v1/tokens", json!({"name": "cli", "workspace_id": ws})).await;
        let me = slack(&app, pat["token"].as_str().unwrap(), "auth.test", json!({})).await;
        assert_eq!(me["user_id"], json!(alice.id));
        assert_eq!(me["team_id"], json!(ws));
        assert!(me.get("bot_id").is_none());
    }
}
