//! Signing keys and the tokens made with them.
//!
//! Access tokens are short-lived EdDSA JWTs; refresh tokens are 256 random bits, handed out once and
//! stored only as a SHA-256 hash, so a database leak yields no usable token.

use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use echo_auth::{AuthSettings, Claims, Jwks, SigningKey};
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::config::KeyConfig;
use crate::store::UserStore;

/// The keys in use: the first signs, all are published in the JWKS.
pub struct KeyRing {
    settings: AuthSettings,
    keys: RwLock<Vec<SigningKey>>,
    store: Arc<dyn UserStore>,
    configured: bool,
}

impl KeyRing {
    /// Loads the configured keys, or those kept in the database (creating one on first start).
    pub async fn load(
        settings: AuthSettings,
        configured: &[KeyConfig],
        store: Arc<dyn UserStore>,
    ) -> anyhow::Result<Self> {
        let ring = Self {
            settings,
            keys: RwLock::new(Vec::new()),
            store,
            configured: !configured.is_empty(),
        };
        if ring.configured {
            let keys = configured
                .iter()
                .map(|k| {
                    SigningKey::from_pem(&k.kid, k.private_key_pem.expose_secret())
                        .with_context(|| format!("signing key {}", k.kid))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            *ring.keys.write().await = keys;
        } else {
            ring.reload().await?;
            if ring.keys.read().await.is_empty() {
                ring.rotate().await?;
            }
        }
        Ok(ring)
    }

    /// Re-reads the keys from the database (another replica may have rotated them).
    pub async fn reload(&self) -> anyhow::Result<()> {
        if self.configured {
            return Ok(());
        }
        let retired_after = echo_domain::time::now_ms() - self.access_ttl_ms();
        let rows = self
            .store
            .signing_keys(retired_after)
            .await
            .context("loading signing keys")?;
        let keys = rows
            .iter()
            .map(|row| SigningKey::from_pkcs8(&row.kid, &row.pkcs8))
            .collect::<anyhow::Result<Vec<_>>>()?;
        *self.keys.write().await = keys;
        Ok(())
    }

    /// Makes a new key the signing key; older keys keep verifying until their tokens have expired.
    pub async fn rotate(&self) -> anyhow::Result<String> {
        anyhow::ensure!(
            !self.configured,
            "signing keys come from configuration; rotate them there"
        );
        let now = echo_domain::time::now_ms();
        let kid = format!("k{}", Uuid::now_v7().simple());
        let key = SigningKey::generate(&kid)?;
        self.store
            .add_signing_key(&kid, key.pkcs8_der(), now)
            .await
            .context("storing a signing key")?;
        self.store
            .retire_signing_keys_except(&kid, now)
            .await
            .context("retiring old signing keys")?;
        self.reload().await?;
        Ok(kid)
    }

    pub async fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.keys.read().await.iter().map(SigningKey::jwk).collect(),
        }
    }

    /// A signed access token for a session, and its lifetime in seconds.
    pub async fn access_token(&self, user_id: Uuid, session_id: Uuid) -> anyhow::Result<(String, u64)> {
        let now = chrono::Utc::now().timestamp();
        let ttl = self.settings.access_ttl_secs;
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            iat: now,
            exp: now + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
        };
        let keys = self.keys.read().await;
        let key = keys.first().context("no signing key")?;
        Ok((key.sign(&claims)?, ttl))
    }

    pub fn access_ttl_ms(&self) -> i64 {
        i64::try_from(self.settings.access_ttl_secs)
            .unwrap_or(i64::MAX / 2_000)
            .saturating_mul(1000)
    }
}

/// A new refresh token and the hash to store.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("ert_{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
