//! Attenuation through delegation: a delegated token is never broader (scope), never meant for
//! more (audience), and never longer-lived than what it was derived from.

use super::{client_id, delegate, exchange, seen, show, token_of, SUITE};
use crate::expect;
use agentcert_engine::jose::now;
use agentcert_engine::oauth::{scopes, TokenAnswer, TT_ACCESS_TOKEN, TT_JWT};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome};
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "delegation.scope-beyond-subject-not-granted",
            SUITE,
            "Scope the user token does not hold is refused (invalid_scope) or left out, never granted",
            ["NARROW-005"],
            [TokenExchange, HomeIssuerTrust],
            beyond_subject
        ),
        check!(
            "delegation.scope-beyond-client-not-granted",
            SUITE,
            "Scope beyond agent A's own allowance is refused (invalid_scope) or left out, never granted",
            ["NARROW-006"],
            [TokenExchange, HomeIssuerTrust],
            beyond_client
        ),
        check!(
            "delegation.hop-scope-attenuates",
            SUITE,
            "A second hop cannot gain scope the first hop's token lacks",
            ["NARROW-007"],
            [TokenExchange, HomeIssuerTrust],
            hop_attenuates
        ),
        check!(
            "delegation.audience-restricts-aud",
            SUITE,
            "resource=R or audience=A yields a token whose aud is exactly R or A",
            ["NARROW-008"],
            [TokenExchange, HomeIssuerTrust],
            audience_restricts
        ),
        check!(
            "delegation.unknown-target-invalid-target",
            SUITE,
            "An unknown resource gets invalid_target",
            ["NARROW-009"],
            [TokenExchange, HomeIssuerTrust],
            unknown_target
        ),
        check!(
            "delegation.exp-within-subject-exp",
            SUITE,
            "A delegated token expires no later than its subject token",
            ["NARROW-016"],
            [TokenExchange, HomeIssuerTrust],
            exp_within_subject
        ),
        check!(
            "delegation.no-refresh-token",
            SUITE,
            "No refresh token is issued with a delegated token",
            ["NARROW-017"],
            [TokenExchange, HomeIssuerTrust],
            no_refresh_token
        ),
        check!(
            "delegation.subset-scope-granted-exactly",
            SUITE,
            "Asking for a subset of the user token's scope yields exactly that subset",
            ["NARROW-004"],
            [TokenExchange, HomeIssuerTrust],
            subset_exactly
        ),
        check!(
            "delegation.multiple-targets-all-or-refused",
            SUITE,
            "An exchange naming a resource and an audience gets a token for both, or invalid_target; neither is dropped",
            ["NARROW-011"],
            [TokenExchange, HomeIssuerTrust],
            multiple_targets
        ),
    ]
}

/// Judges an answer to a request for more scope than `bound`: refused with invalid_scope
/// (RFC 6749 §5.2), or issued with a scope inside `bound` (stated in the response, RFC 8693
/// §2.2.1, since it then differs from the request).
pub(super) async fn within(ctx: &Ctx, a: &TokenAnswer, bound: &BTreeSet<String>, what: &str) -> anyhow::Result<Outcome> {
    if !a.is_success() {
        return Ok(expect::refused_with(ctx, a, &["invalid_scope"], what, "RFC 6749 §5.2"));
    }
    let s = seen(ctx, token_of(a)?).await?;
    let granted = s.scope().or_else(|| a.str("scope").map(scopes)).unwrap_or_default();
    let extra: BTreeSet<_> = granted.difference(bound).cloned().collect();
    if !extra.is_empty() {
        return Ok(Outcome::fail(format!(
            "{what} was granted {} ({}), beyond {}: {} should not be there",
            show(&granted),
            s.via,
            show(bound),
            show(&extra)
        )));
    }
    Ok(Outcome::pass(format!("{what} was reduced to {} ⊆ {}", show(&granted), show(bound))))
}

/// agentcert's profile (basis: RFC 7521 §4.1, the identity-chaining draft, the Txn-Token
/// draft): the agent cannot exceed the user who delegates to it.
async fn beyond_subject(ctx: Ctx) -> anyhow::Result<Outcome> {
    let user = ctx.user_token(json!({ "scope": "calendar.read" }))?;
    let a = exchange(&ctx, ClientRole::AgentA, (&user, TT_JWT), &[("scope", "calendar.read calendar.write")]).await?;
    within(&ctx, &a, &scopes("calendar.read"), "requesting calendar.write with a user token that holds only calendar.read").await
}

/// RFC 9700 §2.3 (least privilege): the issued scope ⊆ the user's scope ∩ the agent's allowance.
async fn beyond_client(ctx: Ctx) -> anyhow::Result<Outcome> {
    let allowance = scopes(&ctx.client(ClientRole::AgentA)?.scope);
    let user_scope = scopes(&ctx.profile().home_issuer.as_ref().map(|h| h.scope.clone()).unwrap_or_default());
    let Some(outside) = user_scope.difference(&allowance).next().cloned() else {
        return Ok(Outcome::error("setup: the home issuer's user holds no scope beyond agent A's allowance; widen [home_issuer].scope"));
    };
    let Some(inside) = allowance.intersection(&user_scope).next().cloned() else {
        return Ok(Outcome::error("setup: the user and agent A share no scope"));
    };
    let a = exchange(&ctx, ClientRole::AgentA, (&ctx.user_token(json!({}))?, TT_JWT), &[("scope", &format!("{inside} {outside}"))]).await?;
    let bound: BTreeSet<String> = allowance.intersection(&user_scope).cloned().collect();
    within(&ctx, &a, &bound, &format!("requesting {outside}, which the user holds but agent A is not allowed,")).await
}

/// agentcert's profile (RFC 8693 §4.1 chains): user → agent A (scope mail.read, for agent B)
/// → agent B asks for calendar.read, which B is allowed but the first hop's token lacks.
async fn hop_attenuates(ctx: Ctx) -> anyhow::Result<Outcome> {
    let b = client_id(&ctx, ClientRole::AgentB)?;
    let first = delegate(&ctx, ClientRole::AgentA, json!({}), &[("audience", &b), ("scope", "mail.read")]).await?;
    let hop1 = seen(&ctx, token_of(&first)?).await?;
    let bound = hop1.scope().or_else(|| first.str("scope").map(scopes)).unwrap_or_default();
    let second = exchange(&ctx, ClientRole::AgentB, (token_of(&first)?, TT_ACCESS_TOKEN), &[("scope", "calendar.read")]).await?;
    within(&ctx, &second, &bound, "agent B asking for calendar.read from a hop-1 token that holds only mail.read").await
}

/// agentcert's profile (RFC 8707 §2, RFC 8693 §2.1): the token is meant for exactly the
/// targets named, so that it is useless anywhere else.
async fn audience_restricts(ctx: Ctx) -> anyhow::Result<Outcome> {
    let resource = ctx.profile().resources.default.clone();
    let b = client_id(&ctx, ClientRole::AgentB)?;
    let mut findings = Vec::new();
    for (param, target) in [("resource", resource.as_str()), ("audience", b.as_str())] {
        let a = delegate(&ctx, ClientRole::AgentA, json!({}), &[(param, target)]).await?;
        let s = seen(&ctx, token_of(&a)?).await?;
        let aud = s.aud();
        if aud != BTreeSet::from([target.to_string()]) {
            findings.push(format!("{param}={target} gave aud {} ({})", show(&aud), s.via));
        }
    }
    Ok(Outcome::from_findings(findings, format!("aud is exactly the named target for resource={resource} and audience={b}")))
}

/// RFC 8693 §2.2.2: "If the authorization server is unwilling or unable to issue a token for
/// any target service indicated by the resource or audience parameters, the invalid_target
/// error code SHOULD be used in the error response."
async fn unknown_target(ctx: Ctx) -> anyhow::Result<Outcome> {
    let unknown = ctx.profile().resources.unknown.clone();
    let a = exchange(&ctx, ClientRole::AgentA, (&ctx.user_token(json!({}))?, TT_JWT), &[("resource", &unknown)]).await?;
    if a.is_success() {
        let aud = seen(&ctx, token_of(&a)?).await.map(|s| show(&s.aud())).unwrap_or_else(|e| format!("unreadable: {e:#}"));
        return Ok(Outcome::fail(format!("resource={unknown} was accepted: a token was issued with aud {aud}")));
    }
    Ok(expect::refused_with(&ctx, &a, &["invalid_target"], &format!("resource={unknown}"), "RFC 8693 §2.2.2"))
}

/// RFC 9700 §2.3 (least privilege) and RFC 8693 §5: a derived token should not outlive the
/// token it was derived from. The user token here lives 90 seconds.
async fn exp_within_subject(ctx: Ctx) -> anyhow::Result<Outcome> {
    let subject_exp = now() + 90;
    let a = delegate(&ctx, ClientRole::AgentA, json!({ "exp": subject_exp }), &[]).await?;
    let s = seen(&ctx, token_of(&a)?).await?;
    let (exp, from) = match s.claims.get("exp").and_then(Value::as_i64) {
        Some(e) => (e, s.via.to_string()),
        None => match a.get("expires_in").and_then(Value::as_i64) {
            Some(e) => (now() + e, "now + expires_in".to_string()),
            None => {
                return Ok(Outcome::error("the delegated token states no exp and the response no expires_in, so its lifetime is unknown"))
            }
        },
    };
    Ok(Outcome::expect(
        exp <= subject_exp,
        format!("the delegated token's exp ({exp}, {from}) is within the subject token's ({subject_exp})"),
        format!("the delegated token expires at {exp} ({from}), {} s after its subject token ({subject_exp})", exp - subject_exp),
    ))
}

/// RFC 8693 §2.2.1: "A refresh token will typically not be issued when the exchange is of one
/// temporary credential (the subject_token) for a different temporary credential". A delegated
/// agent token re-derives from its subject; a refresh token would outlive the delegation.
async fn no_refresh_token(ctx: Ctx) -> anyhow::Result<Outcome> {
    let a = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    Ok(Outcome::expect(a.get("refresh_token").is_none(), "no refresh_token", "the delegated token came with a refresh_token"))
}

/// RFC 8693 §2.1 `scope`: the scope "of the requested security token"; RFC 6749 §3.3: the
/// server may ignore part of a request only by saying so. Asking for a proper subset of what
/// both the user token and agent A's allowance hold, agentcert's profile (NARROW-004: least
/// privilege, RFC 9700 §2.3) wants exactly that subset: not the whole allowance, not less.
async fn subset_exactly(ctx: Ctx) -> anyhow::Result<Outcome> {
    let allowance = scopes(&ctx.client(ClientRole::AgentA)?.scope);
    let user_scope = scopes(&ctx.profile().home_issuer.as_ref().map(|h| h.scope.clone()).unwrap_or_default());
    let shared: Vec<String> = allowance.intersection(&user_scope).cloned().collect();
    if shared.len() < 2 {
        return Ok(Outcome::error(format!(
            "setup: the user and agent A share {} scope(s); a proper subset needs at least two",
            shared.len()
        )));
    }
    let subset: BTreeSet<String> = shared[..shared.len() - 1].iter().cloned().collect();
    let asked = subset.iter().cloned().collect::<Vec<_>>().join(" ");
    let a = delegate(&ctx, ClientRole::AgentA, json!({}), &[("scope", &asked)]).await?;
    let s = seen(&ctx, token_of(&a)?).await?;
    // RFC 6749 §5.1 / RFC 8693 §2.2.1: no scope anywhere means the requested scope.
    let (granted, from) = match (s.scope(), a.str("scope")) {
        (Some(g), _) => (g, s.via),
        (None, Some(r)) => (scopes(r), "the token response"),
        (None, None) => (subset.clone(), "the request (the response states no scope)"),
    };
    Ok(Outcome::expect(
        granted == subset,
        format!("asked for {}, granted exactly that ({from})", show(&subset)),
        format!(
            "asked for {} of the shared {}, but {from} says {}",
            show(&subset),
            show(&shared.iter().cloned().collect()),
            show(&granted)
        ),
    ))
}

/// RFC 8707 §2 and RFC 8693 §2.1: `resource` and `audience` may each be given, and a token is
/// then "intended to be used at" every target named. RFC 8707 §2.2 lets the server refuse a
/// multi-target request (invalid_target); it may not issue a token that silently leaves one
/// out, which the client would take to be valid where it is not. Asks, as agent A, for the
/// default resource and for agent B (both allowed to A on their own).
async fn multiple_targets(ctx: Ctx) -> anyhow::Result<Outcome> {
    let resource = ctx.profile().resources.default.clone();
    let b = client_id(&ctx, ClientRole::AgentB)?;
    for (param, target) in [("resource", resource.as_str()), ("audience", b.as_str())] {
        delegate(&ctx, ClientRole::AgentA, json!({}), &[(param, target)]).await?;
    }
    let user = ctx.user_token(json!({}))?;
    let a = exchange(&ctx, ClientRole::AgentA, (&user, TT_JWT), &[("resource", &resource), ("audience", &b)]).await?;
    let what = format!("an exchange with resource={resource} and audience={b}");
    if !a.is_success() {
        return Ok(expect::refused_with(&ctx, &a, &["invalid_target"], &what, "RFC 8707 §2.2 / RFC 8693 §2.2.2"));
    }
    let s = seen(&ctx, token_of(&a)?).await?;
    let aud = s.aud();
    let dropped: Vec<&str> = [resource.as_str(), b.as_str()].into_iter().filter(|t| !aud.contains(*t)).collect();
    Ok(Outcome::expect(
        dropped.is_empty(),
        format!("{what} got a token whose aud {} names both", show(&aud)),
        format!("{what} got a token whose aud is {} ({}): {} silently dropped", show(&aud), s.via, dropped.join(" and ")),
    ))
}
