use echo_test_support::{TestUser, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// One row of the matrix: a request and the status expected for outsider, guest, member, admin, owner.
struct Row {
    method: Method,
    path: String,
    body: Option<Value>,
    expect: [u16; 5],
}

fn row(method: Method, path: String, body: Option<Value>, expect: [u16; 5]) -> Row {
    Row {
        method,
        path,
        body,
        expect,
    }
}

on_both_backends! {
    async fn every_endpoint_answers_each_role_exactly(app: TestApp) {
        // Arrange: one workspace with a person in every role, and an outsider from another workspace
        let owner = app.register("Owner").await;
        let (admin, member, guest, outsider) =
            (app.register("Admin").await, app.register("Member").await, app.register("Guest").await, app.register("Outsider").await);
        let (ws, general) = workspace(&app, &owner, "Acme").await;
        workspace(&app, &outsider, "Elsewhere").await;
        join(&app, &owner, &ws, &admin, "admin").await;
        join(&app, &owner, &ws, &member, "member").await;
        join(&app, &owner, &ws, &guest, "guest").await;
        let public = create_channel(&app, &owner, &ws, "pub", "public").await;
        let m = id(&post(&app, &owner, &general, "the message").await);
        let people: [&TestUser; 5] = [&outsider, &guest, &member, &admin, &owner];
        let mut doomed = Vec::new();
        for _ in people {
            doomed.push(id(&post(&app, &owner, &general, "to be deleted").await));
        }
        use Method as M;
        // Act + Assert
        for (who, user) in people.iter().enumerate() {
            let rows = vec![
                row(M::GET, format!("/api/v1/workspaces/{ws}"), None, [404, 200, 200, 200, 200]),
                row(M::GET, format!("/api/v1/workspaces/{ws}/members"), None, [404, 200, 200, 200, 200]),
                row(M::GET, format!("/api/v1/workspaces/{ws}/channels"), None, [404, 200, 200, 200, 200]),
                row(M::POST, format!("/api/v1/workspaces/{ws}/channels"), Some(json!({"name": format!("c{who}"), "visibility": "public"})), [404, 403, 201, 201, 201]),
                row(M::POST, format!("/api/v1/workspaces/{ws}/invites"), Some(json!({})), [404, 403, 201, 201, 201]),
                row(M::PATCH, format!("/api/v1/workspaces/{ws}/members/{}", member.id), Some(json!({"role": "member"})), [404, 403, 403, 200, 200]),
                row(M::GET, format!("/api/v1/channels/{public}"), None, [404, 404, 200, 200, 200]),
                row(M::GET, format!("/api/v1/channels/{public}/messages"), None, [404, 404, 200, 200, 200]),
                row(M::GET, format!("/api/v1/channels/{public}/pins"), None, [404, 404, 200, 200, 200]),
                row(M::GET, format!("/api/v1/channels/{public}/members"), None, [404, 404, 200, 200, 200]),
                row(M::POST, format!("/api/v1/channels/{public}/join"), Some(json!({})), [404, 404, 204, 204, 204]),
                row(M::PATCH, format!("/api/v1/channels/{public}"), Some(json!({"name": format!("pub-{who}")})), [404, 404, 403, 200, 200]),
                row(M::PATCH, format!("/api/v1/channels/{public}"), Some(json!({"topic": "t"})), [404, 404, 200, 200, 200]),
                row(M::GET, format!("/api/v1/channels/{general}/messages"), None, [404, 200, 200, 200, 200]),
                row(M::POST, format!("/api/v1/channels/{general}/messages"), Some(json!({"text": "hi"})), [404, 201, 201, 201, 201]),
                row(M::POST, format!("/api/v1/channels/{general}/members"), Some(json!({"user_id": admin.id})), [404, 403, 204, 204, 204]),
                row(M::GET, format!("/api/v1/messages/{m}"), None, [404, 200, 200, 200, 200]),
                row(M::GET, format!("/api/v1/messages/{m}/replies"), None, [404, 200, 200, 200, 200]),
                row(M::GET, format!("/api/v1/messages/{m}/history"), None, [404, 200, 200, 200, 200]),
                row(M::PATCH, format!("/api/v1/messages/{m}"), Some(json!({"text": "edited"})), [404, 403, 403, 403, 200]),
                row(M::PUT, format!("/api/v1/messages/{m}/reactions/tada"), Some(json!({})), [404, 204, 204, 204, 204]),
                row(M::DELETE, format!("/api/v1/messages/{m}/reactions/tada"), None, [404, 204, 204, 204, 204]),
                row(M::PUT, format!("/api/v1/channels/{general}/pins/{m}"), Some(json!({})), [404, 204, 204, 204, 204]),
                row(M::POST, format!("/api/v1/channels/{general}/read"), Some(json!({"message_id": m})), [404, 204, 204, 204, 204]),
                row(M::DELETE, format!("/api/v1/messages/{}", doomed[who]), None, [404, 403, 403, 204, 204]),
            ];
            for r in rows {
                let (status, body) = app.request(r.method.clone(), &r.path, Some(&user.token), r.body.clone()).await;
                assert_eq!(status.as_u16(), r.expect[who], "{} {} as {}: {body}", r.method, r.path, user.display_name);
            }
        }
        let (status, _) = app.request(Method::GET, "/api/v1/workspaces", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    async fn guests_see_only_the_channels_they_were_added_to(app: TestApp) {
        // Arrange
        let owner = app.register("Owner").await;
        let guest = app.register("Guest").await;
        let (ws, _) = workspace(&app, &owner, "Acme").await;
        join(&app, &owner, &ws, &guest, "guest").await;
        let lounge = create_channel(&app, &owner, &ws, "lounge", "public").await;
        assert!(entry(&app, &guest, &ws, &lounge).await.is_none());
        // Act
        let (status, _) = app.post(&owner, &format!("/api/v1/channels/{lounge}/members"), json!({"user_id": guest.id})).await;
        // Assert
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(entry(&app, &guest, &ws, &lounge).await.expect("now listed")["is_member"], true);
        post(&app, &guest, &lounge, "hello from a guest").await;
        let (status, _) = app.post(&guest, &format!("/api/v1/channels/{lounge}/members"), json!({"user_id": owner.id})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "guests do not add people");
    }

    async fn standings_looked_up_together_are_each_the_callers_own(app: TestApp) {
        // Arrange: alice owns a workspace with a private channel; bob is in the workspace but not
        // that channel; carol is in another workspace
        let (alice, bob, carol) = (app.register("Alice").await, app.register("Bob").await, app.register("Carol").await);
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        workspace(&app, &carol, "Elsewhere").await;
        join(&app, &alice, &ws, &bob, "member").await;
        let private = create_channel(&app, &alice, &ws, "secret", "private").await;
        let state = app.system.messages.state();
        let uuid = |s: &str| s.parse::<uuid::Uuid>().expect("uuid");
        let (general, private, missing) = (uuid(&general), uuid(&private), uuid::Uuid::now_v7());
        let asked = [
            (general, alice.id), (private, alice.id), (general, bob.id), (private, bob.id),
            (general, carol.id), (private, carol.id), (missing, alice.id), (private, alice.id),
        ];
        // Act: all at once, so they are read in batches
        let answers = futures::future::join_all((0..5).flat_map(|_| asked).map(|(channel, user)| state.standings.standing(channel, user))).await;
        // Assert: each answer is the asker's own standing, as read alone
        let expected = [Some(true), Some(true), Some(true), Some(false), None, None, None, Some(true)];
        for (i, answer) in answers.into_iter().enumerate() {
            let standing = answer.expect("read");
            let (channel, _) = asked[i % asked.len()];
            assert_eq!(standing.as_ref().map(|s| s.is_member), expected[i % asked.len()], "lookup {i}");
            assert!(standing.is_none_or(|s| s.channel.id == channel), "lookup {i}");
        }
    }
}
