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

/// Tokens whose signature was checked, remembered until they expire: a client sends the same
/// access token with every request, and checking an Ed25519 signature costs more than the rest of
/// a small request. Past this many, expired ones are dropped, then all of them.
const MAX_VERIFIED: usize = 10_000;

pub struct Verifier {
    settings: AuthSettings,
    source: Box<dyn KeySource>,
    revocations: Arc<dyn Revocations>,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_refresh: Mutex<Option<Instant>>,
    verified: std::sync::Mutex<HashMap<String, Claims>>,
}

impl Verifier {
    pub fn new(settings: AuthSettings, source: impl KeySource, revocations: Arc<dyn Revocations>) -> Self {
        Self {
            settings,
            source: Box::new(source),
            revocations,
            keys: RwLock::new(HashMap::new()),
            last_refresh: Mutex::new(None),
            verified: std::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Checks signature, algorithm, issuer, audience, expiry and revocation.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = match self.remembered(token) {
            Some(claims) => claims,
            None => {
                let claims = self.check_signature(token).await?;
                self.remember(token, &claims);
                claims
            }
        };
        // Revocation is checked every time: it can happen at any moment of a token's life.
        match self.revocations.is_revoked(claims.sid).await {
            Ok(false) => Ok(claims),
            Ok(true) => Err(AuthError::Revoked),
            Err(e) => Err(AuthError::Unavailable(format!("{e:#}"))),
        }
    }

    /// The claims of a token verified before that has not expired since.
    fn remembered(&self, token: &str) -> Option<Claims> {
        let verified = self.verified.lock().ok()?;
        verified
            .get(token)
            .filter(|claims| claims.exp > now_secs())
            .cloned()
    }

    fn remember(&self, token: &str, claims: &Claims) {
        let Ok(mut verified) = self.verified.lock() else {
            return;
        };
        if verified.len() >= MAX_VERIFIED {
            let now = now_secs();
            verified.retain(|_, claims| claims.exp > now);
            if verified.len() >= MAX_VERIFIED {
                verified.clear();
            }
        }
        verified.insert(token.to_owned(), claims.clone());
    }

    async fn check_signature(&self, token: &str) -> Result<Claims, AuthError> {
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
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e.to_string()),
            })
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

fn now_secs() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;
    use crate::keys::FnKeySource;
    use crate::{Jwks, MemoryRevocations, SigningKey};

    fn claims(settings: &AuthSettings) -> Claims {
        let now = now_secs();
        Claims {
            sub: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            iss: settings.issuer.clone(),
            aud: settings.audience.clone(),
            iat: now,
            exp: now + 60,
        }
    }

    #[tokio::test]
    async fn a_remembered_token_is_still_checked_for_revocation_and_a_forged_one_is_not_remembered() {
        // Arrange
        let settings = AuthSettings::default();
        let key = SigningKey::generate("k1").expect("key");
        let jwks = Jwks {
            keys: vec![key.jwk()],
        };
        let source = FnKeySource(move || {
            let jwks = jwks.clone();
            Box::pin(async move { Ok(jwks) }) as futures::future::BoxFuture<'static, _>
        });
        let revocations = Arc::new(MemoryRevocations::default());
        let verifier = Verifier::new(settings.clone(), source, revocations.clone());
        let claims = claims(&settings);
        let token = key.sign(&claims).expect("token");
        let (head, _) = token.rsplit_once('.').expect("a JWT");
        let forged = format!("{head}.{}", "A".repeat(86));
        // Act
        let first = verifier.verify(&token).await;
        let again = verifier.verify(&token).await;
        let forgery = verifier.verify(&forged).await;
        revocations
            .revoke(claims.sid, Duration::from_secs(60))
            .await
            .expect("revoke");
        let revoked = verifier.verify(&token).await;
        // Assert
        assert_eq!(first.expect("valid"), claims);
        assert_eq!(again.expect("remembered"), claims);
        assert!(matches!(forgery, Err(AuthError::Invalid(_))), "{forgery:?}");
        assert!(matches!(revoked, Err(AuthError::Revoked)), "{revoked:?}");
    }
}
