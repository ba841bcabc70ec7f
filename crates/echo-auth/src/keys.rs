//! Ed25519 signing keys and their public JWK form.

use std::fmt;
use std::sync::Arc;

use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::Claims;

/// A private key that signs access tokens. `Debug` never shows the key material.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pkcs8: Arc<Vec<u8>>,
    public: Vec<u8>,
    encoding: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate(kid: impl Into<String>) -> anyhow::Result<Self> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).context("generating an Ed25519 key")?;
        Self::from_pkcs8(kid, doc.as_ref())
    }

    /// A key from its PKCS#8 DER bytes (as stored, or decoded from a PEM in configuration).
    pub fn from_pkcs8(kid: impl Into<String>, der: &[u8]) -> anyhow::Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(der).context("not an Ed25519 PKCS#8 key")?;
        Ok(Self {
            kid: kid.into(),
            pkcs8: Arc::new(der.to_vec()),
            public: pair.public_key().as_ref().to_vec(),
            encoding: EncodingKey::from_ed_der(der),
        })
    }

    /// A key from a PEM `PRIVATE KEY` block (`openssl genpkey -algorithm ed25519`).
    pub fn from_pem(kid: impl Into<String>, pem: &str) -> anyhow::Result<Self> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .context("PEM body is not base64")?;
        Self::from_pkcs8(kid, &der)
    }

    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            alg: "EdDSA".into(),
            key_use: "sig".into(),
            kid: self.kid.clone(),
            x: URL_SAFE_NO_PAD.encode(&self.public),
        }
    }

    /// Signs claims into a compact JWT carrying this key's `kid`.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).context("signing an access token")
    }
}

/// One public key in JWK form (RFC 8037 for Ed25519).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    #[serde(default)]
    pub alg: String,
    #[serde(rename = "use", default)]
    pub key_use: String,
    pub kid: String,
    pub x: String,
}

/// A JWKS document, as served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// Where a verifier gets the current public keys from.
pub trait KeySource: Send + Sync + 'static {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<Jwks>>;
}

/// Keys over HTTP from user-service's JWKS endpoint (scaled mode).
pub struct HttpKeySource {
    client: reqwest::Client,
    url: String,
}

impl HttpKeySource {
    pub fn new(url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            client,
            url: url.into(),
        }
    }
}

impl KeySource for HttpKeySource {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<Jwks>> {
        Box::pin(async move {
            let response = self
                .client
                .get(&self.url)
                .send()
                .await
                .with_context(|| format!("fetching {}", self.url))?;
            let response = response
                .error_for_status()
                .with_context(|| format!("fetching {}", self.url))?;
            response.json::<Jwks>().await.context("decoding the JWKS")
        })
    }
}

/// Keys from a function in the same process (embedded mode: user-service's key ring directly).
pub struct FnKeySource<F>(pub F);

impl<F> KeySource for FnKeySource<F>
where
    F: Fn() -> BoxFuture<'static, anyhow::Result<Jwks>> + Send + Sync + 'static,
{
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<Jwks>> {
        (self.0)()
    }
}
