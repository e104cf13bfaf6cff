//! A delegation chain of three hops: the user delegates to agent A, A hands the work on to its
//! sub-agent B, and B to a tool agent. At every hop the current actor goes outermost in `act`
//! with the prior ones nested inside (RFC 8693 §4.1), and the scope only ever shrinks.

use super::narrowing::within;
use super::semantics::{identities, one_of};
use super::{client_id, delegate, reexchange, seen, show, token_of, user_subject, Seen, SUITE};
use crate::expect;
use agentcert_engine::oauth::{scopes, TokenAnswer, TT_ACCESS_TOKEN};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome};
use serde_json::json;
use std::collections::BTreeSet;

pub fn checks() -> Vec<Check> {
    vec![check!(
        "delegation.three-hop-chain",
        SUITE,
        "user → agent A → agent B → tool agent: act nests in order, current actor outermost, and scope shrinks at every hop",
        ["DELEG-004", "NARROW-007"],
        [TokenExchange, HomeIssuerTrust],
        three_hop_chain
    )]
}

/// The scope a token carries: its own claim (JWT or introspection), else what the response
/// said it granted.
fn granted(s: &Seen, a: &TokenAnswer) -> BTreeSet<String> {
    s.scope().or_else(|| a.str("scope").map(scopes)).unwrap_or_default()
}

/// RFC 8693 §4.1: "A chain of delegation can be expressed by nesting one act claim within
/// another. The outermost act claim represents the current actor while nested act claims
/// represent prior actors." agentcert's profile adds that each hop attenuates (RFC 9700
/// §2.3, least privilege): the scope at hop n+1 ⊆ the scope at hop n.
///
/// Hop 1: agent A exchanges the user's token, for agent B. Hop 2: B re-exchanges it, for the
/// tool agent. Hop 3: the tool agent re-exchanges that, for the second resource. Then the tool
/// agent asks hop 2's token for scope it is itself allowed and hop 1 held, but hop 2 did not:
/// refused with invalid_scope, or reduced to hop 2's scope.
async fn three_hop_chain(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(tool) = ctx.profile().client(ClientRole::ToolAgent) else {
        return Ok(Outcome::skip(
            "the profile has no [clients.tool_agent]: a chain of three hops needs a third agent that may exchange tokens",
        ));
    };
    let tool_allowance = scopes(&tool.scope);
    let user = user_subject(&ctx)?;
    let (a_ids, b_ids, t_ids) = (
        identities(&ctx, ClientRole::AgentA).await?,
        identities(&ctx, ClientRole::AgentB).await?,
        identities(&ctx, ClientRole::ToolAgent).await?,
    );
    let (b, t) = (client_id(&ctx, ClientRole::AgentB)?, client_id(&ctx, ClientRole::ToolAgent)?);
    let res = &ctx.profile().resources;
    let last_resource = res.second.clone().unwrap_or_else(|| res.default.clone());

    let hop1 = delegate(&ctx, ClientRole::AgentA, json!({}), &[("audience", &b)]).await?;
    let s1 = seen(&ctx, token_of(&hop1)?).await?;
    let hop2 = reexchange(&ctx, ClientRole::AgentB, token_of(&hop1)?, &[("audience", &t)]).await?;
    let s2 = seen(&ctx, token_of(&hop2)?).await?;
    let hop3 = reexchange(&ctx, ClientRole::ToolAgent, token_of(&hop2)?, &[("resource", &last_resource)]).await?;
    let s3 = seen(&ctx, token_of(&hop3)?).await?;

    let mut findings = Vec::new();
    let expected = [&t_ids, &b_ids, &a_ids];
    let actors = s3.actors();
    let in_order = actors.len() >= 3 && actors.iter().zip(expected).all(|(got, ids)| ids.contains(got));
    if !in_order {
        findings.push(format!(
            "after three hops the act chain is {actors:?} ({}); expected [{}, {}, {}], the current actor outermost",
            s3.via,
            one_of(&t_ids),
            one_of(&b_ids),
            one_of(&a_ids)
        ));
    }
    if s3.str("sub") != Some(user.as_str()) {
        findings.push(format!("after three hops sub is {:?}, not the user {user:?}", s3.claims.get("sub")));
    }
    let (g1, g2, g3) = (granted(&s1, &hop1), granted(&s2, &hop2), granted(&s3, &hop3));
    for (n, (outer, inner)) in [(&g1, &g2), (&g2, &g3)].into_iter().enumerate() {
        let extra: BTreeSet<String> = inner.difference(outer).cloned().collect();
        if !extra.is_empty() {
            findings.push(format!(
                "hop {} holds {} beyond hop {}'s {}: {} was gained",
                n + 2,
                show(inner),
                n + 1,
                show(outer),
                show(&extra)
            ));
        }
    }
    let chain = Outcome::from_findings(
        findings,
        format!("act chain {actors:?} with the tool agent outermost; scope {} → {} → {}", show(&g1), show(&g2), show(&g3)),
    );

    // The tool agent over-asks: scope it may have and hop 1 held, but hop 2 did not.
    let beyond: BTreeSet<String> = tool_allowance.intersection(&g1).filter(|s| !g2.contains(*s)).cloned().collect();
    if beyond.is_empty() {
        return Ok(chain);
    }
    let ask: Vec<String> = g2.union(&beyond).cloned().collect();
    let over = super::exchange(
        &ctx,
        ClientRole::ToolAgent,
        (token_of(&hop2)?, TT_ACCESS_TOKEN),
        &[("scope", &ask.join(" ")), ("resource", &last_resource)],
    )
    .await?;
    let what = format!("the tool agent asking hop 2's token (scope {}) for {}", show(&g2), show(&beyond));
    Ok(expect::all(vec![chain, within(&ctx, &over, &g2, &what).await?]))
}
