//! Tenant isolation over the whole API: every operation of the API document that names a resource
//! is tried, by the owner of another workspace, on a resource of the victim's workspace, and must
//! answer 404 as if it did not exist (and change nothing); resources named in queries and bodies
//! likewise. Then every event the victim's actions raise stays away from the other owner's socket.

use std::collections::BTreeSet;
use std::time::Duration;

use echo_test_support::{TestApp, TestUser, WsClient, on_both_backends};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// Operations whose path segment is a capability (a secret in the URL), or a Slack method name
/// checked by its token: no workspace's id can be tried on them. Each is tested where it lives.
const NOT_RESOURCE_IDS: [&str; 5] = [
    "/api/v1/invites/{code}",
    "/api/v1/invites/{code}/accept",
    "/hooks/{secret}",
    "/slack/api/{method}",
    "/slack/upload/{id}/{secret}",
];

fn api_document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../frontend/src/api/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the API document")).expect("JSON")
}

/// The victim's things, one of each kind a path can name.
struct Victim {
    owner: TestUser,
    ws: String,
    channel: String,
    message: String,
    file: String,
    bot: String,
    webhook: String,
    token: String,
    session: String,
    push_subscription: String,
}

impl Victim {
    async fn arrange(app: &TestApp) -> Victim {
        let owner = app.register("Victim").await;
        let (ws, general) = workspace(app, &owner, "Victim Inc").await;
        let channel = create_channel(app, &owner, &ws, "secrets", "private").await;
        let message = id(&post(app, &owner, &channel, "the quarterly numbers").await);
        reply(app, &owner, &channel, &message, "a reply").await;
        assert_eq!(
            app.put(
                &owner,
                &format!("/api/v1/messages/{message}/reactions/eyes"),
                json!({})
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        let form = Form::new().text("workspace_id", ws.clone()).part(
            "file",
            Part::bytes(b"private notes".to_vec())
                .file_name("notes.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
        let response = app
            .http
            .post(app.url("/api/v1/files"))
            .bearer_auth(&owner.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let file = id(&response.json().await.unwrap());
        let created = |(status, body): (StatusCode, Value)| {
            assert!(status.is_success(), "{status} {body}");
            body
        };
        let bot = id(&created(
            app.post(
                &owner,
                &format!("/api/v1/workspaces/{ws}/bots"),
                json!({"name": "Victim Bot"}),
            )
            .await,
        ));
        let webhook = id(&created(
            app.post(
                &owner,
                &format!("/api/v1/workspaces/{ws}/webhooks"),
                json!({"channel_id": general, "name": "CI"}),
            )
            .await,
        ));
        let token = id(&created(
            app.post(&owner, "/api/v1/tokens", json!({"name": "script"}))
                .await,
        ));
        let sessions = created(app.get(&owner, "/api/v1/users/me/sessions").await);
        let session = id(&sessions["sessions"][0]);
        let subscription = crate::web_push::Browser::new().subscription("https://push.example.com/victim");
        let push_subscription = id(&created(
            app.post(&owner, "/api/v1/users/me/push-subscriptions", subscription)
                .await,
        ));
        Victim {
            owner,
            ws,
            channel,
            message,
            file,
            bot,
            webhook,
            token,
            session,
            push_subscription,
        }
    }

    /// What an attack could change, as the victim reads it.
    async fn snapshot(&self, app: &TestApp) -> Vec<Value> {
        let mut seen = Vec::new();
        for path in [
            format!("/api/v1/messages/{}", self.message),
            format!("/api/v1/channels/{}", self.channel),
            format!("/api/v1/channels/{}/messages", self.channel),
            format!("/api/v1/workspaces/{}/members", self.ws),
            format!("/api/v1/workspaces/{}/channels", self.ws),
            format!("/api/v1/workspaces/{}/bots", self.ws),
            format!("/api/v1/workspaces/{}/webhooks", self.ws),
            format!("/api/v1/files/{}", self.file),
            "/api/v1/tokens".to_owned(),
            "/api/v1/users/me/sessions".to_owned(),
            "/api/v1/users/me/push-subscriptions".to_owned(),
        ] {
            let (status, body) = app.get(&self.owner, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            seen.push(body);
        }
        seen
    }

    /// A documented path with each parameter replaced by the victim's resource of that name.
    fn fill(&self, path: &str) -> String {
        let id_of = if path.starts_with("/api/v1/files/") {
            &self.file
        } else if path.contains("/bots/") {
            &self.bot
        } else if path.contains("/webhooks/") {
            &self.webhook
        } else if path.starts_with("/api/v1/tokens/") {
            &self.token
        } else if path.contains("/sessions/") {
            &self.session
        } else if path.contains("/push-subscriptions/") {
            &self.push_subscription
        } else if path.starts_with("/api/v1/users/") {
            &self.owner.id.to_string()
        } else {
            &self.message
        };
        path.replace("{ws}", &self.ws)
            .replace("{ch}", &self.channel)
            .replace("{message_id}", &self.message)
            .replace("{user}", &self.owner.id.to_string())
            .replace("{emoji}", "eyes")
            .replace("{id}", id_of)
    }
}

/// A body the operation accepts, so that a refusal is about the resource, not the input.
fn body_for(method: &str, path: &str, victim: &Victim, attacker: &TestUser) -> Option<Value> {
    let body = match (method, path) {
        ("POST", "/api/v1/channels/{ch}/messages") | ("PATCH", "/api/v1/messages/{id}") => {
            json!({"text": "hello"})
        }
        ("PATCH", "/api/v1/channels/{ch}") => json!({"topic": "taken over"}),
        ("POST", "/api/v1/channels/{ch}/members") => json!({"user_id": attacker.id}),
        ("PUT", "/api/v1/channels/{ch}/notification-settings") => json!({"level": "all"}),
        ("POST", "/api/v1/channels/{ch}/read") => json!({"message_id": victim.message}),
        ("POST", "/api/v1/workspaces/{ws}/bots") => json!({"name": "Intruder"}),
        ("PATCH", "/api/v1/workspaces/{ws}/bots/{id}") => json!({"name": "Renamed"}),
        ("POST", "/api/v1/workspaces/{ws}/channels") => json!({"name": "intruders", "visibility": "public"}),
        ("POST", "/api/v1/workspaces/{ws}/dms") => json!({"user_ids": [victim.owner.id]}),
        ("PATCH", "/api/v1/workspaces/{ws}/members/{user}") => json!({"role": "member"}),
        ("POST", "/api/v1/workspaces/{ws}/webhooks") => {
            json!({"channel_id": victim.channel, "name": "Intruder"})
        }
        (_, _) if method == "GET" || method == "DELETE" => return None,
        _ => json!({}),
    };
    Some(body)
}

async fn assert_not_found(
    app: &TestApp,
    attacker: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) {
    let (status, answer) = app
        .request(method.clone(), path, Some(&attacker.token), body)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} answered {answer}");
    assert_eq!(
        answer["error"]["code"], "not_found",
        "{method} {path}: the contract's error body: {answer}"
    );
}

on_both_backends! {
    async fn another_workspaces_resources_are_not_found_through_any_operation(app: TestApp) {
        // Arrange: the attacker owns a workspace of their own (so holds every role-based right there).
        let victim = Victim::arrange(&app).await;
        let attacker = app.register("Mallory").await;
        workspace(&app, &attacker, "Mallory Ltd").await;
        let document = api_document();
        let before = victim.snapshot(&app).await;

        // Act + Assert: every operation naming a resource in its path.
        let mut tried = BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            if !path.contains('{') || NOT_RESOURCE_IDS.contains(&path.as_str()) {
                continue;
            }
            for method in item.as_object().unwrap().keys() {
                let method = method.to_uppercase();
                let body = body_for(&method, path, &victim, &attacker);
                // Search needs its one required query parameter.
                let query = if path.ends_with("/search") { "?q=quarterly" } else { "" };
                let target = format!("{}{query}", victim.fill(path));
                assert_not_found(&app, &attacker, method.parse().unwrap(), &target, body).await;
                tried.insert(format!("{method} {path}"));
            }
        }
        // Resources named in queries and bodies.
        let (ws, ch, msg) = (&victim.ws, &victim.channel, &victim.message);
        let elsewhere = [
            (Method::GET, format!("/api/v1/files?workspace_id={ws}"), None),
            (Method::GET, format!("/api/v1/notifications/explain?message_id={msg}"), None),
            (Method::GET, format!("/api/v1/ai/search?workspace_id={ws}&q=quarterly"), None),
            (Method::GET, format!("/api/v1/ai/recommendations?workspace_id={ws}"), None),
            (Method::GET, format!("/api/v1/ai/insights?channel_id={ch}"), None),
            (Method::POST, "/api/v1/ai/summaries".to_owned(), Some(json!({"channel_id": ch}))),
            (Method::POST, "/api/v1/ai/ask".to_owned(), Some(json!({"workspace_id": ws, "question": "what are the quarterly numbers?"}))),
        ];
        for (method, path, body) in elsewhere {
            tried.insert(format!("{method} {}", path.split('?').next().unwrap()));
            assert_not_found(&app, &attacker, method, &path, body).await;
        }
        // A file upload into the victim's workspace.
        let form = Form::new().text("workspace_id", ws.clone()).part("file", Part::bytes(b"x".to_vec()).file_name("x.txt"));
        let response = app.http.post(app.url("/api/v1/files")).bearer_auth(&attacker.token).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(tried.len() > 50, "{} operations tried: {tried:#?}", tried.len());
        println!("isolation: {} operations tried, all 404", tried.len() + 1);

        // Nothing changed: the victim's workspace reads as it did before.
        assert_eq!(victim.snapshot(&app).await, before);
    }

    async fn another_workspaces_events_never_reach_a_socket(app: TestApp) {
        // Arrange
        let victim = Victim::arrange(&app).await;
        let attacker = app.register("Mallory").await;
        let (_, own_general) = workspace(&app, &attacker, "Mallory Ltd").await;
        let mut socket = WsClient::connect(&app, &attacker, None).await.unwrap();
        socket.next_of("hello", Duration::from_secs(5)).await.unwrap();

        // Act: the victim's workspace lives its life.
        let (v, ws, ch, msg) = (&victim.owner, &victim.ws, &victim.channel, &victim.message);
        let general = channel_named(&app, v, ws, "general").await;
        let public = create_channel(&app, v, ws, "announcements", "public").await;
        let posted = id(&post(&app, v, &general, "victim news").await);
        for (method, path, body) in [
            (Method::PATCH, format!("/api/v1/messages/{posted}"), json!({"text": "victim news, edited"})),
            (Method::PUT, format!("/api/v1/messages/{posted}/reactions/tada"), json!({})),
            (Method::PUT, format!("/api/v1/channels/{ch}/pins/{msg}"), json!({})),
            (Method::POST, format!("/api/v1/channels/{general}/read"), json!({"message_id": posted})),
            (Method::PATCH, format!("/api/v1/channels/{public}"), json!({"topic": "news"})),
            (Method::POST, format!("/api/v1/workspaces/{ws}/invites"), json!({})),
            (Method::PATCH, "/api/v1/users/me".to_owned(), json!({"status_text": "busy"})),
            (Method::PUT, "/api/v1/users/me/presence".to_owned(), json!({"status": "away"})),
            (Method::DELETE, format!("/api/v1/messages/{posted}"), json!({})),
        ] {
            let (status, body) = app.request(method.clone(), &path, Some(&v.token), Some(body)).await;
            assert!(status.is_success(), "{method} {path}: {status} {body}");
        }
        // The attacker's own message comes after all of them in the log, so once it arrives every
        // earlier event has been routed.
        let marker = id(&post(&app, &attacker, &own_general, "my own news").await);

        // Assert
        let mut seen = 0;
        loop {
            let frame = socket.next(Duration::from_secs(10)).await.unwrap();
            seen += 1;
            let text = frame.to_string();
            for secret in [ws.as_str(), ch, msg, &general, &public, &posted, "victim news", &v.id.to_string()] {
                assert!(!text.contains(secret), "another workspace's event reached the socket: {frame}");
            }
            if frame["type"] == "message.created" && frame["data"]["message"]["id"] == marker.as_str() {
                break;
            }
        }
        println!("events: {seen} frames read, none of the other workspace");
    }
}
