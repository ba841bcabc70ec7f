//! HTTP plumbing every Echo service shares, and no service's business rules.
//!
//! - [`error`]: [`ApiError`], the contract's error body `{"error": {code, message, fields?}}`.
//! - [`extract`]: JSON, query and path extractors whose rejections are contract errors naming the field.
//! - [`paging`]: the `limit`/`before`/`after` cursor parameters.
//! - [`ops`]: `/healthz`, `/readyz` and `/metrics`.
//! - [`middleware`]: request ids, tracing, per-route metrics, panics turned into 500s, security headers.
//! - [`telemetry`]: logging set-up.

pub mod error;
pub mod extract;
pub mod middleware;
pub mod ops;
pub mod paging;
pub mod telemetry;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use extract::{Json, Path, Query};
pub use paging::Paging;
