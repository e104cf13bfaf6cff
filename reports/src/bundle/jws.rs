//! The detached JWS over manifest.json (RFC 7515 Appendix F): the compact serialization with
//! the payload segment left empty. The signing input is still BASE64URL(header) "."
//! BASE64URL(manifest bytes), so the verifier hashes the file exactly as it is on disk.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};

/// Signs with the engine's ES256 key. `SigningKey::sign` signs a JSON value's compact
/// serialization, which is exactly `bytes` (what manifest.json holds); this is checked
/// rather than assumed, then the payload is cut out.
pub(super) fn sign_detached(key: &agentcert_engine::jose::SigningKey, value: &serde_json::Value, bytes: &[u8]) -> Result<String, String> {
    let compact = key.sign(None, value).map_err(|e| format!("cannot sign the manifest: {e}"))?;
    let mut parts = compact.split('.');
    let (header, payload, signature) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if payload != B64.encode(bytes) {
        return Err("cannot sign the manifest: the signed payload differs from manifest.json".into());
    }
    Ok(format!("{header}..{signature}"))
}

/// A PEM public key (`-----BEGIN PUBLIC KEY-----`, P-256) for verification.
pub fn public_key(pem: &str) -> Result<DecodingKey, String> {
    if pem.contains("PRIVATE KEY-----") {
        return Err("the key is a private key; verify needs the vendor's public key (-----BEGIN PUBLIC KEY-----)".into());
    }
    DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| format!("not an EC public key in PEM (-----BEGIN PUBLIC KEY-----): {e}"))
}

/// Checks `jws` (the contents of manifest.jws) over `manifest`. `Ok(kid)` when the signature
/// holds; `Err` says why not, in one line.
pub(super) fn verify_detached(jws: &[u8], manifest: &[u8], key: &DecodingKey) -> Result<Option<String>, String> {
    let text = std::str::from_utf8(jws.strip_suffix(b"\n").unwrap_or(jws)).map_err(|_| "manifest.jws is not text".to_string())?;
    let parts: Vec<&str> = text.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(format!("manifest.jws is not a compact JWS ({} segments)", parts.len()));
    };
    if !payload.is_empty() {
        return Err("manifest.jws is not detached (its payload segment is not empty)".into());
    }
    let raw = B64.decode(header).map_err(|_| "manifest.jws header is not base64url".to_string())?;
    let h: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| "manifest.jws header is not JSON".to_string())?;
    if h.get("alg").and_then(|a| a.as_str()) != Some("ES256") {
        return Err("manifest.jws is not an ES256 signature".into());
    }
    if h.get("crit").is_some() || h.get("b64").is_some() {
        return Err("manifest.jws uses header parameters this verifier does not support (crit, b64)".into());
    }
    let input = format!("{header}.{}", B64.encode(manifest));
    match jsonwebtoken::crypto::verify(signature, input.as_bytes(), key, Algorithm::ES256) {
        Ok(true) => Ok(h.get("kid").and_then(|k| k.as_str()).map(str::to_string)),
        Ok(false) => Err("the signature does not verify: manifest.json was altered, or signed with another key".into()),
        Err(e) => Err(format!("manifest.jws signature is malformed: {e}")),
    }
}
