//! What a delegated token says: who the subject is, who acts (RFC 8693 §4.1 `act`), who may
//! act (§4.4 `may_act`), and which clients may exchange at all.

use super::{client_id, delegate, exchange, reexchange, seen, token_of, user_subject, Seen, SUITE};
use crate::expect;
use agentcert_engine::oauth::{TT_ACCESS_TOKEN, TT_JWT};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome};
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "delegation.exchange-succeeds",
            SUITE,
            "Exchanging a trusted user token as agent A succeeds with access_token, issued_token_type and token_type",
            ["DELEG-001"],
            [TokenExchange, HomeIssuerTrust],
            exchange_succeeds
        ),
        check!(
            "delegation.sub-is-user-act-is-agent",
            SUITE,
            "The delegated token's sub is the user and act.sub is agent A",
            ["DELEG-002"],
            [TokenExchange, HomeIssuerTrust],
            sub_is_user
        ),
        check!(
            "delegation.actor-token-yields-act",
            SUITE,
            "An accepted actor_token shows in act, never in sub",
            ["DELEG-003"],
            [TokenExchange, HomeIssuerTrust],
            actor_token_yields_act
        ),
        check!(
            "delegation.reexchange-keeps-act",
            SUITE,
            "Re-exchanging a delegated token without actor_token keeps act",
            ["DELEG-003"],
            [TokenExchange, HomeIssuerTrust],
            reexchange_keeps_act
        ),
        check!(
            "delegation.chained-act-nests",
            SUITE,
            "A second hop nests act: the current actor outermost, the prior one inside",
            ["DELEG-004"],
            [TokenExchange, HomeIssuerTrust],
            chained_act_nests
        ),
        check!(
            "delegation.act-identity-claims-only",
            SUITE,
            "act carries identity claims only (no exp, nbf, iat, aud, scope or jti)",
            ["DELEG-005"],
            [TokenExchange, HomeIssuerTrust],
            act_identity_only
        ),
        check!(
            "delegation.may-act-enforced",
            SUITE,
            "A subject token's may_act admits the named actor and refuses another",
            ["DELEG-010"],
            [TokenExchange, HomeIssuerTrust],
            may_act_enforced
        ),
        check!(
            "delegation.foreign-token-not-exchangeable",
            SUITE,
            "A client cannot exchange a token neither issued to it nor meant for it",
            ["DELEG-011"],
            [TokenExchange, HomeIssuerTrust],
            foreign_token
        ),
        check!(
            "delegation.unauthorized-client-refused",
            SUITE,
            "A client not allowed the token-exchange grant gets unauthorized_client",
            ["DELEG-013"],
            [TokenExchange, HomeIssuerTrust],
            unauthorized_client
        ),
    ]
}

/// The identifiers the target may use for `role` as an actor: its client_id, and the `sub` of
/// its own client-credentials token when one can be had.
pub(crate) async fn identities(ctx: &Ctx, role: ClientRole) -> anyhow::Result<BTreeSet<String>> {
    let mut ids = BTreeSet::from([client_id(ctx, role)?]);
    if let Ok(token) = ctx.issue_token(role).await {
        if let Ok(s) = seen(ctx, &token).await {
            ids.extend(s.str("sub").map(str::to_string));
        }
    }
    Ok(ids)
}

pub(crate) fn one_of(ids: &BTreeSet<String>) -> String {
    ids.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" or ")
}

/// Findings on `sub` (must be the user) and the current actor (must be one of `actor`).
fn delegation_findings(s: &Seen, user: &str, actor: &BTreeSet<String>) -> Vec<String> {
    let mut findings = Vec::new();
    if s.str("sub") != Some(user) {
        findings.push(format!("sub is {:?} in {}, not the user {user:?}", s.claims.get("sub"), s.via));
    }
    match s.actors().first() {
        None => findings.push(format!("{} has no act object naming the actor", s.via)),
        Some(a) if !actor.contains(a) => findings.push(format!("act.sub is {a:?}, not {}", one_of(actor))),
        Some(_) => {}
    }
    findings
}

/// RFC 8693 §2.2.1: a successful response carries access_token, issued_token_type (REQUIRED)
/// and token_type (REQUIRED; Bearer or DPoP when the token is an access token, §2.2.1 N_A
/// otherwise). expires_in is RECOMMENDED and not judged here.
async fn exchange_succeeds(ctx: Ctx) -> anyhow::Result<Outcome> {
    let user = ctx.user_token(json!({}))?;
    let a = exchange(&ctx, ClientRole::AgentA, (&user, TT_JWT), &[]).await?;
    if !a.is_success() {
        return Ok(Outcome::fail(format!("exchanging a trusted user token as agent_a was refused: {}", a.describe())));
    }
    let mut findings = Vec::new();
    let issued = a.str("issued_token_type");
    if issued.is_none() {
        findings.push("issued_token_type is missing (REQUIRED, RFC 8693 §2.2.1)".to_string());
    }
    match a.str("token_type") {
        None => findings.push("token_type is missing (REQUIRED, RFC 8693 §2.2.1)".into()),
        Some(t) if issued == Some(TT_ACCESS_TOKEN) && !t.eq_ignore_ascii_case("bearer") && !t.eq_ignore_ascii_case("dpop") => {
            findings.push(format!("token_type is {t:?} for an issued access token (expected Bearer or DPoP)"))
        }
        Some(_) => {}
    }
    Ok(Outcome::from_findings(
        findings,
        format!("exchange succeeded: issued_token_type {}, token_type {}", issued.unwrap_or("-"), a.str("token_type").unwrap_or("-")),
    ))
}

/// RFC 8693 §1.1 and §4.1: in delegation the subject stays the principal (`sub` = the user)
/// and the actor is named in `act`.
async fn sub_is_user(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (user, agent) = (user_subject(&ctx)?, identities(&ctx, ClientRole::AgentA).await?);
    let a = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    let s = seen(&ctx, token_of(&a)?).await?;
    let mut findings = delegation_findings(&s, &user, &agent);
    let cid = client_id(&ctx, ClientRole::AgentA)?;
    if let Some(c) = s.str("client_id").filter(|c| *c != cid) {
        findings.push(format!("client_id is {c:?}, not the requesting client {cid:?} (RFC 8693 §4.3)"));
    }
    Ok(Outcome::from_findings(findings, format!("sub is {user:?} and act.sub is agent A ({})", s.via)))
}

/// RFC 8693 §1.1 and §4.1: when agent A presents its own token as actor_token, the result
/// names A in `act` and keeps the user in `sub`: no silent impersonation.
async fn actor_token_yields_act(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (user, agent) = (user_subject(&ctx)?, identities(&ctx, ClientRole::AgentA).await?);
    let actor = ctx.issue_token(ClientRole::AgentA).await?;
    let subject = ctx.user_token(json!({}))?;
    let extra = [("actor_token", actor.as_str()), ("actor_token_type", TT_ACCESS_TOKEN)];
    let a = exchange(&ctx, ClientRole::AgentA, (&subject, TT_JWT), &extra).await?;
    if !a.is_success() {
        return Ok(Outcome::skip(format!(
            "the server does not accept agent A's own access token as actor_token ({}); the rule applies only to an accepted actor_token",
            a.describe()
        )));
    }
    let s = seen(&ctx, token_of(&a)?).await?;
    Ok(Outcome::from_findings(delegation_findings(&s, &user, &agent), format!("the actor is in act, the user in sub ({})", s.via)))
}

/// RFC 8693 §4.1: a token derived from a delegated token still says who acts; re-exchanging
/// without an actor_token must not launder the delegation into a plain user token.
async fn reexchange_keeps_act(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (user, agent) = (user_subject(&ctx)?, identities(&ctx, ClientRole::AgentA).await?);
    let first = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    let first_seen = seen(&ctx, token_of(&first)?).await?;
    if first_seen.actors().is_empty() {
        return Ok(Outcome::fail(format!(
            "the delegated token has no act at all ({}), so nothing records that agent A acts",
            first_seen.via
        )));
    }
    let second = reexchange(&ctx, ClientRole::AgentA, token_of(&first)?, &[]).await?;
    let s = seen(&ctx, token_of(&second)?).await?;
    let actors = s.actors();
    let mut findings = Vec::new();
    if s.str("sub") != Some(user.as_str()) {
        findings.push(format!("after re-exchange sub is {:?}, not the user {user:?}", s.claims.get("sub")));
    }
    if actors.is_empty() {
        findings.push(format!("re-exchanging the delegated token without actor_token dropped act ({})", s.via));
    } else if !actors.iter().any(|a| agent.contains(a)) {
        findings.push(format!("after re-exchange act names {actors:?}; agent A ({}) is gone", one_of(&agent)));
    }
    Ok(Outcome::from_findings(findings, format!("act survives re-exchange: actors {actors:?}")))
}

/// RFC 8693 §4.1: "A chain of delegation can be expressed by nesting one act claim within
/// another. The outermost act claim represents the current actor while nested act claims
/// represent prior actors." user → A (audience B) → B.
async fn chained_act_nests(ctx: Ctx) -> anyhow::Result<Outcome> {
    let a_ids = identities(&ctx, ClientRole::AgentA).await?;
    let b_ids = identities(&ctx, ClientRole::AgentB).await?;
    let b = client_id(&ctx, ClientRole::AgentB)?;
    let first = delegate(&ctx, ClientRole::AgentA, json!({}), &[("audience", &b)]).await?;
    let second = reexchange(&ctx, ClientRole::AgentB, token_of(&first)?, &[]).await?;
    let s = seen(&ctx, token_of(&second)?).await?;
    let actors = s.actors();
    let ok = actors.len() >= 2 && b_ids.contains(&actors[0]) && a_ids.contains(&actors[1]);
    Ok(Outcome::expect(
        ok,
        format!("act nests: current actor {:?}, prior actor {:?}", actors.first(), actors.get(1)),
        format!(
            "after user → agent A → agent B the act chain is {actors:?}; expected [{}, {}] with B outermost ({})",
            one_of(&b_ids),
            one_of(&a_ids),
            s.via
        ),
    ))
}

/// RFC 8693 §4.1: "non-identity claims (e.g., exp, nbf, and aud) are not meaningful when used
/// within an act claim and are therefore not used" (descriptive text; the catalog grades it
/// SHOULD). Walks every nesting level.
async fn act_identity_only(ctx: Ctx) -> anyhow::Result<Outcome> {
    let a = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    let s = seen(&ctx, token_of(&a)?).await?;
    let mut act = s.claims.get("act");
    if act.is_none() {
        return Ok(Outcome::fail(format!("the delegated token has no act ({}), so its content cannot be judged", s.via)));
    }
    let mut findings = Vec::new();
    let mut path = String::from("act");
    while let Some(obj) = act.and_then(Value::as_object) {
        for claim in ["exp", "nbf", "iat", "aud", "scope", "jti"] {
            if obj.contains_key(claim) {
                findings.push(format!("{path}.{claim} is present"));
            }
        }
        act = obj.get("act");
        path.push_str(".act");
    }
    Ok(Outcome::from_findings(findings, "act carries identity claims only"))
}

/// RFC 8693 §4.4: may_act names who may act for the subject. agentcert's profile requires the
/// target to enforce it: the named agent A succeeds, agent B is refused (with invalid_request,
/// §2.2.2: a subject token "unacceptable based on policy").
async fn may_act_enforced(ctx: Ctx) -> anyhow::Result<Outcome> {
    let a = client_id(&ctx, ClientRole::AgentA)?;
    let may_act = json!({ "may_act": { "sub": a } });
    let allowed = exchange(&ctx, ClientRole::AgentA, (&ctx.user_token(may_act.clone())?, TT_JWT), &[]).await?;
    if !allowed.is_success() {
        return Ok(Outcome::fail(format!("agent A, named in may_act, was refused: {}", allowed.describe())));
    }
    let refused = exchange(&ctx, ClientRole::AgentB, (&ctx.user_token(may_act)?, TT_JWT), &[]).await?;
    Ok(expect::refused_with(
        &ctx,
        &refused,
        &["invalid_request"],
        "agent B exchanging a subject token whose may_act names only agent A",
        "RFC 8693 §2.2.2",
    ))
}

/// RFC 8693 §5 and RFC 9700 §2.3: a token issued to agent A for the default resource is not
/// agent B's to exchange (§2.2.2: an unacceptable subject token is invalid_request).
async fn foreign_token(ctx: Ctx) -> anyhow::Result<Outcome> {
    let a = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    let theirs = token_of(&a)?;
    let s = seen(&ctx, theirs).await?;
    let b = client_id(&ctx, ClientRole::AgentB)?;
    if s.aud().contains(&b) {
        return Ok(Outcome::error(format!("setup: agent A's token is meant for agent B (aud {:?}), so it is not foreign to B", s.aud())));
    }
    let answer = exchange(&ctx, ClientRole::AgentB, (theirs, TT_ACCESS_TOKEN), &[]).await?;
    Ok(expect::refused_with(
        &ctx,
        &answer,
        &["invalid_request"],
        "agent B exchanging a token issued to agent A for another audience",
        "RFC 8693 §2.2.2",
    ))
}

/// RFC 6749 §5.2 `unauthorized_client`: "The authenticated client is not authorized to use
/// this authorization grant type." Agent X is registered without token exchange.
async fn unauthorized_client(ctx: Ctx) -> anyhow::Result<Outcome> {
    let user = ctx.user_token(json!({}))?;
    let answer = exchange(&ctx, ClientRole::AgentX, (&user, TT_JWT), &[]).await?;
    Ok(expect::refused_with(
        &ctx,
        &answer,
        &["unauthorized_client"],
        "agent X (not allowed token exchange) exchanging a user token",
        "RFC 6749 §5.2",
    ))
}
