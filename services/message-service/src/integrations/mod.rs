//! Integrations: bots and API tokens, incoming webhooks, the Slack-compatible Web API and
//! outgoing events, so that Slack apps and SDKs work against Echo by changing one base URL.
//!
//! - [`auth`]: API tokens (`xoxb-`, `xoxp-`) as credentials, and why they are checked here;
//!   [`scopes`]: what each token may do;
//! - [`http`]: the Echo API of bots, personal tokens and webhooks; [`webhooks`]: `POST /hooks/…`;
//! - [`slack`]: the Web API under `/slack/api/{method}`;
//! - [`events`]: the Events API, fed from the bus through a consumer group, signed and retried;
//! - [`import`]: importing a Slack export (`echo-server import slack`);
//! - [`store`]: the storage trait, with its SQL written once for both backends in `sql`.

pub mod auth;
pub mod events;
pub mod http;
pub mod import;
pub mod scopes;
pub mod slack;
mod sql;
pub mod store;
pub mod webhooks;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(http::router())
        .merge(webhooks::router())
        .merge(slack::router())
}
