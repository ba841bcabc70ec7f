//! Notifications: the rule table end to end (each rule alone and combined), preferences and
//! per-channel settings, follow/unfollow, the inbox, explain, live delivery over the WebSocket
//! once, and redelivery and replay of the bus changing nothing.

use std::time::Duration;

use chrono::{Timelike, Utc};
use echo_test_support::{TestApp, TestUser, WsClient, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{create_channel, id, join, post, reply, workspace};

const WAIT: Duration = Duration::from_secs(10);

/// Explain for `user`, once the message has been decided (explain says `pending` until then).
async fn explain(app: &TestApp, user: &TestUser, message: &Value) -> Value {
    let path = format!("/api/v1/notifications/explain?message_id={}", id(message));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = app.get(user, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["reasons"] != json!(["pending"]) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "message {} never decided",
            id(message)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that explain tells `user` they were notified for exactly these reasons.
async fn assert_notified(app: &TestApp, user: &TestUser, message: &Value, reasons: Value) {
    let body = explain(app, user, message).await;
    assert_eq!(
        body["notified"], true,
        "{} should be notified: {body}",
        user.display_name
    );
    assert_eq!(body["reasons"], reasons, "{body}");
}

/// Asserts that explain tells `user` they were not notified, for exactly these reasons.
async fn assert_held(app: &TestApp, user: &TestUser, message: &Value, reasons: Value) {
    let body = explain(app, user, message).await;
    assert_eq!(
        body["notified"], false,
        "{} should not be notified: {body}",
        user.display_name
    );
    assert_eq!(body["reasons"], reasons, "{body}");
    assert_eq!(body["via"], json!([]), "{body}");
}

async fn inbox(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let (status, body) = app.get(user, &format!("/api/v1/notifications{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The message ids of the caller's notifications, newest first.
async fn notified_messages(app: &TestApp, user: &TestUser) -> Vec<String> {
    inbox(app, user, "").await["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["message_id"].as_str().expect("message id").to_owned())
        .collect()
}

async fn set_preferences(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let (status, prefs) = app.put(user, "/api/v1/notification-preferences", body).await;
    assert_eq!(status, StatusCode::OK, "{prefs}");
    prefs
}

async fn set_channel(app: &TestApp, user: &TestUser, ch: &str, body: Value) {
    let (status, answer) = app
        .put(
            user,
            &format!("/api/v1/channels/{ch}/notification-settings"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
}

async fn dm(app: &TestApp, from: &TestUser, ws: &str, to: &[&TestUser]) -> String {
    let ids: Vec<String> = to.iter().map(|u| u.id.to_string()).collect();
    let (status, channel) = app
        .post(
            from,
            &format!("/api/v1/workspaces/{ws}/dms"),
            json!({"user_ids": ids}),
        )
        .await;
    assert!(status.is_success(), "{channel}");
    id(&channel)
}

fn mention(user: &TestUser) -> String {
    format!("<@{}>", user.id)
}

/// Alice owns a workspace that Bob and Carol joined as members.
async fn team(app: &TestApp) -> (TestUser, TestUser, TestUser, String, String) {
    let alice = app.register("Alice").await;
    let bob = app.register("Bob").await;
    let carol = app.register("Carol").await;
    let (ws, general) = workspace(app, &alice, "Acme").await;
    join(app, &alice, &ws, &bob, "member").await;
    join(app, &alice, &ws, &carol, "member").await;
    (alice, bob, carol, ws, general)
}

/// Waits until user-service's report that `user` is `status` is in the event log: a message
/// posted afterwards is judged with it (the notifier reads the log in order).
async fn await_presence(app: &TestApp, user: &TestUser, status: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let logged = app.bus.read_after(None, 100_000).await.expect("read the log");
        let reported = logged.iter().any(|l| {
            l.envelope.kind == "presence.changed"
                && l.envelope.payload["user_id"] == user.id.to_string()
                && l.envelope.payload["status"] == status
        });
        if reported {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never became {status}",
            user.display_name
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends! {
    async fn a_mention_a_dm_and_a_followed_thread_reply_each_notify_the_right_people_once(app: TestApp) {
        let (alice, bob, carol, ws, general) = team(&app).await;

        let mentioning = post(&app, &alice, &general, &format!("{} can you look?", mention(&bob))).await;
        let direct = post(&app, &alice, &dm(&app, &alice, &ws, &[&bob]).await, "just between us").await;
        let root = post(&app, &carol, &general, "a question for the thread").await;
        let answer = reply(&app, &bob, &general, &id(&root), "an answer").await;

        assert_notified(&app, &bob, &mentioning, json!(["mentioned"])).await;
        assert_notified(&app, &bob, &direct, json!(["direct_message"])).await;
        assert_notified(&app, &carol, &answer, json!(["followed_thread"])).await;
        assert_held(&app, &carol, &mentioning, json!(["not_addressed"])).await;
        assert_held(&app, &alice, &mentioning, json!(["own_message"])).await;
        assert_held(&app, &bob, &answer, json!(["own_message"])).await;
        assert_held(&app, &alice, &answer, json!(["not_addressed"])).await;

        let bobs = inbox(&app, &bob, "").await;
        let kinds: Vec<(&str, &str)> = bobs["notifications"].as_array().unwrap().iter()
            .map(|n| (n["kind"].as_str().unwrap(), n["message_id"].as_str().unwrap())).collect();
        assert_eq!(kinds, vec![("dm", direct["id"].as_str().unwrap()), ("mention", mentioning["id"].as_str().unwrap())]);
        let first = &bobs["notifications"][1];
        assert_eq!(first["channel_id"], general.as_str());
        assert_eq!(first["read"], false);
        assert!(first["created_at"].as_str().unwrap().ends_with('Z'), "{first}");
        assert_eq!(notified_messages(&app, &carol).await, vec![id(&answer)]);
        assert!(notified_messages(&app, &alice).await.is_empty());
    }

    async fn channel_and_here_mentions_reach_members_and_here_only_those_online(app: TestApp) {
        let (alice, bob, carol, _ws, general) = team(&app).await;
        let bob_socket = WsClient::connect(&app, &bob, None).await.unwrap();
        await_presence(&app, &bob, "online").await;

        let everyone = post(&app, &alice, &general, "@channel release at noon").await;
        let here = post(&app, &alice, &general, "@here standup now").await;

        assert_notified(&app, &bob, &everyone, json!(["channel_mention"])).await;
        assert_notified(&app, &carol, &everyone, json!(["channel_mention"])).await;
        assert_notified(&app, &bob, &here, json!(["here_mention"])).await;
        assert_held(&app, &carol, &here, json!(["not_online"])).await;
        let explained = explain(&app, &bob, &here).await;
        assert_eq!(explained["via"], json!(["inbox", "websocket"]), "bob was connected: {explained}");
        assert_eq!(explained["kind"], "mention");
        bob_socket.close().await;
    }

    async fn keywords_notify_members_on_whole_words_in_any_case(app: TestApp) {
        let (alice, bob, carol, _ws, general) = team(&app).await;
        let prefs = set_preferences(&app, &bob, json!({"keywords": ["deploy", " Deploy ", "incident"]})).await;
        assert_eq!(prefs["keywords"], json!(["deploy", "incident"]), "trimmed, without duplicates");

        let hit = post(&app, &alice, &general, "The DEPLOY is done").await;
        let miss = post(&app, &alice, &general, "redeployed yesterday").await;

        assert_notified(&app, &bob, &hit, json!(["keyword"])).await;
        assert_held(&app, &bob, &miss, json!(["not_addressed"])).await;
        assert_held(&app, &carol, &hit, json!(["not_addressed"])).await;
        assert_eq!(inbox(&app, &bob, "").await["notifications"][0]["kind"], "keyword");
    }

    async fn the_author_people_who_cannot_see_and_muted_channels_are_not_notified(app: TestApp) {
        let (alice, bob, carol, ws, general) = team(&app).await;
        let dave = app.register("Dave").await;
        join(&app, &alice, &ws, &dave, "guest").await;
        let secret = create_channel(&app, &alice, &ws, "secret", "private").await;
        let open = create_channel(&app, &alice, &ws, "open", "public").await;

        // Carol is not in the private channel; Dave is a guest who was not added to `open`.
        let hidden = post(&app, &alice, &secret, &format!("{} {} see this?", mention(&carol), mention(&alice))).await;
        let unseen_by_guest = post(&app, &alice, &open, &format!("{} hello", mention(&dave))).await;
        let seen_by_outsider_member = post(&app, &alice, &open, &format!("{} hello", mention(&bob))).await;
        explain(&app, &bob, &seen_by_outsider_member).await;
        set_channel(&app, &bob, &general, json!({"muted": true})).await;
        let muted = post(&app, &alice, &general, &format!("{} ping", mention(&bob))).await;
        explain(&app, &bob, &muted).await;
        let (status, body) = app.get(&carol, &format!("/api/v1/notifications/explain?message_id={}", id(&hidden))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "explain hides what carol cannot see: {body}");
        assert_eq!(body["error"]["code"], "not_found");
        let (status, _) = app.get(&dave, &format!("/api/v1/notifications/explain?message_id={}", id(&unseen_by_guest))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(notified_messages(&app, &carol).await.is_empty());
        assert!(notified_messages(&app, &dave).await.is_empty());
        assert_held(&app, &alice, &hidden, json!(["own_message"])).await;
        assert_notified(&app, &bob, &seen_by_outsider_member, json!(["mentioned"])).await;
        assert_held(&app, &bob, &muted, json!(["channel_muted"])).await;
    }

    async fn levels_override_per_channel_and_mentions_level_drops_thread_replies(app: TestApp) {
        let (alice, bob, _carol, _ws, general) = team(&app).await;
        let root = post(&app, &bob, &general, "my thread").await;

        // Settings are read when a message is decided: wait for each before changing them.
        set_channel(&app, &bob, &general, json!({"level": "mentions"})).await;
        let quiet_reply = reply(&app, &alice, &general, &id(&root), "a reply").await;
        assert_held(&app, &bob, &quiet_reply, json!(["level_mentions"])).await;
        let named_reply = reply(&app, &alice, &general, &id(&root), &format!("{} a reply for you", mention(&bob))).await;
        assert_notified(&app, &bob, &named_reply, json!(["mentioned", "followed_thread"])).await;

        set_channel(&app, &bob, &general, json!({"level": "nothing"})).await;
        let named_in_nothing = post(&app, &alice, &general, &format!("{} hey", mention(&bob))).await;
        assert_held(&app, &bob, &named_in_nothing, json!(["level_nothing"])).await;

        set_preferences(&app, &bob, json!({"level": "nothing"})).await;
        set_channel(&app, &bob, &general, json!({"level": "all"})).await;
        let loud_channel = reply(&app, &alice, &general, &id(&root), "another reply").await;
        assert_notified(&app, &bob, &loud_channel, json!(["followed_thread"])).await;

        set_channel(&app, &bob, &general, json!({"level": "default"})).await;
        let quiet_default = post(&app, &alice, &general, &format!("{} hey again", mention(&bob))).await;
        assert_held(&app, &bob, &quiet_default, json!(["level_nothing"])).await;
        let (status, settings) = app.get(&bob, &format!("/api/v1/channels/{general}/notification-settings")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(settings, json!({"level": "default", "muted": false}));
    }

    async fn do_not_disturb_manual_and_scheduled_in_the_users_time_zone_holds_back(app: TestApp) {
        let (alice, bob, _carol, _ws, general) = team(&app).await;
        let in_an_hour = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        set_preferences(&app, &bob, json!({"dnd_until": in_an_hour})).await;
        let manual = post(&app, &alice, &general, &format!("{} hi", mention(&bob))).await;
        assert_held(&app, &bob, &manual, json!(["do_not_disturb"])).await;

        // Quiet hours around the current time in Tokyo: a window that does not cover now in UTC
        // terms unless read in Bob's zone.
        let tokyo = Utc::now().with_timezone(&chrono_tz::Asia::Tokyo);
        let start = (tokyo.hour() * 60 + tokyo.minute() + 24 * 60 - 60) % (24 * 60);
        let end = (tokyo.hour() * 60 + tokyo.minute() + 60) % (24 * 60);
        let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let prefs = set_preferences(&app, &bob, json!({
            "dnd_until": null,
            "timezone": "Asia/Tokyo",
            "dnd_schedule": {"start": hhmm(start), "end": hhmm(end)},
        })).await;
        assert_eq!(prefs["dnd_until"], Value::Null);
        let scheduled = post(&app, &alice, &general, &format!("{} hi again", mention(&bob))).await;
        assert_held(&app, &bob, &scheduled, json!(["dnd_schedule"])).await;

        set_preferences(&app, &bob, json!({"timezone": "America/Los_Angeles"})).await;
        let elsewhere = post(&app, &alice, &general, &format!("{} and now?", mention(&bob))).await;
        assert_notified(&app, &bob, &elsewhere, json!(["mentioned"])).await;

        // Combined: muted, level nothing and manual DND are all named.
        set_preferences(&app, &bob, json!({"dnd_until": in_an_hour, "dnd_schedule": null})).await;
        set_channel(&app, &bob, &general, json!({"muted": true, "level": "nothing"})).await;
        let everything = post(&app, &alice, &general, &format!("{} last one", mention(&bob))).await;
        assert_held(&app, &bob, &everything, json!(["channel_muted", "level_nothing", "do_not_disturb"])).await;
        assert_eq!(notified_messages(&app, &bob).await, vec![id(&elsewhere)]);
    }

    async fn unfollowing_a_thread_stops_its_replies_and_replying_follows_it_again(app: TestApp) {
        let (alice, bob, _carol, _ws, general) = team(&app).await;
        let root = post(&app, &alice, &general, "root").await;
        let first = reply(&app, &bob, &general, &id(&root), "one").await;
        assert_notified(&app, &alice, &first, json!(["followed_thread"])).await;

        let (status, _) = app.delete(&alice, &format!("/api/v1/messages/{}/follow", id(&first))).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "unfollowing through a reply unfollows its thread");
        let second = reply(&app, &bob, &general, &id(&root), "two").await;
        assert_held(&app, &alice, &second, json!(["not_addressed"])).await;

        let (status, _) = app.put(&alice, &format!("/api/v1/messages/{}/follow", id(&root)), json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let third = reply(&app, &bob, &general, &id(&root), "three").await;
        assert_notified(&app, &alice, &third, json!(["followed_thread"])).await;

        // Carol follows a thread she never wrote in.
        let carol = app.register("Carol2").await;
        let (status, _) = app.put(&carol, &format!("/api/v1/messages/{}/follow", id(&root)), json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "an outsider cannot follow");
    }

    async fn the_threads_view_lists_followed_threads_with_their_unread_replies(app: TestApp) {
        let (alice, bob, carol, ws, general) = team(&app).await;
        let eve = app.register("Eve").await;
        let question = post(&app, &alice, &general, "a question").await;
        let first = reply(&app, &bob, &general, &id(&question), "bob answers").await;
        let second = reply(&app, &carol, &general, &id(&question), "carol too").await;
        post(&app, &alice, &general, "nobody replied to this").await;
        let threads = |user: &TestUser, query: &str| {
            let path = format!("/api/v1/workspaces/{ws}/threads{query}");
            let user = user.clone();
            let app = &app;
            async move {
                let (status, body) = app.get(&user, &path).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body["threads"].as_array().unwrap().iter()
                    .map(|t| (t["root"]["id"].as_str().unwrap().to_owned(), t["unread_replies"].as_i64().unwrap()))
                    .collect::<Vec<_>>()
            }
        };

        assert_eq!(threads(&alice, "").await, vec![(id(&question), 2)]);
        assert_eq!(threads(&bob, "").await, vec![(id(&question), 1)], "bob read up to his own reply");
        let (status, _) = app.post(&alice, &format!("/api/v1/channels/{general}/read"), json!({"message_id": id(&second)})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(threads(&alice, "?unread=true").await, vec![]);
        assert_eq!(threads(&alice, "").await, vec![(id(&question), 0)]);
        let (status, _) = app.delete(&bob, &format!("/api/v1/messages/{}/follow", id(&first))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(threads(&bob, "").await, vec![]);
        let (status, _) = app.get(&eve, &format!("/api/v1/workspaces/{ws}/threads")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn the_inbox_pages_filters_unread_and_marks_read(app: TestApp) {
        let (alice, bob, carol, _ws, general) = team(&app).await;
        let mut sent = Vec::new();
        for i in 0..5 {
            sent.push(post(&app, &alice, &general, &format!("{} number {i}", mention(&bob))).await);
        }
        explain(&app, &bob, &sent[4]).await;

        let page = inbox(&app, &bob, "?limit=2").await;
        assert_eq!(page["has_more"], true);
        let first: Vec<&Value> = page["notifications"].as_array().unwrap().iter().collect();
        assert_eq!(first.iter().map(|n| n["message_id"].clone()).collect::<Vec<_>>(), vec![sent[4]["id"].clone(), sent[3]["id"].clone()]);
        let next = inbox(&app, &bob, &format!("?limit=2&before={}", id(first[1]))).await;
        assert_eq!(next["notifications"][0]["message_id"], sent[2]["id"]);
        let last = inbox(&app, &bob, &format!("?limit=10&before={}", id(&next["notifications"][1]))).await;
        assert_eq!(last["notifications"].as_array().unwrap().len(), 1);
        assert_eq!(last["has_more"], false);

        let ids = json!([id(first[0]), id(first[1])]);
        let (status, _) = app.post(&bob, "/api/v1/notifications/read", json!({"ids": ids})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = app.post(&bob, "/api/v1/notifications/read", json!({"ids": ids})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "idempotent");
        let unread = inbox(&app, &bob, "?unread=true").await;
        assert_eq!(unread["notifications"].as_array().unwrap().len(), 3);
        assert_eq!(inbox(&app, &bob, "").await["notifications"][0]["read"], true);

        // Someone else's notification is not found, and nothing is marked.
        let carols = post(&app, &alice, &general, &format!("{} yours", mention(&carol))).await;
        explain(&app, &carol, &carols).await;
        let carol_id = id(&inbox(&app, &carol, "").await["notifications"][0]);
        let (status, body) = app.post(&bob, "/api/v1/notifications/read", json!({"ids": [carol_id, id(&unread["notifications"][0])]})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(inbox(&app, &bob, "?unread=true").await["notifications"].as_array().unwrap().len(), 3);
        assert_eq!(inbox(&app, &carol, "?unread=true").await["notifications"].as_array().unwrap().len(), 1);

        let (status, _) = app.post(&bob, "/api/v1/notifications/read", json!({"all": true})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(inbox(&app, &bob, "?unread=true").await["notifications"].as_array().unwrap().is_empty());
        assert_eq!(inbox(&app, &carol, "?unread=true").await["notifications"].as_array().unwrap().len(), 1);
    }

    async fn invalid_requests_get_the_contract_error_body(app: TestApp) {
        let (alice, bob, _carol, ws, general) = team(&app).await;
        let eve = app.register("Eve").await;
        let open = create_channel(&app, &alice, &ws, "open", "public").await;
        let cases: Vec<(StatusCode, reqwest::Method, String, Option<Value>, &TestUser)> = vec![
            (StatusCode::BAD_REQUEST, reqwest::Method::GET, "/api/v1/notifications?limit=0".into(), None, &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::GET, "/api/v1/notifications?limit=201".into(), None, &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::GET, "/api/v1/notifications?before=nope".into(), None, &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::POST, "/api/v1/notifications/read".into(), Some(json!({})), &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::POST, "/api/v1/notifications/read".into(), Some(json!({"ids": [], "all": true})), &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::POST, "/api/v1/notifications/read".into(), Some(json!({"ids": ["x"]})), &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::GET, "/api/v1/notifications/explain?message_id=x".into(), None, &bob),
            (StatusCode::NOT_FOUND, reqwest::Method::GET, format!("/api/v1/notifications/explain?message_id={}", uuid::Uuid::now_v7()), None, &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::PUT, format!("/api/v1/channels/{general}/notification-settings"), Some(json!({"level": "loud"})), &bob),
            (StatusCode::FORBIDDEN, reqwest::Method::PUT, format!("/api/v1/channels/{open}/notification-settings"), Some(json!({"muted": true})), &bob),
            (StatusCode::NOT_FOUND, reqwest::Method::PUT, format!("/api/v1/channels/{general}/notification-settings"), Some(json!({"muted": true})), &eve),
            (StatusCode::BAD_REQUEST, reqwest::Method::PUT, "/api/v1/notification-preferences".into(), Some(json!({"timezone": "Mars/Olympus"})), &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::PUT, "/api/v1/notification-preferences".into(), Some(json!({"level": "default"})), &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::PUT, "/api/v1/notification-preferences".into(), Some(json!({"keywords": [""]})), &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::PUT, "/api/v1/notification-preferences".into(), Some(json!({"dnd_schedule": {"start": "25:00", "end": "08:00"}})), &bob),
            (StatusCode::BAD_REQUEST, reqwest::Method::PUT, "/api/v1/notification-preferences".into(), Some(json!({"dnd_until": "tomorrow"})), &bob),
            (StatusCode::UNAUTHORIZED, reqwest::Method::GET, "/api/v1/notifications".into(), None, &bob),
        ];
        for (expected, method, path, body, user) in cases {
            let token = (expected != StatusCode::UNAUTHORIZED).then_some(user.token.as_str());
            let (status, answer) = app.request(method.clone(), &path, token, body.clone()).await;
            assert_eq!(status, expected, "{method} {path} {body:?}: {answer}");
            assert!(answer["error"]["code"].is_string(), "{method} {path}: {answer}");
        }
        let (status, doc) = app.request(reqwest::Method::GET, "/api/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        for path in [
            "/api/v1/notifications",
            "/api/v1/notifications/read",
            "/api/v1/notifications/explain",
            "/api/v1/channels/{ch}/notification-settings",
            "/api/v1/notification-preferences",
            "/api/v1/messages/{id}/follow",
            "/api/v1/users/me/push-subscriptions",
            "/api/v1/users/me/push-subscriptions/{id}",
            "/api/v1/workspaces/{ws}/threads",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
        let (status, defaults) = app.get(&bob, "/api/v1/notification-preferences").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(defaults, json!({"level": "all", "keywords": [], "dnd_until": null, "dnd_schedule": null, "timezone": "UTC", "email": true}));
    }

    async fn a_notification_arrives_once_on_the_recipients_sockets_only(app: TestApp) {
        let (alice, bob, carol, _ws, general) = team(&app).await;
        let mut bob_socket = WsClient::connect(&app, &bob, None).await.unwrap();
        let mut carol_socket = WsClient::connect(&app, &carol, None).await.unwrap();
        bob_socket.next(WAIT).await.unwrap();
        carol_socket.next(WAIT).await.unwrap();

        let sent = post(&app, &alice, &general, &format!("{} live one", mention(&bob))).await;

        let frame = bob_socket.next_of("notification", WAIT).await.unwrap();
        let listed = &inbox(&app, &bob, "").await["notifications"][0];
        for field in ["id", "kind", "message_id", "channel_id", "created_at", "read"] {
            assert_eq!(frame["data"][field], listed[field], "{field}: {frame}");
        }
        assert_eq!(frame["data"]["message_id"], sent["id"]);
        assert_eq!(frame["data"]["preview"], sent["text"]);
        assert!(bob_socket.next_of("notification", Duration::from_millis(700)).await.is_err(), "once");
        assert!(carol_socket.next_of("notification", Duration::from_millis(300)).await.is_err(), "only the recipient");
    }

    async fn redelivered_and_replayed_events_never_duplicate_a_notification(app: TestApp) {
        let (alice, bob, _carol, _ws, general) = team(&app).await;
        let mut bob_socket = WsClient::connect(&app, &bob, None).await.unwrap();
        bob_socket.next(WAIT).await.unwrap();
        let sent = post(&app, &alice, &general, &format!("{} once only", mention(&bob))).await;
        bob_socket.next_of("notification", WAIT).await.unwrap();

        // The same envelope again (as an outbox relay crash would publish it), then the whole
        // log replayed to the notifier's group.
        let logged = app.bus.read_after(None, 10_000).await.unwrap();
        let original = logged.iter()
            .find(|l| l.envelope.kind == "message.created" && l.envelope.payload["message"]["id"] == sent["id"])
            .expect("the message's event");
        app.bus.publish(std::slice::from_ref(&original.envelope)).await.unwrap();
        app.bus.reset_group("messages-notifications", None).await.unwrap();
        let sentinel = post(&app, &alice, &general, &format!("{} after the replay", mention(&bob))).await;
        explain(&app, &bob, &sentinel).await;

        assert_eq!(notified_messages(&app, &bob).await, vec![id(&sentinel), id(&sent)]);
        let next = bob_socket.next_of("notification", WAIT).await.unwrap();
        assert_eq!(next["data"]["message_id"], sentinel["id"], "no second frame for the first message");
        assert!(bob_socket.next_of("notification", Duration::from_millis(500)).await.is_err());
    }

    async fn a_burst_of_mentions_arrives_as_one_frame_each(app: TestApp) {
        let (alice, bob, carol, _ws, general) = team(&app).await;
        let mut bob_socket = WsClient::connect(&app, &bob, None).await.unwrap();
        bob_socket.next(WAIT).await.unwrap();

        let posts = (0..40).map(|i| {
            let author = if i % 2 == 0 { &alice } else { &carol };
            let text = format!("{} burst {i}", mention(&bob));
            let (app, general) = (&app, &general);
            async move { post(app, author, general, &text).await }
        });
        let mut expected: Vec<String> = futures::future::join_all(posts).await.iter().map(id).collect();

        let mut received = Vec::new();
        while received.len() < expected.len() {
            let frame = bob_socket.next_of("notification", WAIT).await
                .unwrap_or_else(|e| panic!("{} of {} notifications arrived: {e}", received.len(), expected.len()));
            received.push(frame["data"]["message_id"].as_str().unwrap().to_owned());
        }
        assert!(bob_socket.next_of("notification", Duration::from_millis(500)).await.is_err(), "no extra frame");
        expected.sort();
        received.sort();
        assert_eq!(received, expected);
    }
}

/// Notification latency, message accepted (its 201) → `notification` frame on the recipient's
/// socket, on the embedded stack. Run with `--ignored --nocapture`; prints median and p99.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn measure_notification_latency() {
    for backend in [
        echo_test_support::Backend::Sqlite,
        echo_test_support::Backend::Postgres,
    ] {
        let app = TestApp::spawn(backend).await;
        let (alice, bob, _carol, _ws, general) = team(&app).await;
        let mut socket = WsClient::connect(&app, &bob, None).await.unwrap();
        socket.next(WAIT).await.unwrap();
        let mut samples = Vec::new();
        for i in 0..200 {
            let sent = post(&app, &alice, &general, &format!("{} sample {i}", mention(&bob))).await;
            let accepted = std::time::Instant::now();
            loop {
                let frame = socket.next_of("notification", WAIT).await.unwrap();
                if frame["data"]["message_id"] == sent["id"] {
                    break;
                }
            }
            samples.push(accepted.elapsed());
        }
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{backend:?}: notification latency over {} mentions: median {:?}, p99 {:?}",
            samples.len(),
            at(0.5),
            at(0.99)
        );
    }
}
