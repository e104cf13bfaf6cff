//! What a token-exchange request must carry, which subject tokens the target must refuse, and
//! what the response must say (RFC 8693 §2.1, §2.2.1, §2.2.2).
//!
//! Every refusal check first makes a valid exchange (the control): a server that refuses
//! everything would otherwise pass them all.

use super::{delegate, seen, show, token_of, SUITE};
use crate::expect;
use agentcert_engine::jose::{now, random_id, tamper_claims, SigningKey};
use agentcert_engine::oauth::{scopes, TokenAnswer, GRANT_TOKEN_EXCHANGE, TT_ACCESS_TOKEN, TT_JWT, TT_SAML2};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome};
use anyhow::Context as _;
use serde_json::json;

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "delegation.subject-token-type-required",
            SUITE,
            "A request without subject_token_type gets invalid_request",
            ["DELEG-006"],
            [TokenExchange, HomeIssuerTrust],
            subject_token_type_required
        ),
        check!(
            "delegation.subject-token-required",
            SUITE,
            "A request without subject_token gets invalid_request",
            ["DELEG-006"],
            [TokenExchange, HomeIssuerTrust],
            subject_token_required
        ),
        check!(
            "delegation.actor-token-type-paired",
            SUITE,
            "actor_token without actor_token_type, or the type without the token, gets invalid_request",
            ["DELEG-006"],
            [TokenExchange, HomeIssuerTrust],
            actor_token_type_paired
        ),
        check!(
            "delegation.garbage-subject-token-refused",
            SUITE,
            "A subject_token that is not a token gets invalid_request",
            ["DELEG-007"],
            [TokenExchange, HomeIssuerTrust],
            garbage_subject
        ),
        check!(
            "delegation.tampered-subject-token-refused",
            SUITE,
            "A user token whose claims were changed after signing gets invalid_request",
            ["DELEG-007"],
            [TokenExchange, HomeIssuerTrust],
            tampered_subject
        ),
        check!(
            "delegation.expired-subject-token-refused",
            SUITE,
            "An expired user token gets invalid_request",
            ["DELEG-007"],
            [TokenExchange, HomeIssuerTrust],
            expired_subject
        ),
        check!(
            "delegation.untrusted-issuer-refused",
            SUITE,
            "A user token from an issuer the target does not trust gets invalid_request",
            ["DELEG-007"],
            [TokenExchange, HomeIssuerTrust],
            untrusted_issuer
        ),
        check!(
            "delegation.requested-token-type-honoured",
            SUITE,
            "requested_token_type is honoured or refused, never silently substituted",
            ["DELEG-008"],
            [TokenExchange, HomeIssuerTrust],
            requested_type_honoured
        ),
        check!(
            "delegation.scope-in-response-when-different",
            SUITE,
            "The response carries scope whenever the issued scope differs from the requested one",
            ["DELEG-009"],
            [TokenExchange, HomeIssuerTrust],
            scope_in_response
        ),
        check!(
            "delegation.exchange-requires-client-auth",
            SUITE,
            "A token exchange with no client authentication, or only a bare client_id, is refused with invalid_client",
            ["DELEG-012"],
            [TokenExchange, HomeIssuerTrust],
            requires_client_auth
        ),
    ]
}

/// A raw token request as agent A (with the default resource when the profile says to).
async fn send(ctx: &Ctx, params: &[(&str, &str)]) -> anyhow::Result<TokenAnswer> {
    let mut params = params.to_vec();
    let res = &ctx.profile().resources;
    if res.always_send {
        params.push(("resource", res.default.as_str()));
    }
    ctx.token_request(ClientRole::AgentA, &params).await
}

/// Setup: a valid user token is accepted, so that refusing a bad request means something.
async fn control(ctx: &Ctx) -> anyhow::Result<()> {
    delegate(ctx, ClientRole::AgentA, json!({}), &[])
        .await
        .context("the control exchange (a valid user token) failed, so a refusal of the bad request would prove nothing")
        .map(|_| ())
}

/// Sends a bad subject token as agent A and judges the refusal (RFC 8693 §2.2.2: "If … either
/// the subject_token or actor_token are invalid for any reason … The value of the error
/// parameter MUST be the invalid_request error code").
async fn refuse_subject(ctx: &Ctx, subject: &str, what: &str) -> anyhow::Result<Outcome> {
    control(ctx).await?;
    let answer = send(ctx, &[("grant_type", GRANT_TOKEN_EXCHANGE), ("subject_token", subject), ("subject_token_type", TT_JWT)]).await?;
    Ok(expect::refused_with(ctx, &answer, &["invalid_request"], what, "RFC 8693 §2.2.2"))
}

/// RFC 8693 §2.1: subject_token_type is REQUIRED.
async fn subject_token_type_required(ctx: Ctx) -> anyhow::Result<Outcome> {
    control(&ctx).await?;
    let user = ctx.user_token(json!({}))?;
    let answer = send(&ctx, &[("grant_type", GRANT_TOKEN_EXCHANGE), ("subject_token", &user)]).await?;
    Ok(expect::refused_with(
        &ctx,
        &answer,
        &["invalid_request"],
        "a token-exchange request without subject_token_type",
        "RFC 8693 §2.1 / RFC 6749 §5.2",
    ))
}

/// RFC 8693 §2.1: subject_token is REQUIRED.
async fn subject_token_required(ctx: Ctx) -> anyhow::Result<Outcome> {
    control(&ctx).await?;
    let answer = send(&ctx, &[("grant_type", GRANT_TOKEN_EXCHANGE), ("subject_token_type", TT_JWT)]).await?;
    Ok(expect::refused_with(
        &ctx,
        &answer,
        &["invalid_request"],
        "a token-exchange request without subject_token",
        "RFC 8693 §2.1 / RFC 6749 §5.2",
    ))
}

/// RFC 8693 §2.1: actor_token_type "is REQUIRED when the actor_token parameter is present in
/// the request but MUST NOT be included otherwise".
async fn actor_token_type_paired(ctx: Ctx) -> anyhow::Result<Outcome> {
    control(&ctx).await?;
    let actor = ctx.issue_token(ClientRole::AgentA).await?;
    let mut outcomes = Vec::new();
    for (name, value, what) in [
        ("actor_token", actor.as_str(), "actor_token without actor_token_type"),
        ("actor_token_type", TT_ACCESS_TOKEN, "actor_token_type without actor_token"),
    ] {
        let user = ctx.user_token(json!({}))?;
        let params = [("grant_type", GRANT_TOKEN_EXCHANGE), ("subject_token", &user), ("subject_token_type", TT_JWT), (name, value)];
        let answer = send(&ctx, &params).await?;
        outcomes.push(expect::refused_with(&ctx, &answer, &["invalid_request"], what, "RFC 8693 §2.1"));
    }
    Ok(expect::all(outcomes))
}

async fn garbage_subject(ctx: Ctx) -> anyhow::Result<Outcome> {
    refuse_subject(&ctx, "this-is-not-a-token", "a garbage subject_token").await
}

/// The home issuer's token with `sub` changed after signing: the signature no longer verifies
/// (RFC 7515 §5.2). Only `sub` changes, so that a server that skips the signature accepts it
/// rather than refusing it for some other reason.
async fn tampered_subject(ctx: Ctx) -> anyhow::Result<Outcome> {
    let genuine = ctx.user_token(json!({}))?;
    let mut claims = agentcert_engine::jose::decode_unverified(&genuine)?.claims;
    claims["sub"] = json!("mallory");
    refuse_subject(&ctx, &tamper_claims(&genuine, &claims), "a user token whose sub was changed to mallory after signing").await
}

/// RFC 7519 §4.1.4: a JWT must not be accepted on or after its `exp`.
async fn expired_subject(ctx: Ctx) -> anyhow::Result<Outcome> {
    let skew = ctx.profile().timing.clock_skew.as_secs() as i64;
    let t = now() - 600 - skew;
    let expired = ctx.user_token(json!({ "iat": t, "exp": t + 300 }))?;
    refuse_subject(&ctx, &expired, "a user token that expired over five minutes (plus the clock skew) ago").await
}

/// A well-formed user token for the target, signed by a key the harness just made, from an
/// issuer the target has never been told about.
async fn untrusted_issuer(ctx: Ctx) -> anyhow::Result<Outcome> {
    let key = SigningKey::generate()?;
    let h = ctx.profile().home_issuer.clone().context("the target profile has no [home_issuer]")?;
    let iat = now();
    let claims = json!({
        "iss": "https://untrusted-issuer.example.invalid", "sub": h.subject, "aud": ctx.issuer(),
        "scope": h.scope, "iat": iat, "exp": iat + 600, "jti": random_id(),
    });
    refuse_subject(&ctx, &key.sign(Some("JWT"), &claims)?, "a user token from an untrusted issuer").await
}

/// RFC 8693 §2.1 and §2.2.1: issued_token_type says what was issued. agentcert requires that
/// a requested type be issued or refused: a client asking for one type and silently given
/// another would misuse it. A requested access token must come back as one; SAML 2.0, which
/// few servers issue, must come back as SAML 2.0 or be refused.
async fn requested_type_honoured(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    for wanted in [TT_ACCESS_TOKEN, TT_SAML2] {
        let user = ctx.user_token(json!({}))?;
        let params = [
            ("grant_type", GRANT_TOKEN_EXCHANGE),
            ("subject_token", &user),
            ("subject_token_type", TT_JWT),
            ("requested_token_type", wanted),
        ];
        let a = send(&ctx, &params).await?;
        let issued = a.str("issued_token_type");
        match (a.status, issued) {
            (200, Some(t)) if t == wanted => notes.push(format!("{wanted} issued as requested")),
            (200, other) => {
                findings.push(format!("requested {wanted} but was issued {}", other.unwrap_or("a token with no issued_token_type")))
            }
            _ if a.status >= 500 => findings.push(format!("requesting {wanted} caused a server error ({})", a.describe())),
            _ => notes.push(format!("{wanted} refused ({})", a.describe())),
        }
    }
    Ok(Outcome::from_findings(findings, notes.join("; ")))
}

/// RFC 8693 §2.2.1: scope is "OPTIONAL, if the scope of the issued security token is identical
/// to the scope requested by the client; otherwise, it is REQUIRED". Requesting no scope and
/// getting a token that has one is a difference; requesting one scope is the other case.
async fn scope_in_response(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut findings = Vec::new();
    for requested in [None, Some("calendar.read")] {
        let extra: Vec<(&str, &str)> = requested.map(|s| ("scope", s)).into_iter().collect();
        let a = delegate(&ctx, ClientRole::AgentA, json!({}), &extra).await?;
        let s = seen(&ctx, token_of(&a)?).await?;
        let asked = requested.map(scopes).unwrap_or_default();
        let label = requested.map_or("no scope".to_string(), |r| format!("scope {r:?}"));
        match (a.str("scope").map(scopes), s.scope()) {
            (None, Some(actual)) if actual != asked => {
                findings.push(format!("requested {label}, the token carries {} ({}), and the response omits scope", show(&actual), s.via))
            }
            (Some(said), Some(actual)) if said != actual => {
                findings.push(format!("requested {label}: the response says {} but the token carries {}", show(&said), show(&actual)))
            }
            _ => {}
        }
    }
    Ok(Outcome::from_findings(findings, "the response states the scope whenever it differs from the request"))
}

/// RFC 8693 §2.1 leaves "whether or not to allow unauthenticated or unidentified clients" to
/// the server; agentcert's profile (DELEG-012) does not. Agents are confidential clients, which
/// RFC 6749 §3.2.1 says "MUST authenticate", and a user token that leaked must not be
/// exchangeable by whoever holds it. Sends a valid user token with no client credentials at
/// all, then with agent A's client_id alone; RFC 6749 §5.2 names `invalid_client`.
async fn requires_client_auth(ctx: Ctx) -> anyhow::Result<Outcome> {
    control(&ctx).await?;
    let id = super::client_id(&ctx, ClientRole::AgentA)?;
    let res = &ctx.profile().resources;
    let mut outcomes = Vec::new();
    for (with_id, what) in
        [(false, "a token exchange with no client authentication"), (true, "a token exchange with agent A's client_id and no credentials")]
    {
        let user = ctx.user_token(json!({}))?;
        let mut params = vec![("grant_type", GRANT_TOKEN_EXCHANGE), ("subject_token", user.as_str()), ("subject_token_type", TT_JWT)];
        if res.always_send {
            params.push(("resource", res.default.as_str()));
        }
        if with_id {
            params.push(("client_id", id.as_str()));
        }
        let answer = TokenAnswer::from(&ctx.post_anonymous("token_endpoint", &params).await?);
        outcomes.push(expect::refused_with(&ctx, &answer, &["invalid_client"], what, "RFC 6749 §3.2.1 / §5.2"));
    }
    Ok(expect::all(outcomes))
}
