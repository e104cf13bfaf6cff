//! External issuers whose JWTs are accepted as `subject_token` / `actor_token`
//! (RFC 8693 §2.1), and partner organizations whose JWTs are accepted as grants
//! (RFC 7523 §2.1): their JWK Sets are fetched over HTTP and cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::config::{TrustedIssuer, TrustedPartner};
use crate::jwt;

/// A JWK Set is fetched again for an unknown `kid` (that is how a rotated key is picked up),
/// but not again within this long after such a refetch, so unknown `kid`s cannot make the
/// server hammer an issuer.
const REFRESH_AFTER: Duration = Duration::from_secs(5);

struct Cached {
    keys: Vec<Jwk>,
    /// When this set was fetched because of an unknown `kid`; `None` for a first fetch.
    refreshed: Option<Instant>,
}

pub struct TrustedKeys {
    issuers: Vec<TrustedIssuer>,
    partners: Vec<TrustedPartner>,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Cached>>,
}

impl TrustedKeys {
    pub fn new(issuers: Vec<TrustedIssuer>, partners: Vec<TrustedPartner>) -> anyhow::Result<TrustedKeys> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
        Ok(TrustedKeys { issuers, partners, http, cache: Mutex::new(HashMap::new()) })
    }

    /// The trusted issuer whose identifier is exactly `iss` (RFC 7519 §4.1.1, case-sensitive).
    pub fn issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|t| t.issuer == iss)
    }

    /// The trusted partner whose identifier is exactly `iss` (RFC 7523 §3 item 1: Simple
    /// String Comparison).
    pub fn partner(&self, iss: &str) -> Option<&TrustedPartner> {
        self.partners.iter().find(|p| p.issuer == iss)
    }

    /// Verifies the signature of `token` (header already peeked) with a key from the
    /// issuer's JWK Set. Only ES256 and RS256 are accepted (RFC 8725 §3.1).
    pub async fn verify(&self, issuer: &TrustedIssuer, token: &str, header: &Map<String, Value>) -> bool {
        self.verify_at(&issuer.jwks_uri, token, header, true).await
    }

    /// [`TrustedKeys::verify`] against the JWK Set at `jwks_uri`; with `refresh`, a `kid`
    /// the cached set lacks makes it fetch the set again (rate-limited).
    pub async fn verify_at(&self, jwks_uri: &str, token: &str, header: &Map<String, Value>, refresh: bool) -> bool {
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("ES256") => Algorithm::ES256,
            Some("RS256") => Algorithm::RS256,
            _ => return false,
        };
        let kid = header.get("kid").and_then(Value::as_str);
        let attempts = if refresh { 2 } else { 1 };
        for attempt in 0..attempts {
            let keys = match self.keys(jwks_uri, attempt > 0).await {
                Some(keys) => keys,
                None => return false,
            };
            let candidates: Vec<&Jwk> = keys
                .iter()
                .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
                .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
                .collect();
            if !candidates.is_empty() {
                return candidates
                    .into_iter()
                    .any(|jwk| DecodingKey::from_jwk(jwk).is_ok_and(|key| jwt::verify_signature(token, &key, alg)));
            }
        }
        false
    }

    /// Only for the `jwt-bearer-accept-hs256-public-key` fault: the algorithm confusion of
    /// RFC 8725 §2.1, an HS256 MAC "verified" with the PEM text of a public key in the set.
    pub async fn verify_hs256_with_public_key(&self, jwks_uri: &str, token: &str) -> bool {
        let Some(keys) = self.keys(jwks_uri, false).await else { return false };
        keys.iter()
            .filter_map(public_pem)
            .any(|pem| jwt::verify_signature(token, &DecodingKey::from_secret(pem.as_bytes()), Algorithm::HS256))
    }

    /// The cached key set, fetched when absent or (for `refresh`) when not refreshed lately.
    async fn keys(&self, jwks_uri: &str, refresh: bool) -> Option<Vec<Jwk>> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = cache.get(jwks_uri) {
                if !refresh {
                    return Some(cached.keys.clone());
                }
                if cached.refreshed.is_some_and(|at| at.elapsed() < REFRESH_AFTER) {
                    return None;
                }
            }
        }
        let keys = self.fetch(jwks_uri).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(jwks_uri.to_string(), Cached { keys: keys.clone(), refreshed: refresh.then(Instant::now) });
        Some(keys)
    }

    /// GET the JWK Set (RFC 7517 §5); keys this library cannot read are skipped.
    async fn fetch(&self, jwks_uri: &str) -> Option<Vec<Jwk>> {
        let response = self.http.get(jwks_uri).send().await.ok()?.error_for_status().ok()?;
        let set: Value = response.json().await.ok()?;
        let keys = set.get("keys")?.as_array()?;
        Some(keys.iter().filter_map(|k| serde_json::from_value(k.clone()).ok()).collect())
    }
}

/// The SubjectPublicKeyInfo PEM (RFC 5480 §2, 64-character lines, final newline) of a P-256
/// JWK: what a confused verifier would use as an HMAC secret.
fn public_pem(jwk: &Jwk) -> Option<String> {
    const PREFIX: [u8; 27] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
        0x07, 0x03, 0x42, 0x00, 0x04,
    ];
    let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm else { return None };
    let mut der = PREFIX.to_vec();
    der.extend(URL_SAFE_NO_PAD.decode(&ec.x).ok()?);
    der.extend(URL_SAFE_NO_PAD.decode(&ec.y).ok()?);
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    Some(format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n")))
}
