//! A private Redis with AOF persistence, killed with SIGKILL and restarted while the relay and a
//! consumer are running: nothing published is lost and both catch up in order.

use std::process::Stdio;
use std::time::Duration;

use echo_events::outbox::{OutboxRelay, OutboxSource, RelayConfig, enqueue_sqlite};
use echo_events::{Backoff, ConsumerConfig, Envelope, spawn_consumer};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

struct PrivateRedis {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self {
            port,
            dir: TempDir::new(),
            child: None,
        };
        redis.spawn().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = Command::new("/usr/bin/redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let url = self.url();
        eventually("the private redis to accept connections", || {
            let url = url.clone();
            async move {
                let Ok(client) = redis::Client::open(url.as_str()) else {
                    return false;
                };
                match client.get_multiplexed_async_connection().await {
                    Ok(mut conn) => redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await;
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap(); // SIGKILL
            within("redis to die", child.wait()).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_and_the_outbox_relay_catch_up_with_nothing_lost_after_redis_is_killed_and_restarted() {
    let mut server = PrivateRedis::start().await;
    let backend = Backend::redis_at(&server.url());
    let bus = backend.open().await;
    let service_dir = TempDir::new();
    let db = sqlite_service_db(&service_dir).await;
    let stop = CancellationToken::new();
    let relay_config = RelayConfig {
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
        },
        ..RelayConfig::default()
    };
    let (relay, relay_task) = OutboxRelay::spawn_with(
        OutboxSource::Sqlite(db.clone()),
        bus.clone(),
        relay_config,
        stop.clone(),
    );
    let recorder = Recorder::new();
    let consumer_config = ConsumerConfig {
        block: Duration::from_millis(300),
        claim_idle: Duration::from_secs(1),
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
        },
        ..ConsumerConfig::new("indexer", "c1")
    };
    let consumer = spawn_consumer(bus.clone(), consumer_config, recorder.clone(), stop.clone());
    let mut tail = bus.tail(None);
    let enqueue = |batch: Vec<Envelope>| {
        let db = db.clone();
        let relay = relay.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            enqueue_sqlite(&mut tx, &batch).await.unwrap();
            tx.commit().await.unwrap();
            relay.notify();
        }
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    let before = events(20);
    enqueue(before.clone()).await;
    recorder.wait_for_distinct(20).await;
    // The relay deletes what it published once Redis has confirmed it, which can come after the
    // consumer already has the events; killed before that, Redis leaves them to be sent again.
    within("the relay to settle the first events", async {
        while outbox_len(&db).await > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    server.kill().await;
    let during = events(20);
    for chunk in during.chunks(5) {
        enqueue(chunk.to_vec()).await;
    }
    // Long enough for the connection manager to exhaust its quick reconnect attempts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = outbox_len(&db).await;
    server.spawn().await;
    recorder.wait_for_distinct(40).await;

    let all: Vec<_> = before.iter().chain(&during).map(|e| e.id).collect();
    assert_eq!(waiting, 20, "events must wait in the outbox while redis is down");
    assert_eq!(recorder.distinct_ids(), all);
    let logged = bus.read_after(None, 1000).await.unwrap();
    let mut logged_ids: Vec<_> = logged.iter().map(|l| l.envelope.id).collect();
    logged_ids.dedup();
    assert_eq!(logged_ids, all, "the restarted redis lost or reordered events");
    let mut tailed = Vec::new();
    within("the tail to catch up", async {
        while tailed.len() < 40 {
            let logged = tail.recv().await.unwrap();
            if !tailed.contains(&logged.envelope.id) {
                tailed.push(logged.envelope.id);
            }
        }
    })
    .await;
    assert_eq!(tailed, all);
    stop.cancel();
    within("relay to stop", relay_task).await.unwrap();
    within("consumer to stop", consumer).await.unwrap();
    server.kill().await;
}

async fn outbox_len(db: &sqlx::SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM event_outbox")
        .fetch_one(db)
        .await
        .unwrap()
}
