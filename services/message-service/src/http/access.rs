//! Who may see what. Anything the caller may not see is "not found", exactly as if it did not
//! exist: another workspace's resources, private channels and DMs the caller is not in, and public
//! channels for guests who were not added to them.

use uuid::Uuid;

use crate::error::{MessageError, MessageResult};
use crate::model::{ChannelKind, Member, Message, Role};
use crate::state::AppState;
use crate::store::ChannelStanding;

// What handlers require of the caller's standing in a channel.
impl ChannelStanding {
    /// Writes (posting, reacting, pinning, editing) need a live channel.
    pub fn writable(&self) -> MessageResult<()> {
        if self.channel.archived {
            Err(MessageError::Archived)
        } else {
            Ok(())
        }
    }

    pub fn require_member(&self) -> MessageResult<()> {
        if self.is_member {
            Ok(())
        } else {
            Err(MessageError::Forbidden(
                "not_in_channel",
                "join the channel first",
            ))
        }
    }
}

/// The caller's membership of a workspace; 404 when they are not in it.
pub async fn workspace_member(state: &AppState, workspace_id: Uuid, user_id: Uuid) -> MessageResult<Member> {
    state
        .store
        .member(workspace_id, user_id)
        .await?
        .ok_or(MessageError::NotFound("workspace"))
}

/// A channel the caller can see; 404 otherwise.
pub async fn channel_access(
    state: &AppState,
    channel_id: Uuid,
    user_id: Uuid,
) -> MessageResult<ChannelStanding> {
    let not_found = || MessageError::NotFound("channel");
    let standing = state
        .standings
        .standing(channel_id, user_id)
        .await?
        .ok_or_else(not_found)?;
    let visible =
        standing.is_member || (standing.channel.kind == ChannelKind::Public && standing.role != Role::Guest);
    if visible { Ok(standing) } else { Err(not_found()) }
}

/// A message in a channel the caller can see; 404 otherwise.
pub async fn message_access(
    state: &AppState,
    message_id: Uuid,
    user_id: Uuid,
) -> MessageResult<(Message, ChannelStanding)> {
    let (message, _) = state
        .store
        .message(message_id)
        .await?
        .ok_or(MessageError::NotFound("message"))?;
    let access = channel_access(state, message.channel_id, user_id)
        .await
        .map_err(|e| match e {
            MessageError::NotFound(_) => MessageError::NotFound("message"),
            other => other,
        })?;
    Ok((message, access))
}
