//! The indexer's bus contract: events take effect in log order, and an unknown version of an
//! event it consumes is parked.

use std::time::{Duration, Instant};

use echo_events::Envelope;
use echo_test_support::{Backend, TestApp};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{search, wait_indexed, workspace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_events_published_together_take_effect_in_log_order() {
    // Arrange
    let app = TestApp::spawn(Backend::Sqlite).await;
    let owner = app.register("Owner").await;
    let (ws, general) = workspace(&app, &owner, "Acme").await;
    wait_indexed(&app, &owner).await;
    let message = |id: Uuid, text: &str, deleted: bool| {
        let body = json!({"id": id, "channel_id": general, "author_id": owner.id, "text": text,
            "created_at": "2026-11-28T06:00:00Z", "deleted": deleted});
        json!({"workspace_id": ws, "message": body})
    };
    let event = |kind: &str, payload| Envelope::new(kind, 1, "message-service", payload);
    let (kept, doomed) = (Uuid::now_v7(), Uuid::now_v7());
    let events = [
        event("message.created", message(kept, "first quokka draft", false)),
        event("message.updated", message(kept, "final quokka plan", false)),
        event("message.created", message(doomed, "doomed quokka", false)),
        event("message.deleted", message(doomed, "", true)),
        // A late copy of the creation must not bring the deleted message back.
        event("message.created", message(doomed, "doomed quokka", false)),
    ];

    // Act
    app.bus.publish(&events).await.expect("published");
    wait_indexed(&app, &owner).await;

    // Assert
    assert_eq!(
        search(&app, &owner, &ws, "quokka", "keyword").await,
        vec![kept.to_string()]
    );
    assert!(
        search(&app, &owner, &ws, "draft", "keyword").await.is_empty(),
        "the edit replaced the text"
    );
}

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
