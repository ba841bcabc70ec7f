use echo_test_support::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

on_both_backends! {
    async fn creating_a_workspace_makes_the_creator_owner_in_general(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        // Act
        let (status, ws) = app.post(&alice, "/api/v1/workspaces", json!({"name": "Acme"})).await;
        // Assert
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(ws["role"], "owner");
        assert_eq!(ws["name"], "Acme");
        let ws_id = id(&ws);
        let general = channel_named(&app, &alice, &ws_id, "general").await;
        let e = entry(&app, &alice, &ws_id, &general).await.expect("general listed");
        assert_eq!(e["kind"], "public");
        assert_eq!(e["is_member"], true);
        let (_, list) = app.get(&alice, "/api/v1/workspaces").await;
        assert_eq!(list["workspaces"].as_array().map(Vec::len), Some(1));
        let (status, _) = app.post(&alice, "/api/v1/workspaces", json!({"name": "  "})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn an_invite_is_previewed_without_a_token_and_accepted_within_its_uses(app: TestApp) {
        // Arrange
        let alice = app.register("Alice").await;
        let (bob, carol) = (app.register("Bob").await, app.register("Carol").await);
        let (ws, general) = workspace(&app, &alice, "Acme").await;
        let (status, invite) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/invites"), json!({"max_uses": 1, "expires_in_hours": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{invite}");
        let code = invite["code"].as_str().expect("code").to_owned();
        // Act
        let (preview_status, preview) = app.request(Method::GET, &format!("/api/v1/invites/{code}"), None, None).await;
        let (bob_status, joined) = app.post(&bob, &format!("/api/v1/invites/{code}/accept"), json!({})).await;
        let (again_status, _) = app.post(&bob, &format!("/api/v1/invites/{code}/accept"), json!({})).await;
        let (carol_status, _) = app.post(&carol, &format!("/api/v1/invites/{code}/accept"), json!({})).await;
        // Assert
        assert_eq!(preview_status, StatusCode::OK, "{preview}");
        assert_eq!(preview["workspace_name"], "Acme");
        assert_eq!(preview["workspace_id"], ws.as_str());
        assert!(preview["expires_at"].is_string());
        assert_eq!(bob_status, StatusCode::OK);
        assert_eq!(joined["role"], "member");
        assert_eq!(again_status, StatusCode::OK, "accepting twice is harmless");
        assert_eq!(carol_status, StatusCode::NOT_FOUND, "the single use is spent");
        assert_eq!(entry(&app, &bob, &ws, &general).await.expect("general")["is_member"], true);
        let (status, _) = app.request(Method::GET, "/api/v1/invites/nope", None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app.post(&alice, &format!("/api/v1/workspaces/{ws}/invites"), json!({"max_uses": 0})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn roles_change_only_by_admins_and_the_last_owner_stays(app: TestApp) {
        // Arrange
        let owner = app.register("Owner").await;
        let (admin, member) = (app.register("Admin").await, app.register("Member").await);
        let (ws, _) = workspace(&app, &owner, "Acme").await;
        join(&app, &owner, &ws, &admin, "admin").await;
        join(&app, &owner, &ws, &member, "member").await;
        let path = |u: &echo_test_support::TestUser| format!("/api/v1/workspaces/{ws}/members/{}", u.id);
        // Act + Assert
        let (status, _) = app.patch(&member, &path(&admin), json!({"role": "member"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "members do not change roles");
        let (status, _) = app.patch(&admin, &path(&owner), json!({"role": "member"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "admins do not demote owners");
        let (status, body) = app.patch(&admin, &path(&member), json!({"role": "guest"})).await;
        assert_eq!((status, body["role"].clone()), (StatusCode::OK, json!("guest")));
        let (status, body) = app.patch(&owner, &path(&owner), json!({"role": "admin"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "last_owner");
        let (status, _) = app.delete(&owner, &path(&owner)).await;
        assert_eq!(status, StatusCode::CONFLICT, "the last owner cannot leave");
        let (status, _) = app.patch(&owner, &path(&admin), json!({"role": "owner"})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.patch(&owner, &path(&owner), json!({"role": "member"})).await;
        assert_eq!(status, StatusCode::OK, "another owner remains");
        let (status, _) = app.patch(&admin, &path(&member), json!({"role": "superuser"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, members) = app.get(&member, &format!("/api/v1/workspaces/{ws}/members")).await;
        assert_eq!(members["members"].as_array().map(Vec::len), Some(3));
    }

    async fn a_removed_member_leaves_every_channel_and_loses_access(app: TestApp) {
        // Arrange
        let owner = app.register("Owner").await;
        let bob = app.register("Bob").await;
        let (ws, general) = workspace(&app, &owner, "Acme").await;
        join(&app, &owner, &ws, &bob, "member").await;
        let secret = create_channel(&app, &owner, &ws, "secret", "private").await;
        let (status, _) = app.post(&owner, &format!("/api/v1/channels/{secret}/members"), json!({"user_id": bob.id})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // Act
        let (status, _) = app.delete(&owner, &format!("/api/v1/workspaces/{ws}/members/{}", bob.id)).await;
        // Assert
        assert_eq!(status, StatusCode::NO_CONTENT);
        for ch in [&general, &secret] {
            let (_, members) = app.get(&owner, &format!("/api/v1/channels/{ch}/members")).await;
            assert!(!members["members"].as_array().expect("members").iter().any(|m| m["user_id"] == bob.id.to_string()));
            let (status, _) = app.get(&bob, &format!("/api/v1/channels/{ch}/messages")).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
        let (status, _) = app.get(&bob, &format!("/api/v1/workspaces/{ws}/channels")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, list) = app.get(&bob, "/api/v1/workspaces").await;
        assert_eq!(list["workspaces"].as_array().map(Vec::len), Some(0));
    }
}
