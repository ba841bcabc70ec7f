//! Which service owns a path, and which paths need no access token at the gateway.

/// The services behind the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Users,
    Messages,
    Ai,
}

/// The owner of an API path; `None` for paths the gateway does not forward.
pub fn owner(path: &str) -> Option<Service> {
    const USERS: &[&str] = &[
        "/api/v1/auth/",
        "/api/v1/users/me",
        "/api/v1/presence",
        "/.well-known/jwks.json",
    ];
    if path.starts_with("/api/v1/users/me/push-subscriptions") {
        return Some(Service::Messages);
    }
    if USERS.iter().any(|p| path.starts_with(p)) || path.starts_with("/api/v1/users/") {
        return Some(Service::Users);
    }
    if path.starts_with("/api/v1/ai/") {
        return Some(Service::Ai);
    }
    if path.starts_with("/api/v1/") || path.starts_with("/slack/") || path.starts_with("/hooks/") {
        return Some(Service::Messages);
    }
    None
}

/// Paths reachable without a user's access token. They authenticate otherwise (refresh token,
/// single-use ticket, signed URL, webhook secret, bot token) or are public by design; the owning
/// service checks each.
pub fn is_public(method: &http::Method, path: &str) -> bool {
    let exact = matches!(
        path,
        "/api/v1/auth/register"
            | "/api/v1/auth/login"
            | "/api/v1/auth/refresh"
            | "/api/v1/realtime"
            // Signed links in notification emails, followed without signing in.
            | "/api/v1/notifications/unsubscribe"
    );
    let invite_preview =
        method == http::Method::GET && path.starts_with("/api/v1/invites/") && !path.ends_with("/accept");
    let file_content =
        method == http::Method::GET && path.starts_with("/api/v1/files/") && path.contains("/content");
    exact
        || invite_preview
        || file_content
        || path.starts_with("/.well-known/")
        || path.starts_with("/slack/")
        || path.starts_with("/hooks/")
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    #[test]
    fn routes_each_resource_to_its_owner() {
        assert_eq!(owner("/api/v1/auth/login"), Some(Service::Users));
        assert_eq!(owner("/api/v1/users/me/preferences"), Some(Service::Users));
        assert_eq!(
            owner("/api/v1/users/0190f0a0-0000-7000-8000-000000000000"),
            Some(Service::Users)
        );
        assert_eq!(owner("/api/v1/presence"), Some(Service::Users));
        assert_eq!(
            owner("/api/v1/users/me/push-subscriptions"),
            Some(Service::Messages)
        );
        assert_eq!(owner("/api/v1/workspaces"), Some(Service::Messages));
        assert_eq!(owner("/api/v1/ai/ask"), Some(Service::Ai));
        assert_eq!(owner("/slack/api/chat.postMessage"), Some(Service::Messages));
        assert_eq!(owner("/index.html"), None);
    }

    #[test]
    fn only_self_authenticating_paths_are_public() {
        assert!(is_public(&Method::POST, "/api/v1/auth/login"));
        assert!(!is_public(&Method::POST, "/api/v1/auth/logout"));
        assert!(is_public(&Method::GET, "/api/v1/invites/abc"));
        assert!(!is_public(&Method::POST, "/api/v1/invites/abc/accept"));
        assert!(!is_public(&Method::GET, "/api/v1/workspaces"));
        assert!(!is_public(&Method::GET, "/api/v1/files/x"));
        assert!(is_public(&Method::POST, "/api/v1/notifications/unsubscribe"));
        assert!(!is_public(&Method::GET, "/api/v1/notifications"));
    }
}
