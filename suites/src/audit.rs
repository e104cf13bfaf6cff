//! Audit: whoever looks at a token an agent used, in its JWT or at introspection, can tell
//! which token it is, whose authority it carries, which client holds it and who acted on the
//! way there. Delegation is only accountable if that chain survives every exchange intact.

use crate::delegation::{client_id, delegate, identities, one_of, reexchange, seen, token_of, user_subject};
use agentcert_engine::jose::decode_unverified;
use agentcert_engine::{check, Capability, Check, ClientRole, Ctx, Outcome};
use anyhow::bail;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

const SUITE: &str = "audit";

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "audit.tokens-attributable",
            SUITE,
            "Every issued token shows a unique jti, sub and client_id, and a delegated one its act chain (in the JWT or at introspection)",
            ["AUDIT-001"],
            [],
            attributable
        ),
        check!(
            "audit.act-chain-preserved",
            SUITE,
            "Re-exchanging a delegated token nests its act exactly as it was under the new actor: never reordered, rewritten or flattened",
            ["AUDIT-002"],
            [TokenExchange, HomeIssuerTrust],
            act_chain_preserved
        ),
    ]
}

/// What an auditor can learn about a token: the JWT's claims, completed by what introspection
/// (as the resource server) says when the JWT lacks a member or the token is opaque.
async fn attribution(ctx: &Ctx, token: &str) -> anyhow::Result<(Map<String, Value>, &'static str)> {
    let mut claims = decode_unverified(token).ok().and_then(|j| j.claims.as_object().cloned()).unwrap_or_default();
    let via = if claims.is_empty() { "introspection" } else { "the JWT" };
    let missing = ["jti", "sub", "client_id"].iter().any(|m| !claims.contains_key(*m));
    if missing && ctx.has(Capability::Introspection) {
        let resp = ctx.introspect(ClientRole::ResourceServer, token, None).await?;
        let body = resp.json_object()?;
        if body.get("active") != Some(&Value::Bool(true)) {
            bail!("setup: a token just issued introspects as inactive (HTTP {})", resp.status);
        }
        for (k, v) in body {
            claims.entry(k).or_insert(v);
        }
        return Ok((claims, if via == "the JWT" { "the JWT and introspection" } else { via }));
    }
    if claims.is_empty() {
        bail!("the token is opaque and the server offers no introspection: nothing about it can be audited by the harness");
    }
    Ok((claims, via))
}

fn actors(claims: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let mut act = claims.get("act");
    while let Some(a) = act.and_then(Value::as_object) {
        out.push(a.get("sub").and_then(Value::as_str).unwrap_or("(no sub)").to_string());
        act = a.get("act");
    }
    out
}

/// One token judged: `label` names it, `sub` and `client` are what it must say (`sub` None: a
/// token with no resource owner, for which client_id stands), `chain` the actors expected
/// from the current one outwards.
struct Expected<'a> {
    label: &'a str,
    sub: Option<&'a str>,
    client: &'a str,
    chain: Vec<&'a BTreeSet<String>>,
}

fn judge(claims: &Map<String, Value>, via: &str, e: &Expected<'_>, jtis: &mut BTreeSet<String>, findings: &mut Vec<String>) {
    let s = |m: &str| claims.get(m).and_then(Value::as_str).filter(|v| !v.is_empty());
    match s("jti") {
        None => findings.push(format!("{}: no jti ({via}), so the token cannot be told apart in a log", e.label)),
        Some(j) if !jtis.insert(j.to_string()) => findings.push(format!("{}: jti {j:?} was already used by another token", e.label)),
        Some(_) => {}
    }
    match (s("sub"), e.sub) {
        // No resource owner: the client is the principal, and client_id names it (RFC 9068
        // §2.2 has sub identify the client then; access-token.required-claims judges the JWT).
        (None, None) => {}
        (None, Some(_)) => findings.push(format!("{}: no sub ({via}), so whose authority it carries is unknown", e.label)),
        (Some(got), Some(want)) if got != want => findings.push(format!("{}: sub is {got:?}, not {want:?}", e.label)),
        _ => {}
    }
    match s("client_id") {
        None => findings.push(format!("{}: no client_id ({via}), so the client holding it is unknown", e.label)),
        Some(c) if c != e.client => findings.push(format!("{}: client_id is {c:?}, but {} requested it", e.label, e.client)),
        Some(_) => {}
    }
    let chain = actors(claims);
    let ok = chain.len() == e.chain.len() && chain.iter().zip(&e.chain).all(|(got, ids)| ids.contains(got));
    if !ok {
        let want: Vec<String> = e.chain.iter().map(|ids| one_of(ids)).collect();
        findings.push(format!("{}: the act chain is {chain:?} ({via}), expected [{}]", e.label, want.join(", ")));
    }
}

/// RFC 9068 §2.2: `jti`, `sub` and `client_id` are REQUIRED in a JWT access token (RFC 7662
/// §2.2 offers the same members at introspection), and RFC 8693 §4.1 `act` names who acts.
/// agentcert's profile (AUDIT-001) asks for all of it on every token an agent can hold, so
/// that any use can be traced to one token, its principal, its client and its actors (on a
/// client credentials token, client_id names the principal). Judges
/// agent A's client credentials token and, with token exchange, a delegated token (user →
/// A) and a two-hop one (→ B); every jti must differ.
async fn attributable(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut findings = Vec::new();
    let mut jtis = BTreeSet::new();
    let a = client_id(&ctx, ClientRole::AgentA)?;
    let mut judged = vec!["agent A's client credentials token"];
    let own = ctx.issue_token(ClientRole::AgentA).await?;
    let (claims, via) = attribution(&ctx, &own).await?;
    judge(&claims, via, &Expected { label: judged[0], sub: None, client: &a, chain: vec![] }, &mut jtis, &mut findings);
    if ctx.has(Capability::TokenExchange) && ctx.has(Capability::HomeIssuerTrust) {
        let user = user_subject(&ctx)?;
        let b = client_id(&ctx, ClientRole::AgentB)?;
        let (a_ids, b_ids) = (identities(&ctx, ClientRole::AgentA).await?, identities(&ctx, ClientRole::AgentB).await?);
        let hop1 = delegate(&ctx, ClientRole::AgentA, json!({}), &[("audience", &b)]).await?;
        let (claims, via) = attribution(&ctx, token_of(&hop1)?).await?;
        let e = Expected { label: "the token agent A got for the user", sub: Some(&user), client: &a, chain: vec![&a_ids] };
        judge(&claims, via, &e, &mut jtis, &mut findings);
        let hop2 = reexchange(&ctx, ClientRole::AgentB, token_of(&hop1)?, &[]).await?;
        let (claims, via) = attribution(&ctx, token_of(&hop2)?).await?;
        let e = Expected { label: "the token agent B exchanged it for", sub: Some(&user), client: &b, chain: vec![&b_ids, &a_ids] };
        judge(&claims, via, &e, &mut jtis, &mut findings);
        judged.extend(["a delegated token", "a two-hop token"]);
    }
    Ok(Outcome::from_findings(findings, format!("{} each name their jti, sub, client_id and actors", judged.join(", "))))
}

/// RFC 8693 §4.1: "The outermost act claim represents the current actor while nested act
/// claims represent prior actors"; agentcert's profile (AUDIT-002) requires the prior chain to
/// be carried forward exactly as the subject token had it: not reordered, not rewritten, not
/// flattened to the last actor. user → A (for B) → B (for the tool agent, when the profile
/// has one) → tool agent: at each re-exchange, the new token's nested `act` is compared with
/// the subject token's `act`, member for member.
async fn act_chain_preserved(ctx: Ctx) -> anyhow::Result<Outcome> {
    let b = client_id(&ctx, ClientRole::AgentB)?;
    let tool = ctx.profile().client(ClientRole::ToolAgent).map(|c| c.client_id.clone());
    let first = delegate(&ctx, ClientRole::AgentA, json!({}), &[("audience", &b)]).await?;
    let mut hops = vec![(ClientRole::AgentA, first)];
    let mut next: Vec<(ClientRole, Vec<(&str, &str)>)> =
        vec![(ClientRole::AgentB, tool.iter().map(|t| ("audience", t.as_str())).collect())];
    if tool.is_some() {
        next.push((ClientRole::ToolAgent, vec![]));
    }
    for (role, extra) in next {
        let prior = token_of(&hops.last().expect("one hop").1)?.to_string();
        hops.push((role, reexchange(&ctx, role, &prior, &extra).await?));
    }
    let mut findings = Vec::new();
    let mut acts = Vec::new();
    for (role, answer) in &hops {
        let s = seen(&ctx, token_of(answer)?).await?;
        acts.push((*role, s.claims.get("act").cloned(), s.via));
    }
    for pair in acts.windows(2) {
        let ((before_role, before, _), (role, after, via)) = (&pair[0], &pair[1]);
        let Some(before) = before else {
            findings.push(format!("the token {} got has no act, so there is no chain to carry forward", before_role.key()));
            continue;
        };
        let nested = after.as_ref().and_then(|a| a.get("act"));
        if nested != Some(before) {
            let shown = nested.map_or_else(|| "nothing".to_string(), Value::to_string);
            findings.push(format!("when {} re-exchanged, the prior chain {before} became {shown} inside act ({via})", role.key()));
        }
    }
    let chain: Vec<&str> = hops.iter().map(|(r, _)| r.key()).collect();
    Ok(Outcome::from_findings(findings, format!("over user → {}, each token nests its predecessor's act unchanged", chain.join(" → "))))
}
