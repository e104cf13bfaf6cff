//! The home issuer: the harness's own issuer of user tokens, on a loopback port.
//!
//! Delegation needs a user's token as the `subject_token` (RFC 8693 §2.1), and a browser login
//! cannot be scripted against every server. So the harness is the user's identity provider:
//! it publishes metadata and a JWKS, and mints signed user tokens that the target is
//! configured to trust. That also makes the target validate a foreign JWT, which is itself
//! under test.

use crate::issuer_server::IssuerServer;
use crate::jose::{now, random_id, SigningKey};
use serde_json::{json, Value};
use std::net::SocketAddr;

pub struct HomeIssuer {
    pub issuer: String,
    pub addr: SocketAddr,
    key: SigningKey,
    server: IssuerServer,
}

impl std::fmt::Debug for HomeIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HomeIssuer").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl HomeIssuer {
    /// Binds `listen` (loopback) and serves metadata and JWKS until dropped.
    pub async fn start(listen: &str) -> anyhow::Result<Self> {
        let key = SigningKey::generate()?;
        let server = IssuerServer::start(listen, "home issuer", key.jwks()).await?;
        Ok(HomeIssuer { issuer: server.issuer.clone(), addr: server.addr, key, server })
    }

    pub fn jwks_uri(&self) -> String {
        self.server.jwks_uri()
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Mints a user token for `audience` (the target's issuer): iss, sub, aud, scope, iat,
    /// a ten-minute exp and a jti. `overrides` is merged in last; a `null` member removes
    /// the claim, so a check can build an expired token, or one without `exp`.
    pub fn mint(&self, subject: &str, scope: &str, audience: &str, overrides: Value) -> anyhow::Result<String> {
        let iat = now();
        let mut claims = json!({
            "iss": self.issuer, "sub": subject, "aud": audience, "scope": scope,
            "iat": iat, "exp": iat + 600, "jti": random_id(),
        });
        merge(&mut claims, overrides);
        self.key.sign(Some("JWT"), &claims)
    }
}

/// Shallow merge: members of `overrides` replace those of `base`; `null` deletes.
pub fn merge(base: &mut Value, overrides: Value) {
    if let (Some(b), Value::Object(o)) = (base.as_object_mut(), overrides) {
        for (k, v) in o {
            if v.is_null() {
                b.remove(&k);
            } else {
                b.insert(k, v);
            }
        }
    }
}
