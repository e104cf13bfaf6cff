//! External issuers whose JWTs are accepted as `subject_token` / `actor_token`
//! (RFC 8693 §2.1): their JWK Sets are fetched over HTTP and cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::config::TrustedIssuer;
use crate::jwt;

/// A JWK Set is fetched again for an unknown `kid`, but not more often than this.
const REFRESH_AFTER: Duration = Duration::from_secs(5);

struct Cached {
    fetched: Instant,
    keys: Vec<Jwk>,
}

pub struct TrustedKeys {
    issuers: Vec<TrustedIssuer>,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Cached>>,
}

impl TrustedKeys {
    pub fn new(issuers: Vec<TrustedIssuer>) -> anyhow::Result<TrustedKeys> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
        Ok(TrustedKeys { issuers, http, cache: Mutex::new(HashMap::new()) })
    }

    /// The trusted issuer whose identifier is exactly `iss` (RFC 7519 §4.1.1, case-sensitive).
    pub fn issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|t| t.issuer == iss)
    }

    /// Verifies the signature of `token` (header already peeked) with a key from the
    /// issuer's JWK Set. Only ES256 and RS256 are accepted (RFC 8725 §3.1).
    pub async fn verify(&self, issuer: &TrustedIssuer, token: &str, header: &Map<String, Value>) -> bool {
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("ES256") => Algorithm::ES256,
            Some("RS256") => Algorithm::RS256,
            _ => return false,
        };
        let kid = header.get("kid").and_then(Value::as_str);
        for attempt in 0..2 {
            let keys = match self.keys(&issuer.jwks_uri, attempt > 0).await {
                Some(keys) => keys,
                None => return false,
            };
            let candidates: Vec<&Jwk> = keys
                .iter()
                .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
                .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
                .collect();
            if !candidates.is_empty() {
                return candidates.into_iter().any(|jwk| {
                    DecodingKey::from_jwk(jwk).is_ok_and(|key| jwt::verify_signature(token, &key, alg))
                });
            }
        }
        false
    }

    /// The cached key set, fetched when absent or (for `refresh`) when old enough.
    async fn keys(&self, jwks_uri: &str, refresh: bool) -> Option<Vec<Jwk>> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = cache.get(jwks_uri) {
                if !refresh {
                    return Some(cached.keys.clone());
                }
                if cached.fetched.elapsed() < REFRESH_AFTER {
                    return None;
                }
            }
        }
        let keys = self.fetch(jwks_uri).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(jwks_uri.to_string(), Cached { fetched: Instant::now(), keys: keys.clone() });
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
