//! The server's ES256 signing key and its JWK Set (RFC 7517, RFC 7518 §6.2).

use anyhow::Context;
use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{json, Map, Value};

use crate::faults::{Fault, Faults};
use crate::jwt;

/// Public coordinates of a P-256 key, base64url (RFC 7518 §6.2.1).
#[derive(Debug, Clone)]
struct Point {
    x: String,
    y: String,
}

/// A freshly generated P-256 key pair, alive as long as the server.
pub struct ServerKey {
    /// RFC 7638 JWK thumbprint of the public key.
    pub kid: String,
    point: Point,
    /// Private scalar, only ever published through the `jwks-private-material` fault.
    d: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// A second public key, published under the same `kid` by `jwks-duplicate-kid`.
    decoy: Point,
}

fn generate_pair() -> anyhow::Result<(EcdsaKeyPair, Vec<u8>)> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("cannot generate an ES256 key"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("cannot load the generated ES256 key"))?;
    Ok((pair, pkcs8.as_ref().to_vec()))
}

/// Splits an uncompressed SEC1 point `04 || x || y` into its coordinates.
fn point(pair: &EcdsaKeyPair) -> anyhow::Result<Point> {
    let public = pair.public_key().as_ref();
    anyhow::ensure!(public.len() == 65 && public[0] == 4, "unexpected P-256 public key encoding");
    Ok(Point { x: URL_SAFE_NO_PAD.encode(&public[1..33]), y: URL_SAFE_NO_PAD.encode(&public[33..]) })
}

/// RFC 7638 §3.2: SHA-256 over the required members in lexicographic order, no whitespace.
fn thumbprint(p: &Point) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, p.x, p.y);
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()))
}

impl ServerKey {
    /// Generates the signing key with aws-lc-rs.
    pub fn generate() -> anyhow::Result<ServerKey> {
        let (pair, pkcs8) = generate_pair()?;
        let p = point(&pair)?;
        let d = pair.private_key().as_be_bytes().map_err(|_| anyhow::anyhow!("cannot export private scalar"))?;
        let decoding = DecodingKey::from_ec_components(&p.x, &p.y).context("public key")?;
        let decoy = point(&generate_pair()?.0)?;
        Ok(ServerKey {
            kid: thumbprint(&p),
            d: URL_SAFE_NO_PAD.encode(d.as_ref()),
            encoding: EncodingKey::from_ec_der(&pkcs8),
            decoding,
            point: p,
            decoy,
        })
    }

    /// Signs `claims` as an ES256 JWS with the given `typ` header (RFC 7515 §4.1).
    pub fn sign(&self, typ: &str, kid: &str, claims: &Map<String, Value>) -> Option<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_string());
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding).ok()
    }

    /// True when `token` carries a valid ES256 signature by this key. The header
    /// `alg` must be ES256 (RFC 8725 §3.1: never let the token choose the algorithm).
    pub fn verifies(&self, token: &str) -> bool {
        jwt::verify_signature(token, &self.decoding, Algorithm::ES256)
    }

    /// The JWK Set document: the public key only, `kid` = thumbprint, `alg` and `use`.
    pub fn jwks(&self, faults: &Faults) -> Value {
        // RFC 7517 §4.4: `alg` states the algorithm the key is used with.
        let alg = if faults.has(Fault::TokenAlgHeaderMismatch) { "RS256" } else { "ES256" };
        let jwk = |p: &Point| json!({ "kty": "EC", "crv": "P-256", "x": p.x, "y": p.y, "kid": self.kid, "alg": alg, "use": "sig" });
        let mut main = jwk(&self.point);
        // RFC 7517 §9.2: a public JWK Set never carries private key members.
        if faults.has(Fault::JwksPrivateMaterial) {
            main["d"] = Value::String(self.d.clone());
        }
        let mut keys = vec![main];
        // RFC 7517 §4.5: `kid` values distinguish keys within a set.
        if faults.has(Fault::JwksDuplicateKid) {
            keys.push(jwk(&self.decoy));
        }
        json!({ "keys": keys })
    }
}
