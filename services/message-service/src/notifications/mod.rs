//! Notifications: who is told about a new message, how, and why (or why not).
//!
//! They are produced asynchronously: [`consumer::Notifier`] reads `message.created` from the event
//! bus (and the presence and connection events it needs to judge `@here` and live delivery),
//! decides for each person the message addresses with the pure rules of [`rules`], and stores in
//! one transaction the decisions (what `explain` answers from), the new inbox entries and their
//! `notification` events for the person's WebSocket connections (through the outbox). A message
//! is decided once: redelivery and replay find it decided and change nothing.
//!
//! - [`rules`]: the rule table (mentions, DMs, followed threads, keywords; the author, people
//!   who cannot see the message, mutes, levels, do-not-disturb) as pure functions;
//! - [`dnd`]: do-not-disturb schedules in the user's time zone;
//! - [`store`]: the storage trait, with its SQL written once for both backends in `sql`;
//! - [`preferences`]: the HTTP API of preferences, per-channel settings and follows;
//!   [`threads`]: the followed threads with their unread replies (the Threads view);
//! - [`inbox`]: the HTTP API of the inbox and explain;
//! - [`webpush`]: Web Push encryption and VAPID; [`delivery`]: the sender that pushes
//!   notifications to browsers of people without a live connection, with retries, from the
//!   delivery log kept by [`delivery_store`]; [`push_http`]: the subscriptions API;
//! - [`email`]: the sender of emails for mentions and DMs left unread, and [`unsubscribe`]: the
//!   signed links that turn them off.

pub mod consumer;
pub mod delivery;
mod delivery_sql;
pub mod delivery_store;
pub mod dnd;
pub mod email;
pub mod inbox;
pub mod preferences;
pub mod push_http;
pub mod rules;
mod sql;
pub mod store;
pub mod threads;
pub mod unsubscribe;
pub mod webpush;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(preferences::router())
        .merge(inbox::router())
        .merge(push_http::router())
        .merge(unsubscribe::router())
        .merge(threads::router())
}

/// What a notification is about, strongest first: a person addressed by several rules gets one
/// notification, of the strongest kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Mention,
    Dm,
    Keyword,
    ThreadReply,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Mention => "mention",
            Kind::Dm => "dm",
            Kind::Keyword => "keyword",
            Kind::ThreadReply => "thread_reply",
        }
    }

    pub fn from_db(raw: &str) -> Option<Self> {
        Some(match raw {
            "mention" => Kind::Mention,
            "dm" => Kind::Dm,
            "keyword" => Kind::Keyword,
            "thread_reply" => Kind::ThreadReply,
            _ => return None,
        })
    }
}

/// How much a person wants to hear: `all` (every kind), `mentions` (mentions, DMs and keywords,
/// not replies in followed threads), `nothing`. A channel may say `default`: the person's own level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Default,
    All,
    Mentions,
    Nothing,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Default => "default",
            Level::All => "all",
            Level::Mentions => "mentions",
            Level::Nothing => "nothing",
        }
    }

    /// Unknown stored values read as `default`, which defers to the person's own level.
    pub fn from_db(raw: &str) -> Self {
        match raw {
            "all" => Level::All,
            "mentions" => Level::Mentions,
            "nothing" => Level::Nothing,
            _ => Level::Default,
        }
    }

    /// Whether this level lets a notification of `kind` through.
    pub fn allows(self, kind: Kind) -> bool {
        match self {
            Level::Default | Level::All => true,
            Level::Mentions => kind != Kind::ThreadReply,
            Level::Nothing => false,
        }
    }
}
