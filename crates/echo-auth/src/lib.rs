//! Access tokens as every Echo service sees them.
//!
//! user-service signs short-lived EdDSA access tokens ([`keys::SigningKey`]) and publishes the public
//! halves as a JWKS; every other component verifies with a [`Verifier`] that caches that JWKS,
//! refreshes it on an unknown `kid`, accepts only `EdDSA` (so `none` and HS256-with-the-public-key
//! confusion fail), checks `iss`/`aud`/`exp`, and asks [`Revocations`] whether the token's session
//! was logged out, so a logout takes effect at once rather than at expiry.
//!
//! - [`claims`]: what a token says.
//! - [`keys`]: Ed25519 key pairs, their JWK form, and [`KeySource`]s a verifier loads them from.
//! - [`verify`]: the [`Verifier`].
//! - [`revocation`]: revoked sessions, in memory (one process) or in Redis (replicas).
//! - [`caller`]: the axum extractor that turns a bearer token into a [`Caller`].

pub mod caller;
pub mod claims;
pub mod keys;
pub mod revocation;
pub mod verify;

pub use caller::{Caller, HasVerifier};
pub use claims::{AuthSettings, Claims};
pub use keys::{Jwks, KeySource, SigningKey};
pub use revocation::{MemoryRevocations, RedisRevocations, Revocations};
pub use verify::{AuthError, Verifier};
