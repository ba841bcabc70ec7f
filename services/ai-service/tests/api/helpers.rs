//! Shared arrangements: an Echo with the real model, workspaces, channels, messages, and waiting
//! (always with a timeout) until ai-service has indexed everything.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use ai_service::config::default_model_dir;
use echo_test_support::{Backend, TestApp, TestUser};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Fails (never skips) when the model is missing, saying how to get it.
pub fn model_dir() -> std::path::PathBuf {
    let dir = default_model_dir();
    assert!(
        ai_service::embed::model_present(&dir),
        "the embedding model is missing from {}: run scripts/fetch-model.sh (or set ECHO_MODEL_DIR) before the AI tests",
        dir.display()
    );
    dir
}

/// Echo with the real embedding model.
pub async fn spawn(backend: Backend) -> TestApp {
    let dir = model_dir();
    let app = TestApp::spawn_with(backend, |config| config.ai.model_dir = Some(dir)).await;
    let user = app.register("Probe").await;
    let (status, body) = app.get(&user, "/api/v1/ai/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["embedder"], "all-MiniLM-L6-v2",
        "the model did not load: {body}"
    );
    app
}

pub fn id(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// A workspace owned by `owner`: (workspace id, general channel id).
pub async fn workspace(app: &TestApp, owner: &TestUser, name: &str) -> (String, String) {
    let (status, ws) = app.post(owner, "/api/v1/workspaces", json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{ws}");
    let ws = id(&ws);
    let (status, list) = app.get(owner, &format!("/api/v1/workspaces/{ws}/channels")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let general = list["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "general"))
        .cloned()
        .expect("general");
    (ws, id(&general))
}

/// Brings `user` into the workspace by invite, then gives them `role`.
pub async fn join(app: &TestApp, owner: &TestUser, ws: &str, user: &TestUser, role: &str) {
    let (status, invite) = app
        .post(owner, &format!("/api/v1/workspaces/{ws}/invites"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invite}");
    let code = invite["code"].as_str().expect("code");
    let (status, body) = app
        .post(user, &format!("/api/v1/invites/{code}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    if role != "member" {
        let (status, body) = app
            .patch(
                owner,
                &format!("/api/v1/workspaces/{ws}/members/{}", user.id),
                json!({"role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

pub async fn create_channel(
    app: &TestApp,
    user: &TestUser,
    ws: &str,
    name: &str,
    visibility: &str,
) -> String {
    let (status, body) = app
        .post(
            user,
            &format!("/api/v1/workspaces/{ws}/channels"),
            json!({"name": name, "visibility": visibility}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id(&body)
}

pub async fn post(app: &TestApp, user: &TestUser, ch: &str, text: &str) -> String {
    let (status, body) = app
        .post(
            user,
            &format!("/api/v1/channels/{ch}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id(&body)
}

/// Waits until ai-service has processed every event and embedded every message (60 s at most).
/// The lag must read zero on a few polls in a row: message-service's outbox relay publishes a
/// moment after the HTTP answer, so one zero could come before the last events reach the bus.
pub async fn wait_indexed(app: &TestApp, user: &TestUser) {
    let deadline = Instant::now() + Duration::from_secs(60);
    // "No lag" can be read while the last posts still wait in message-service's outbox, so the
    // indexed count must also hold still for a while.
    let mut settled = 0;
    let mut last = Value::Null;
    loop {
        let (status, body) = app.get(user, "/api/v1/ai/status").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        settled = if body["lag"] == 0 && body["indexed_messages"] == last {
            settled + 1
        } else {
            0
        };
        last = body["indexed_messages"].clone();
        if settled >= 4 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "ai-service did not catch up within 60 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The ids of search results, best first.
pub async fn search(app: &TestApp, user: &TestUser, ws: &str, q: &str, mode: &str) -> Vec<String> {
    let path = format!(
        "/api/v1/ai/search?workspace_id={ws}&q={}&limit=10&mode={mode}",
        urlencode(q)
    );
    let (status, body) = app.get(user, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["message"]["id"].as_str().expect("id").to_owned())
        .collect()
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A small team conversation: (workspace, #deploys, ids of its messages, #general, ids there).
pub struct Conversation {
    pub ws: String,
    pub deploys: String,
    pub deploy_ids: Vec<String>,
    pub general: String,
    pub general_ids: Vec<String>,
}

pub const DEPLOY_TALK: &[&str] = &[
    "Starting the production rollout of the API now, canaries look healthy.",
    "The canary in eu-west returns 502 errors, pausing the rollout.",
    "Rolled back the release after the error rate doubled in ten minutes.",
    "Root cause: the new build expected an environment variable that production never had.",
    "The checkout page crashed and buyers couldn't complete their purchases for twenty minutes.",
    "Can you add the missing variable to the helm chart before Friday?",
    "Added the variable, the rollout is green again and the error rate is back to normal.",
    "Great work everyone, thanks for the quick recovery.",
];

pub const GENERAL_TALK: &[&str] = &[
    "Lunch on Friday is tacos from the place around the corner.",
    "The quarterly planning meeting moved to Tuesday afternoon.",
    "Someone left a blue umbrella in the kitchen.",
];

pub async fn conversation(app: &TestApp, owner: &TestUser) -> Conversation {
    let (ws, general) = workspace(app, owner, "Acme").await;
    let deploys = create_channel(app, owner, &ws, "deploys", "public").await;
    let mut deploy_ids = Vec::new();
    for text in DEPLOY_TALK {
        deploy_ids.push(post(app, owner, &deploys, text).await);
    }
    let mut general_ids = Vec::new();
    for text in GENERAL_TALK {
        general_ids.push(post(app, owner, &general, text).await);
    }
    Conversation {
        ws,
        deploys,
        deploy_ids,
        general,
        general_ids,
    }
}

/// Server-sent events of a streamed response: (event name, data).
pub fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut event = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            (!data.is_empty()).then(|| (event, serde_json::from_str(&data).unwrap_or(Value::String(data))))
        })
        .collect()
}

/// Asserts that this Echo runs on the real model (the default model directory).
pub async fn require_model(app: &TestApp) {
    model_dir();
    let user = app.register("Probe").await;
    let (status, body) = app.get(&user, "/api/v1/ai/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["embedder"], "all-MiniLM-L6-v2",
        "the model did not load: {body}"
    );
}
