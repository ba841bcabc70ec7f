//! The hub over real WebSockets and a real (SQLite) event log.

// Test code: a failed step should panic with its cause (clippy.toml only exempts #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use echo_realtime::ConnectionConfig;
use serde_json::{Value, json};
use support::{Harness, message_event};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_message_reaches_channel_members_and_nobody_else() {
    let h = Harness::start(ConnectionConfig::default()).await;
    let (ws, ch) = (Uuid::now_v7(), Uuid::now_v7());
    let (alice, bob, eve) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    h.join(alice, ws, ch);
    h.join(bob, ws, ch);
    h.join(eve, ws, Uuid::now_v7());
    let mut a = h.connect(alice, None).await;
    let mut b = h.connect(bob, None).await;
    let mut e = h.connect(eve, None).await;
    for c in [&mut a, &mut b, &mut e] {
        assert_eq!(c.next(WAIT).await["type"], "hello");
    }

    h.publish(message_event(ws, ch, "hello")).await;
    h.publish(message_event(ws, Uuid::now_v7(), "elsewhere")).await;

    for c in [&mut a, &mut b] {
        let frame = c.next(WAIT).await;
        assert_eq!(frame["type"], "message.created");
        assert_eq!(frame["data"]["message"]["text"], "hello");
        assert!(frame["cursor"].is_string());
    }
    assert!(
        e.next_within(Duration::from_millis(300)).await.is_none(),
        "eve is not in the channel"
    );
}

#[tokio::test]
async fn a_client_that_reconnects_with_its_cursor_misses_nothing_and_sees_nothing_twice() {
    let h = Harness::start(ConnectionConfig::default()).await;
    let (ws, ch, alice) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    h.join(alice, ws, ch);
    let total = 300;
    // Connected before the first event, the client is owed every one of them.
    let mut first = h.connect(alice, None).await;
    let hello = first.next(WAIT).await;
    assert_eq!(hello["type"], "hello");
    let mut cursor = hello["cursor"].as_str().map(str::to_owned);
    let mut connected = Some(first);
    let publisher = {
        let h = h.clone();
        tokio::spawn(async move {
            for i in 0..total {
                h.publish(message_event(ws, ch, &format!("m{i}"))).await;
                if i % 7 == 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        })
    };

    let mut seen = Vec::new();
    let mut rounds = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < total {
        rounds += 1;
        assert!(
            tokio::time::Instant::now() < deadline,
            "stalled at {} of {total} after {rounds} connections",
            seen.len()
        );
        let mut c = match connected.take() {
            Some(c) => c,
            None => {
                let mut c = h.connect(alice, cursor.as_deref()).await;
                let hello = c.next(WAIT).await;
                assert_eq!(hello["type"], "hello");
                assert_eq!(hello["data"]["resumed"], true);
                cursor = hello["cursor"].as_str().map(str::to_owned);
                c
            }
        };
        // Take a random-ish number of frames, then drop the connection mid-stream.
        let take = 1 + (rounds * 37) % 45;
        for _ in 0..take {
            let Some(frame) = c.next_within(WAIT).await else {
                break;
            };
            assert_eq!(frame["type"], "message.created", "{frame}");
            seen.push(frame["data"]["message"]["text"].as_str().unwrap().to_owned());
            cursor = frame["cursor"].as_str().map(str::to_owned);
            if seen.len() == total {
                break;
            }
        }
        drop(c);
    }
    publisher.await.unwrap();

    let expected: Vec<String> = (0..total).map(|i| format!("m{i}")).collect();
    assert_eq!(
        seen, expected,
        "in order, no gap, no duplicate across {rounds} connections"
    );
}

#[tokio::test]
async fn a_cursor_that_is_unknown_or_too_old_asks_for_a_resync() {
    let h = Harness::start(ConnectionConfig::default()).await;
    let (ws, ch, alice) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    h.join(alice, ws, ch);
    h.publish(message_event(ws, ch, "one")).await;

    for bad in ["garbage", "999999999-0"] {
        let mut c = h.connect(alice, Some(bad)).await;
        let hello = c.next(WAIT).await;
        assert_eq!(
            (hello["type"].as_str(), hello["data"]["resumed"].as_bool()),
            (Some("hello"), Some(false))
        );
        assert_eq!(c.next(WAIT).await["type"], "resync_required", "cursor {bad}");
    }
}

#[tokio::test]
async fn joining_and_leaving_a_channel_take_effect_at_once() {
    let h = Harness::start(ConnectionConfig::default()).await;
    let (ws, ch, alice) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    h.join(alice, ws, Uuid::now_v7());
    let mut a = h.connect(alice, None).await;
    a.next(WAIT).await;

    h.publish(message_event(ws, ch, "before")).await;
    h.publish(support::event(
        "channel.member_joined",
        json!({"workspace_id": ws, "channel_id": ch, "user_id": alice}),
    ))
    .await;
    h.publish(message_event(ws, ch, "while a member")).await;
    h.publish(support::event(
        "channel.member_left",
        json!({"workspace_id": ws, "channel_id": ch, "user_id": alice}),
    ))
    .await;
    h.publish(message_event(ws, ch, "after")).await;

    let types: Vec<String> = [a.next(WAIT).await, a.next(WAIT).await, a.next(WAIT).await]
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["type"].as_str().unwrap(),
                f["data"]["message"]["text"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            "channel.member_joined ",
            "message.created while a member",
            "channel.member_left "
        ]
    );
    assert!(a.next_within(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn a_new_private_channel_shows_its_later_members_only_what_follows_their_join() {
    let h = Harness::start(ConnectionConfig::default()).await;
    let (ws, secret, alice, bob) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    h.join(alice, ws, Uuid::now_v7());
    h.join(bob, ws, Uuid::now_v7());
    let mut a = h.connect(alice, None).await;
    let mut b = h.connect(bob, None).await;
    a.next(WAIT).await;
    b.next(WAIT).await;
    // By the time the hub reads the channel's creation, bob has been added in the database.
    h.join(bob, ws, secret);
    let channel = json!({"id": secret, "workspace_id": ws, "kind": "private", "created_by": alice});
    let member =
        |user: Uuid| json!({"workspace_id": ws, "channel_id": secret, "user_id": user, "channel": channel});

    for event in [
        support::event(
            "channel.created",
            json!({"workspace_id": ws, "channel_id": secret, "channel": channel}),
        ),
        support::event("channel.member_joined", member(alice)),
        message_event(ws, secret, "before bob"),
        support::event("channel.member_joined", member(bob)),
        message_event(ws, secret, "after bob"),
    ] {
        h.publish(event).await;
    }

    let text = |f: Value| {
        format!(
            "{} {}",
            f["type"].as_str().unwrap(),
            f["data"]["message"]["text"].as_str().unwrap_or("")
        )
    };
    let mut alice_saw = Vec::new();
    for _ in 0..5 {
        alice_saw.push(text(a.next(WAIT).await));
    }
    assert_eq!(
        alice_saw,
        [
            "channel.created ",
            "channel.member_joined ",
            "message.created before bob",
            "channel.member_joined ",
            "message.created after bob"
        ]
    );
    assert_eq!(text(b.next(WAIT).await), "channel.member_joined ");
    assert_eq!(text(b.next(WAIT).await), "message.created after bob");
    assert!(b.next_within(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected_without_slowing_others() {
    let config = ConnectionConfig {
        queue: 16,
        ..ConnectionConfig::default()
    };
    let h = Harness::start(config).await;
    let (ws, ch, (slow, fast)) = (Uuid::now_v7(), Uuid::now_v7(), (Uuid::now_v7(), Uuid::now_v7()));
    h.join(slow, ws, ch);
    h.join(fast, ws, ch);
    let slow_conn = h.connect_unread(slow).await;
    let mut f = h.connect(fast, None).await;
    f.next(WAIT).await;

    // Large frames fill the slow client's socket buffers and then its queue.
    let big = "x".repeat(30_000);
    let mut received = 0;
    for i in 0..400 {
        h.publish(message_event(ws, ch, &format!("{i}{big}"))).await;
        while let Some(frame) = f.next_within(Duration::from_millis(1)).await {
            assert_eq!(frame["type"], "message.created");
            received += 1;
        }
    }
    while received < 400 {
        f.next(WAIT).await;
        received += 1;
    }

    let code = slow_conn.close_code(WAIT).await;
    assert_eq!(code, Some(4008), "the slow client is told to resume later");
}

#[tokio::test]
async fn ping_gets_a_pong_and_typing_reaches_the_others() {
    let h = Harness::start(ConnectionConfig::default()).await;
    let (ws, ch, alice, bob) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    h.join(alice, ws, ch);
    h.join(bob, ws, ch);
    let mut a = h.connect(alice, None).await;
    let mut b = h.connect(bob, None).await;
    a.next(WAIT).await;
    b.next(WAIT).await;

    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.next(WAIT).await["type"], "pong");

    a.send(json!({"type": "typing", "channel_id": ch})).await;
    let typing = b.next(WAIT).await;
    assert_eq!(typing["type"], "typing");
    assert_eq!(typing["data"]["user_id"], alice.to_string());
    assert!(
        a.next_within(Duration::from_millis(300)).await.is_none(),
        "no echo of one's own typing"
    );

    let outsider = Uuid::now_v7();
    h.join(outsider, ws, Uuid::now_v7());
    let mut o = h.connect(outsider, None).await;
    o.next(WAIT).await;
    o.send(json!({"type": "typing", "channel_id": ch})).await;
    assert!(
        b.next_within(Duration::from_millis(300)).await.is_none(),
        "typing into a channel one cannot read is dropped"
    );
}
