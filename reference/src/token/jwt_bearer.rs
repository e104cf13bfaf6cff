//! The JWT bearer grant (RFC 7523 §2.1): a partner organization's signed assertion about one
//! of its own subjects, exchanged by an authenticated client for an access token of this
//! server. The assertion is validated as RFC 7523 §3 lists, item by item; any failure is
//! `invalid_grant` (§3.1).

use serde_json::{json, Value};

use super::client_credentials::resources;
use super::narrow_scope;
use crate::access_token::{self, Grant};
use crate::assertion::SKEW_SECS;
use crate::config::TrustedPartner;
use crate::error::OAuthError;
use crate::faults::Fault;
use crate::form::Form;
use crate::jwt::{self, Unverified};
use crate::state::{split_scope, AppState, Client};

fn invalid(why: impl Into<String>) -> OAuthError {
    OAuthError::invalid_grant(why)
}

/// Handles `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` for an authenticated client.
pub async fn grant(state: &AppState, client: &Client, form: &Form) -> Result<Value, OAuthError> {
    let faults = &state.faults;
    // RFC 7521 §4.1: `assertion` is REQUIRED; RFC 7523 §2.1: it holds a single JWT.
    let assertion = form.get("assertion").ok_or_else(|| OAuthError::invalid_request("assertion is required"))?;
    let token = jwt::peek(assertion).ok_or_else(|| invalid("assertion is not a single JWT"))?;
    let claims = &token.claims;

    // §3 item 1: `iss` names the issuer, compared by Simple String Comparison; only trusted
    // partners' assertions are grants here (§5: issuer and keys are agreed out of band).
    let iss = jwt::str_claim(claims, "iss").ok_or_else(|| invalid("assertion has no `iss`"))?;
    let partner = match state.trusted.partner(iss) {
        Some(partner) => Some(partner),
        None if faults.has(Fault::JwtBearerAcceptUntrustedIssuer) => None,
        None => return Err(invalid(format!("issuer `{iss}` is not a trusted partner"))),
    };
    // §3 item 2: `sub` identifies the principal the access token is requested for.
    let sub = jwt::str_claim(claims, "sub").ok_or_else(|| invalid("assertion has no `sub`"))?;
    // §3 item 3: "MUST reject any JWT that does not contain its own identity as the intended
    // audience": the issuer, or the token endpoint URL.
    let token_endpoint = state.endpoint("token");
    let aud = jwt::audiences(claims);
    if !aud.iter().any(|a| *a == state.issuer || *a == token_endpoint) && !faults.has(Fault::JwtBearerIgnoreAud) {
        return Err(invalid(format!("assertion `aud` must contain `{}` or `{token_endpoint}`", state.issuer)));
    }
    // §3 item 4: `exp` is REQUIRED, and a JWT whose `exp` has passed is rejected, subject to
    // clock skew.
    let now = jwt::now();
    let exp = match jwt::time_claim(claims, "exp") {
        Some(exp) => exp,
        None if faults.has(Fault::JwtBearerAllowMissingExp) => now,
        None => return Err(invalid("assertion has no `exp`")),
    };
    if exp.saturating_add(SKEW_SECS) < now && !faults.has(Fault::JwtBearerAcceptExpired) {
        return Err(invalid("assertion has expired"));
    }
    // §3 item 5: not accepted before `nbf`; item 6: an `iat` in the future is not sane.
    for name in ["nbf", "iat"] {
        if jwt::time_claim(claims, name).is_some_and(|t| t > now + SKEW_SECS) {
            return Err(invalid(format!("assertion `{name}` is in the future")));
        }
    }
    // §3 item 9: signed by the issuer, verified with its keys (before item 7, so that a
    // forged assertion cannot use up a genuine `jti`).
    if let Some(partner) = partner {
        verify_signature(state, partner, assertion, &token).await?;
    }
    // §3 item 7: this server keeps used `jti`s until `exp` and refuses a second use; §5 makes
    // one-time use an agreement with the partner, and here it is REQUIRED.
    let jti = jwt::str_claim(claims, "jti").ok_or_else(|| invalid("assertion has no `jti` (required: assertions are single-use)"))?;
    let first_use = state.store.first_use_of_assertion(&format!("jwt-bearer {iss}"), jti, exp.saturating_add(SKEW_SECS), now);
    if !first_use && !faults.has(Fault::JwtBearerAllowReplay) {
        return Err(invalid("assertion `jti` was already used"));
    }

    // RFC 7521 §4.1 / RFC 6749 §3.3: the scope is what the partner's subjects may have,
    // within the client's own allowance.
    let allowed: Vec<String> = match partner {
        Some(partner) => split_scope(&partner.subjects_scope).into_iter().filter(|s| client.scope.contains(s)).collect(),
        None => client.scope.clone(),
    };
    let scope = narrow_scope(form.get("scope"), &allowed)?;
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope("the partner's subjects and this client share no scope"));
    }
    let aud = resources(state, client, form)?;
    let grant = Grant {
        client,
        sub: sub.to_string(),
        scope,
        aud,
        exp_cap: None,
        act: None,
        parents: Vec::new(),
        subject_issuer: Some(iss.to_string()),
    };
    let issued = access_token::issue(state, grant)?;

    // RFC 6749 §5.1; no refresh token: the partner asserts again when a new token is needed.
    Ok(json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope.join(" "),
    }))
}

/// §3 item 9: "The authorization server MUST reject JWTs with an invalid signature". The
/// algorithm comes from an allow-list, ES256 or RS256 (RFC 8725 §3.1), never from the token
/// alone: that rules out `none` and HS256 keyed with the partner's public key. A `kid` not in
/// the cached JWK Set makes the server fetch it again, which is how a rotated key is learnt.
async fn verify_signature(state: &AppState, partner: &TrustedPartner, assertion: &str, token: &Unverified) -> Result<(), OAuthError> {
    let faults = &state.faults;
    let verified = match token.alg().unwrap_or_default() {
        "ES256" | "RS256" if faults.has(Fault::JwtBearerSkipSignature) => true,
        "ES256" | "RS256" => {
            let refresh = !faults.has(Fault::JwtBearerNoKeyRefresh);
            state.trusted.verify_at(&partner.jwks_uri, assertion, &token.header, refresh).await
        }
        "none" if faults.has(Fault::JwtBearerAcceptNoneAlg) => true,
        "HS256" if faults.has(Fault::JwtBearerAcceptHs256PublicKey) => {
            state.trusted.verify_hs256_with_public_key(&partner.jwks_uri, assertion).await
        }
        other => return Err(invalid(format!("assertion alg `{other}` is not allowed; use ES256 or RS256"))),
    };
    if !verified {
        return Err(invalid(format!("assertion signature does not verify with the keys of `{}`", partner.issuer)));
    }
    Ok(())
}
