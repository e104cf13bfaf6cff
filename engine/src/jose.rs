//! JOSE helpers: decode a JWT without trusting it, verify one against a JWK Set, and hold the
//! ES256 keys the harness signs with (client assertions, user tokens, forged tokens).

use anyhow::{anyhow, bail, Context};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{json, Value};

/// A JWT split into its parts, nothing verified.
#[derive(Debug, Clone)]
pub struct DecodedJwt {
    pub header: Value,
    pub claims: Value,
}

impl DecodedJwt {
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }
}

/// Decodes a compact JWS without verifying it (RFC 7515 §7.1). Errors when the string is not
/// three base64url segments whose first two are JSON objects.
pub fn decode_unverified(token: &str) -> anyhow::Result<DecodedJwt> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        bail!("not a compact JWS: {} segments", parts.len());
    }
    let part = |i: usize, what: &str| -> anyhow::Result<Value> {
        let bytes = B64.decode(parts[i]).with_context(|| format!("{what} is not base64url"))?;
        let v: Value = serde_json::from_slice(&bytes).with_context(|| format!("{what} is not JSON"))?;
        if !v.is_object() {
            bail!("{what} is not a JSON object");
        }
        Ok(v)
    };
    Ok(DecodedJwt { header: part(0, "JWT header")?, claims: part(1, "JWT claims")? })
}

/// Verifies a JWS against a JWK Set: the key is chosen by `kid`, and the header's `alg` must
/// agree with the key's (RFC 7515 §4.1.1; RFC 7517 §4.4). Returns the claims. Expiry and
/// audience are the check's business, not this function's.
pub fn verify_with_jwks(token: &str, jwks: &Value) -> anyhow::Result<DecodedJwt> {
    let decoded = decode_unverified(token)?;
    let alg = decoded.header_str("alg").ok_or_else(|| anyhow!("JWT header has no alg"))?;
    if alg.eq_ignore_ascii_case("none") {
        bail!("JWT is unsigned (alg none)");
    }
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or_else(|| anyhow!("JWKS has no keys array"))?;
    let kid = decoded.header_str("kid");
    let candidates: Vec<&Value> = keys.iter().filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid).collect();
    if candidates.is_empty() {
        bail!("no key in the JWKS has kid {:?}", kid.unwrap_or(""));
    }
    let algorithm: Algorithm = alg.parse().map_err(|_| anyhow!("unsupported JWS alg {alg}"))?;
    let mut last_err = None;
    for key in candidates {
        if let Some(key_alg) = key.get("alg").and_then(Value::as_str) {
            if key_alg != alg {
                last_err = Some(anyhow!("JWKS key {:?} is for alg {key_alg}, the JWT header says {alg}", kid.unwrap_or("")));
                continue;
            }
        }
        let jwk: jsonwebtoken::jwk::Jwk = match serde_json::from_value(key.clone()) {
            Ok(j) => j,
            Err(e) => {
                last_err = Some(anyhow!("JWKS key is malformed: {e}"));
                continue;
            }
        };
        let dk = match DecodingKey::from_jwk(&jwk) {
            Ok(dk) => dk,
            Err(e) => {
                last_err = Some(anyhow!("JWKS key is unusable: {e}"));
                continue;
            }
        };
        let mut validation = jsonwebtoken::Validation::new(algorithm);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        match jsonwebtoken::decode::<Value>(token, &dk, &validation) {
            Ok(_) => return Ok(decoded),
            Err(e) => last_err = Some(anyhow!("signature does not verify: {e}")),
        }
    }
    Err(last_err.unwrap_or_else(|| anyhow!("no usable key")))
}

/// An ES256 (P-256) signing key the harness holds, with its public JWK.
#[derive(Clone)]
pub struct SigningKey {
    encoding: EncodingKey,
    public_jwk: Value,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key, for issuers that live only as long as the run.
    pub fn generate() -> anyhow::Result<Self> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| anyhow!("could not generate a P-256 key"))?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// Loads a PKCS#8 PEM P-256 private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        Self::from_pkcs8_der(&pem_to_der(pem, "PRIVATE KEY")?)
    }

    fn from_pkcs8_der(der: &[u8]) -> anyhow::Result<Self> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(|_| anyhow!("not a PKCS#8 P-256 private key"))?;
        let point = pair.public_key().as_ref();
        // Uncompressed SEC1 point: 0x04 || x (32) || y (32).
        if point.len() != 65 || point[0] != 4 {
            bail!("unexpected P-256 public key encoding");
        }
        let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..65]));
        let kid = ec_thumbprint(&x, &y);
        let public_jwk = json!({"kty":"EC","crv":"P-256","x":x,"y":y,"kid":kid,"alg":"ES256","use":"sig"});
        Ok(SigningKey { encoding: EncodingKey::from_ec_der(der), public_jwk, kid })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk] })
    }

    /// Signs `claims` as an ES256 JWS with this key's `kid` and the given `typ`.
    pub fn sign(&self, typ: Option<&str>, claims: &Value) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = typ.map(str::to_string);
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

/// RFC 7638 §3.2 JWK thumbprint of an EC key: SHA-256 over the required members in
/// lexicographic order, base64url.
pub fn ec_thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()))
}

/// Signs arbitrary header and claims with HMAC-SHA256 under `secret`: used only to forge the
/// "HS256 keyed with the public key" and similar tokens that a server must refuse.
pub fn sign_hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(tag.as_ref()))
}

/// An unsigned JWT (`alg` `none`, RFC 7519 §6): what a server must never accept.
pub fn unsigned(claims: &Value) -> String {
    format!("{}.{}.", B64.encode(json!({"alg":"none","typ":"JWT"}).to_string()), B64.encode(claims.to_string()))
}

/// Replaces a JWT's claims while keeping its header and signature: a tampered token.
pub fn tamper_claims(token: &str, claims: &Value) -> String {
    let mut parts = token.splitn(3, '.');
    let (h, _, s) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
    format!("{h}.{}.{s}", B64.encode(claims.to_string()))
}

fn pem_to_der(pem: &str, label: &str) -> anyhow::Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or_else(|| anyhow!("no `{begin}` block (expected a PKCS#8 PEM key)"))?;
    let rest = &pem[start + begin.len()..];
    let stop = rest.find(&end).ok_or_else(|| anyhow!("unterminated PEM block"))?;
    let b64: String = rest[..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).context("PEM body is not base64")
}

/// The byte strings a verifier may hold an EC P-256 public key in, for forging the "HS256
/// keyed with the public key" token a server must refuse (RFC 8725 §2.1, §3.1): PEM as
/// OpenSSL writes it, the same without its final newline, and the SubjectPublicKeyInfo DER.
pub fn public_key_encodings(jwk: &Value) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
    let der = spki_der(jwk)?;
    let pem = pem(&der);
    Ok(vec![("PEM", pem.clone().into_bytes()), ("PEM without the final newline", pem.trim_end().as_bytes().to_vec()), ("DER", der)])
}

/// RFC 5480 §2: SubjectPublicKeyInfo of a P-256 key, a fixed prefix naming id-ecPublicKey and
/// secp256r1, then the uncompressed point `04 || x || y`.
fn spki_der(jwk: &Value) -> anyhow::Result<Vec<u8>> {
    const PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
        0x07, 0x03, 0x42, 0x00,
    ];
    let coord = |name: &str| -> anyhow::Result<Vec<u8>> {
        let s = jwk.get(name).and_then(Value::as_str).ok_or_else(|| anyhow!("public JWK has no {name}"))?;
        Ok(B64.decode(s)?)
    };
    let mut der = PREFIX.to_vec();
    der.push(0x04);
    der.extend(coord("x")?);
    der.extend(coord("y")?);
    Ok(der)
}

/// PEM with 64-character lines and a final newline.
fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A random identifier (128 bits, base64url), for `jti` values.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_round_trip() {
        let key = SigningKey::generate().unwrap();
        let t = key.sign(Some("at+jwt"), &json!({"sub":"alice"})).unwrap();
        let d = verify_with_jwks(&t, &key.jwks()).unwrap();
        assert_eq!(d.claim_str("sub"), Some("alice"));
        assert_eq!(d.header_str("typ"), Some("at+jwt"));
        let other = SigningKey::generate().unwrap();
        assert!(verify_with_jwks(&t, &other.jwks()).is_err(), "wrong key must not verify");
        assert!(verify_with_jwks(&tamper_claims(&t, &json!({"sub":"mallory"})), &key.jwks()).is_err());
        assert!(verify_with_jwks(&unsigned(&json!({"sub":"x"})), &key.jwks()).is_err());
    }

    #[test]
    fn rebuilt_public_pem_matches_the_fixture() {
        let key = SigningKey::from_pem(include_str!("../../fixtures/keys/agent-a.key.pem")).unwrap();
        let encodings = public_key_encodings(key.public_jwk()).unwrap();
        assert_eq!(encodings[0].1, include_bytes!("../../fixtures/keys/agent-a.pub.pem"));
    }

    #[test]
    fn loads_fixture_key() {
        let pem = include_str!("../../fixtures/keys/agent-a.key.pem");
        let key = SigningKey::from_pem(pem).unwrap();
        assert_eq!(key.kid().len(), 43);
    }
}
