//! Workspaces, their members and roles.

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::time::now_ms;
use echo_domain::{WorkspaceName, new_id};
use echo_http::{ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::access::workspace_member;
use crate::error::{MessageError, MessageResult};
use crate::model::{Member, Role, Workspace};
use crate::state::AppState;
use crate::store::NewWorkspace;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace))
        .routes(routes!(list_members))
        .routes(routes!(update_member, remove_member))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWorkspace {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceList {
    pub workspaces: Vec<Workspace>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub members: Vec<Member>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMember {
    pub role: Role,
}

/// Create a workspace: the caller becomes its owner, and `general` is created and joined.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", security(("bearer" = [])), request_body = CreateWorkspace,
    responses((status = 201, body = Workspace), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn create_workspace(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateWorkspace>,
) -> MessageResult<(StatusCode, Json<Workspace>)> {
    let name = WorkspaceName::parse(&body.name)?;
    let new = NewWorkspace {
        id: new_id(),
        name: name.into_inner(),
        owner_id: caller.user_id,
        general_id: new_id(),
        now: now_ms(),
    };
    let workspace = state.store.create_workspace(&new).await?;
    state.published();
    Ok((StatusCode::CREATED, Json(workspace)))
}

/// The caller's workspaces.
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces", security(("bearer" = [])),
    responses((status = 200, body = WorkspaceList), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn list_workspaces(
    State(state): State<AppState>,
    caller: Caller,
) -> MessageResult<Json<WorkspaceList>> {
    Ok(Json(WorkspaceList {
        workspaces: state.store.workspaces_of(caller.user_id).await?,
    }))
}

/// One of the caller's workspaces.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")),
    responses((status = 200, body = Workspace), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn get_workspace(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
) -> MessageResult<Json<Workspace>> {
    let workspace = state
        .store
        .workspace(ws, caller.user_id)
        .await?
        .ok_or(MessageError::NotFound("workspace"))?;
    Ok(Json(workspace))
}

/// The members of a workspace.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/members", operation_id = "list_workspace_members", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id")),
    responses((status = 200, body = MemberList), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws))]
async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Uuid>,
) -> MessageResult<Json<MemberList>> {
    workspace_member(&state, ws, caller.user_id).await?;
    Ok(Json(MemberList {
        members: state.store.members(ws).await?,
    }))
}

/// Change a member's role (owners and admins; only owners touch owners; the last owner stays).
#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/members/{user}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), ("user" = Uuid, Path, description = "user id")),
    request_body = UpdateMember,
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the last owner cannot be demoted", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws, target = %user))]
async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((ws, user)): Path<(Uuid, Uuid)>,
    Json(body): Json<UpdateMember>,
) -> MessageResult<Json<Member>> {
    let me = workspace_member(&state, ws, caller.user_id).await?;
    if !me.role.is_admin() {
        return Err(MessageError::forbidden("only owners and admins change roles"));
    }
    let target = state
        .store
        .member(ws, user)
        .await?
        .ok_or(MessageError::NotFound("member"))?;
    let touches_owner = target.role == Role::Owner || body.role == Role::Owner;
    if touches_owner && me.role != Role::Owner {
        return Err(MessageError::forbidden(
            "only owners grant or take the owner role",
        ));
    }
    let member = state
        .store
        .set_role(ws, user, body.role, caller.user_id)
        .await?
        .ok_or(MessageError::NotFound("member"))?;
    state.published();
    Ok(Json(member))
}

/// Remove a member (owners and admins; anyone may leave). They leave every channel too.
#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/members/{user}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = Uuid, Path, description = "workspace id"), ("user" = Uuid, Path, description = "user id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the last owner cannot leave", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, workspace_id = %ws, target = %user))]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((ws, user)): Path<(Uuid, Uuid)>,
) -> MessageResult<StatusCode> {
    let me = workspace_member(&state, ws, caller.user_id).await?;
    if user != caller.user_id {
        if !me.role.is_admin() {
            return Err(MessageError::forbidden("only owners and admins remove members"));
        }
        let target = state
            .store
            .member(ws, user)
            .await?
            .ok_or(MessageError::NotFound("member"))?;
        if target.role == Role::Owner && me.role != Role::Owner {
            return Err(MessageError::forbidden("only owners remove owners"));
        }
    }
    if !state.store.remove_member(ws, user, caller.user_id).await? {
        return Err(MessageError::NotFound("member"));
    }
    state.published();
    Ok(StatusCode::NO_CONTENT)
}
