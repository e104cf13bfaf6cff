//! The client credentials grant (RFC 6749 §4.4), with resource indicators (RFC 8707).

use serde_json::{json, Value};

use super::{narrow_scope, refresh_token_fault};
use crate::access_token::{self, Grant};
use crate::error::OAuthError;
use crate::faults::Fault;
use crate::form::Form;
use crate::state::{split_scope, AppState, Client};

/// Handles `grant_type=client_credentials` for an authenticated client (§4.4.2).
pub fn grant(state: &AppState, client: &Client, form: &Form) -> Result<Value, OAuthError> {
    // RFC 6749 §3.3: the requested scope must lie within the client's allowance.
    let scope = if state.faults.has(Fault::CcIgnoreScopeAllowance) {
        form.get("scope").map_or_else(|| client.scope.clone(), split_scope)
    } else if form.get("scope").is_none() && state.faults.has(Fault::CcDefaultScopeAll) {
        state.scopes_supported.clone()
    } else {
        narrow_scope(form.get("scope"), &client.scope)?
    };
    let mut aud = resources(state, client, form)?;
    if state.faults.has(Fault::CcDropResource) {
        aud = vec![client.id().to_string()];
    }
    let sub = client.id().to_string();
    let grant = Grant { client, sub, scope, aud, exp_cap: None, act: None, parents: Vec::new(), subject_issuer: None };
    let issued = access_token::issue(state, grant)?;

    // RFC 6749 §5.1: access_token, token_type and expires_in; scope as granted.
    let token_type = if state.faults.has(Fault::CcTokenTypeMac) { "mac" } else { "Bearer" };
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": token_type,
        "expires_in": issued.expires_in,
    });
    if !issued.scope.is_empty() {
        body["scope"] = json!(issued.scope.join(" "));
    }
    // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
    if state.faults.has(Fault::CcRefreshToken) {
        refresh_token_fault(&mut body)?;
    }
    Ok(body)
}

/// RFC 8707 §2: each `resource` becomes an audience of the token, provided it is an absolute
/// URI without a fragment and the client is registered for it (else `invalid_target`); without
/// any, the client's default audience.
pub(super) fn resources(state: &AppState, client: &Client, form: &Form) -> Result<Vec<String>, OAuthError> {
    let mut aud: Vec<String> = Vec::new();
    for resource in form.all("resource") {
        let resource = valid_resource(state, resource)?;
        if !client.config.audiences.iter().any(|a| a == resource) {
            return Err(OAuthError::invalid_target(format!("client `{}` may not obtain tokens for `{resource}`", client.id())));
        }
        if !aud.iter().any(|a| a == resource) {
            aud.push(resource.to_string());
        }
    }
    if aud.is_empty() {
        aud.push(client.default_audience());
    }
    // RFC 8707 §2: a token for several resources is valid at each of them; none is dropped.
    if state.faults.has(Fault::MultiTargetKeepFirst) {
        aud.truncate(1);
    }
    Ok(aud)
}

/// RFC 8707 §2: a `resource` "MUST be an absolute URI" and "MUST NOT include a fragment
/// component"; one that is not is refused with `invalid_target`.
pub(super) fn valid_resource<'a>(state: &AppState, resource: &'a str) -> Result<&'a str, OAuthError> {
    let refuse = |why: &str| OAuthError::invalid_target(format!("resource `{resource}` {why}"));
    let (resource, fragment) = match resource.split_once('#') {
        Some((before, _)) if state.faults.has(Fault::ResourceIgnoreFragment) => (before, false),
        Some(_) => (resource, true),
        None => (resource, false),
    };
    if fragment {
        return Err(refuse("has a fragment component"));
    }
    if url::Url::parse(resource).is_err() {
        return Err(refuse("is not an absolute URI"));
    }
    Ok(resource)
}
