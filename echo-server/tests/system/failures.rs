//! Failures of a scaled deployment, caused for real: a message-service replica killed with
//! SIGKILL under load, every service killed in turn (and started again by the cluster, as a
//! process manager would), Redis killed and restarted, PostgreSQL stopped and started. Nothing
//! that was acknowledged (a 201) may be lost, and clients and services recover by themselves.
//!
//! Redis and PostgreSQL are private instances started by the test (the machine's own serve every
//! other test running beside this one).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::topology::{Client, Socket, Topology, User};

const WAIT: Duration = Duration::from_secs(30);

/// Alice's workspace with Bob in it; returns their clients and `general`.
async fn team(topo: &Topology) -> (User, User, String) {
    let client = Client::new(&topo.gateway_url);
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
    (
        alice,
        bob,
        channels["channels"][0]["id"].as_str().unwrap().to_owned(),
    )
}

/// Every message id in the channel's history (newest first, paged).
async fn history(client: &Client, user: &User, channel: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut before = String::new();
    loop {
        let page = client
            .get(
                user,
                &format!("/api/v1/channels/{channel}/messages?limit=200{before}"),
            )
            .await;
        let messages = page["messages"].as_array().unwrap().clone();
        let Some(last) = messages.last() else { break };
        before = format!("&before={}", last["id"].as_str().unwrap());
        all.extend(messages.iter().map(|m| m["id"].clone()));
        if page["has_more"] != true {
            break;
        }
    }
    all
}

/// Reads `message.created` frames until every id in `expected` arrived, reconnecting through the
/// gateway with the last cursor whenever the socket drops; fails on a duplicate.
async fn receive_all(
    topo: &Topology,
    user: &User,
    mut socket: Socket,
    mut cursor: Option<String>,
    expected: &HashSet<String>,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut got: Vec<String> = Vec::new();
    while !expected.iter().all(|id| got.contains(id)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {} arrived",
            got.iter().filter(|id| expected.contains(*id)).count(),
            expected.len()
        );
        match socket.try_next(WAIT).await {
            Ok(frame) => {
                if let Some(c) = frame["cursor"].as_str() {
                    cursor = Some(c.to_owned());
                }
                assert_ne!(frame["type"], "resync_required", "the cursor stayed resumable");
                if frame["type"] == "message.created" {
                    let id = frame["data"]["message"]["id"].as_str().unwrap().to_owned();
                    assert!(!got.contains(&id), "message {id} arrived twice");
                    got.push(id);
                }
            }
            Err(_) => loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if let Ok(again) = Socket::try_connect(&topo.gateway_url, user, cursor.as_deref()).await {
                    socket = again;
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "could not reconnect");
            },
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_load_loses_no_acknowledged_message_and_its_clients_resume_elsewhere() {
    let topo = Topology::start(2).await;
    let (alice, bob, general) = team(&topo).await;
    let gateway = Client::new(&topo.gateway_url);

    // Bob is connected to the replica that is about to die.
    let mut socket = Socket::connect(&topo.messages_urls[0], &bob, None).await;
    let hello = socket.next(WAIT).await;
    let cursor = hello["cursor"].as_str().map(str::to_owned);

    let writer = tokio::spawn({
        let (base, token, general) = (topo.gateway_url.clone(), alice.token.clone(), general.clone());
        async move {
            let (client, alice) = (Client::new(&base), User { token });
            let mut acknowledged = Vec::new();
            for i in 0..120 {
                let sent = client
                    .try_post(
                        &alice,
                        &format!("/api/v1/channels/{general}/messages"),
                        json!({"text": format!("load {i}")}),
                    )
                    .await;
                if let Ok((StatusCode::CREATED, body)) = sent {
                    acknowledged.push(body["id"].as_str().unwrap().to_owned());
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            acknowledged
        }
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    topo.kill("messages#1");
    let acknowledged = writer.await.unwrap();
    assert!(
        acknowledged.len() >= 100,
        "the surviving replica took the load: {} of 120 acknowledged",
        acknowledged.len()
    );

    let stored: HashSet<String> = history(&gateway, &alice, &general)
        .await
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(missing.is_empty(), "acknowledged but not stored: {missing:?}");

    let expected: HashSet<String> = acknowledged.into_iter().collect();
    let received = receive_all(&topo, &bob, socket, cursor, &expected).await;
    assert!(
        received.iter().all(|id| stored.contains(id)),
        "only stored messages are delivered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_killed_in_turn_under_load_loses_nothing_and_delivers_each_message_once() {
    let topo = Topology::start(2).await;
    let (alice, bob, general) = team(&topo).await;
    let gateway = Client::new(&topo.gateway_url);
    let mut socket = Socket::connect(&topo.gateway_url, &bob, None).await;
    let cursor = socket.next(WAIT).await["cursor"].as_str().map(str::to_owned);

    // Alice posts steadily; a post whose answer is lost is sent again with the same
    // client_msg_id, as the web app does, until it is acknowledged.
    let total = 150;
    let writer = tokio::spawn({
        let (base, token, general) = (topo.gateway_url.clone(), alice.token.clone(), general.clone());
        async move {
            let (client, alice) = (Client::new(&base), User { token });
            let mut acknowledged = Vec::new();
            let mut retries = 0;
            for i in 0..total {
                let body = json!({"text": format!("faultload {i}"), "client_msg_id": format!("fault-{i}")});
                let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
                loop {
                    match client
                        .try_post(
                            &alice,
                            &format!("/api/v1/channels/{general}/messages"),
                            body.clone(),
                        )
                        .await
                    {
                        Ok((StatusCode::CREATED | StatusCode::OK, message)) => {
                            acknowledged.push(message["id"].as_str().unwrap().to_owned());
                            break;
                        }
                        _ => {
                            retries += 1;
                            assert!(
                                tokio::time::Instant::now() < deadline,
                                "message {i} was never acknowledged"
                            );
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (acknowledged, retries)
        }
    });
    let killed = ["gateway#1", "users", "messages#1", "ai#1", "messages#2"];
    for label in killed {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        topo.kill(label);
    }
    let (acknowledged, retries) = writer.await.unwrap();

    // Stored once each.
    let stored: Vec<String> = history(&gateway, &alice, &general)
        .await
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let unique: HashSet<String> = acknowledged.iter().cloned().collect();
    assert_eq!(unique.len(), total, "one message per client_msg_id");
    assert!(
        unique.iter().all(|id| stored.contains(id)),
        "every acknowledged message is stored"
    );
    assert_eq!(stored.len(), total, "and nothing else, nothing twice");
    // Delivered once each to a receiver that reconnects with its cursor.
    let received = receive_all(&topo, &bob, socket, cursor, &unique).await;
    assert_eq!(received.len(), total, "each delivered once");
    // Found by search.
    let channel = gateway.get(&alice, &format!("/api/v1/channels/{general}")).await;
    let ws = channel["workspace_id"].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found = search_all(&gateway, &alice, &ws, "faultload").await;
        if unique.iter().all(|id| found.contains(id)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {total} found by search",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "killed {killed:?} under load: {total} messages acknowledged after {retries} retried posts; stored, delivered and found once each, lost 0"
    );
}

/// Every message id search returns for `q` in a workspace (paged).
async fn search_all(client: &Client, user: &User, ws: &str, q: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .get(
                user,
                &format!("/api/v1/workspaces/{ws}/search?q={q}&limit=100{cursor}"),
            )
            .await;
        found.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["message"]["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) if page["has_more"] == true => cursor = format!("&before={next}"),
            _ => return found,
        }
    }
}

/// A Redis of the test's own, persisting every write (as a production Redis for Echo would).
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl PrivateRedis {
    fn start() -> PrivateRedis {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Self::spawn(port, dir.path());
        PrivateRedis { port, dir, child }
    }

    fn spawn(port: u16, dir: &Path) -> Child {
        let mut child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return child;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.child = Self::spawn(self.port, self.dir.path());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_the_bus_catches_up_and_nothing_acknowledged_is_lost() {
    let mut redis = PrivateRedis::start();
    let topo = Topology::start_on(2, 1, "postgres://postgres@127.0.0.1:5432", &redis.url()).await;
    let (alice, bob, general) = team(&topo).await;
    let gateway = Client::new(&topo.gateway_url);
    let mut socket = Socket::connect(&topo.gateway_url, &bob, None).await;
    let cursor = socket.next(WAIT).await["cursor"].as_str().map(str::to_owned);
    let path = format!("/api/v1/channels/{general}/messages");
    let post = |i: usize| gateway.try_post(&alice, &path, json!({"text": format!("m{i}")}));

    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let (status, body) = post(i).await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        acknowledged.push(body["id"].as_str().unwrap().to_owned());
    }
    redis.kill();
    // Posting goes on: the outbox keeps the events in PostgreSQL until the bus is back.
    for i in 5..10 {
        let (status, body) = post(i).await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "a post while Redis is down: {body}");
        acknowledged.push(body["id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.restart();

    let expected: HashSet<String> = acknowledged.iter().cloned().collect();
    let received = receive_all(&topo, &bob, socket, cursor, &expected).await;
    assert_eq!(received.iter().filter(|id| expected.contains(*id)).count(), 10);
    let stored = history(&gateway, &alice, &general).await;
    assert!(
        acknowledged
            .iter()
            .all(|id| stored.contains(&Value::String(id.clone())))
    );
}

/// A PostgreSQL server of the test's own, in a temporary directory.
struct PrivatePostgres {
    port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries under /usr/lib/postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|p| p.join("initdb").is_file())
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        // PostgreSQL refuses to run as root; the cluster belongs to the postgres account then.
        if nix::unistd::geteuid().is_root() {
            let postgres = nix::unistd::User::from_name("postgres")
                .unwrap()
                .expect("a postgres account");
            std::os::unix::fs::chown(
                dir.path(),
                Some(postgres.uid.as_raw()),
                Some(postgres.gid.as_raw()),
            )
            .unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PrivatePostgres { port, dir, bin };
        server.run("initdb", &["-A", "trust", "-U", "postgres", "--no-sync"]);
        server.up();
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.try_run(tool, args);
        assert!(
            output.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn try_run(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let data = self.data();
        let mut command = if nix::unistd::geteuid().is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        };
        command.arg("-D").arg(&data).args(args).output().unwrap()
    }

    fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        self.run(
            "pg_ctl",
            &["-w", "-o", &options, "-l", log.to_str().unwrap(), "start"],
        );
    }

    fn down(&self) {
        self.run("pg_ctl", &["-w", "-m", "fast", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.try_run("pg_ctl", &["-w", "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_services_answer_503_then_recover_without_a_restart() {
    let postgres = PrivatePostgres::start();
    let topo = Topology::start_on(1, 1, &postgres.url(), "redis://127.0.0.1:6379").await;
    let (alice, _bob, general) = team(&topo).await;
    let gateway = Client::new(&topo.gateway_url);
    let path = format!("/api/v1/channels/{general}/messages");
    let post = |text: &'static str| gateway.try_post(&alice, &path, json!({"text": text}));
    let before = post("before the outage").await.unwrap();
    assert_eq!(before.0, StatusCode::CREATED);

    postgres.down();
    let (status, body) = post("during the outage").await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["error"]["code"].is_string(),
        "the contract's error body: {body}"
    );
    let ready = reqwest::get(format!("{}/readyz", topo.messages_urls[0]))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: Value = ready.json().await.unwrap();
    assert_eq!(
        report["checks"]["messages_db"]["status"], "down",
        "readyz names the failing dependency: {report}"
    );
    assert_eq!(report["checks"]["bus"]["status"], "up", "{report}");

    postgres.up();
    let deadline = tokio::time::Instant::now() + WAIT;
    let after = loop {
        if let Ok((StatusCode::CREATED, body)) = post("after the outage").await {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "message-service did not recover"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let stored = history(&gateway, &alice, &general).await;
    assert!(stored.contains(&before.1["id"]) && stored.contains(&after["id"]));
    let ready = reqwest::get(format!("{}/readyz", topo.messages_urls[0]))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}
