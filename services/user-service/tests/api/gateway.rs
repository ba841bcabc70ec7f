//! What the gateway adds to every response and serves itself.

use echo_test_support::{Backend, TestApp};
use reqwest::{Method, StatusCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints_answer() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    assert_eq!(
        app.request(Method::GET, "/healthz", None, None).await.0,
        StatusCode::OK
    );
    let (status, ready) = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["checks"]["users_db"]["status"], "up");
    assert_eq!(ready["checks"]["bus"]["status"], "up");
    app.request(Method::GET, "/api/v1/users/me", None, None).await;
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    // Pool use and the bus, read at the scrape.
    for gauge in [
        r#"db_pool_connections{db="users",state="idle"}"#,
        r#"db_pool_max_connections{db="messages"}"#,
        r#"bus_group_lag{group="messages-audit"}"#,
        r#"bus_group_pending{group="messages-audit"}"#,
        r#"bus_dead_letters{group="messages-audit"}"#,
    ] {
        assert!(metrics.contains(gauge), "{gauge} missing from {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_api_and_the_docs_page_serves() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let (status, doc) = app.request(Method::GET, "/api/openapi.json", None, None).await;

    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/refresh",
        "/api/v1/users/me/sessions/{id}",
        "/api/v1/presence",
        "/api/v1/ai/status",
    ] {
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
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
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
    let (status, body) = app
        .request(Method::POST, "/api/v1/auth/login", None, Some(huge))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_from_one_address_are_rate_limited_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.gateway.rate_limits.register_per_ip = api_gateway::ratelimit::Limit::per_hour(3)
    })
    .await;
    for name in ["A", "B", "C"] {
        app.register(name).await;
    }

    let response = app
        .http
        .post(app.url("/api/v1/auth/register"))
        .json(&serde_json::json!({"email": "d@example.test", "password": "correct horse battery", "display_name": "D"}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
}

async fn repeated_failed_logins_slow_down_that_account_only(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.gateway.rate_limits.login_failures_per_account = api_gateway::ratelimit::Limit {
            requests: 3,
            window_secs: 900,
        };
    })
    .await;
    let alice = app.register("Alice").await;
    let bob = app.register("Bob").await;
    let login = |email: String, password: &'static str| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"email": email, "password": password})),
            )
            .await
            .0
        }
    };
    for _ in 0..3 {
        assert_eq!(
            login(alice.email.clone(), "wrong password!").await,
            StatusCode::UNAUTHORIZED
        );
    }

    assert_eq!(
        login(alice.email.to_uppercase(), "correct horse battery staple").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login(bob.email.clone(), "correct horse battery staple").await,
        StatusCode::OK,
        "other accounts are unaffected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_slow_down_that_account_only_on_sqlite() {
    repeated_failed_logins_slow_down_that_account_only(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_slow_down_that_account_only_with_limits_in_redis() {
    repeated_failed_logins_slow_down_that_account_only(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_has_a_request_budget() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.gateway.rate_limits.per_user = api_gateway::ratelimit::Limit::per_minute(5)
    })
    .await;
    let alice = app.register("Alice").await;
    let bob = app.register("Bob").await;

    let statuses: Vec<StatusCode> = futures_statuses(&app, &alice, 7).await;

    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 5);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        2
    );
    assert_eq!(app.get(&bob, "/api/v1/users/me").await.0, StatusCode::OK);
}

async fn futures_statuses(app: &TestApp, user: &echo_test_support::TestUser, n: usize) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(app.get(user, "/api/v1/users/me").await.0);
    }
    out
}
