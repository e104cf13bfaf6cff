//! `private_key_jwt` client authentication: a JWT assertion signed with the
//! client's registered key (RFC 7523 §2.2 and §3, OIDC Core §9).

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::access_token::OwnToken;
use crate::client_auth::unregistered;
use crate::config::AuthMethod;
use crate::error::OAuthError;
use crate::faults::Fault;
use crate::form::Form;
use crate::jwt;
use crate::state::{AppState, Client};

/// RFC 7523 §2.2: the `client_assertion_type` value for JWT client assertions.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Allowed clock skew for `exp` / `nbf` (RFC 7523 §3 items 4-5 permit "a small leeway").
pub const SKEW_SECS: u64 = 60;

fn fail(why: impl Into<String>) -> OAuthError {
    OAuthError::invalid_client(why, false)
}

/// Validates `client_assertion` and returns the client it authenticates.
pub fn authenticate(state: &AppState, form: &Form) -> Result<Arc<Client>, OAuthError> {
    // RFC 7521 §4.2: both parameters are REQUIRED together.
    let (Some(kind), Some(assertion)) = (form.get("client_assertion_type"), form.get("client_assertion")) else {
        return Err(OAuthError::invalid_request("client_assertion and client_assertion_type go together"));
    };
    if kind != JWT_BEARER {
        return Err(fail(format!("unsupported client_assertion_type `{kind}`")));
    }
    let token = jwt::peek(assertion).ok_or_else(|| fail("client_assertion is not a JWT"))?;
    // RFC 8725 §3.11: an access token is not a client assertion, however it is signed.
    if state.faults.has(Fault::AuthAssertionAcceptOwnAccessToken) {
        if let Some(client) = OwnToken::recognise(state, assertion).and_then(|own| state.client(&own.record.client_id)) {
            return Ok(client);
        }
    }
    // draft-ietf-oauth-rfc7523bis §4: `typ` client-authentication+jwt is accepted, as is none.
    let typ = token.header.get("typ").and_then(serde_json::Value::as_str);
    if state.faults.has(Fault::AuthAssertionRejectTyped) && typ.is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
        return Err(fail(format!("client assertion typ `{}` is not accepted", typ.unwrap_or_default())));
    }

    // RFC 7523 §3 items 1-2: for client authentication `iss` and `sub` are both the client_id.
    let iss = jwt::str_claim(&token.claims, "iss").ok_or_else(|| fail("assertion has no `iss`"))?;
    let sub = jwt::str_claim(&token.claims, "sub").ok_or_else(|| fail("assertion has no `sub`"))?;
    if iss != sub {
        return Err(fail("assertion `iss` and `sub` must both be the client_id"));
    }
    // RFC 7521 §4.2: a client_id parameter, when sent, identifies the same client.
    if form.get("client_id").is_some_and(|id| id != sub) && !state.faults.has(Fault::AuthAssertionIgnoreClientId) {
        return Err(fail("client_id differs from the assertion subject"));
    }
    let Some(client) = state.client(sub) else {
        if state.faults.has(Fault::AuthAcceptUnknownClient) {
            return Ok(unregistered(sub, AuthMethod::PrivateKeyJwt));
        }
        return Err(fail(format!("unknown client `{sub}`")));
    };
    // RFC 7591 §2: only the registered method is accepted.
    if client.config.auth_method != AuthMethod::PrivateKeyJwt && !state.faults.has(Fault::AuthAllowUnregisteredMethod) {
        return Err(fail(format!("client `{sub}` is registered for {}", client.config.auth_method.as_str())));
    }
    verify_signature(state, &client, assertion, token.alg().unwrap_or_default())?;

    // RFC 7523 §3 item 3: `aud` identifies this server: its issuer or token endpoint URL.
    let token_endpoint = state.endpoint("token");
    let aud = jwt::audiences(&token.claims);
    let issuer_ok = !state.faults.has(Fault::AuthAssertionAudTokenEndpointOnly);
    if !aud.iter().any(|a| (issuer_ok && *a == state.issuer) || *a == token_endpoint) && !state.faults.has(Fault::AuthAssertionAnyAudience)
    {
        return Err(fail(format!("assertion `aud` must contain `{}` or `{token_endpoint}`", state.issuer)));
    }
    // RFC 7523 §3 item 4: `exp` is REQUIRED and the JWT is rejected once it has passed.
    let now = jwt::now();
    let exp = jwt::time_claim(&token.claims, "exp").ok_or_else(|| fail("assertion has no `exp`"))?;
    if exp.saturating_add(SKEW_SECS) < now && !state.faults.has(Fault::AuthAssertionAcceptExpired) {
        return Err(fail("client assertion has expired"));
    }
    // RFC 7523 §3 item 5: not accepted before `nbf`.
    if jwt::time_claim(&token.claims, "nbf").is_some_and(|nbf| nbf > now + SKEW_SECS) {
        return Err(fail("client assertion is not yet valid"));
    }
    // OIDC Core §9: `jti` is REQUIRED and the token must be used only once
    // (RFC 7523 §3 item 7). Remembered until it would have expired anyway.
    let jti = jwt::str_claim(&token.claims, "jti").ok_or_else(|| fail("assertion has no `jti`"))?;
    let first_use = state.store.first_use_of_assertion(sub, jti, exp.saturating_add(SKEW_SECS), now);
    if !first_use && !state.faults.has(Fault::AuthAssertionReplay) {
        return Err(fail("client assertion `jti` was already used"));
    }
    Ok(client)
}

/// RFC 8725 §3.1: the algorithm comes from an allow-list — ES256 only — never from the
/// token, which rules out `none` and HS256 keyed with the public key.
fn verify_signature(state: &AppState, client: &Client, assertion: &str, alg: &str) -> Result<(), OAuthError> {
    let any_alg = state.faults.has(Fault::AuthAssertionAnyAlg);
    let verified = match alg {
        "ES256" => client.public_key.as_ref().is_some_and(|key| jwt::verify_signature(assertion, key, Algorithm::ES256)),
        "none" if any_alg => true,
        "HS256" if any_alg => client
            .public_key_pem
            .as_ref()
            .is_some_and(|pem| jwt::verify_signature(assertion, &DecodingKey::from_secret(pem.as_bytes()), Algorithm::HS256)),
        other => return Err(fail(format!("client assertion alg `{other}` is not allowed; use ES256"))),
    };
    if !verified {
        return Err(fail("client assertion signature does not verify with the registered key"));
    }
    Ok(())
}
