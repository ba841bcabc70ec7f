//! Scopes: what an API token may do, named as Slack names them so that apps declare the same
//! scopes here as there. Sessions (JWTs) are not scoped.

use axum::http::Method;

/// Every scope Echo knows, and what a bot or personal token gets when none are named.
pub const ALL: &[&str] = &[
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "groups:write",
    "im:history",
    "im:read",
    "im:write",
    "mpim:history",
    "mpim:read",
    "mpim:write",
    "reactions:read",
    "reactions:write",
    "search:read",
    "users:read",
    "users:read.email",
];

pub const READ: &[&str] = &["channels:read", "groups:read", "im:read", "mpim:read"];
pub const HISTORY: &[&str] = &["channels:history", "groups:history", "im:history", "mpim:history"];
pub const CHAT_WRITE: &[&str] = &["chat:write"];
pub const MANAGE: &[&str] = &["channels:manage", "groups:write"];
pub const JOIN: &[&str] = &["channels:join"];
pub const OPEN: &[&str] = &["im:write", "mpim:write"];
pub const REACTIONS_READ: &[&str] = &["reactions:read"];
pub const REACTIONS_WRITE: &[&str] = &["reactions:write"];
pub const FILES_READ: &[&str] = &["files:read"];
pub const FILES_WRITE: &[&str] = &["files:write"];
pub const SEARCH: &[&str] = &["search:read"];
pub const USERS: &[&str] = &["users:read"];
pub const USERS_EMAIL: &[&str] = &["users:read.email"];
pub const NONE: &[&str] = &[];

/// The scopes a request asks for, validated and without repeats; all of them when none are named.
pub fn parse(requested: Option<&[String]>) -> Result<String, String> {
    let Some(requested) = requested.filter(|r| !r.is_empty()) else {
        return Ok(ALL.join(" "));
    };
    let mut out: Vec<&str> = Vec::new();
    for scope in requested {
        let scope = scope.trim();
        let known = ALL
            .iter()
            .find(|s| **s == scope)
            .ok_or_else(|| format!("unknown scope {scope:?}"))?;
        if !out.contains(known) {
            out.push(known);
        }
    }
    Ok(out.join(" "))
}

/// The scopes (any one of them) an API token needs for an Echo API request; None for endpoints
/// API tokens may not use at all (managing tokens, bots, webhooks, invites, members, settings).
pub fn for_echo_api(method: &Method, path: &str) -> Option<&'static [&'static str]> {
    let read = matches!(*method, Method::GET | Method::HEAD);
    let segments: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    match segments.as_slice() {
        ["workspaces"] | ["workspaces", _] if read => Some(READ),
        ["workspaces", _, "channels"] => Some(if read { READ } else { MANAGE }),
        ["workspaces", _, "members"] if read => Some(USERS),
        ["workspaces", _, "dms"] => Some(OPEN),
        ["workspaces", _, "search"] => Some(SEARCH),
        ["channels", _] => Some(if read { READ } else { MANAGE }),
        ["channels", _, "join"] => Some(JOIN),
        ["channels", _, "leave"] => Some(READ),
        ["channels", _, "members"] => Some(if read { READ } else { MANAGE }),
        ["channels", _, "messages"] => Some(if read { HISTORY } else { CHAT_WRITE }),
        ["channels", _, "read"] => Some(HISTORY),
        ["channels", _, "pins"] | ["channels", _, "pins", _] => Some(if read { HISTORY } else { CHAT_WRITE }),
        ["messages", _] | ["messages", _, "replies"] | ["messages", _, "history"] => {
            Some(if read { HISTORY } else { CHAT_WRITE })
        }
        ["messages", _, "reactions", _] => Some(REACTIONS_WRITE),
        ["files"] | ["files", ..] => Some(if read { FILES_READ } else { FILES_WRITE }),
        ["realtime", "tickets"] => Some(HISTORY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_scopes_named_means_every_scope() {
        assert_eq!(parse(None).unwrap(), ALL.join(" "));
        assert_eq!(
            parse(Some(&["chat:write".into(), "chat:write".into()])).unwrap(),
            "chat:write"
        );
        assert!(parse(Some(&["admin".into()])).is_err());
    }

    #[test]
    fn token_management_is_out_of_reach_of_tokens() {
        assert_eq!(
            for_echo_api(&Method::POST, "/api/v1/channels/x/messages"),
            Some(CHAT_WRITE)
        );
        assert_eq!(
            for_echo_api(&Method::GET, "/api/v1/channels/x/messages"),
            Some(HISTORY)
        );
        assert_eq!(for_echo_api(&Method::POST, "/api/v1/workspaces/x/bots"), None);
        assert_eq!(for_echo_api(&Method::POST, "/api/v1/tokens"), None);
        assert_eq!(for_echo_api(&Method::POST, "/api/v1/workspaces/x/invites"), None);
        assert_eq!(for_echo_api(&Method::DELETE, "/api/v1/workspaces/x"), None);
    }
}
