//! Shared arrangements: workspaces with people in given roles, channels, messages, counts.

#![allow(dead_code)]

use echo_test_support::{TestApp, TestUser};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
    let general = channel_named(app, owner, &ws, "general").await;
    (ws, general)
}

pub async fn channel_named(app: &TestApp, user: &TestUser, ws: &str, name: &str) -> String {
    let (status, list) = app.get(user, &format!("/api/v1/workspaces/{ws}/channels")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let found = list["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .cloned();
    id(&found.unwrap_or_else(|| panic!("no channel {name} in {list}")))
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

pub async fn post(app: &TestApp, user: &TestUser, ch: &str, text: &str) -> Value {
    let (status, body) = app
        .post(
            user,
            &format!("/api/v1/channels/{ch}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

pub async fn reply(app: &TestApp, user: &TestUser, ch: &str, root: &str, text: &str) -> Value {
    let (status, body) = app
        .post(
            user,
            &format!("/api/v1/channels/{ch}/messages"),
            json!({"text": text, "thread_root_id": root}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The caller's channel-list entry for `ch`, if listed.
pub async fn entry(app: &TestApp, user: &TestUser, ws: &str, ch: &str) -> Option<Value> {
    let (status, list) = app.get(user, &format!("/api/v1/workspaces/{ws}/channels")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == ch))
        .cloned()
}

/// (unread_count, mention_count) of `ch` for `user`.
pub async fn counts(app: &TestApp, user: &TestUser, ws: &str, ch: &str) -> (i64, i64) {
    let e = entry(app, user, ws, ch)
        .await
        .unwrap_or_else(|| panic!("{ch} not listed"));
    (
        e["unread_count"].as_i64().expect("unread"),
        e["mention_count"].as_i64().expect("mentions"),
    )
}

pub async fn history(app: &TestApp, user: &TestUser, ch: &str, query: &str) -> Value {
    let (status, body) = app
        .get(user, &format!("/api/v1/channels/{ch}/messages{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub fn ids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(id)
        .collect()
}
