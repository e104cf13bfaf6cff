//! Token introspection (RFC 7662).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::access_token::OwnToken;
use crate::client_auth;
use crate::error::{no_store, OAuthError};
use crate::faults::Fault;
use crate::form::Form;
use crate::jwt;
use crate::state::{AppState, Client};

/// `POST {issuer}/introspect` (RFC 7662 §2.1).
pub async fn introspect(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    let form = Form::parse(&state.faults, &headers, &body)?;
    // RFC 7662 §2.1: "the endpoint MUST also require some form of authorization";
    // here, client authentication (401 invalid_client otherwise).
    let caller = if state.faults.has(Fault::IntrospectNoAuth) { None } else { Some(client_auth::authenticate(&state, &headers, &form)?) };
    // RFC 7662 §2.1: `token` is REQUIRED. `token_type_hint` is only a hint: every token
    // this server issues is an access token, so it never changes the lookup.
    let token = form.get("token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let body = if form.get("token_type_hint") == Some("refresh_token") && state.faults.has(Fault::IntrospectHonourHintStrictly) {
        inactive(&state) // only refresh tokens searched, and this server issues none
    } else if state.faults.has(Fault::IntrospectNoVerify) {
        unverified(&state, caller.as_deref(), token)?
    } else {
        verified(&state, caller.as_deref(), token)
    };
    let mut response = axum::Json(body).into_response();
    no_store(&mut response);
    Ok(response)
}

/// RFC 7662 §2.2: active only for a token we issued (signature verified), not revoked,
/// not expired, and that the caller is entitled to see (§4); otherwise inactive.
fn verified(state: &AppState, caller: Option<&Client>, token: &str) -> Value {
    let Some(own) = OwnToken::recognise(state, token) else { return inactive(state) };
    if own.record.revoked && !state.faults.has(Fault::IntrospectIgnoreRevocation) && !lagging(state, &own.key) {
        return inactive(state);
    }
    if own.expired(jwt::now()) && !state.faults.has(Fault::IntrospectIgnoreExpiry) {
        return inactive(state);
    }
    if !entitled(state, caller, &own.claims) {
        return inactive(state);
    }
    active(&own.claims)
}

/// The `introspect-revocation-lag` mutant: a revocation shows only `fault_delay_ms` later,
/// as with a cache of introspection answers that is not invalidated on revocation.
fn lagging(state: &AppState, key: &str) -> bool {
    state.faults.has(Fault::IntrospectRevocationLag) && state.store.revoked_for(key).is_some_and(|d| d < state.ssf.fault_delay)
}

/// The `introspect-no-verify` mutant: claims are read without checking the signature.
fn unverified(state: &AppState, caller: Option<&Client>, token: &str) -> Result<Value, OAuthError> {
    let Some(peeked) = jwt::peek(token) else {
        return Err(OAuthError::server_error("cannot decode token"));
    };
    let claims = peeked.claims;
    let revoked = jwt::str_claim(&claims, "jti").and_then(|jti| state.store.get(jti)).is_some_and(|r| r.revoked);
    let expired = jwt::time_claim(&claims, "exp").is_none_or(|exp| jwt::now() >= exp);
    if revoked || expired || !entitled(state, caller, &claims) {
        return Ok(inactive(state));
    }
    Ok(active(&claims))
}

/// RFC 7662 §4: a caller sees tokens issued to it, tokens meant for it (its id in `aud`),
/// or — as a resource server registered with `introspect_any` — any token.
fn entitled(state: &AppState, caller: Option<&Client>, claims: &Map<String, Value>) -> bool {
    let Some(caller) = caller else { return true };
    if caller.config.introspect_any || state.faults.has(Fault::IntrospectAnyClient) {
        return true;
    }
    jwt::str_claim(claims, "client_id") == Some(caller.id()) || jwt::audiences(claims).iter().any(|a| a == caller.id())
}

/// RFC 7662 §2.2: `active` plus the token's meta-information.
fn active(claims: &Map<String, Value>) -> Value {
    let mut body = Map::new();
    body.insert("active".into(), Value::Bool(true));
    for name in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "act"] {
        if let Some(value) = claims.get(name) {
            body.insert(name.into(), value.clone());
        }
    }
    body.insert("token_type".into(), json!("Bearer"));
    Value::Object(body)
}

/// RFC 7662 §2.2: an inactive token is `{"active": false}` and nothing more, so nothing
/// about it leaks.
fn inactive(state: &AppState) -> Value {
    if state.faults.has(Fault::IntrospectInactiveExtraMembers) {
        return json!({ "active": false, "token_type": "Bearer", "error": "token is not active" });
    }
    json!({ "active": false })
}
