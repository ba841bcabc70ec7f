//! What the gateway adds to every response and serves itself.

use echo_test_support::{Backend, TestApp};
use reqwest::{Method, StatusCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints_answer() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    assert_eq!(app.request(Method::GET, "/healthz", None, None).await.0, StatusCode::OK);
    let (status, ready) = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["checks"]["users_db"]["status"], "up");
    assert_eq!(ready["checks"]["bus"]["status"], "up");
    app.request(Method::GET, "/api/v1/users/me", None, None).await;
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_api_and_the_docs_page_serves() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let (status, doc) = app.request(Method::GET, "/api/openapi.json", None, None).await;

    assert_eq!(status, StatusCode::OK);
    for path in ["/api/v1/auth/register", "/api/v1/auth/refresh", "/api/v1/users/me/sessions/{id}", "/api/v1/presence", "/api/v1/ai/status"] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let docs = app.http.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_security_headers_and_a_request_id() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let response = app.http.get(app.url("/")).send().await.unwrap();

    let headers = response.headers();
    assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_paths_and_oversized_bodies_get_contract_errors() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.gateway.max_body_bytes = 64 * 1024).await;

    let alice = app.register("Alice").await;
    let (status, body) = app.get(&alice, "/api/v1/users/me/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");

    let huge = serde_json::json!({"email": "a@example.com", "password": "x".repeat(100 * 1024)});
    let (status, body) = app.request(Method::POST, "/api/v1/auth/login", None, Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
}
