//! The indexer's bus contract: an unknown version of an event it consumes is parked.

use std::time::{Duration, Instant};

use echo_events::Envelope;
use echo_test_support::{Backend, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_event_version_is_parked_in_the_dead_letter_list() {
    // Arrange
    let app = TestApp::spawn(Backend::Sqlite).await;
    let event = Envelope::new(
        "message.created",
        2,
        "message-service",
        json!({"shape": "from the future"}),
    );

    // Act
    app.bus
        .publish(std::slice::from_ref(&event))
        .await
        .expect("published");

    // Assert
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let letters = app
            .bus
            .dead_letters(
                Some(&ai_service::engine::group(&app.config.ai.consumer_name)),
                100,
            )
            .await
            .expect("dead letters");
        if letters
            .iter()
            .any(|l| l.envelope.as_ref().is_some_and(|e| e.id == event.id))
        {
            let letter = letters
                .iter()
                .find(|l| l.envelope.as_ref().is_some_and(|e| e.id == event.id))
                .expect("found");
            assert!(letter.reason.contains("unknown version 2"), "{}", letter.reason);
            return;
        }
        assert!(Instant::now() < deadline, "the event was not parked within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
