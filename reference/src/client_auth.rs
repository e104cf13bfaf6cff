//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3, RFC 7523 §2.2, OIDC Core §9).

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::assertion;
use crate::config::{AuthMethod, ClientConfig, CLIENT_CREDENTIALS};
use crate::error::OAuthError;
use crate::faults::Fault;
use crate::form::Form;
use crate::state::{AppState, Client};

/// Credentials as presented, before they are checked.
enum Presented {
    /// RFC 6749 §2.3.1: HTTP Basic with form-urlencoded client_id and secret.
    Basic { id: String, secret: String },
    /// RFC 6749 §2.3.1: `client_id` and `client_secret` in the request body.
    Post { id: String, secret: String },
    /// RFC 7523 §2.2: `client_assertion` + `client_assertion_type`.
    Assertion,
    /// A bare `client_id`: the "none" method, which this server does not support.
    IdOnly { id: String },
}

/// Authenticates the client making the request; any failure is 401 `invalid_client`
/// (RFC 6749 §5.2), except a request mixing methods, which is malformed (400).
pub fn authenticate(state: &AppState, headers: &HeaderMap, form: &Form) -> Result<Arc<Client>, OAuthError> {
    let tried_basic = basic_header(headers).is_some();
    // RFC 6749 §5.2: after a Basic attempt the 401 carries a WWW-Authenticate challenge.
    let challenge = tried_basic && !state.faults.has(Fault::AuthNoWwwAuthenticate);
    let fail = |why: &str| OAuthError::invalid_client(why, challenge);

    match presented(state, headers, form, challenge)? {
        Presented::Assertion => assertion::authenticate(state, form),
        Presented::IdOnly { id } => {
            // The registered method is the only one accepted (RFC 7591 §2), and a bare
            // client_id proves nothing.
            match state.client(&id) {
                Some(client)
                    if client.config.auth_method == AuthMethod::PrivateKeyJwt && state.faults.has(Fault::AuthAllowUnregisteredMethod) =>
                {
                    Ok(client)
                }
                // RFC 6749 §3.2.1: confidential clients MUST authenticate; the fault lets
                // a bare (or absent) client_id through.
                found if state.faults.has(Fault::AuthAllowAnonymous) => {
                    Ok(found.unwrap_or_else(|| unregistered(&id, AuthMethod::ClientSecretBasic)))
                }
                _ => Err(fail("client authentication is required")),
            }
        }
        Presented::Basic { id, .. } | Presented::Post { id, .. } if id.is_empty() => Err(fail("client_id is empty")),
        Presented::Basic { id, secret } => check_secret(state, &id, &secret, AuthMethod::ClientSecretBasic, form, challenge),
        Presented::Post { id, secret } => check_secret(state, &id, &secret, AuthMethod::ClientSecretPost, form, challenge),
    }
}

/// Works out which single method the request uses.
fn presented(state: &AppState, headers: &HeaderMap, form: &Form, challenge: bool) -> Result<Presented, OAuthError> {
    let basic = basic_header(headers);
    let post = form.get("client_secret").is_some();
    let jwt = form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    let count = [basic.is_some(), post, jwt].iter().filter(|b| **b).count();
    if count > 1 && !state.faults.has(Fault::AuthAllowTwoMethods) {
        return Err(OAuthError::invalid_request("more than one client authentication method was used"));
    }
    if let Some(credentials) = basic {
        let (id, secret) =
            decode_basic(credentials).ok_or_else(|| OAuthError::invalid_client("malformed HTTP Basic credentials", challenge))?;
        return Ok(Presented::Basic { id, secret });
    }
    if jwt {
        return Ok(Presented::Assertion);
    }
    let id = form.get("client_id").unwrap_or_default().to_string();
    Ok(match form.get("client_secret") {
        Some(secret) => Presented::Post { id, secret: secret.to_string() },
        None => Presented::IdOnly { id },
    })
}

/// Checks a shared secret against the registration, in constant time.
fn check_secret(
    state: &AppState,
    id: &str,
    secret: &str,
    method: AuthMethod,
    form: &Form,
    challenge: bool,
) -> Result<Arc<Client>, OAuthError> {
    let fail = |why: String| OAuthError::invalid_client(why, challenge);
    // A client_id repeated in the body must name the same client.
    if form.get("client_id").is_some_and(|body_id| body_id != id) {
        return Err(fail("client_id in the body differs from the authenticated client".into()));
    }
    let Some(client) = state.client(id) else {
        if state.faults.has(Fault::AuthAcceptUnknownClient) {
            return Ok(unregistered(id, method));
        }
        return Err(fail(format!("unknown client `{id}`")));
    };
    // RFC 7591 §2: the client uses the token_endpoint_auth_method it registered.
    if client.config.auth_method != method && !state.faults.has(Fault::AuthAllowUnregisteredMethod) {
        return Err(fail(format!("client `{id}` is registered for {}", client.config.auth_method.as_str())));
    }
    let expected = client.config.client_secret.as_deref().unwrap_or_default();
    let matches = !expected.is_empty() && aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), secret.as_bytes()).is_ok();
    if !matches && !state.faults.has(Fault::AuthAcceptAnySecret) {
        return Err(fail(format!("wrong client secret for `{id}`")));
    }
    Ok(client)
}

/// The stand-in client for an unregistered id (only under `auth-accept-unknown-client`).
pub fn unregistered(id: &str, method: AuthMethod) -> Arc<Client> {
    let config = ClientConfig {
        client_id: id.to_string(),
        auth_method: method,
        grant_types: vec![CLIENT_CREDENTIALS.to_string()],
        ..ClientConfig::default()
    };
    Arc::new(Client { config, scope: Vec::new(), public_key: None, public_key_pem: None })
}

/// The credentials of an `Authorization: Basic` header, if the request has one.
fn basic_header(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("basic").then(|| credentials.trim())
}

/// RFC 6749 §2.3.1: the client_id and secret are form-urlencoded, then used as the
/// RFC 7617 user-id and password.
fn decode_basic(credentials: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(credentials).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Decodes one application/x-www-form-urlencoded value: `+` is a space, `%XX` a byte.
fn form_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = STANDARD.encode("my%3Aclient:s%2Bc+ret");
        assert_eq!(decode_basic(&header), Some(("my:client".into(), "s+c ret".into())));
        assert_eq!(decode_basic("!!"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%+1"), None);
    }
}
