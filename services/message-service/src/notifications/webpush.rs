//! Web Push messages: the payload encrypted for one browser (RFC 8291, `aes128gcm` content coding
//! of RFC 8188, one record) and the VAPID authorization of the sender (RFC 8292), with aws-lc-rs
//! (already in the tree for token signing) for ECDH P-256, HKDF-SHA-256, AES-128-GCM and ES256.

use anyhow::{Context, anyhow, bail};
use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Prk, Salt};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

/// The record size announced in the header; the whole payload fits one record.
const RECORD_SIZE: u32 = 4096;
/// Push services accept at least 4096 bytes of body; header and tag take 103 of them.
pub const MAX_PLAINTEXT: usize = 3993;

/// A browser's subscription keys, as `PushSubscription.getKey()` gives them (base64url).
#[derive(Debug, Clone)]
pub struct ReceiverKeys {
    /// The browser's P-256 public key, uncompressed (65 bytes).
    pub p256dh: Vec<u8>,
    /// The 16-byte authentication secret.
    pub auth: Vec<u8>,
}

impl ReceiverKeys {
    /// Parses the base64url keys of a subscription, checking their sizes.
    pub fn parse(p256dh: &str, auth: &str) -> Result<Self, &'static str> {
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('='));
        let p256dh = decode(p256dh).map_err(|_| "keys.p256dh is not base64url")?;
        let auth = decode(auth).map_err(|_| "keys.auth is not base64url")?;
        if p256dh.len() != 65 || p256dh[0] != 4 {
            return Err("keys.p256dh must be an uncompressed P-256 point");
        }
        if auth.len() != 16 {
            return Err("keys.auth must be 16 bytes");
        }
        Ok(Self { p256dh, auth })
    }
}

/// HKDF output of a given length.
struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &Prk, info: &[u8], len: usize) -> anyhow::Result<Vec<u8>> {
    let mut out = vec![0; len];
    prk.expand(&[info], Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| anyhow!("HKDF expand"))?;
    Ok(out)
}

/// Encrypts `plaintext` for a browser with a fresh sender key and salt.
pub fn encrypt(plaintext: &[u8], to: &ReceiverKeys) -> anyhow::Result<Vec<u8>> {
    let sender = PrivateKey::generate(&ECDH_P256).map_err(|_| anyhow!("generating an ECDH key"))?;
    let mut salt = [0_u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| anyhow!("random salt"))?;
    encrypt_with(plaintext, to, &sender, salt)
}

/// Encrypts with a given sender key and salt (fixed only in tests, to check RFC 8291's example).
pub fn encrypt_with(
    plaintext: &[u8],
    to: &ReceiverKeys,
    sender: &PrivateKey,
    salt: [u8; 16],
) -> anyhow::Result<Vec<u8>> {
    if plaintext.len() > MAX_PLAINTEXT {
        bail!("a push payload of {} bytes is too large", plaintext.len());
    }
    let sender_public = sender
        .compute_public_key()
        .map_err(|_| anyhow!("sender public key"))?;
    let sender_public = sender_public.as_ref();
    let peer = UnparsedPublicKey::new(&ECDH_P256, to.p256dh.as_slice());
    let ecdh_secret = agreement::agree(sender, peer, anyhow!("ECDH with the browser's key"), |secret| {
        Ok(secret.to_vec())
    })?;

    // RFC 8291 §3.4: mix the auth secret and both public keys into the input keying material.
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(&to.p256dh);
    key_info.extend_from_slice(sender_public);
    let prk_key = Salt::new(HKDF_SHA256, &to.auth).extract(&ecdh_secret);
    let ikm = expand(&prk_key, &key_info, 32)?;
    // RFC 8188 §2.2: the content encryption key and nonce, from the salt.
    let prk = Salt::new(HKDF_SHA256, &salt).extract(&ikm);
    let cek = expand(&prk, b"Content-Encoding: aes128gcm\0", 16)?;
    let nonce = expand(&prk, b"Content-Encoding: nonce\0", 12)?;

    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).map_err(|_| anyhow!("AES key"))?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| anyhow!("nonce"))?;
    let mut record = plaintext.to_vec();
    // The padding delimiter of the last (and only) record.
    record.push(2);
    key.seal_in_place_append_tag(nonce, Aad::empty(), &mut record)
        .map_err(|_| anyhow!("AES-GCM seal"))?;

    let mut body = Vec::with_capacity(16 + 4 + 1 + sender_public.len() + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(sender_public.len() as u8);
    body.extend_from_slice(sender_public);
    body.extend_from_slice(&record);
    Ok(body)
}

/// This deployment's VAPID identity: the key push services check our requests against.
pub struct Vapid {
    key: EcdsaKeyPair,
    /// `mailto:` or `https:` contact for push services.
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key())
            .field("subject", &self.subject)
            .finish()
    }
}

impl Vapid {
    /// A new random key, as PKCS#8 DER in base64url (to store and share between replicas).
    pub fn generate_pkcs8() -> anyhow::Result<String> {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| anyhow!("generating a VAPID key"))?;
        let der = key.to_pkcs8v1().map_err(|_| anyhow!("encoding the VAPID key"))?;
        Ok(URL_SAFE_NO_PAD.encode(der.as_ref()))
    }

    /// From a PKCS#8 DER key in base64url.
    pub fn from_pkcs8(encoded: &str, subject: &str) -> anyhow::Result<Self> {
        let der = URL_SAFE_NO_PAD
            .decode(encoded.trim())
            .context("the VAPID key is not base64url")?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|e| anyhow!("the VAPID key is not a P-256 PKCS#8 key: {e}"))?;
        Ok(Self {
            key,
            subject: subject.to_owned(),
        })
    }

    /// The public key browsers subscribe with (`applicationServerKey`), base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.public_key().as_ref())
    }

    /// The raw private scalar, for tests that check signatures with another library.
    pub fn private_scalar(&self) -> anyhow::Result<Vec<u8>> {
        let bin = self
            .key
            .private_key()
            .as_be_bytes()
            .map_err(|_| anyhow!("private key bytes"))?;
        Ok(bin.as_ref().to_vec())
    }

    /// The `Authorization` header for a push to `endpoint`, valid for 12 hours from `now_secs`.
    pub fn authorization(&self, endpoint: &str, now_secs: i64) -> anyhow::Result<String> {
        let url = url::Url::parse(endpoint).context("the push endpoint is not a URL")?;
        let audience = url.origin().ascii_serialization();
        let header = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": "ES256"}).to_string());
        let claims = URL_SAFE_NO_PAD
            .encode(json!({"aud": audience, "exp": now_secs + 12 * 3600, "sub": self.subject}).to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| anyhow!("signing the VAPID token"))?;
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            URL_SAFE_NO_PAD.encode(signature.as_ref()),
            self.public_key()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// RFC 8291, Appendix A.
    #[test]
    fn encrypts_the_example_of_rfc_8291_exactly() {
        let sender =
            PrivateKey::from_private_key(&ECDH_P256, &b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
                .unwrap();
        let to = ReceiverKeys::parse(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
        )
        .unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(b"When I grow up, I want to be a watermelon", &to, &sender, salt).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn subscription_keys_of_the_wrong_size_are_refused() {
        assert!(ReceiverKeys::parse("AAAA", "BTBZMqHH6r4Tts7J_aSIgg").is_err());
        assert!(
            ReceiverKeys::parse(
                "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                "AAAA"
            )
            .is_err()
        );
    }

    #[test]
    fn the_vapid_header_names_the_endpoints_origin_and_the_public_key() {
        let vapid = Vapid::from_pkcs8(&Vapid::generate_pkcs8().unwrap(), "mailto:ops@example.test").unwrap();
        let header = vapid
            .authorization("https://push.example.test/send/abc?x=1", 1_700_000_000)
            .unwrap();
        let (token, key) = header
            .strip_prefix("vapid t=")
            .unwrap()
            .split_once(", k=")
            .unwrap();
        assert_eq!(key, vapid.public_key());
        let claims: serde_json::Value =
            serde_json::from_slice(&b64(token.split('.').nth(1).unwrap())).unwrap();
        assert_eq!(claims["aud"], "https://push.example.test");
        assert_eq!(claims["exp"], 1_700_000_000 + 12 * 3600);
        assert_eq!(
            b64(token.split('.').nth(2).unwrap()).len(),
            64,
            "ES256 signatures are r||s"
        );
    }
}
