//! Scaled mode for real: each service its own `echo-server serve` process on PostgreSQL and
//! Redis, message-service replicated, everything reached through a separate gateway process.

use std::time::Duration;

use crate::topology::{self as topo, Topology};
use reqwest::StatusCode;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_flow_works_across_separate_processes() {
    let topo = Topology::start(1).await;
    let http = reqwest::Client::new();
    let gw = &topo.gateway_url;

    let register = http
        .post(format!("{gw}/api/v1/auth/register"))
        .json(&json!({"email": "ada@example.test", "password": "correct horse battery staple", "display_name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    let session: serde_json::Value = register.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap();

    let me = http
        .get(format!("{gw}/api/v1/users/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    let login = http
        .post(format!("{gw}/api/v1/auth/login"))
        .json(&json!({"email": "ADA@example.test", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);

    let refresh = |rt: serde_json::Value| {
        let http = http.clone();
        let url = format!("{gw}/api/v1/auth/refresh");
        async move {
            http.post(url)
                .json(&json!({"refresh_token": rt}))
                .send()
                .await
                .unwrap()
        }
    };
    let rotated: serde_json::Value = refresh(session["refresh_token"].clone())
        .await
        .json()
        .await
        .unwrap();
    assert!(rotated["access_token"].is_string());
    assert_eq!(
        refresh(session["refresh_token"].clone()).await.status(),
        StatusCode::UNAUTHORIZED,
        "reuse is detected"
    );
    assert_eq!(
        refresh(rotated["refresh_token"].clone()).await.status(),
        StatusCode::UNAUTHORIZED,
        "and kills the session"
    );

    // A logout is honoured at once by every process: the gateway and message-service both refuse.
    let fresh: serde_json::Value = http
        .post(format!("{gw}/api/v1/auth/login"))
        .json(&json!({"email": "ada@example.test", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh_token = fresh["access_token"].as_str().unwrap();
    let ok = http
        .get(format!("{}/api/v1/workspaces", topo.messages_urls[0]))
        .bearer_auth(fresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.status(),
        StatusCode::OK,
        "message-service verifies tokens itself"
    );
    let logout = http
        .post(format!("{gw}/api/v1/auth/logout"))
        .bearer_auth(fresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let via_gateway = http
        .get(format!("{gw}/api/v1/users/me"))
        .bearer_auth(fresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(via_gateway.status(), StatusCode::UNAUTHORIZED);
    let direct = http
        .get(format!("{}/api/v1/workspaces", topo.messages_urls[0]))
        .bearer_auth(fresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), StatusCode::UNAUTHORIZED);

    // The gateway in front of remote replicas documents every service's routes.
    let doc: serde_json::Value = http
        .get(format!("{gw}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A message-service process reports its pool and the bus at each scrape.
    let metrics = http
        .get(format!("{}/metrics", topo.messages_urls[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for gauge in [
        r#"db_pool_connections{db="messages",state="in_use"}"#,
        r#"bus_group_lag{group="messages-notifications"}"#,
    ] {
        assert!(metrics.contains(gauge), "{gauge} missing from {metrics}");
    }

    for path in [
        "/api/v1/auth/login",
        "/api/v1/channels/{ch}/messages",
        "/api/v1/files",
        "/api/v1/workspaces/{ws}/search",
        "/api/v1/realtime/tickets",
        "/api/v1/notifications",
        "/api/v1/ai/search",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_on_one_replica_receives_what_is_posted_on_another_and_resumes_through_a_third_path() {
    let topo = Topology::start(2).await;
    let client = topo::Client::new(&topo.gateway_url);
    let alice = client.register("Alice").await;
    let bob = client.register("Bob").await;
    let ws = client
        .post(&alice, "/api/v1/workspaces", json!({"name": "Acme"}))
        .await;
    let ws_id = ws["id"].as_str().unwrap().to_owned();
    let invite = client
        .post(&alice, &format!("/api/v1/workspaces/{ws_id}/invites"), json!({}))
        .await;
    client
        .post(
            &bob,
            &format!("/api/v1/invites/{}/accept", invite["code"].as_str().unwrap()),
            json!({}),
        )
        .await;
    let channels = client
        .get(&alice, &format!("/api/v1/workspaces/{ws_id}/channels"))
        .await;
    let general = channels["channels"][0]["id"].as_str().unwrap().to_owned();

    // Bob listens on replica 0; Alice posts on replica 1.
    let mut socket = topo::Socket::connect(&topo.messages_urls[0], &bob, None).await;
    assert_eq!(socket.next(WAIT).await["type"], "hello");
    let direct = topo::Client::new(&topo.messages_urls[1]);
    let first = direct
        .post(
            &alice,
            &format!("/api/v1/channels/{general}/messages"),
            json!({"text": "across replicas"}),
        )
        .await;
    let frame = socket.next_of("message.created", WAIT).await;
    assert_eq!(frame["data"]["message"]["id"], first["id"]);
    let cursor = frame["cursor"].as_str().unwrap().to_owned();
    drop(socket);

    // While Bob is away, more posts land on either replica; he comes back through the gateway.
    let mut sent = Vec::new();
    for i in 0..6 {
        let via = topo::Client::new(&topo.messages_urls[i % 2]);
        sent.push(
            via.post(
                &alice,
                &format!("/api/v1/channels/{general}/messages"),
                json!({"text": format!("m{i}")}),
            )
            .await["id"]
                .clone(),
        );
    }
    let mut socket = topo::Socket::connect(&topo.gateway_url, &bob, Some(&cursor)).await;
    assert_eq!(socket.next(WAIT).await["data"]["resumed"], true);
    let mut got = Vec::new();
    while got.len() < sent.len() {
        got.push(socket.next_of("message.created", WAIT).await["data"]["message"]["id"].clone());
    }
    assert_eq!(got, sent);
}

/// Each ai-service replica keeps the whole AI index in memory, so each must see every message,
/// whichever replica's request the gateway picks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ai_replica_answers_from_the_whole_history() {
    let topo = Topology::start_with(1, 2).await;
    assert_eq!(topo.ai_urls.len(), 2);
    let client = topo::Client::new(&topo.gateway_url);
    let alice = client.register("Alice").await;
    let ws = client
        .post(&alice, "/api/v1/workspaces", json!({"name": "Acme"}))
        .await;
    let ws_id = ws["id"].as_str().unwrap().to_owned();
    let channels = client
        .get(&alice, &format!("/api/v1/workspaces/{ws_id}/channels"))
        .await;
    let general = channels["channels"][0]["id"].as_str().unwrap().to_owned();
    let words = [
        "aardvark",
        "bassoon",
        "cathedral",
        "dulcimer",
        "escarpment",
        "flamingo",
    ];
    for word in words {
        client
            .post(
                &alice,
                &format!("/api/v1/channels/{general}/messages"),
                json!({"text": format!("the {word} report")}),
            )
            .await;
    }

    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for ai in &topo.ai_urls {
        for word in words {
            loop {
                let path = format!("/api/v1/ai/search?workspace_id={ws_id}&q={word}&mode=keyword");
                let found = client.get_from(ai, &alice, &path).await;
                let texts: Vec<&str> = found["results"].as_array().map_or_else(Vec::new, |r| {
                    r.iter()
                        .filter_map(|hit| hit["message"]["text"].as_str())
                        .collect()
                });
                if texts.contains(&format!("the {word} report").as_str()) {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{ai} never found {word}: {found}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
