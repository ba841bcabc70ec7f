//! Trace export: `echo-server up` with a collector configured sends its spans there over OTLP/HTTP
//! (the protobuf encoding a real collector takes), continuing the trace a request's `traceparent`
//! names; in the scaled topology, the gateway carries the trace on to the service it calls. The
//! collector here is a small OTLP endpoint in the test that decodes what it receives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

use crate::topology::{self as topo, Topology};
use crate::up::Up;

/// A span as the collector received it: (service.name, span name, trace id, parent span id).
type Received = (String, String, Vec<u8>, Vec<u8>);

pub async fn collector() -> (String, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
                for resource_spans in request.resource_spans {
                    let service = resource_spans
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|a| a.key == "service.name")
                        .and_then(|a| a.value.as_ref()?.value.clone())
                        .map(|v| match v {
                            Value::StringValue(s) => s,
                            other => format!("{other:?}"),
                        })
                        .unwrap_or_default();
                    for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                        sink.lock().unwrap().push((
                            service.clone(),
                            span.name,
                            span.trace_id,
                            span.parent_span_id,
                        ));
                    }
                }
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_the_configured_collector_in_the_callers_trace() {
    // Arrange
    let (collector, received) = collector().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ECHO_OTLP_ENDPOINT", collector.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let up = Up::start_with(dir.path(), &env);
    let (trace_id, parent_id) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");

    // Act
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", up.base))
        .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
        .json(&serde_json::json!({"email": "nobody@example.test", "password": "not the password"}))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let deadline = Instant::now() + Duration::from_secs(30);
    let span = loop {
        let found = received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, name, trace, _)| name == "request" && hex(trace) == trace_id)
            .cloned();
        if let Some(span) = found {
            break span;
        }
        assert!(
            Instant::now() < deadline,
            "the request's span never arrived: {:?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (service, _, _, parent) = span;
    assert_eq!(
        (service.as_str(), hex(&parent).as_str()),
        ("echo", parent_id),
        "continues the caller's span"
    );
    // What handlers record inside the request is in the same trace, under it.
    let inner = received
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, name, trace, _)| name != "request" && hex(trace) == trace_id)
        .count();
    assert!(inner > 0, "{:?}", received.lock().unwrap());
    assert!(up.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_carries_a_trace_on_to_the_service_it_calls() {
    // Arrange
    let (collector, received) = collector().await;
    let topo = Topology::start_traced(&collector).await;
    let alice = topo::Client::new(&topo.gateway_url).register("Alice").await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";

    // Act
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/workspaces", topo.gateway_url))
        .bearer_auth(&alice.token)
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .send()
        .await
        .unwrap();

    // Assert: the gateway's request span and message-service's, one trace, the second under the first.
    assert!(response.status().is_success());
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spans: Vec<Received> = received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, name, trace, _)| name == "request" && hex(trace) == trace_id)
            .cloned()
            .collect();
        let services: Vec<&str> = spans.iter().map(|(service, ..)| service.as_str()).collect();
        if services.contains(&"echo-gateway") && services.contains(&"echo-messages") {
            let gateway_parent = &spans.iter().find(|(s, ..)| s == "echo-gateway").unwrap().3;
            assert_eq!(hex(gateway_parent), "b7ad6b7169203331");
            let messages_parent = &spans.iter().find(|(s, ..)| s == "echo-messages").unwrap().3;
            assert_ne!(
                hex(messages_parent),
                "b7ad6b7169203331",
                "under the gateway's span, not beside it"
            );
            break;
        }
        assert!(Instant::now() < deadline, "spans of the trace: {spans:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
