//! The token endpoint (RFC 6749 §3.2).

pub mod client_credentials;
pub mod exchange;
pub mod jwt_bearer;
pub mod presented;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::client_auth;
use crate::config::{CLIENT_CREDENTIALS, JWT_BEARER_GRANT, TOKEN_EXCHANGE};
use crate::error::{no_store, OAuthError};
use crate::faults::Fault;
use crate::form::Form;
use crate::state::{split_scope, AppState};

/// `POST {issuer}/token`.
pub async fn token(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    // RFC 6749 §3.2: form-encoded parameters, none repeated.
    let form = Form::parse(&state.faults, &headers, &body)?;
    // RFC 6749 §3.2.1: confidential clients authenticate at the token endpoint.
    let client = client_auth::authenticate(&state, &headers, &form)?;
    // RFC 6749 §4.4.2 / RFC 8693 §2.1 / RFC 7523 §2.1: grant_type is REQUIRED.
    let grant_type = form.get("grant_type").ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if ![CLIENT_CREDENTIALS, TOKEN_EXCHANGE, JWT_BEARER_GRANT].contains(&grant_type) {
        // RFC 6749 §5.2: a grant type the server does not support.
        let description = format!("grant_type `{grant_type}` is not supported");
        return Err(if state.faults.has(Fault::ErrorUnsupportedGrantAsInvalidRequest) {
            OAuthError::invalid_request(description)
        } else {
            OAuthError::unsupported_grant_type(description)
        });
    }
    // RFC 6749 §5.2 `unauthorized_client`: not authorized to use this grant type.
    if !client.may_use(grant_type) && !state.faults.has(Fault::GrantTypeNotEnforced) {
        return Err(OAuthError::unauthorized_client(format!("client `{}` may not use `{grant_type}`", client.id())));
    }
    let body = match grant_type {
        CLIENT_CREDENTIALS => client_credentials::grant(&state, &client, &form)?,
        TOKEN_EXCHANGE => exchange::grant(&state, &client, &form).await?,
        _ => jwt_bearer::grant(&state, &client, &form).await?,
    };
    let mut response = axum::Json(body).into_response();
    // RFC 6749 §5.1: "Cache-Control: no-store" and "Pragma: no-cache" on every token response.
    if !state.faults.has(Fault::TokenMissingNoStore) {
        no_store(&mut response);
    }
    Ok(response)
}

/// RFC 6749 §3.3: the granted scope is the requested one when it lies within `allowed`,
/// or all of `allowed` when none is requested; anything beyond is `invalid_scope`.
pub fn narrow_scope(requested: Option<&str>, allowed: &[String]) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = requested else { return Ok(allowed.to_vec()) };
    let requested = split_scope(requested);
    if let Some(extra) = requested.iter().find(|s| !allowed.contains(s)) {
        return Err(OAuthError::invalid_scope(format!("scope `{extra}` may not be granted here")));
    }
    Ok(requested)
}

/// Adds a refresh token to a response (only ever through a fault).
fn refresh_token_fault(body: &mut Value) -> Result<(), OAuthError> {
    let handle = crate::jwt::random_id().ok_or_else(|| OAuthError::server_error("no randomness available"))?;
    body["refresh_token"] = Value::String(handle);
    Ok(())
}
