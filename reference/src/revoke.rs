//! Token revocation (RFC 7009).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::access_token::OwnToken;
use crate::client_auth;
use crate::error::{no_store, OAuthError};
use crate::faults::Fault;
use crate::form::Form;
use crate::state::AppState;

/// RFC 7009 §2.1 / §4.1.2: the `token_type_hint` values defined for revocation.
const KNOWN_HINTS: &[&str] = &["access_token", "refresh_token"];

/// `POST {issuer}/revoke` (RFC 7009 §2.1).
pub async fn revoke(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    let faults = &state.faults;
    let form = Form::parse(faults, &headers, &body)?;
    // RFC 7009 §2.1: "The authorization server first validates the client credentials".
    let caller = if faults.has(Fault::RevokeNoAuth) { None } else { Some(client_auth::authenticate(&state, &headers, &form)?) };
    // RFC 7009 §2.1: `token` is REQUIRED.
    let token = match form.get("token") {
        Some(token) => token,
        None if faults.has(Fault::RevokeMissingTokenOk) => return Ok(StatusCode::OK.into_response()),
        None => return Err(OAuthError::invalid_request("token is required")),
    };
    // RFC 7009 §2.1: the hint only speeds the lookup; if the token is not found under it,
    // the server extends its search. Unknown hint values are simply ignored.
    let hint = form.get("token_type_hint");
    if hint.is_some_and(|h| !KNOWN_HINTS.contains(&h)) && faults.has(Fault::RevokeBogusHint400) {
        return Err(OAuthError::unsupported_token_type("unknown token_type_hint"));
    }
    let found = if hint == Some("refresh_token") && faults.has(Fault::RevokeHonourHintStrictly) {
        None // only refresh tokens searched, and this server issues none
    } else {
        OwnToken::recognise(&state, token)
    };
    match found {
        // RFC 7009 §2.2: "invalid tokens do not cause an error response".
        None if faults.has(Fault::RevokeUnknown400) => return Err(OAuthError::invalid_request("unknown token")),
        None => {}
        Some(own) => {
            // RFC 7009 §2.1: the server "verifies whether the token was issued to the client
            // making the revocation request". Another client's token is left alone, and the
            // answer is the same 200 an unknown token gets, so its existence is not disclosed.
            let owner = caller.as_ref().is_none_or(|c| c.id() == own.record.client_id);
            if (owner || faults.has(Fault::RevokeAnyClient)) && !faults.has(Fault::RevokeNoop) {
                // RFC 7009 §2.1: revocation "may cause the revocation of related tokens":
                // every token exchanged from this one goes with it.
                let revoked = state.store.revoke(&own.key, !faults.has(Fault::RevokeNoCascade));
                // SSF 1.0 / CAEP 1.0 §3.1: Receivers learn of it as session-revoked events.
                crate::ssf::tokens_revoked(&state, &revoked);
            }
        }
    }
    // RFC 7009 §2.2: HTTP 200; the body content is ignored.
    let mut response = StatusCode::OK.into_response();
    no_store(&mut response);
    Ok(response)
}

/// `GET {issuer}/revoke`: RFC 7009 §2.1 has the client make "an HTTP POST request", so a GET
/// is answered 405 and revokes nothing (the `revoke-accept-get` fault honours it instead).
pub async fn revoke_by_get(State(state): State<Arc<AppState>>, mut headers: HeaderMap, uri: Uri) -> Result<Response, OAuthError> {
    if !state.faults.has(Fault::RevokeAcceptGet) {
        let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(response);
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    let query = uri.query().unwrap_or_default().to_string();
    revoke(State(state), headers, Bytes::from(query)).await
}
