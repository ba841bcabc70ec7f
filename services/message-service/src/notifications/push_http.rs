//! Browsers' Web Push subscriptions (`/api/v1/users/me/push-subscriptions`, routed here by the
//! gateway) and the VAPID public key they subscribe with.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::StatusCode;
use echo_auth::Caller;
use echo_domain::new_id;
use echo_domain::time::now_ms;
use echo_http::{ApiError, ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::delivery_store::{NewSubscription, Subscription, SubscriptionRow};
use super::webpush::ReceiverKeys;
use crate::error::{MessageError, MessageResult};
use crate::state::AppState;

const MAX_ENDPOINT: usize = 2048;
/// Browsers a person may register at once.
const MAX_SUBSCRIPTIONS: usize = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions, subscribe))
        .routes(routes!(unsubscribe))
        .routes(routes!(vapid_public_key))
}

/// A `PushSubscription` as the browser serializes it (`subscription.toJSON()`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Subscribe {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The authentication secret, base64url.
    pub auth: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionList {
    pub subscriptions: Vec<Subscription>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VapidKey {
    /// Pass as `applicationServerKey` to `PushManager.subscribe`, base64url.
    pub public_key: String,
}

/// Refuses endpoints Echo should not post to: anything but HTTPS, and (unless configured for
/// local push servers) hosts that are loopback, private or link-local addresses.
fn check_endpoint(raw: &str, allow_insecure: bool) -> Result<(), ApiError> {
    let invalid = |message: &str| ApiError::invalid_field("endpoint", message);
    if raw.len() > MAX_ENDPOINT {
        return Err(invalid("is too long"));
    }
    let url = url::Url::parse(raw).map_err(|_| invalid("must be a URL"))?;
    if allow_insecure {
        return match url.scheme() {
            "https" | "http" => Ok(()),
            _ => Err(invalid("must be an http(s) URL")),
        };
    }
    if url.scheme() != "https" {
        return Err(invalid("must be an https URL"));
    }
    let internal = match url.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => is_internal(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_internal(IpAddr::V6(ip)),
        None => true,
    };
    if internal {
        return Err(invalid("must be a public push service"));
    }
    Ok(())
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified(),
        IpAddr::V6(ip) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The caller's registered browsers.
#[utoipa::path(get, path = "/api/v1/users/me/push-subscriptions", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = SubscriptionList), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
) -> MessageResult<Json<SubscriptionList>> {
    let rows = state.deliveries.subscriptions(caller.user_id).await?;
    Ok(Json(SubscriptionList {
        subscriptions: rows.into_iter().map(SubscriptionRow::into_subscription).collect(),
    }))
}

/// Register a browser's Web Push subscription; the same endpoint again updates its keys.
#[utoipa::path(post, path = "/api/v1/users/me/push-subscriptions", tag = "notifications", security(("bearer" = [])),
    request_body = Subscribe,
    responses((status = 201, body = Subscription), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Subscribe>,
) -> MessageResult<(StatusCode, Json<Subscription>)> {
    check_endpoint(
        &body.endpoint,
        state.config.notifications.allow_insecure_push_endpoints,
    )?;
    ReceiverKeys::parse(&body.keys.p256dh, &body.keys.auth)
        .map_err(|message| ApiError::invalid_field("keys", message))?;
    let existing = state.deliveries.subscriptions(caller.user_id).await?;
    if existing.len() >= MAX_SUBSCRIPTIONS && !existing.iter().any(|s| s.endpoint == body.endpoint) {
        return Err(
            ApiError::invalid_field("endpoint", format!("at most {MAX_SUBSCRIPTIONS} browsers")).into(),
        );
    }
    let row = state
        .deliveries
        .create_subscription(&NewSubscription {
            id: new_id(),
            user_id: caller.user_id,
            endpoint: body.endpoint,
            p256dh: body.keys.p256dh,
            auth: body.keys.auth,
            now: now_ms(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(row.into_subscription())))
}

/// Remove one of the caller's browsers.
#[utoipa::path(delete, path = "/api/v1/users/me/push-subscriptions/{id}", operation_id = "delete_push_subscription", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "subscription id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id, subscription_id = %id))]
async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> MessageResult<StatusCode> {
    if !state.deliveries.delete_subscription(id, caller.user_id).await? {
        return Err(MessageError::NotFound("subscription"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The VAPID public key browsers subscribe with.
#[utoipa::path(get, path = "/api/v1/push/vapid-public-key", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = VapidKey), (status = 401, body = ErrorBody)))]
async fn vapid_public_key(State(state): State<AppState>, _caller: Caller) -> Json<VapidKey> {
    Json(VapidKey {
        public_key: state.vapid.public_key(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_endpoints_are_accepted_unless_configured_otherwise() {
        assert!(check_endpoint("https://fcm.googleapis.com/fcm/send/abc", false).is_ok());
        for refused in [
            "http://push.example.com/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.1/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://localhost:8080/x",
            "ftp://push.example.com/x",
            "not a url",
        ] {
            assert!(check_endpoint(refused, false).is_err(), "{refused}");
        }
        assert!(check_endpoint("http://127.0.0.1:9000/push", true).is_ok());
        assert!(check_endpoint("ftp://127.0.0.1/x", true).is_err());
    }
}
