use echo_test_support::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends! {
    async fn the_sessions_list_marks_the_current_one(app: TestApp) {
        let alice = app.register("Alice").await;
        app.request(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": alice.email, "password": alice.password}))).await;

        let (status, body) = app.get(&alice, "/api/v1/users/me/sessions").await;

        assert_eq!(status, StatusCode::OK);
        let sessions = body["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
        assert!(sessions.iter().all(|s| s["created_at"].as_str().unwrap().ends_with('Z')));
    }

    async fn revoking_another_session_logs_it_out(app: TestApp) {
        let alice = app.register("Alice").await;
        let (_, laptop) = app.request(Method::POST, "/api/v1/auth/login", None,
            Some(json!({"email": alice.email, "password": alice.password}))).await;
        let laptop_token = laptop["access_token"].as_str().unwrap();
        let (_, sessions) = app.get(&alice, "/api/v1/users/me/sessions").await;
        let other = sessions["sessions"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

        let (status, _) = app.delete(&alice, &format!("/api/v1/users/me/sessions/{other}")).await;

        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(app.request(Method::GET, "/api/v1/users/me", Some(laptop_token), None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.get(&alice, "/api/v1/users/me").await.0, StatusCode::OK);
        let (status, _) = app.request(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": laptop["refresh_token"]}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    async fn nobody_can_revoke_someone_elses_session(app: TestApp) {
        let alice = app.register("Alice").await;
        let mallory = app.register("Mallory").await;
        let (_, sessions) = app.get(&alice, "/api/v1/users/me/sessions").await;
        let alices = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();

        let (status, _) = app.delete(&mallory, &format!("/api/v1/users/me/sessions/{alices}")).await;

        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&alice, "/api/v1/users/me").await.0, StatusCode::OK);
    }
}
