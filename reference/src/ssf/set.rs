//! Security Event Tokens as SSF 1.0 §4 profiles them (RFC 8417): explicitly typed, signed
//! with the key at `jwks_uri`, `iss` the Transmitter, `aud` the stream's, one event, the
//! subject in a top-level `sub_id`, and never `sub` or `exp`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::TOKEN_CLAIMS_CHANGE;
use crate::faults::Fault;
use crate::jwt;
use crate::state::AppState;

/// SSF 1.0 §4.1.1 / RFC 8417 §2.3: the `typ` header of every SET.
pub const SECEVENT_JWT: &str = "secevent+jwt";

/// SSF 1.0 §3.5.1: the subject identifier of a JWT, by its issuer and `jti`.
pub fn jwt_id(state: &AppState, jti: &str) -> Value {
    // The format is named "jwt_id"; pre-final drafts spelt it "jwt-id".
    let format = if state.faults.has(Fault::SsfSubjectJwtDashId) { "jwt-id" } else { "jwt_id" };
    json!({ "format": format, "iss": state.issuer, "jti": jti })
}

/// Builds and signs one SET for a stream whose `aud` is `aud`. Returns its `jti` and the
/// compact JWS, or `None` when no randomness or signature could be had.
pub fn sign(state: &AppState, aud: &str, sub_id: Value, mut events: Map<String, Value>) -> Option<(String, String)> {
    let faults = &state.faults;
    let jti = jwt::random_id()?;
    let now = jwt::now();
    let mut claims = Map::new();
    // SSF 1.0 §4.1.6: `iss` matches the stream's `iss`, which is the Issuer.
    let iss = if faults.has(Fault::SsfSetIssTrailingSlash) { format!("{}/", state.issuer) } else { state.issuer.clone() };
    claims.insert("iss".into(), json!(iss));
    claims.insert("jti".into(), json!(jti));
    claims.insert("iat".into(), json!(now));
    // SSF 1.0 §4.1.8 / §8.1.1: `aud` is the stream's Transmitter-Supplied `aud`.
    let aud = if faults.has(Fault::SsfSetWrongAud) { "https://another-receiver.example.invalid" } else { aud };
    claims.insert("aud".into(), json!(aud));
    // SSF 1.0 §4.1.9: a `txn` unique to the underlying cause (here one cause, one SET).
    claims.insert("txn".into(), json!(jti));
    // SSF 1.0 §3.1: the primary subject is the top-level `sub_id` claim.
    claims.insert("sub_id".into(), sub_id.clone());
    // SSF 1.0 §4.1.2: "The JWT "sub" claim MUST NOT be present in any SET".
    if faults.has(Fault::SsfSetSubClaim) {
        let sub = sub_id.get("jti").or_else(|| sub_id.get("id")).cloned().unwrap_or(json!("subject"));
        claims.insert("sub".into(), sub);
    }
    // SSF 1.0 §4.1.7: "The "exp" claim MUST NOT be used in SETs."
    if faults.has(Fault::SsfSetExpClaim) {
        claims.insert("exp".into(), json!(now + 300));
    }
    // SSF 1.0 §4.2.1: the "events" claim SHOULD contain only one event.
    if faults.has(Fault::SsfSetTwoEvents) {
        events.insert(TOKEN_CLAIMS_CHANGE.into(), json!({ "claims": { "active": false } }));
    }
    claims.insert("events".into(), Value::Object(events));

    let set = if faults.has(Fault::SsfSetUnsigned) {
        // RFC 7519 §6: an Unsecured JWT, which a Receiver must never accept.
        let header = json!({ "alg": "none", "typ": SECEVENT_JWT });
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string()))
    } else {
        // SSF 1.0 §4.1.1: explicit typing; §4.1.4: the key is found through `jwks_uri`.
        let typ = if faults.has(Fault::SsfSetTypJwt) { "JWT" } else { SECEVENT_JWT };
        state.key.sign(typ, &state.key.kid, &claims)?
    };
    Some((jti, set))
}
