//! Properties of the embedded log beyond the shared contract: durability, speed, URLs.

use std::time::{Duration, Instant};

use echo_events::{BusError, EventBus, FetchOptions, GroupStart};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_log_keeps_events_groups_pending_deliveries_and_dead_letters_across_a_restart() {
    let backend = Backend::sqlite();
    let bus = backend.open().await;
    bus.ensure_group("g", GroupStart::Oldest).await.unwrap();
    let positions = bus.publish(&events(3)).await.unwrap();
    let options = FetchOptions {
        limit: 2,
        claim_idle: Duration::from_millis(100),
        block: Duration::ZERO,
    };
    let fetched = bus.fetch("g", "c", &options).await.unwrap();
    bus.dead_letter("g", &fetched[0], "bad").await.unwrap();
    drop(bus);

    let bus = backend.open().await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after_restart = bus
        .fetch("g", "c", &FetchOptions { limit: 10, ..options })
        .await
        .unwrap();

    assert_eq!(
        bus.bounds().await.unwrap(),
        (Some(positions[0]), Some(positions[2]))
    );
    assert_eq!(bus.dead_letters(Some("g"), 10).await.unwrap().len(), 1);
    // The unacked second event comes back (lease expired), then the third, never fetched before.
    assert_eq!(
        after_restart
            .iter()
            .map(|d| (d.logged.position, d.attempts))
            .collect::<Vec<_>>(),
        vec![(positions[1], 2), (positions[2], 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_log_publishes_at_least_ten_thousand_events_per_second_in_batches() {
    let backend = Backend::sqlite();
    let bus = backend.open().await;
    let batches: Vec<_> = (0..40).map(|_| events(500)).collect();

    let started = Instant::now();
    for batch in &batches {
        bus.publish(batch).await.unwrap();
    }
    let rate = 20_000.0 / started.elapsed().as_secs_f64();

    println!("embedded publish: {rate:.0} events/s");
    assert!(rate >= 10_000.0, "only {rate:.0} events/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_tail_sees_a_published_event_within_a_few_milliseconds() {
    let backend = Backend::sqlite();
    let bus = backend.open().await;
    let mut tail = bus.tail(None);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let mut latencies = Vec::new();
    for i in 0..50 {
        let started = Instant::now();
        bus.publish(&[event("test.latency", i)]).await.unwrap();
        take(&mut tail, 1).await;
        latencies.push(started.elapsed());
    }
    latencies.sort();

    let median = latencies[latencies.len() / 2];
    println!(
        "embedded publish→tail median {median:?}, max {:?}",
        latencies.last()
    );
    assert!(median < Duration::from_millis(20), "median {median:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_accepts_sqlite_urls_and_bare_paths_and_rejects_other_schemes() {
    let dir = TempDir::new();
    let by_url = echo_events::connect(format!("sqlite://{}/a/events.db", dir.path().display())).await;
    let by_path = echo_events::connect(format!("{}/b.db", dir.path().display())).await;
    let other = echo_events::connect("kafka://localhost:9092").await;

    assert!(by_url.is_ok());
    assert!(by_path.is_ok());
    assert!(dir.path().join("a/events.db").exists());
    assert!(matches!(other, Err(BusError::UnsupportedUrl(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_tail_sees_a_published_event_quickly() {
    let backend = Backend::redis();
    let bus = backend.open().await;
    let mut tail = bus.tail(None);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut latencies = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        bus.publish(&[event("test.latency", i)]).await.unwrap();
        take(&mut tail, 1).await;
        latencies.push(started.elapsed());
    }
    latencies.sort();

    let median = latencies[latencies.len() / 2];
    println!("redis publish→tail median {median:?}");
    assert!(median < Duration::from_millis(50), "median {median:?}");
}

#[allow(dead_code)]
fn uses(_: &dyn EventBus) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_opening_the_same_embedded_log_in_one_process_share_one_instance_and_its_wake_ups() {
    let backend = Backend::sqlite();
    let producer = backend.open().await;
    let hub = backend.open().await;
    let mut tail = hub.tail(None);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let started = Instant::now();
    producer.publish(&events(1)).await.unwrap();
    take(&mut tail, 1).await;

    // Well under the 250 ms safety poll: the publish woke the other service's tail directly.
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "took {:?}",
        started.elapsed()
    );
}
