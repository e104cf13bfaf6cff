//! RFC 8693 token exchange: delegation for agents acting on a subject's behalf.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::client_credentials::valid_resource;
use super::presented::{self, PresentedToken, ACCESS_TOKEN_TYPE, JWT_TYPE};
use super::{narrow_scope, refresh_token_fault};
use crate::access_token::{self, Grant};
use crate::error::OAuthError;
use crate::faults::Fault;
use crate::form::Form;
use crate::state::{AppState, Client};

/// Handles `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`.
pub async fn grant(state: &AppState, client: &Client, form: &Form) -> Result<Value, OAuthError> {
    let faults = &state.faults;
    // RFC 8693 §2.1: subject_token and subject_token_type are REQUIRED.
    let subject_token = match form.get("subject_token") {
        Some(token) => token,
        None if faults.has(Fault::ExchangeMissingSubjectTokenInvalidGrant) => {
            return Err(OAuthError::other(StatusCode::BAD_REQUEST, "invalid_grant", "subject_token is required"))
        }
        None => return Err(OAuthError::invalid_request("subject_token is required")),
    };
    let subject_type = match form.get("subject_token_type") {
        Some(kind) => kind,
        None if faults.has(Fault::ExchangeAllowMissingSubjectTokenType) => ACCESS_TOKEN_TYPE,
        None => return Err(OAuthError::invalid_request("subject_token_type is required")),
    };
    // RFC 8693 §2.1: actor_token_type is REQUIRED with an actor_token and MUST NOT appear without one.
    let actor_input = match (form.get("actor_token"), form.get("actor_token_type")) {
        (Some(token), Some(kind)) => Some((token, kind)),
        (None, None) => None,
        (Some(token), None) if faults.has(Fault::ExchangeAllowMissingActorTokenType) => Some((token, ACCESS_TOKEN_TYPE)),
        (Some(_), None) => return Err(OAuthError::invalid_request("actor_token_type is required with actor_token")),
        (None, Some(_)) => return Err(OAuthError::invalid_request("actor_token_type without actor_token")),
    };
    let issued_token_type = requested_token_type(state, form)?;

    // RFC 8693 §2.2.2: an invalid subject or actor token is `invalid_request`.
    let bad_token = |which: &str, why: String| {
        let description = format!("{which}: {why}");
        if faults.has(Fault::ExchangeInvalidTokenError) {
            OAuthError::other(StatusCode::BAD_REQUEST, "invalid_token", description)
        } else {
            OAuthError::invalid_request(description)
        }
    };
    let subject = presented::validate(state, client, subject_token, subject_type).await.map_err(|why| bad_token("subject_token", why))?;
    let actor = match actor_input {
        Some((token, kind)) => Some(presented::validate(state, client, token, kind).await.map_err(|why| bad_token("actor_token", why))?),
        None => None,
    };

    // RFC 8693 §4.1: the actor is the party presenting the actor_token, else the client itself.
    let (actor_sub, actor_iss) = match &actor {
        Some(actor) => (actor.sub.clone(), actor.iss.clone()),
        None => (client.id().to_string(), state.issuer.clone()),
    };
    check_may_act(state, &subject, &actor_sub, &actor_iss)?;
    let act = delegation(state, &subject, actor_sub.clone(), actor_iss)
        .filter(|_| !(faults.has(Fault::ExchangeReexchangeDropsAct) && actor.is_none() && subject.act.is_some()));

    // RFC 8693 §2.1 / §5: the new token is no broader than the subject token and the
    // client's own allowance. An external token without `scope` asserts identity only.
    let allowed: Vec<String> = match &subject.scope {
        Some(subject_scope) if faults.has(Fault::ExchangeIgnoreClientAllowance) => subject_scope.clone(),
        Some(subject_scope) if !faults.has(Fault::ExchangeScopeFromClientOnly) => {
            client.scope.iter().filter(|s| subject_scope.contains(s)).cloned().collect()
        }
        _ => client.scope.clone(),
    };
    let requested = form.get("scope").filter(|_| !faults.has(Fault::ExchangeIgnoreRequestedScope));
    let scope = narrow_scope(requested, &allowed)?;
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope("the subject token and the client allowance share no scope"));
    }

    let aud = audiences(state, client, form)?;
    // RFC 8693 §5: a derived token must not outlive what it was derived from.
    let exp_cap =
        if faults.has(Fault::ExchangeOutliveSubject) { None } else { Some(actor.as_ref().map_or(subject.exp, |a| a.exp.min(subject.exp))) };
    // Lineage for the revocation cascade (RFC 7009 §2.1).
    let parents = std::iter::once(&subject).chain(actor.as_ref()).filter_map(|t| t.own_key.clone()).collect();
    // RFC 8693 §4.1: `sub` stays the subject; the actor appears only in `act`.
    let sub = if faults.has(Fault::ExchangeSubIsActor) { actor_sub } else { subject.sub.clone() };
    let issued = access_token::issue(state, Grant { client, sub, scope, aud, exp_cap, act, parents, subject_issuer: None })?;

    // RFC 8693 §2.2.1: access_token, issued_token_type and token_type are REQUIRED;
    // scope is included always, as it may differ from the request.
    let mut body = json!({
        "access_token": issued.access_token,
        "issued_token_type": issued_token_type,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope.join(" "),
    });
    if faults.has(Fault::ExchangeOmitScope) {
        body.as_object_mut().map(|b| b.remove("scope"));
    }
    if faults.has(Fault::ExchangeNoIssuedTokenType) {
        body.as_object_mut().map(|b| b.remove("issued_token_type"));
    }
    // A delegated agent token is short-lived and re-derived from its subject: no refresh token.
    if faults.has(Fault::ExchangeRefreshToken) {
        refresh_token_fault(&mut body)?;
    }
    Ok(body)
}

/// RFC 8693 §2.1: `requested_token_type` names a type we issue, or the request is refused.
fn requested_token_type(state: &AppState, form: &Form) -> Result<&'static str, OAuthError> {
    match form.get("requested_token_type") {
        None | Some(ACCESS_TOKEN_TYPE) => Ok(ACCESS_TOKEN_TYPE),
        Some(JWT_TYPE) => Ok(JWT_TYPE),
        Some(_) if state.faults.has(Fault::ExchangeSubstituteTokenType) => Ok(ACCESS_TOKEN_TYPE),
        Some(other) => Err(OAuthError::invalid_request(format!("cannot issue requested_token_type `{other}`"))),
    }
}

/// RFC 8693 §4.4: when the subject token names who `may_act` for it, only that party
/// (matching `sub`, and `iss` when given) may become the actor.
fn check_may_act(state: &AppState, subject: &PresentedToken, actor_sub: &str, actor_iss: &str) -> Result<(), OAuthError> {
    let Some(may_act) = &subject.may_act else { return Ok(()) };
    if state.faults.has(Fault::ExchangeIgnoreMayAct) {
        return Ok(());
    }
    let sub_ok = may_act.get("sub").and_then(Value::as_str) == Some(actor_sub);
    let iss_ok = match may_act.get("iss") {
        None => true,
        Some(iss) => iss.as_str() == Some(actor_iss),
    };
    if sub_ok && iss_ok {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(format!("`{actor_sub}` is not authorized to act by the subject token's may_act")))
    }
}

/// RFC 8693 §4.1: `act` names the current actor; prior actors (the subject token's own
/// `act`) nest inside it, most recent outermost, and are never dropped.
fn delegation(state: &AppState, subject: &PresentedToken, actor_sub: String, actor_iss: String) -> Option<Value> {
    if state.faults.has(Fault::ExchangeDropAct) {
        return None;
    }
    let mut act = Map::new();
    act.insert("sub".into(), Value::String(actor_sub));
    // The issuer qualifies the actor's `sub` only when it is not this server (RFC 8693 §4.1).
    if actor_iss != state.issuer {
        act.insert("iss".into(), Value::String(actor_iss));
    }
    if let Some(prior) = subject.act.as_ref().filter(|_| !state.faults.has(Fault::ExchangeFlattenAct)) {
        act.insert("act".into(), prior.clone());
    }
    if state.faults.has(Fault::ExchangeActNonIdentityClaims) {
        act.insert("exp".into(), json!(subject.exp));
        act.insert("aud".into(), json!(state.issuer));
    }
    Some(Value::Object(act))
}

/// RFC 8693 §2.1 `audience` and RFC 8707 `resource` (both may repeat): every value must be a
/// known client or one of this client's audiences, else nothing is issued (§2.2.2 invalid_target).
fn audiences(state: &AppState, client: &Client, form: &Form) -> Result<Vec<String>, OAuthError> {
    let mut aud: Vec<String> = Vec::new();
    let resources = form.all("resource").into_iter().map(|r| valid_resource(state, r)).collect::<Result<Vec<_>, _>>()?;
    for target in form.all("audience").into_iter().chain(resources) {
        let known = state.clients.contains_key(target) || client.config.audiences.iter().any(|a| a == target);
        if !known && state.faults.has(Fault::ExchangeIgnoreUnknownTarget) {
            continue;
        }
        if !known {
            return Err(OAuthError::invalid_target(format!("`{target}` is not an audience this client may obtain")));
        }
        if !aud.iter().any(|a| a == target) {
            aud.push(target.to_string());
        }
    }
    if aud.is_empty() {
        aud.push(client.default_audience());
    }
    // RFC 8707 §2: a token for several targets is valid at each of them; none is dropped.
    if state.faults.has(Fault::MultiTargetKeepFirst) {
        aud.truncate(1);
    }
    // The token is issued for exactly the validated targets.
    if state.faults.has(Fault::ExchangeDropResource) {
        aud = vec![client.id().to_string()];
    }
    Ok(aud)
}
