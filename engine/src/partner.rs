//! The partner organization: a second issuer, in another trust domain, on a loopback port.
//!
//! Federation lets an agent or user of one organization reach another organization's
//! resources: the partner signs an RFC 7523 assertion about its own subject, and the target
//! exchanges it for an access token of its own (the jwt-bearer grant, RFC 7523 §2.1). The
//! target trusts the partner by its issuer identifier and the JWK Set at its `jwks_uri`
//! (RFC 7523 §5: both agreed out of band). So the partner is an issuer like the home issuer
//! — the same small server — that also rotates keys: it holds a current and a next key, and
//! [`Partner::rotate`] publishes the next one and signs with it from then on, which a target
//! that caches the JWK Set must notice (by `kid`) and pick up.

use crate::home_issuer::merge;
use crate::issuer_server::IssuerServer;
use crate::jose::{now, random_id, SigningKey};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

/// What [`Partner::rotate`] does with the key it stops signing with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldKey {
    /// Keep publishing it for a grace period, so assertions already signed still verify
    /// (until [`Partner::drop_old_key`]).
    Keep,
    /// Withdraw it at once.
    Drop,
}

/// The partner's keys: `current` signs; `next` is what a rotation moves to; `old` is the key
/// before `current`, still published during its grace period.
struct KeyRing {
    current: SigningKey,
    next: SigningKey,
    old: Option<SigningKey>,
}

impl KeyRing {
    /// The JWK Set to publish: the current key, then the old one while it is kept. The next
    /// key is not published before the rotation, so a target has to refetch to learn it.
    fn jwks(&self) -> Value {
        let keys: Vec<&Value> = std::iter::once(&self.current).chain(&self.old).map(SigningKey::public_jwk).collect();
        json!({ "keys": keys })
    }
}

pub struct Partner {
    pub issuer: String,
    pub addr: SocketAddr,
    server: IssuerServer,
    keys: Mutex<KeyRing>,
}

impl std::fmt::Debug for Partner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partner").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl Partner {
    /// Binds `listen` (loopback) and serves metadata and the JWK Set until dropped.
    pub async fn start(listen: &str) -> anyhow::Result<Self> {
        let ring = KeyRing { current: SigningKey::generate()?, next: SigningKey::generate()?, old: None };
        let server = IssuerServer::start(listen, "partner issuer", ring.jwks()).await?;
        Ok(Partner { issuer: server.issuer.clone(), addr: server.addr, server, keys: Mutex::new(ring) })
    }

    pub fn jwks_uri(&self) -> String {
        self.server.jwks_uri()
    }

    fn ring(&self) -> MutexGuard<'_, KeyRing> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key it signs with now.
    pub fn key(&self) -> SigningKey {
        self.ring().current.clone()
    }

    /// The JWK Set it publishes now.
    pub fn published(&self) -> Value {
        self.server.published()
    }

    /// RFC 7523 §3 claims for an assertion about `subject`, meant for `audience` (the target's
    /// issuer or token endpoint, item 3): iss, sub, aud, iat, a five-minute exp (item 4) and a
    /// fresh jti (item 7). `overrides` is merged in last; a `null` member removes the claim.
    pub fn claims(&self, subject: &str, audience: &str, overrides: Value) -> Value {
        let iat = now();
        let mut claims = json!({
            "iss": self.issuer, "sub": subject, "aud": audience,
            "iat": iat, "exp": iat + 300, "jti": random_id(),
        });
        merge(&mut claims, overrides);
        claims
    }

    /// Signs `claims` with the current key (ES256, `typ` JWT, the key's `kid`).
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        self.ring().current.sign(Some("JWT"), claims)
    }

    /// A signed assertion: [`Partner::claims`] then [`Partner::sign`].
    pub fn assertion(&self, subject: &str, audience: &str, overrides: Value) -> anyhow::Result<String> {
        self.sign(&self.claims(subject, audience, overrides))
    }

    /// Rotates: the next key becomes current and is published, a new next key is made, and
    /// the key signed with until now is kept published for a grace period or dropped. Returns
    /// the `kid` now signed with.
    pub fn rotate(&self, old: OldKey) -> anyhow::Result<String> {
        let fresh = SigningKey::generate()?;
        let mut guard = self.ring();
        let ring = &mut *guard;
        let next = std::mem::replace(&mut ring.next, fresh);
        let previous = std::mem::replace(&mut ring.current, next);
        ring.old = (old == OldKey::Keep).then_some(previous);
        self.server.publish(ring.jwks());
        Ok(ring.current.kid().to_string())
    }

    /// Ends the grace period: the old key is no longer published.
    pub fn drop_old_key(&self) {
        let mut ring = self.ring();
        ring.old = None;
        self.server.publish(ring.jwks());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::verify_with_jwks;

    fn kids(jwks: &Value) -> Vec<String> {
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect()
    }

    #[tokio::test]
    async fn rotation_publishes_the_next_key_and_keeps_the_old_one_for_a_grace_period() {
        let p = Partner::start("127.0.0.1:0").await.unwrap();
        let first = p.key().kid().to_string();
        let before = p.assertion("partner-agent-7", "https://as.example", json!({})).unwrap();
        assert_eq!(kids(&p.published()), vec![first.clone()]);
        let served: Value = reqwest::get(p.jwks_uri()).await.unwrap().json().await.unwrap();
        assert_eq!(served, p.published());

        let second = p.rotate(OldKey::Keep).unwrap();
        assert_ne!(second, first);
        assert_eq!(kids(&p.published()), vec![second.clone(), first.clone()]);
        let after = p.assertion("partner-agent-7", "https://as.example", json!({})).unwrap();
        let served: Value = reqwest::get(p.jwks_uri()).await.unwrap().json().await.unwrap();
        assert_eq!(verify_with_jwks(&after, &served).unwrap().header_str("kid"), Some(second.as_str()));
        assert!(verify_with_jwks(&before, &served).is_ok(), "the old key is still published");

        p.drop_old_key();
        assert!(verify_with_jwks(&before, &p.published()).is_err());
        let third = p.rotate(OldKey::Drop).unwrap();
        assert_eq!(kids(&p.published()), vec![third]);
    }

    #[test]
    fn claims_carry_rfc7523_members_and_overrides() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let p = rt.block_on(Partner::start("127.0.0.1:0")).unwrap();
        let c = p.claims("partner-agent-7", "https://as.example", json!({"exp": null, "aud": "x"}));
        assert_eq!(c["iss"], p.issuer.as_str());
        assert_eq!((c["sub"].as_str(), c["aud"].as_str()), (Some("partner-agent-7"), Some("x")));
        assert!(c.get("exp").is_none() && c["iat"].is_i64() && c["jti"].is_string());
    }

    #[test]
    fn pem_encoding_matches_openssl() {
        let key = SigningKey::from_pem(include_str!("../../fixtures/keys/partner.key.pem")).unwrap();
        let encodings = crate::jose::public_key_encodings(key.public_jwk()).unwrap();
        assert_eq!(String::from_utf8(encodings[0].1.clone()).unwrap(), include_str!("../../fixtures/keys/partner.pub.pem"));
    }
}
