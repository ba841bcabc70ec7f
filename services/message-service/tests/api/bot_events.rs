//! The Events API: a bot's request URL (a local receiver here) gets the challenge, then signed
//! event callbacks, retried with backoff until it answers.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use echo_test_support::{Backend, TestApp, each_backend};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::*;
use crate::integrations::bot;
use crate::slack_api::slack;

/// What the receiver got, and how it answers.
#[derive(Default)]
struct Inbox {
    received: Vec<(HeaderMap, String)>,
    /// Message callbacks to refuse (500) before accepting.
    refuse: usize,
}

/// A request URL on 127.0.0.1: answers challenges, records callbacks.
async fn receiver() -> (String, Arc<Mutex<Inbox>>) {
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    async fn handle(
        State(inbox): State<Arc<Mutex<Inbox>>>,
        headers: HeaderMap,
        body: String,
    ) -> axum::response::Response {
        let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if value["type"] == "url_verification" {
            return axum::Json(json!({"challenge": value["challenge"]})).into_response();
        }
        let mut inbox = inbox.lock().await;
        inbox.received.push((headers, body));
        if inbox.refuse > 0 && value["event"]["type"] == "message" {
            inbox.refuse -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        StatusCode::OK.into_response()
    }
    let router = axum::Router::new()
        .route("/events", axum::routing::post(handle))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, inbox)
}

/// Waits (with a timeout) until the receiver holds callbacks matching `pred`, and returns them.
async fn wait_for(
    inbox: &Arc<Mutex<Inbox>>,
    want: usize,
    pred: impl Fn(&Value) -> bool,
) -> Vec<(HeaderMap, Value)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let found: Vec<(HeaderMap, Value)> = inbox
            .lock()
            .await
            .received
            .iter()
            .map(|(h, b)| (h.clone(), serde_json::from_str::<Value>(b).unwrap()))
            .filter(|(_, v)| pred(v))
            .collect();
        if found.len() >= want {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {want} callbacks arrived",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn signature_is_valid(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let ts = headers["x-slack-request-timestamp"].to_str().unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let expected: String = hmac::sign(&key, format!("v0:{ts}:{body}").as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    headers["x-slack-signature"].to_str().unwrap() == format!("v0={expected}")
}

async fn app_with_fast_retries(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.messages.notifications.delivery_backoff_ms = 100;
        config.messages.notifications.delivery_backoff_max_ms = 200;
        config.messages.notifications.delivery_poll_ms = 50;
        config.messages.notifications.delivery_max_attempts = 5;
    })
    .await
}

async fn a_bot_receives_signed_events_of_its_channels(backend: Backend) {
    // Arrange
    let app = app_with_fast_retries(backend).await;
    let alice = app.register("Alice").await;
    let (ws, general) = workspace(&app, &alice, "Acme").await;
    let (url, inbox) = receiver().await;
    let created = bot(&app, &alice, &ws, json!({"name": "Listener", "request_url": url})).await;
    let token = created["token"].as_str().unwrap().to_owned();
    let secret = created["signing_secret"].as_str().unwrap().to_owned();
    let bot_user = created["user_id"].as_str().unwrap().to_owned();
    assert_eq!(created["request_url"], json!(url));
    assert_eq!(
        slack(&app, &token, "conversations.join", json!({"channel": general})).await["ok"],
        true
    );
    // Act
    let plain = post(&app, &alice, &general, "good morning").await;
    let mention = post(&app, &alice, &general, &format!("<@{bot_user}> deploy please")).await;
    let path = format!("/api/v1/messages/{}/reactions/eyes", id(&plain));
    app.put(&alice, &path, json!({})).await;
    app.delete(&alice, &path).await;
    // Assert
    let messages = wait_for(&inbox, 2, |v| v["event"]["type"] == "message").await;
    let texts: Vec<&str> = messages
        .iter()
        .map(|(_, v)| v["event"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["good morning", mention["text"].as_str().unwrap()]);
    let (_, first) = &messages[0];
    assert_eq!(first["type"], "event_callback");
    assert_eq!(first["team_id"], json!(ws));
    assert_eq!(first["api_app_id"], created["id"]);
    assert_eq!(first["event"]["user"], json!(alice.id));
    assert_eq!(first["event"]["channel"], json!(general));
    assert_eq!(first["event"]["channel_type"], "channel");
    assert!(first["event_id"].as_str().unwrap().starts_with("Ev"));
    // The ts in the event is the one the Web API knows.
    let history = slack(&app, &token, "conversations.history", json!({"channel": general})).await;
    let good_morning = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "good morning")
        .unwrap();
    assert_eq!(first["event"]["ts"], good_morning["ts"]);
    let mentions = wait_for(&inbox, 1, |v| v["event"]["type"] == "app_mention").await;
    assert_eq!(mentions[0].1["event"]["text"], mention["text"]);
    let added = wait_for(&inbox, 1, |v| v["event"]["type"] == "reaction_added").await;
    assert_eq!(added[0].1["event"]["reaction"], "eyes");
    assert_eq!(added[0].1["event"]["item"]["ts"], good_morning["ts"]);
    wait_for(&inbox, 1, |v| v["event"]["type"] == "reaction_removed").await;
    // Every callback is signed with the bot's secret.
    for (headers, body) in inbox.lock().await.received.iter() {
        assert!(
            signature_is_valid(&secret, headers, body),
            "bad signature on {body}"
        );
        assert!(headers.get("x-slack-retry-num").is_none());
    }
    // Members joining the bot's channels are announced.
    let bob = app.register("Bob").await;
    join(&app, &alice, &ws, &bob, "member").await;
    let bob_id = json!(bob.id);
    let joined = wait_for(&inbox, 1, |v| {
        v["event"]["type"] == "member_joined_channel" && v["event"]["user"] == bob_id
    })
    .await;
    assert_eq!(joined[0].1["event"]["channel"], json!(general));
    // Its own messages are not sent back to it; private channels it is not in stay private.
    slack(
        &app,
        &token,
        "chat.postMessage",
        json!({"channel": general, "text": "on it"}),
    )
    .await;
    let secret_channel = create_channel(&app, &alice, &ws, "board", "private").await;
    post(&app, &alice, &secret_channel, "salaries").await;
    post(&app, &alice, &general, "last").await;
    wait_for(&inbox, 1, |v| v["event"]["text"] == "last").await;
    let all = inbox
        .lock()
        .await
        .received
        .iter()
        .map(|(_, b)| b.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!all.contains("on it") && !all.contains("salaries"), "{all}");
}

async fn failed_deliveries_are_retried_with_their_number(backend: Backend) {
    // Arrange
    let app = app_with_fast_retries(backend).await;
    let alice = app.register("Alice").await;
    let (ws, general) = workspace(&app, &alice, "Acme").await;
    let (url, inbox) = receiver().await;
    let created = bot(&app, &alice, &ws, json!({"name": "Flaky"})).await;
    let token = created["token"].as_str().unwrap().to_owned();
    slack(&app, &token, "conversations.join", json!({"channel": general})).await;
    // Act: the URL is set later (verified then), and is down for two attempts.
    let (status, updated) = app
        .patch(
            &alice,
            &format!("/api/v1/workspaces/{ws}/bots/{}", id(&created)),
            json!({"request_url": url}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    inbox.lock().await.refuse = 2;
    post(&app, &alice, &general, "are you there").await;
    // Assert
    let attempts = wait_for(&inbox, 3, |v| v["event"]["text"] == "are you there").await;
    assert_eq!(attempts.len(), 3);
    let retry_nums: Vec<Option<String>> = attempts
        .iter()
        .map(|(h, _)| h.get("x-slack-retry-num").map(|v| v.to_str().unwrap().to_owned()))
        .collect();
    assert_eq!(retry_nums, [None, Some("1".into()), Some("2".into())]);
    assert_eq!(attempts[1].0["x-slack-retry-reason"], "http_error");
    assert!(
        attempts
            .iter()
            .all(|(_, v)| v["event_id"] == attempts[0].1["event_id"]),
        "the same event each time"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = wait_for(&inbox, 3, |v| v["event"]["text"] == "are you there").await;
    assert_eq!(again.len(), 3, "delivered once accepted, then never again");

    // A URL that does not answer the challenge is refused; so is one nobody listens on.
    let (status, body) = app
        .patch(
            &alice,
            &format!("/api/v1/workspaces/{ws}/bots/{}", id(&created)),
            json!({"request_url": url.replace("/events", "/nowhere")}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "url_verification_failed");
    let (status, body) = app
        .post(
            &alice,
            &format!("/api/v1/workspaces/{ws}/bots"),
            json!({"name": "X", "request_url": "http://127.0.0.1:1/x"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

async fn events_wait_in_the_log_while_echo_is_down(backend: Backend) {
    // Arrange
    let mut app = app_with_fast_retries(backend).await;
    let alice = app.register("Alice").await;
    let (ws, general) = workspace(&app, &alice, "Acme").await;
    let (url, inbox) = receiver().await;
    let created = bot(&app, &alice, &ws, json!({"name": "Patient", "request_url": url})).await;
    slack(
        &app,
        created["token"].as_str().unwrap(),
        "conversations.join",
        json!({"channel": general}),
    )
    .await;
    inbox.lock().await.refuse = 1;
    post(&app, &alice, &general, "before the restart").await;
    wait_for(&inbox, 1, |v| v["event"]["text"] == "before the restart").await;
    // Act: Echo restarts with a delivery still owed.
    app.restart().await;
    // Assert
    let attempts = wait_for(&inbox, 2, |v| v["event"]["text"] == "before the restart").await;
    assert_eq!(attempts[1].0["x-slack-retry-num"], "1");
}

each_backend!(
    a_bot_receives_signed_events_of_its_channels,
    failed_deliveries_are_retried_with_their_number,
    events_wait_in_the_log_while_echo_is_down
);
