//! The PostgreSQL side of the outbox: ordering, rollback and the single active relay.

use std::sync::Arc;
use std::time::Duration;

use echo_events::outbox::{OutboxRelay, OutboxSource, RelayConfig, enqueue_postgres};
use echo_events::{Backoff, Envelope, EventBus};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

fn fast_relay() -> RelayConfig {
    RelayConfig {
        leader_check: Duration::from_millis(100),
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
        },
        ..RelayConfig::default()
    }
}

async fn enqueue(pool: &sqlx::PgPool, events: &[Envelope], commit: bool) {
    let mut tx = pool.begin().await.unwrap();
    enqueue_postgres(&mut tx, events).await.unwrap();
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
}

async fn outbox_len(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM event_outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn advisory_locks(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outbox_events_are_published_in_order_and_deleted_and_rolled_back_ones_never() {
    let db = PgDatabase::create().await;
    let backend = Backend::sqlite();
    let bus = backend.open().await;
    let mut tail = bus.tail(None);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stop = CancellationToken::new();
    let (relay, task) = OutboxRelay::spawn_with(
        OutboxSource::Postgres(db.pool.clone()),
        bus.clone(),
        fast_relay(),
        stop.clone(),
    );

    let committed = events(12);
    enqueue(&db.pool, &events(2), false).await;
    for chunk in committed.chunks(4) {
        enqueue(&db.pool, chunk, true).await;
        relay.notify();
    }
    let seen = take(&mut tail, 12).await;
    eventually("the outbox to drain", || outbox_len(&db.pool).then_eq(0)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    assert_eq!(
        seen.into_iter().map(|l| l.envelope).collect::<Vec<_>>(),
        committed
    );
    assert!(tail.try_recv().is_err(), "a rolled-back event was published");
    stop.cancel();
    within("relay to stop", task).await.unwrap();
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_postgres_relay_is_active_and_a_standby_takes_over_when_it_stops() {
    let db = PgDatabase::create().await;
    let backend = Backend::redis();
    let bus: Arc<dyn EventBus> = backend.open().await;
    let mut tail = bus.tail(None);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stop_a = CancellationToken::new();
    let stop_b = CancellationToken::new();
    let source = OutboxSource::Postgres(db.pool.clone());
    let (relay_a, task_a) =
        OutboxRelay::spawn_with(source.clone(), bus.clone(), fast_relay(), stop_a.clone());
    eventually("relay A to take the lock", || advisory_locks(&db.pool).then_eq(1)).await;
    let (relay_b, task_b) = OutboxRelay::spawn_with(source, bus.clone(), fast_relay(), stop_b.clone());

    let before = events(20);
    enqueue(&db.pool, &before, true).await;
    relay_a.notify();
    relay_b.notify();
    let first = take(&mut tail, 20).await;
    let locks_with_both_running = advisory_locks(&db.pool).await;
    stop_a.cancel();
    within("relay A to stop", task_a).await.unwrap();
    let after = events(20);
    enqueue(&db.pool, &after, true).await;
    relay_b.notify();
    let second = take(&mut tail, 20).await;

    assert_eq!(locks_with_both_running, 1);
    assert_eq!(first.into_iter().map(|l| l.envelope).collect::<Vec<_>>(), before);
    assert_eq!(second.into_iter().map(|l| l.envelope).collect::<Vec<_>>(), after);
    eventually("the outbox to drain", || outbox_len(&db.pool).then_eq(0)).await;
    stop_b.cancel();
    within("relay B to stop", task_b).await.unwrap();
    db.drop_now().await;
}

/// `future.then_eq(x)`: a future of whether the output equals `x` (keeps `eventually` calls short).
trait ThenEq: std::future::Future + Sized {
    fn then_eq(self, expected: Self::Output) -> impl std::future::Future<Output = bool>
    where
        Self::Output: PartialEq,
    {
        async move { self.await == expected }
    }
}

impl<F: std::future::Future> ThenEq for F {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_commit_wakes_the_active_relay_through_notify_without_waiting_for_the_poll() {
    let db = PgDatabase::create().await;
    let backend = Backend::sqlite();
    let bus = backend.open().await;
    let mut tail = bus.tail(None);
    let stop = CancellationToken::new();
    // A poll far longer than the wait below: only NOTIFY can explain a prompt delivery.
    let config = RelayConfig {
        poll: Duration::from_secs(30),
        ..fast_relay()
    };
    let (_relay, task) = OutboxRelay::spawn_with(
        OutboxSource::Postgres(db.pool.clone()),
        bus.clone(),
        config,
        stop.clone(),
    );
    eventually("the relay to take the lock", || {
        advisory_locks(&db.pool).then_eq(1)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Committed by "another replica": nobody calls notify() on this relay's handle.
    let sent = events(1);
    enqueue(&db.pool, &sent, true).await;
    let seen = tokio::time::timeout(Duration::from_secs(3), tail.recv()).await;

    assert_eq!(seen.ok().flatten().map(|l| l.envelope), Some(sent[0].clone()));
    stop.cancel();
    within("relay to stop", task).await.unwrap();
    db.drop_now().await;
}
