//! Verifying access tokens against a cached JWKS.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::{Mutex, RwLock};

use crate::keys::KeySource;
use crate::{AuthSettings, Claims, Revocations};

/// Why a token was refused. Every variant is a 401 to the client except `Unavailable`, which means
/// the verifier could not check (keys or revocations unreachable) and fails closed with a 503.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("token expired")]
    Expired,
    #[error("session revoked")]
    Revoked,
    #[error("cannot verify tokens right now: {0}")]
    Unavailable(String),
}

/// An unknown `kid` triggers a JWKS refresh at most this often, so garbage tokens cannot turn the
/// verifier into a request amplifier against user-service.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

pub struct Verifier {
    settings: AuthSettings,
    source: Box<dyn KeySource>,
    revocations: Arc<dyn Revocations>,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_refresh: Mutex<Option<Instant>>,
}

impl Verifier {
    pub fn new(settings: AuthSettings, source: impl KeySource, revocations: Arc<dyn Revocations>) -> Self {
        Self {
            settings,
            source: Box::new(source),
            revocations,
            keys: RwLock::new(HashMap::new()),
            last_refresh: Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Checks signature, algorithm, issuer, audience, expiry and revocation.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header.kid.ok_or_else(|| AuthError::Invalid("no kid".into()))?;
        let key = self.key(&kid).await?;

        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e.to_string()),
            })?
            .claims;

        match self.revocations.is_revoked(claims.sid).await {
            Ok(false) => Ok(claims),
            Ok(true) => Err(AuthError::Revoked),
            Err(e) => Err(AuthError::Unavailable(format!("{e:#}"))),
        }
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        self.refresh().await?;
        self.keys
            .read()
            .await
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::Invalid("unknown signing key".into()))
    }

    /// Reloads the JWKS, unless it was reloaded moments ago.
    async fn refresh(&self) -> Result<(), AuthError> {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return Ok(());
        }
        let jwks = self
            .source
            .fetch()
            .await
            .map_err(|e| AuthError::Unavailable(format!("{e:#}")))?;
        let keys = jwks
            .keys
            .into_iter()
            .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
            .filter_map(|k| DecodingKey::from_ed_components(&k.x).ok().map(|d| (k.kid, d)))
            .collect();
        *self.keys.write().await = keys;
        *last = Some(Instant::now());
        Ok(())
    }
}
