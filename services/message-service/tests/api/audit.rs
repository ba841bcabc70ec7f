use std::time::Duration;

use echo_test_support::{TestApp, TestUser, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// The log is written by a bus consumer: waits until it holds an entry of each action named.
async fn audit_log_with(app: &TestApp, admin: &TestUser, ws: &str, actions: &[&str]) -> Vec<Value> {
    audit_log_where(app, admin, ws, |entries| {
        actions.iter().all(|a| entries.iter().any(|e| e["action"] == *a))
    })
    .await
}

/// The audit log once `complete` holds for it. Each service relays its own events, so entries
/// from two services may reach the log in another order than their actions.
async fn audit_log_where(
    app: &TestApp,
    admin: &TestUser,
    ws: &str,
    complete: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = app
            .get(admin, &format!("/api/v1/workspaces/{ws}/audit-log?limit=200"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let entries = page["entries"].as_array().cloned().unwrap_or_default();
        if complete(&entries) {
            return entries;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still waiting, have {entries:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Entries of one action.
fn count_of(entries: &[Value], action: &str) -> usize {
    entries.iter().filter(|e| e["action"] == action).count()
}

fn one<'a>(entries: &'a [Value], action: &str) -> &'a Value {
    let found: Vec<&Value> = entries.iter().filter(|e| e["action"] == action).collect();
    assert_eq!(found.len(), 1, "one {action} entry in {entries:#?}");
    found[0]
}

async fn login(app: &TestApp, user: &TestUser, password: &str) -> (StatusCode, Value) {
    let body = json!({"email": user.email, "password": password});
    app.request(Method::POST, "/api/v1/auth/login", None, Some(body))
        .await
}

on_both_backends! {
    async fn sign_ins_and_admin_actions_are_recorded_for_owners_and_admins_only(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (bob, carol, dave, outsider) =
            (app.register("Bob").await, app.register("Carol").await, app.register("Dave").await, app.register("Eve").await);
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        for user in [&bob, &carol, &dave] {
            join(&app, &alice, &ws, user, "member").await;
        }
        let projects = create_channel(&app, &alice, &ws, "projects", "public").await;
        // Sign-ins name a user, not a workspace: they are filed under the workspaces the user was
        // in when signing in, as far as the audit consumer knows. Joins reach the log through
        // message-service's outbox and sign-ins through user-service's, in either order, so Bob
        // signs in once his join has been consumed (the invites after it have been).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while count_of(&audit_log_with(&app, &alice, &ws, &["invite_created"]).await, "invite_created") < 3 {
            assert!(tokio::time::Instant::now() < deadline, "the three invites were never logged");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // Act: sign-ins of a member…
        let (status, session) = login(&app, &bob, &bob.password).await;
        assert_eq!(status, StatusCode::OK, "{session}");
        let (status, _) = login(&app, &bob, "not the password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let token = session["access_token"].as_str().unwrap();
        let (status, _) = app.request(Method::POST, "/api/v1/auth/logout", Some(token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // …and what admins do to others.
        let (status, _) = app.patch(&alice, &format!("/api/v1/workspaces/{ws}/members/{}", carol.id), json!({"role": "admin"})).await;
        assert_eq!(status, StatusCode::OK);
        let moderated = post(&app, &bob, &general, "something to take down").await;
        let own = post(&app, &bob, &general, "a typo").await;
        assert_eq!(app.delete(&alice, &format!("/api/v1/messages/{}", id(&moderated))).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.delete(&bob, &format!("/api/v1/messages/{}", id(&own))).await.0, StatusCode::NO_CONTENT);
        let (status, _) = app.patch(&alice, &format!("/api/v1/channels/{projects}"), json!({"archived": true})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.delete(&alice, &format!("/api/v1/workspaces/{ws}/members/{}", bob.id)).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.delete(&dave, &format!("/api/v1/workspaces/{ws}/members/{}", dave.id)).await.0, StatusCode::NO_CONTENT);

        // Assert
        let actions = ["login", "login_failed", "session_revoked", "role_changed", "message_deleted", "channel_archived", "member_removed", "member_left", "invite_created"];
        let entries = audit_log_with(&app, &carol, &ws, &actions).await;
        let signed_in = one(&entries, "login");
        assert_eq!(signed_in["actor_id"], bob.id.to_string());
        assert_eq!(signed_in["ip"], "127.0.0.1");
        let failed = one(&entries, "login_failed");
        assert_eq!(failed["target"], json!({"type": "user", "id": bob.id}));
        assert!(failed["actor_id"].is_null(), "a failed attempt proves no actor");
        assert_eq!(one(&entries, "session_revoked")["details"]["reason"], "logout");
        let promoted = one(&entries, "role_changed");
        assert_eq!((&promoted["actor_id"], &promoted["details"]["role"]), (&json!(alice.id), &json!("admin")));
        assert_eq!(promoted["target"]["id"], carol.id.to_string());
        let deleted = one(&entries, "message_deleted");
        assert_eq!(deleted["target"], json!({"type": "message", "id": id(&moderated)}));
        assert_eq!(deleted["details"]["author_id"], bob.id.to_string(), "only the moderated message, not bob's own deletion");
        assert_eq!(one(&entries, "channel_archived")["details"]["name"], "projects");
        let removed = one(&entries, "member_removed");
        assert_eq!((&removed["actor_id"], &removed["target"]["id"]), (&json!(alice.id), &json!(bob.id)));
        assert_eq!(one(&entries, "member_left")["actor_id"], dave.id.to_string());
        assert_eq!(entries.iter().filter(|e| e["action"] == "invite_created").count(), 3);
        assert!(entries.iter().all(|e| e["occurred_at"].is_string()));
        let ids: Vec<&str> = entries.iter().filter_map(|e| e["id"].as_str()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");

        // Only owners and admins read it; nobody changes it through the API.
        let path = format!("/api/v1/workspaces/{ws}/audit-log");
        let joined_later = app.register("Frank").await;
        join(&app, &alice, &ws, &joined_later, "member").await;
        assert_eq!(app.get(&joined_later, &path).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.get(&bob, &path).await.0, StatusCode::NOT_FOUND, "removed: no longer in the workspace");
        assert_eq!(app.get(&outsider, &path).await.0, StatusCode::NOT_FOUND);
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let (status, body) = app.request(method.clone(), &path, Some(&alice.token), Some(json!({}))).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}: {body}");
        }
    }

    async fn the_log_pages_newest_first_and_filters_by_action(app: TestApp) {
        // Arrange: five invites, and a sign-in in between.
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        for _ in 0..5 {
            let (status, _) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/invites"), json!({})).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        assert_eq!(login(&app, &alice, &alice.password).await.0, StatusCode::OK);
        let all = audit_log_where(&app, &alice, &ws, |entries| {
            count_of(entries, "invite_created") == 5 && count_of(entries, "login") == 1
        })
        .await;
        assert_eq!(all.len(), 6, "five invites and one sign-in (registering came before the workspace): {all:#?}");

        // Act
        let path = format!("/api/v1/workspaces/{ws}/audit-log?action=invite_created&limit=2");
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, page) = app.get(&alice, &format!("{path}{cursor}")).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let entries = page["entries"].as_array().unwrap();
            assert!(entries.len() <= 2);
            seen.extend(entries.iter().map(|e| (e["action"].clone(), e["id"].as_str().unwrap().to_owned())));
            if page["has_more"] != true {
                break;
            }
            cursor = format!("&before={}", seen.last().unwrap().1);
        }

        // Assert
        assert_eq!(seen.len(), 5, "{seen:?}");
        assert!(seen.iter().all(|(action, _)| action == "invite_created"));
        assert!(seen.windows(2).all(|w| w[0].1 > w[1].1), "newest first, no repeats");
        let (status, body) = app.get(&alice, &format!("/api/v1/workspaces/{ws}/audit-log?before=yesterday")).await;
        assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("before")), "{body}");
    }

    async fn a_sign_in_from_before_a_join_is_not_filed_under_that_workspace(app: TestApp) {
        // Arrange: alice's workspace, its creation consumed (the invite after it is logged)
        let alice = app.register("Alice").await;
        let (ws, _) = workspace(&app, &alice, "Acme").await;
        let (status, _) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/invites"), json!({})).await;
        assert_eq!(status, StatusCode::CREATED);
        audit_log_with(&app, &alice, &ws, &["invite_created"]).await;
        let sign_in = |ago: chrono::Duration| {
            let session_id = uuid::Uuid::now_v7();
            let mut event = echo_events::Envelope::new("session.started", 1, "user-service", json!({"user_id": alice.id, "session_id": session_id}));
            event.occurred_at -= ago;
            (event, session_id.to_string())
        };
        // Act: a sign-in from an hour ago reaches the log only now (its service relayed it late),
        // then one from now
        let (late, late_session) = sign_in(chrono::Duration::hours(1));
        let (now, now_session) = sign_in(chrono::Duration::zero());
        app.bus.publish(&[late, now]).await.expect("published");
        // Assert: only the sign-in made as a member is filed under the workspace (the late one
        // was consumed first)
        fn of_session(session: &str) -> impl Fn(&Value) -> bool + '_ {
            move |e| e["details"]["session_id"] == session
        }
        let entries = audit_log_where(&app, &alice, &ws, |entries| entries.iter().any(of_session(&now_session))).await;
        assert!(!entries.iter().any(of_session(&late_session)), "{entries:#?}");
    }
}
