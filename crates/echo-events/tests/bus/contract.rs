//! The bus contract, written once and run against both backends (see `contract!` at the end).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use echo_events::admin::{self, ReplayFrom};
use echo_events::outbox::{OutboxRelay, OutboxSource, RelayConfig};
use echo_events::{Backoff, ConsumerConfig, Envelope, EventBus, GroupStart, Redrive, spawn_consumer};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

fn consumer_config(group: &str, name: &str) -> ConsumerConfig {
    ConsumerConfig {
        batch: 50,
        max_attempts: 3,
        backoff: Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(40),
        },
        claim_idle: Duration::from_secs(2),
        block: Duration::from_millis(200),
        ..ConsumerConfig::new(group, name)
    }
}

pub async fn published_events_are_read_back_in_order_with_increasing_positions(backend: Backend) {
    let bus = backend.open().await;
    let sent = events(25);

    let positions = bus.publish(&sent).await.unwrap();
    let read = bus.read_after(None, 100).await.unwrap();

    assert_eq!(positions.len(), 25);
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(read.iter().map(|l| l.position).collect::<Vec<_>>(), positions);
    assert_eq!(read.into_iter().map(|l| l.envelope).collect::<Vec<_>>(), sent);
}

/// An outbox relay that dies between publishing and deleting its rows publishes them again: the
/// log keeps one copy, and the second publish reports the first one's positions.
pub async fn an_event_published_again_is_appended_once(backend: Backend) {
    let bus = backend.open().await;
    let sent = events(6);

    let first = bus.publish(&sent[..4]).await.unwrap();
    let again = bus.publish(&sent[2..]).await.unwrap();
    let read = bus.read_after(None, 100).await.unwrap();

    assert_eq!(
        read.iter().map(|l| l.envelope.clone()).collect::<Vec<_>>(),
        sent,
        "each event once, in order"
    );
    assert_eq!(again[..2], first[2..], "the copies' positions are the originals'");
    assert_eq!(
        read.iter().map(|l| l.position).collect::<Vec<_>>()[4..],
        again[2..]
    );
}

pub async fn read_after_returns_only_events_strictly_after_the_position_up_to_the_limit(backend: Backend) {
    let bus = backend.open().await;
    let positions = bus.publish(&events(10)).await.unwrap();

    let page = bus.read_after(Some(positions[3]), 4).await.unwrap();
    let rest = bus.read_after(Some(positions[9]), 10).await.unwrap();
    let text_cursor: echo_events::Position = positions[3].to_string().parse().unwrap();

    assert_eq!(
        page.iter().map(|l| l.position).collect::<Vec<_>>(),
        positions[4..8].to_vec()
    );
    assert!(rest.is_empty());
    assert_eq!(text_cursor, positions[3]);
}

pub async fn bounds_are_empty_for_an_empty_log_and_then_report_oldest_and_newest(backend: Backend) {
    let bus = backend.open().await;
    assert_eq!(bus.bounds().await.unwrap(), (None, None));

    let positions = bus.publish(&events(3)).await.unwrap();

    assert_eq!(
        bus.bounds().await.unwrap(),
        (Some(positions[0]), Some(positions[2]))
    );
}

pub async fn position_at_finds_the_first_event_appended_at_or_after_a_time(backend: Backend) {
    let bus = backend.open().await;
    bus.publish(&events(3)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let since = Utc::now();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let later = bus.publish(&events(2)).await.unwrap();

    assert_eq!(bus.position_at(since).await.unwrap(), Some(later[0]));
    assert_eq!(
        bus.position_at(Utc::now() + chrono::Duration::seconds(5))
            .await
            .unwrap(),
        None
    );
}

pub async fn every_tail_sees_every_event_published_after_it_started(backend: Backend) {
    let bus = backend.open().await;
    bus.publish(&events(2)).await.unwrap();
    let (_, newest) = bus.bounds().await.unwrap();
    let mut first = bus.tail(newest);
    let mut second = bus.tail(newest);

    let sent = events(30);
    for chunk in sent.chunks(7) {
        bus.publish(chunk).await.unwrap();
    }

    let a = take(&mut first, 30).await;
    let b = take(&mut second, 30).await;
    assert_eq!(a.iter().map(|l| l.envelope.clone()).collect::<Vec<_>>(), sent);
    assert_eq!(a, b);
}

pub async fn a_tail_from_an_old_position_replays_the_gap_then_follows_live_events(backend: Backend) {
    let bus = backend.open().await;
    let old = bus.publish(&events(5)).await.unwrap();
    let mut tail = bus.tail(Some(old[1]));

    let replayed = take(&mut tail, 3).await;
    let live = bus.publish(&events(2)).await.unwrap();
    let followed = take(&mut tail, 2).await;

    assert_eq!(
        replayed.iter().map(|l| l.position).collect::<Vec<_>>(),
        old[2..].to_vec()
    );
    assert_eq!(followed.iter().map(|l| l.position).collect::<Vec<_>>(), live);
}

pub async fn a_group_hands_each_event_to_exactly_one_of_its_consumers(backend: Backend) {
    let bus = backend.open().await;
    bus.ensure_group("g", GroupStart::Oldest).await.unwrap();
    let sent = bus.publish(&events(40)).await.unwrap();
    let options = echo_events::FetchOptions {
        limit: 15,
        ..fetch_options(Duration::from_secs(60))
    };

    let mut got = Vec::new();
    for consumer in ["a", "b", "a", "b"] {
        let batch = bus.fetch("g", consumer, &options).await.unwrap();
        assert!(batch.iter().all(|d| d.attempts == 1));
        bus.ack("g", &batch.iter().map(|d| d.logged.position).collect::<Vec<_>>())
            .await
            .unwrap();
        got.extend(batch.into_iter().map(|d| d.logged.position));
    }

    assert_eq!(got, sent);
    let groups = admin::groups(bus.as_ref()).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (
            groups[0].name.as_str(),
            groups[0].pending,
            groups[0].last_delivered
        ),
        ("g", 0, sent[39])
    );
}

pub async fn a_group_created_at_latest_skips_earlier_events(backend: Backend) {
    let bus = backend.open().await;
    bus.publish(&events(3)).await.unwrap();
    bus.ensure_group("late", GroupStart::Latest).await.unwrap();
    let after = bus.publish(&events(1)).await.unwrap();

    let batch = bus
        .fetch("late", "c", &fetch_options(Duration::from_secs(60)))
        .await
        .unwrap();

    assert_eq!(batch.iter().map(|d| d.logged.position).collect::<Vec<_>>(), after);
}

pub async fn a_delivery_not_acked_before_a_crash_is_redelivered_after_the_idle_timeout(backend: Backend) {
    let bus = backend.open().await;
    bus.ensure_group("g", GroupStart::Oldest).await.unwrap();
    let sent = bus.publish(&events(2)).await.unwrap();
    let claim_idle = Duration::from_millis(300);

    // Consumer "crashed" fetches both and acks only the first.
    let first = bus
        .fetch("g", "crashed", &fetch_options(claim_idle))
        .await
        .unwrap();
    bus.ack("g", &[first[0].logged.position]).await.unwrap();
    let too_early = bus
        .fetch("g", "survivor", &fetch_options(claim_idle))
        .await
        .unwrap();
    tokio::time::sleep(claim_idle + Duration::from_millis(100)).await;
    let reclaimed = bus
        .fetch("g", "survivor", &fetch_options(claim_idle))
        .await
        .unwrap();

    assert_eq!(first.len(), 2);
    assert!(
        too_early.is_empty(),
        "the lease had not expired yet: {too_early:?}"
    );
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].logged.position, sent[1]);
    assert_eq!(reclaimed[0].attempts, 2);
}

pub async fn a_runner_retries_a_failing_handler_with_backoff_until_it_succeeds(backend: Backend) {
    let bus = backend.open().await;
    let flaky = Envelope::new("test.flaky", 1, "test", serde_json::json!({ "fail_times": 2 }));
    bus.publish(std::slice::from_ref(&flaky)).await.unwrap();
    let recorder = Recorder::new();
    let stop = CancellationToken::new();

    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        recorder.clone(),
        stop.clone(),
    );
    recorder.wait_for_distinct(1).await;

    assert_eq!(recorder.attempts_of(flaky.id), 3);
    assert!(bus.dead_letters(None, 10).await.unwrap().is_empty());
    stop.cancel();
    within("consumer to stop", task).await.unwrap();
}

pub async fn a_runner_acknowledges_the_batches_it_handled(backend: Backend) {
    let bus = backend.open().await;
    let sent = bus.publish(&events(120)).await.unwrap();
    let recorder = Recorder::new();
    let stop = CancellationToken::new();

    // Batches of 50: two full ones and a partial one.
    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        recorder.clone(),
        stop.clone(),
    );
    recorder.wait_for_distinct(sent.len()).await;
    eventually("the group to have nothing pending", || async {
        let groups = admin::groups(bus.as_ref()).await.unwrap();
        groups[0].pending == 0 && groups[0].last_delivered == sent[119]
    })
    .await;

    assert_eq!(recorder.ids().len(), sent.len(), "each event handled once");
    stop.cancel();
    within("consumer to stop", task).await.unwrap();
}

/// Gathers event ids in `handle` and writes them in `flush`, which fails the first times.
struct Gatherer {
    bus: Arc<dyn EventBus>,
    gathered: std::sync::Mutex<Vec<uuid::Uuid>>,
    written: std::sync::Mutex<Vec<uuid::Uuid>>,
    failures_left: std::sync::atomic::AtomicU32,
    pending_at_failures: std::sync::Mutex<Vec<u64>>,
}

#[async_trait::async_trait]
impl echo_events::EventHandler for Gatherer {
    async fn handle(&self, event: &echo_events::Logged) -> Result<(), echo_events::HandleError> {
        self.gathered.lock().unwrap().push(event.envelope.id);
        Ok(())
    }

    async fn flush(&self) -> anyhow::Result<()> {
        if self
            .failures_left
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok()
        {
            let groups = admin::groups(self.bus.as_ref()).await?;
            self.pending_at_failures.lock().unwrap().push(groups[0].pending);
            anyhow::bail!("the store is down");
        }
        let gathered = std::mem::take(&mut *self.gathered.lock().unwrap());
        self.written.lock().unwrap().extend(gathered);
        Ok(())
    }
}

pub async fn a_batch_is_acknowledged_only_after_its_handler_flushed_it(backend: Backend) {
    let bus = backend.open().await;
    let sent = events(30);
    let positions = bus.publish(&sent).await.unwrap();
    let gatherer = Arc::new(Gatherer {
        bus: bus.clone(),
        gathered: Default::default(),
        written: Default::default(),
        failures_left: 2.into(),
        pending_at_failures: Default::default(),
    });
    let stop = CancellationToken::new();

    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        gatherer.clone(),
        stop.clone(),
    );
    eventually("the group to have nothing pending", || async {
        let groups = admin::groups(bus.as_ref()).await.unwrap();
        groups
            .first()
            .is_some_and(|g| g.pending == 0 && g.last_delivered == positions[29])
    })
    .await;
    stop.cancel();
    within("consumer to stop", task).await.unwrap();

    // Both failed flushes saw the whole batch still pending; then it was written once.
    assert_eq!(*gatherer.pending_at_failures.lock().unwrap(), vec![30, 30]);
    let written = gatherer.written.lock().unwrap().clone();
    assert_eq!(written, sent.iter().map(|e| e.id).collect::<Vec<_>>());
}

pub async fn a_poison_event_goes_to_the_dead_letter_list_after_max_attempts_and_the_group_moves_on(
    backend: Backend,
) {
    let bus = backend.open().await;
    let poison = Envelope::new(
        "test.poison",
        1,
        "test",
        serde_json::json!({ "fail_times": 1000 }),
    );
    let good = event("test.good", 1);
    let positions = bus.publish(&[poison.clone(), good.clone()]).await.unwrap();
    let recorder = Recorder::new();
    let stop = CancellationToken::new();

    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        recorder.clone(),
        stop.clone(),
    );
    recorder.wait_for_distinct(1).await;
    let dead = within("a dead letter", async {
        loop {
            let dead = admin::dlq_list(bus.as_ref(), Some("g"), 10).await.unwrap();
            if !dead.is_empty() {
                return dead;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    assert_eq!(recorder.ids(), vec![good.id]);
    assert_eq!(recorder.attempts_of(poison.id), 3);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].envelope.as_ref(), Some(&poison));
    assert_eq!(
        (dead[0].group.as_str(), dead[0].position, dead[0].attempts),
        ("g", positions[0], 3)
    );
    assert!(
        dead[0].reason.contains("failure 3 of 1000"),
        "reason: {}",
        dead[0].reason
    );
    stop.cancel();
    within("consumer to stop", task).await.unwrap();
}

pub async fn a_dead_letter_retried_from_the_admin_list_is_redelivered_to_its_group_only(backend: Backend) {
    let bus = backend.open().await;
    bus.ensure_group("g", GroupStart::Oldest).await.unwrap();
    bus.ensure_group("other", GroupStart::Oldest).await.unwrap();
    let positions = bus.publish(&events(1)).await.unwrap();
    let options = fetch_options(Duration::from_secs(60));
    let delivery = bus.fetch("g", "c", &options).await.unwrap().remove(0);
    bus.dead_letter("g", &delivery, "broken downstream")
        .await
        .unwrap();
    let other = bus.fetch("other", "c", &options).await.unwrap();
    bus.ack("other", &[other[0].logged.position]).await.unwrap();

    let listed = admin::dlq_list(bus.as_ref(), None, 10).await.unwrap();
    let reports = admin::dlq_retry(bus.as_ref(), &[listed[0].id]).await.unwrap();
    let again = bus.fetch("g", "c2", &options).await.unwrap();
    let other_again = bus.fetch("other", "c2", &options).await.unwrap();

    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reason, "broken downstream");
    assert_eq!(reports[0].outcome, Redrive::Redelivered);
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].logged.position, again[0].attempts), (positions[0], 1));
    assert!(other_again.is_empty());
    assert!(admin::dlq_list(bus.as_ref(), None, 10).await.unwrap().is_empty());
}

pub async fn an_event_of_an_unknown_version_is_parked_without_retries(backend: Backend) {
    let bus = backend.open().await;
    let future = Envelope::new("message.created", 9, "test", serde_json::json!({}));
    let known = Envelope::new("message.created", 1, "test", serde_json::json!({}));
    bus.publish(&[future.clone(), known.clone()]).await.unwrap();
    let recorder = Recorder::knowing_versions_up_to(1);
    let stop = CancellationToken::new();

    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        recorder.clone(),
        stop.clone(),
    );
    recorder.wait_for_distinct(1).await;
    let dead = within("the parked event", async {
        loop {
            let dead = bus.dead_letters(Some("g"), 10).await.unwrap();
            if !dead.is_empty() {
                return dead;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    assert_eq!(recorder.attempts_of(future.id), 1);
    assert_eq!(dead[0].envelope.as_ref().map(|e| e.id), Some(future.id));
    assert_eq!(dead[0].reason, "unknown version 9");
    stop.cancel();
    within("consumer to stop", task).await.unwrap();
}

pub async fn replay_from_a_position_redelivers_from_that_position_inclusive(backend: Backend) {
    let bus = backend.open().await;
    bus.ensure_group("g", GroupStart::Oldest).await.unwrap();
    let positions = bus.publish(&events(6)).await.unwrap();
    let options = fetch_options(Duration::from_secs(60));
    let all = bus.fetch("g", "c", &options).await.unwrap();
    bus.ack("g", &all.iter().map(|d| d.logged.position).collect::<Vec<_>>())
        .await
        .unwrap();

    let report = admin::replay(bus.as_ref(), "g", ReplayFrom::Position(positions[2]))
        .await
        .unwrap();
    let again = bus.fetch("g", "c", &options).await.unwrap();

    assert_eq!(report.first, Some(positions[2]));
    assert_eq!(
        again.iter().map(|d| d.logged.position).collect::<Vec<_>>(),
        positions[2..].to_vec()
    );
}

pub async fn replaying_a_group_that_does_not_exist_yet_creates_it_at_that_point(backend: Backend) {
    let bus = backend.open().await;
    assert!(admin::groups(bus.as_ref()).await.unwrap().is_empty());
    let positions = bus.publish(&events(4)).await.unwrap();

    admin::replay(bus.as_ref(), "new", ReplayFrom::Position(positions[1]))
        .await
        .unwrap();
    let got = bus
        .fetch("new", "c", &fetch_options(Duration::from_secs(60)))
        .await
        .unwrap();

    assert_eq!(
        got.iter().map(|d| d.logged.position).collect::<Vec<_>>(),
        positions[1..].to_vec()
    );
    assert_eq!(admin::groups(bus.as_ref()).await.unwrap()[0].pending, 3);
}

pub async fn replay_from_a_time_redelivers_the_events_appended_since(backend: Backend) {
    let bus = backend.open().await;
    bus.ensure_group("g", GroupStart::Oldest).await.unwrap();
    bus.publish(&events(3)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let since = Utc::now();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let later = bus.publish(&events(2)).await.unwrap();
    let options = fetch_options(Duration::from_secs(60));
    let all = bus.fetch("g", "c", &options).await.unwrap();
    bus.ack("g", &all.iter().map(|d| d.logged.position).collect::<Vec<_>>())
        .await
        .unwrap();

    admin::replay(bus.as_ref(), "g", ReplayFrom::Time(since))
        .await
        .unwrap();
    let again = bus.fetch("g", "c", &options).await.unwrap();

    assert_eq!(all.len(), 5);
    assert_eq!(again.iter().map(|d| d.logged.position).collect::<Vec<_>>(), later);
}

pub async fn a_restarted_consumer_resumes_after_what_it_acked(backend: Backend) {
    let bus = backend.open().await;
    let first = events(10);
    bus.publish(&first).await.unwrap();
    let recorder = Recorder::new();
    let stop = CancellationToken::new();
    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        recorder.clone(),
        stop.clone(),
    );
    recorder.wait_for_distinct(10).await;
    stop.cancel();
    within("consumer to stop", task).await.unwrap();
    drop(bus);

    // A new process: a new bus instance over the same storage.
    let bus = backend.open().await;
    let second = events(5);
    bus.publish(&second).await.unwrap();
    let after_restart = Recorder::new();
    let stop = CancellationToken::new();
    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        after_restart.clone(),
        stop.clone(),
    );
    after_restart.wait_for_distinct(5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_eq!(
        after_restart.ids(),
        second.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    stop.cancel();
    within("consumer to stop", task).await.unwrap();
}

pub async fn a_panicking_handler_is_treated_as_a_retry(backend: Backend) {
    let bus = backend.open().await;
    let sent = events(1);
    bus.publish(&sent).await.unwrap();
    let recorder = Recorder::new();
    recorder
        .panic_once
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let stop = CancellationToken::new();

    let task = spawn_consumer(
        bus.clone(),
        consumer_config("g", "c1"),
        recorder.clone(),
        stop.clone(),
    );
    recorder.wait_for_distinct(1).await;

    assert_eq!(recorder.attempts_of(sent[0].id), 2);
    stop.cancel();
    within("consumer to stop", task).await.unwrap();
}

pub async fn retention_trims_the_oldest_events_and_bounds_show_it(backend: Backend) {
    let backend = backend.with_retention(50);
    let bus = backend.open().await;
    let mut positions = Vec::new();
    for chunk in events(1000).chunks(100) {
        positions.extend(bus.publish(chunk).await.unwrap());
    }

    let (oldest, newest) = bus.bounds().await.unwrap();
    let retained = bus.read_after(None, 2000).await.unwrap();

    assert_eq!(newest, positions.last().copied());
    assert!(oldest > Some(positions[0]), "nothing was trimmed");
    // Redis trims whole radix-tree nodes (`MAXLEN ~`), so allow its slack.
    assert!(
        retained.len() >= 50 && retained.len() <= 250,
        "kept {}",
        retained.len()
    );
    assert_eq!(retained.first().map(|l| l.position), oldest);
}

pub async fn the_outbox_relay_keeps_events_while_the_bus_is_down_and_delivers_them_in_order_when_it_is_up(
    backend: Backend,
) {
    let dir = TempDir::new();
    let db = sqlite_service_db(&dir).await;
    let real = backend.open().await;
    let bus = FlakyBus::new(real.clone());
    let stop = CancellationToken::new();
    let config = RelayConfig {
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
        batch: 7,
        ..RelayConfig::default()
    };
    let (relay, task) = OutboxRelay::spawn_with(
        OutboxSource::Sqlite(db.clone()),
        bus.clone(),
        config,
        stop.clone(),
    );
    let (_, newest) = real.bounds().await.unwrap();
    let mut tail = real.tail(newest);

    bus.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let sent = events(30);
    for chunk in sent.chunks(3) {
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO notes (body) VALUES ('x')")
            .execute(&mut *tx)
            .await
            .unwrap();
        echo_events::outbox::enqueue_sqlite(&mut tx, chunk).await.unwrap();
        tx.commit().await.unwrap();
        relay.notify();
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_outbox")
        .fetch_one(&db)
        .await
        .unwrap();
    bus.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let delivered = take(&mut tail, 30).await;

    assert_eq!(waiting, 30);
    assert_eq!(
        delivered.into_iter().map(|l| l.envelope).collect::<Vec<_>>(),
        sent
    );
    eventually("the outbox to drain", || {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM event_outbox")
                .fetch_one(&db)
                .await
                .unwrap()
                == 0
        }
    })
    .await;
    stop.cancel();
    within("relay to stop", task).await.unwrap();
}

pub async fn an_event_enqueued_in_a_rolled_back_transaction_is_never_published(backend: Backend) {
    let dir = TempDir::new();
    let db = sqlite_service_db(&dir).await;
    let bus = backend.open().await;
    let stop = CancellationToken::new();
    let (relay, task) = OutboxRelay::spawn(OutboxSource::Sqlite(db.clone()), bus.clone(), stop.clone());
    let (_, newest) = bus.bounds().await.unwrap();
    let mut tail = bus.tail(newest);

    let mut tx = db.begin().await.unwrap();
    echo_events::outbox::enqueue_sqlite(&mut tx, &events(1))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let committed = events(1);
    let mut tx = db.begin().await.unwrap();
    echo_events::outbox::enqueue_sqlite(&mut tx, &committed)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    relay.notify();

    let seen = take(&mut tail, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen[0].envelope, committed[0]);
    assert!(tail.try_recv().is_err());
    stop.cancel();
    within("relay to stop", task).await.unwrap();
}

/// Instantiates each contract test for both backends.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::sqlite()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::redis()).await;
                }
            )*
        }
    };
}

contract!(
    published_events_are_read_back_in_order_with_increasing_positions,
    an_event_published_again_is_appended_once,
    read_after_returns_only_events_strictly_after_the_position_up_to_the_limit,
    bounds_are_empty_for_an_empty_log_and_then_report_oldest_and_newest,
    position_at_finds_the_first_event_appended_at_or_after_a_time,
    every_tail_sees_every_event_published_after_it_started,
    a_tail_from_an_old_position_replays_the_gap_then_follows_live_events,
    a_group_hands_each_event_to_exactly_one_of_its_consumers,
    a_group_created_at_latest_skips_earlier_events,
    a_delivery_not_acked_before_a_crash_is_redelivered_after_the_idle_timeout,
    a_runner_retries_a_failing_handler_with_backoff_until_it_succeeds,
    a_runner_acknowledges_the_batches_it_handled,
    a_batch_is_acknowledged_only_after_its_handler_flushed_it,
    a_poison_event_goes_to_the_dead_letter_list_after_max_attempts_and_the_group_moves_on,
    a_dead_letter_retried_from_the_admin_list_is_redelivered_to_its_group_only,
    an_event_of_an_unknown_version_is_parked_without_retries,
    replay_from_a_position_redelivers_from_that_position_inclusive,
    replay_from_a_time_redelivers_the_events_appended_since,
    replaying_a_group_that_does_not_exist_yet_creates_it_at_that_point,
    a_restarted_consumer_resumes_after_what_it_acked,
    a_panicking_handler_is_treated_as_a_retry,
    retention_trims_the_oldest_events_and_bounds_show_it,
    the_outbox_relay_keeps_events_while_the_bus_is_down_and_delivers_them_in_order_when_it_is_up,
    an_event_enqueued_in_a_rolled_back_transaction_is_never_published,
);

#[allow(dead_code)]
fn assert_dyn_compatible(bus: Arc<dyn EventBus>) -> Arc<dyn EventBus> {
    bus
}
