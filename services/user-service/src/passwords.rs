//! Argon2id password hashing, always off the async runtime: a hash costs tens of milliseconds of
//! CPU, which would stall every other request on a runtime worker.

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use echo_domain::Password;

use crate::config::Argon2Settings;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A real hash of a random password, verified against when the email is unknown, so that an
    /// unknown email and a wrong password take the same time and give the same answer.
    decoy: String,
}

impl Passwords {
    pub fn new(settings: Argon2Settings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let decoy_password = uuid::Uuid::new_v4().to_string();
        let decoy = hash_with(&params, &decoy_password)?;
        Ok(Self { params, decoy })
    }

    /// The PHC string of a new password's hash.
    pub async fn hash(&self, password: Password) -> anyhow::Result<String> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, password.expose()))
            .await
            .context("hashing task failed")?
    }

    /// Whether `password` matches `hash`; with `None`, checks against the decoy (and fails).
    pub async fn verify(&self, password: Password, hash: Option<String>) -> anyhow::Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.clone());
        let matches = tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            Ok::<_, anyhow::Error>(
                Argon2::default()
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .context("verification task failed")??;
        Ok(known && matches)
    }
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}
