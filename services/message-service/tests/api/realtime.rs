//! Live delivery over real WebSockets through the gateway.

use std::collections::BTreeSet;
use std::time::Duration;

use echo_test_support::{TestApp, WsClient, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{create_channel, join, post, workspace};

const WAIT: Duration = Duration::from_secs(10);

/// The next presence change of one user (others, such as the watcher's own, are skipped).
async fn presence_of(socket: &mut WsClient, user: &str) -> serde_json::Value {
    loop {
        let frame = socket.next_of("presence.changed", WAIT).await.unwrap();
        if frame["data"]["user_id"] == user {
            return frame;
        }
    }
}

on_both_backends! {
    async fn a_posted_message_reaches_every_member_and_no_outsider(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let eve = app.register("Eve").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        workspace(&app, &eve, "Elsewhere").await;
        let mut bob_ws = WsClient::connect(&app, &bob, None).await.unwrap();
        let mut eve_ws = WsClient::connect(&app, &eve, None).await.unwrap();
        assert_eq!(bob_ws.next(WAIT).await.unwrap()["type"], "hello");
        assert_eq!(eve_ws.next(WAIT).await.unwrap()["type"], "hello");

        let sent = post(&app, &alice, &general, "hello team").await;

        let frame = bob_ws.next_of("message.created", WAIT).await.unwrap();
        assert_eq!(frame["data"]["message"]["id"], sent["id"]);
        assert_eq!(frame["data"]["message"]["text"], "hello team");
        assert_eq!(frame["data"]["channel_id"], general.as_str());
        assert!(eve_ws.next_of("message.created", Duration::from_millis(500)).await.is_err(), "eve is not in the workspace");
    }

    async fn a_client_that_drops_and_resumes_with_its_cursor_misses_nothing_and_sees_nothing_twice(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;

        let mut received = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sent = Vec::new();
        for round in 0..6 {
            let mut socket = WsClient::connect(&app, &bob, cursor.as_deref()).await.unwrap();
            let hello = socket.next(WAIT).await.unwrap();
            assert_eq!(hello["data"]["resumed"], round > 0, "{hello}");
            // Others post while bob is connected, and then while he is away.
            for i in 0..3 {
                sent.push(post(&app, &alice, &general, &format!("r{round} live {i}")).await["id"].clone());
            }
            for _ in 0..2 {
                let frame = socket.next_of("message.created", WAIT).await.unwrap();
                received.push(frame["data"]["message"]["id"].clone());
            }
            cursor = socket.cursor.clone();
            socket.close().await;
            for i in 0..3 {
                sent.push(post(&app, &alice, &general, &format!("r{round} away {i}")).await["id"].clone());
            }
        }
        let mut socket = WsClient::connect(&app, &bob, cursor.as_deref()).await.unwrap();
        socket.next(WAIT).await.unwrap();
        while received.len() < sent.len() {
            let frame = socket.next_of("message.created", WAIT).await.unwrap();
            received.push(frame["data"]["message"]["id"].clone());
        }

        assert_eq!(received, sent, "every message once, in order");
        assert!(socket.next_of("message.created", Duration::from_millis(300)).await.is_err(), "and nothing more");
    }

    async fn being_added_to_a_private_channel_delivers_its_messages_at_once(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let secret = create_channel(&app, &alice, &ws, "secret", "private").await;
        let mut bob_ws = WsClient::connect(&app, &bob, None).await.unwrap();
        bob_ws.next(WAIT).await.unwrap();
        post(&app, &alice, &secret, "before bob").await;

        let (status, body) = app.post(&alice, &format!("/api/v1/channels/{secret}/members"), json!({"user_id": bob.id})).await;
        assert!(status.is_success(), "{body}");
        post(&app, &alice, &secret, "after bob").await;

        let joined = bob_ws.next_of("channel.member_joined", WAIT).await.unwrap();
        assert_eq!(joined["data"]["user_id"], bob.id.to_string());
        let message = bob_ws.next_of("message.created", WAIT).await.unwrap();
        assert_eq!(message["data"]["message"]["text"], "after bob");
    }

    async fn typing_reaches_the_other_members(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let mut alice_ws = WsClient::connect(&app, &alice, None).await.unwrap();
        let mut bob_ws = WsClient::connect(&app, &bob, None).await.unwrap();
        alice_ws.next(WAIT).await.unwrap();
        bob_ws.next(WAIT).await.unwrap();

        alice_ws.send(json!({"type": "typing", "channel_id": general})).await.unwrap();
        alice_ws.send(json!({"type": "ping"})).await.unwrap();

        let typing = bob_ws.next_of("typing", WAIT).await.unwrap();
        assert_eq!((typing["data"]["user_id"].as_str(), typing["data"]["channel_id"].as_str()), (Some(alice.id.to_string().as_str()), Some(general.as_str())));
        assert_eq!(alice_ws.next_of("pong", WAIT).await.unwrap()["type"], "pong");
    }

    async fn presence_follows_connections(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let mut alice_ws = WsClient::connect(&app, &alice, None).await.unwrap();
        alice_ws.next(WAIT).await.unwrap();

        let bob_ws = WsClient::connect(&app, &bob, None).await.unwrap();
        let online = presence_of(&mut alice_ws, &bob.id.to_string()).await;
        assert_eq!(online["data"]["status"], "online");
        let (_, presence) = app.get(&alice, &format!("/api/v1/presence?user_ids={}", bob.id)).await;
        assert_eq!(presence["presence"][bob.id.to_string()], "online");

        bob_ws.close().await;
        let offline = presence_of(&mut alice_ws, &bob.id.to_string()).await;
        assert_eq!(offline["data"]["status"], "offline");
    }

    async fn a_presence_subscription_narrows_presence_to_the_people_watched(app: TestApp) {
        let alice = app.register("Alice").await;
        let bob = app.register("Bob").await;
        let carol = app.register("Carol").await;
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        join(&app, &alice, &ws, &bob, "member").await;
        join(&app, &alice, &ws, &carol, "member").await;
        let mut alice_ws = WsClient::connect(&app, &alice, None).await.unwrap();
        let mut carol_ws = WsClient::connect(&app, &carol, None).await.unwrap();
        alice_ws.next(WAIT).await.unwrap();
        carol_ws.next(WAIT).await.unwrap();

        alice_ws.send(json!({"type": "presence_subscribe", "user_ids": [carol.id]})).await.unwrap();
        // Alice's typing reaches the hub after her subscription: once Carol sees it, it holds.
        // Carol's typing then marks where Alice's frames sent under the subscription begin.
        alice_ws.send(json!({"type": "typing", "channel_id": general})).await.unwrap();
        carol_ws.next_of("typing", WAIT).await.unwrap();
        carol_ws.send(json!({"type": "typing", "channel_id": general})).await.unwrap();
        alice_ws.next_of("typing", WAIT).await.unwrap();

        let bob_ws = WsClient::connect(&app, &bob, None).await.unwrap();
        // Carol never subscribed, so she hears everyone: Bob's coming online is in the log.
        assert_eq!(presence_of(&mut carol_ws, &bob.id.to_string()).await["data"]["status"], "online");
        let (status, body) = app.put(&carol, "/api/v1/users/me/presence", json!({"status": "away"})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        loop {
            let frame = alice_ws.next_of("presence.changed", WAIT).await.unwrap();
            assert_ne!(frame["data"]["user_id"], bob.id.to_string(), "Alice does not watch Bob: {frame}");
            if frame["data"]["user_id"] == carol.id.to_string() && frame["data"]["status"] == "away" {
                break;
            }
        }
        bob_ws.close().await;
    }

    async fn tickets_work_once_and_only_when_genuine(app: TestApp) {
        let alice = app.register("Alice").await;
        let (_, ticket) = app.request(Method::POST, "/api/v1/realtime/tickets", Some(&alice.token), None).await;
        let ticket = ticket["ticket"].as_str().unwrap();
        let url = |t: &str| format!("{}/api/v1/realtime?ticket={t}", app.base_url.replacen("http", "ws", 1));

        assert!(tokio_tungstenite::connect_async(url(ticket)).await.is_ok());
        assert!(tokio_tungstenite::connect_async(url(ticket)).await.is_err(), "a ticket works once");
        assert!(tokio_tungstenite::connect_async(url("forged")).await.is_err());
        let (status, _) = app.request(Method::POST, "/api/v1/realtime/tickets", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_after_the_server_restarts_without_a_gap() {
    let mut app = TestApp::spawn(echo_test_support::Backend::Sqlite).await;
    let alice = app.register("Alice").await;
    let bob = app.register("Bob").await;
    let (ws, general) = workspace(&app, &alice, "Acme").await;
    join(&app, &alice, &ws, &bob, "member").await;
    let mut socket = WsClient::connect(&app, &bob, None).await.unwrap();
    socket.next(WAIT).await.unwrap();
    let first = post(&app, &alice, &general, "before the restart").await;
    assert_eq!(
        socket.next_of("message.created", WAIT).await.unwrap()["data"]["message"]["id"],
        first["id"]
    );
    let cursor = socket.cursor.clone();

    app.restart().await;
    let later: BTreeSet<String> = {
        let mut ids = BTreeSet::new();
        for i in 0..3 {
            ids.insert(
                post(&app, &alice, &general, &format!("after {i}")).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        ids
    };

    let mut socket = WsClient::connect(&app, &bob, cursor.as_deref()).await.unwrap();
    assert_eq!(socket.next(WAIT).await.unwrap()["data"]["resumed"], true);
    let mut got = BTreeSet::new();
    while got.len() < later.len() {
        got.insert(
            socket.next_of("message.created", WAIT).await.unwrap()["data"]["message"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(got, later);
}
