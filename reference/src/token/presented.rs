//! Validating the `subject_token` and `actor_token` of a token exchange
//! (RFC 8693 §2.1, §2.2.2): our own access tokens, or JWTs of trusted issuers.

use serde_json::{Map, Value};

use crate::access_token::OwnToken;
use crate::faults::Fault;
use crate::jwt;
use crate::state::{split_scope, AppState, Client};

/// RFC 8693 §3: token type identifiers this server accepts and issues.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// A subject or actor token that passed validation.
pub struct PresentedToken {
    pub sub: String,
    pub iss: String,
    pub exp: u64,
    /// Its `scope`; `None` when an external token carries no scope claim.
    pub scope: Option<Vec<String>>,
    /// Its `act` claim, reduced to identity members (RFC 8693 §4.1).
    pub act: Option<Value>,
    /// Its `may_act` claim (RFC 8693 §4.4).
    pub may_act: Option<Value>,
    /// Set when the token is one of ours: its store key, for the revocation cascade.
    pub own_key: Option<String>,
}

/// Validates one presented token; the error text becomes the `error_description`.
pub async fn validate(state: &AppState, client: &Client, token: &str, token_type: &str) -> Result<PresentedToken, String> {
    // RFC 8693 §2.1: the *_token_type tells how to read the token; JWT access tokens
    // are both an access_token and a jwt.
    if token_type != ACCESS_TOKEN_TYPE && token_type != JWT_TYPE {
        return Err(format!("token type `{token_type}` is not supported"));
    }
    let now = jwt::now();
    if let Some(own) = OwnToken::recognise(state, token) {
        if own.record.revoked {
            return Err("the token has been revoked".into());
        }
        if own.expired(now) {
            return Err("the token has expired".into());
        }
        // RFC 8693 §5: only the client it was issued to, or a client it was issued
        // for (its audience), may exchange one of our tokens.
        let related = own.record.client_id == client.id() || own.record.aud.iter().any(|a| a == client.id());
        if !related && !state.faults.has(Fault::ExchangeAnyClient) {
            return Err("the token was neither issued to nor intended for this client".into());
        }
        let scope = Some(own.scope());
        return read_claims(own.claims, scope, Some(own.key));
    }
    let unverified = jwt::peek(token).ok_or("the token is not a JWT issued by this server")?;
    let iss = jwt::str_claim(&unverified.claims, "iss").unwrap_or_default();
    match state.trusted.issuer(iss) {
        Some(trusted) => {
            let skip = state.faults.has(Fault::ExchangeNoSignatureCheck);
            if !skip && !state.trusted.verify(trusted, token, &unverified.header).await {
                return Err(format!("the signature does not verify with the keys of `{iss}`"));
            }
        }
        None if state.faults.has(Fault::ExchangeAcceptUntrustedIssuer) => {}
        None => return Err(format!("the token's issuer `{iss}` is not trusted")),
    }
    let claims = unverified.claims;
    // RFC 7519 §4.1.4: `exp` present (we insist) and not passed.
    if !state.faults.has(Fault::ExchangeAcceptExpiredSubject) && jwt::time_claim(&claims, "exp").is_none_or(|exp| now >= exp) {
        return Err("the token has no `exp` or has expired".into());
    }
    // RFC 7519 §4.1.3: a token not intended for this server must be rejected.
    if !jwt::audiences(&claims).contains(&state.issuer) {
        return Err(format!("the token's `aud` does not contain `{}`", state.issuer));
    }
    let scope = jwt::str_claim(&claims, "scope").map(split_scope);
    read_claims(claims, scope, None)
}

fn read_claims(claims: Map<String, Value>, scope: Option<Vec<String>>, own_key: Option<String>) -> Result<PresentedToken, String> {
    let sub = jwt::str_claim(&claims, "sub").ok_or("the token has no `sub`")?.to_string();
    let iss = jwt::str_claim(&claims, "iss").unwrap_or_default().to_string();
    let exp = jwt::time_claim(&claims, "exp").unwrap_or_default();
    let act = match claims.get("act") {
        None => None,
        Some(act) => Some(identity_only(act).ok_or("the token's `act` claim is malformed")?),
    };
    let may_act = claims.get("may_act").cloned();
    Ok(PresentedToken { sub, iss, exp, scope, act, may_act, own_key })
}

/// RFC 8693 §4.1: `act` holds identity claims (`sub`, optionally `iss`) and, for prior
/// actors, a nested `act`; nothing else is carried forward.
pub fn identity_only(act: &Value) -> Option<Value> {
    let object = act.as_object()?;
    let mut out = Map::new();
    out.insert("sub".into(), Value::String(object.get("sub")?.as_str()?.to_string()));
    if let Some(iss) = object.get("iss") {
        out.insert("iss".into(), Value::String(iss.as_str()?.to_string()));
    }
    if let Some(prior) = object.get("act") {
        out.insert("act".into(), identity_only(prior)?);
    }
    Some(Value::Object(out))
}
