//! Authorization of the Stream Management API (SSF 1.0 §8: "all Stream Management API
//! endpoints MUST use standard HTTP authentication and authorization schemes", and the
//! authorization "MUST associate a Receiver with one or more stream IDs").
//!
//! The scheme this Transmitter advertises is `urn:ietf:rfc:6749` (SSF 1.0 §7.1.1): an access
//! token from this server's own token endpoint, client credentials grant, presented as an
//! RFC 6750 §2.1 bearer header — never in the query (CAEP Interoperability Profile, "The SSF
//! Transmitter as a Resource Server"). Read operations accept scope `ssf.read` or
//! `ssf.manage`, everything else needs `ssf.manage` (CAEP Interoperability Profile, "OAuth
//! Scopes"). The Receiver is the token's client; it sees only its own streams.

use axum::http::{header, HeaderMap, StatusCode};

use super::streams::Refusal;
use crate::access_token::OwnToken;
use crate::faults::Fault;
use crate::jwt;
use crate::state::AppState;

pub const SCOPE_MANAGE: &str = "ssf.manage";
pub const SCOPE_READ: &str = "ssf.read";

/// What the request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Manage,
}

/// The Receiver making the request: the client id of its access token.
pub fn receiver(state: &AppState, headers: &HeaderMap, need: Need) -> Result<String, Refusal> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let own = bearer.and_then(|t| OwnToken::recognise(state, t));
    if state.faults.has(Fault::SsfStreamNoAuth) {
        return Ok(own.map_or_else(|| "anonymous".to_string(), |o| o.record.client_id));
    }
    if bearer.is_none_or(str::is_empty) {
        return Err(challenge(StatusCode::UNAUTHORIZED, None));
    }
    // The interop profile: verify "validity, integrity, expiration and revocation status".
    let Some(own) = own.filter(|o| !o.record.revoked && !o.expired(jwt::now())) else {
        return Err(challenge(StatusCode::UNAUTHORIZED, Some(("invalid_token", "the access token is not active"))));
    };
    let scope = own.scope();
    let enough = scope.iter().any(|s| s == SCOPE_MANAGE) || (need == Need::Read && scope.iter().any(|s| s == SCOPE_READ));
    if !enough {
        let wanted = if need == Need::Read { SCOPE_READ } else { SCOPE_MANAGE };
        return Err(challenge(StatusCode::FORBIDDEN, Some(("insufficient_scope", wanted))));
    }
    Ok(own.record.client_id)
}

/// RFC 6750 §3: a `WWW-Authenticate: Bearer` challenge, with the error when there is one.
fn challenge(status: StatusCode, error: Option<(&str, &str)>) -> Refusal {
    let value = match error {
        None => "Bearer realm=\"ssf\"".to_string(),
        Some(("insufficient_scope", scope)) => format!("Bearer realm=\"ssf\", error=\"insufficient_scope\", scope=\"{scope}\""),
        Some((code, description)) => format!("Bearer realm=\"ssf\", error=\"{code}\", error_description=\"{description}\""),
    };
    Refusal { status, error: error.map_or("unauthorized", |(c, _)| c).to_string(), challenge: Some(value) }
}
