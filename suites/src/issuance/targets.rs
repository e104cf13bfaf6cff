//! What a client credentials request asks for: `scope` left out or left empty (RFC 6749 §3.1,
//! §3.2, §3.3), and `resource` malformed or repeated (RFC 8707 §2). The helpers here are shared
//! with the access-token suite, which compares tokens issued for different resources.

use super::refused_all;
use crate::delegation::{seen, show};
use crate::expect;
use agentcert_engine::jose::decode_unverified;
use agentcert_engine::oauth::{scopes, TokenAnswer, GRANT_CLIENT_CREDENTIALS};
use agentcert_engine::{ClientRole, Ctx, Outcome};
use anyhow::bail;
use std::collections::BTreeSet;

const AGENTS: [ClientRole; 3] = [ClientRole::AgentA, ClientRole::AgentB, ClientRole::AgentX];

/// A client credentials request as `role` with exactly these extra parameters (no default
/// scope or resource is added).
pub(crate) async fn cc_with(ctx: &Ctx, role: ClientRole, extra: &[(&str, &str)]) -> anyhow::Result<TokenAnswer> {
    let mut params = vec![("grant_type", GRANT_CLIENT_CREDENTIALS)];
    params.extend_from_slice(extra);
    ctx.token_request(role, &params).await
}

/// `role`'s request for the given resources, with its registered scope.
pub(crate) async fn cc_for(ctx: &Ctx, role: ClientRole, resources: &[&str]) -> anyhow::Result<TokenAnswer> {
    let scope = ctx.client(role)?.scope.trim().to_string();
    let mut extra: Vec<(&str, &str)> = resources.iter().map(|r| ("resource", *r)).collect();
    if !scope.is_empty() {
        extra.push(("scope", &scope));
    }
    cc_with(ctx, role, &extra).await
}

/// The first agent client that the server gives a token for the default resource and one for
/// the profile's second resource, asked separately: (role, default, second). None when the
/// profile names no second resource or no client may have both.
pub(crate) async fn two_resource_client(ctx: &Ctx) -> anyhow::Result<Option<(ClientRole, String, String)>> {
    let res = &ctx.profile().resources;
    let Some(second) = res.second.clone() else { return Ok(None) };
    for role in AGENTS.into_iter().filter(|r| ctx.profile().client(*r).is_some()) {
        if cc_for(ctx, role, &[&res.default]).await?.is_success() && cc_for(ctx, role, &[&second]).await?.is_success() {
            return Ok(Some((role, res.default.clone(), second)));
        }
    }
    Ok(None)
}

/// The scope a successful answer granted: the response's `scope`, else the token's own claim
/// (JWT), else None (the server states none).
fn granted(a: &TokenAnswer) -> Option<BTreeSet<String>> {
    a.str("scope")
        .map(scopes)
        .or_else(|| a.access_token().and_then(|t| decode_unverified(t).ok()).and_then(|j| j.claim_str("scope").map(scopes)))
}

fn resource_param(ctx: &Ctx) -> Vec<(&str, &str)> {
    let res = &ctx.profile().resources;
    if res.always_send {
        vec![("resource", res.default.as_str())]
    } else {
        vec![]
    }
}

/// RFC 6749 §3.2 (as §3.1): "Parameters sent without a value MUST be treated as if they were
/// omitted from the request." Agent A asks once without `scope` and once with `scope=`: both
/// must get the same answer, the same granted scope or the same error.
pub async fn empty_parameter_omitted(ctx: Ctx) -> anyhow::Result<Outcome> {
    let base = resource_param(&ctx);
    let omitted = cc_with(&ctx, ClientRole::AgentA, &base).await?;
    let mut with_empty = base.clone();
    with_empty.push(("scope", ""));
    let empty = cc_with(&ctx, ClientRole::AgentA, &with_empty).await?;
    if empty.status >= 500 {
        return Ok(Outcome::fail(format!("scope= caused a server error: {}", empty.describe())));
    }
    let shown = |s: &Option<BTreeSet<String>>| s.as_ref().map_or("no stated scope".to_string(), show);
    Ok(match (omitted.is_success(), empty.is_success()) {
        (true, true) if granted(&omitted) == granted(&empty) => {
            Outcome::pass(format!("no scope and scope= both granted {}", shown(&granted(&omitted))))
        }
        (true, true) => Outcome::fail(format!(
            "no scope granted {}, but scope= granted {}: the empty parameter was not treated as omitted",
            shown(&granted(&omitted)),
            shown(&granted(&empty))
        )),
        (false, false) if omitted.error() == empty.error() => Outcome::pass(format!("both refused alike: {}", empty.describe())),
        _ => Outcome::fail(format!(
            "no scope got {}, but scope= got {}: the empty parameter was not treated as omitted",
            omitted.describe(),
            empty.describe()
        )),
    })
}

/// RFC 6749 §3.3: "If the client omits the scope parameter when requesting authorization, the
/// authorization server MUST either process the request using a pre-defined default value or
/// fail the request indicating an invalid scope." The default is the server's to pick, but it
/// cannot exceed what the client is allowed (NARROW-001). Asks as each agent client.
pub async fn omitted_scope(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut outcomes = Vec::new();
    for role in AGENTS.into_iter().filter(|r| ctx.profile().client(*r).is_some()) {
        let allowance = scopes(&ctx.client(role)?.scope);
        let a = cc_with(&ctx, role, &resource_param(&ctx)).await?;
        let what = format!("{}'s request without scope", role.key());
        if !a.is_success() {
            outcomes.push(expect::refused_with(&ctx, &a, &["invalid_scope"], &what, "RFC 6749 §3.3"));
            continue;
        }
        let token = a.access_token().unwrap_or_default();
        let (stated, via) = match (a.str("scope"), ctx.has(agentcert_engine::Capability::Introspection) || decode_unverified(token).is_ok())
        {
            (Some(s), _) => (Some(scopes(s)), "the response"),
            (None, true) => {
                let s = seen(&ctx, token).await?;
                (s.scope(), s.via)
            }
            (None, false) => (None, "nowhere"),
        };
        let Some(granted) = stated else {
            outcomes.push(Outcome::pass(format!("{what} got a token stating no scope")));
            continue;
        };
        let extra: BTreeSet<String> = granted.difference(&allowance).cloned().collect();
        outcomes.push(Outcome::expect(
            extra.is_empty(),
            format!("{what} got the default {} ⊆ its allowance", show(&granted)),
            format!(
                "{what} was granted {} ({via}), beyond its allowance {}: {} should not be there",
                show(&granted),
                show(&allowance),
                show(&extra)
            ),
        ));
    }
    if outcomes.is_empty() {
        bail!("the profile has no agent client");
    }
    Ok(expect::all(outcomes))
}

/// RFC 8707 §2: the value of `resource` "MUST be an absolute URI" and "MUST NOT include a
/// fragment component"; a server that "does not consider the resource(s) acceptable" answers
/// `invalid_target`. Sends the default resource without its scheme (a relative reference) and
/// with a fragment, after a control showing the default itself is accepted.
pub async fn malformed_resource(ctx: Ctx) -> anyhow::Result<Outcome> {
    let default = ctx.profile().resources.default.clone();
    let control = cc_for(&ctx, ClientRole::AgentA, &[&default]).await?;
    if !control.is_success() {
        bail!(
            "setup: agent_a's request for resource={default} did not succeed ({}), so refusals of malformed ones prove nothing",
            control.describe()
        );
    }
    let relative = match default.split_once("://") {
        Some((_, rest)) => format!("//{rest}"),
        None => "/agentcert/relative".to_string(),
    };
    let fragment = format!("{default}#agentcert");
    let mut cases = Vec::new();
    for (resource, what) in [(relative.as_str(), "a relative resource"), (fragment.as_str(), "a resource with a fragment")] {
        let a = cc_for(&ctx, ClientRole::AgentA, &[resource]).await?;
        cases.push((format!("{what} ({resource})"), a));
    }
    Ok(refused_all(&ctx, &cases, &["invalid_target"], "RFC 8707 §2"))
}

/// RFC 8707 §2: "Multiple resource parameters MAY be used to indicate that the requested token
/// is intended to be used at multiple resources"; §2.2 lets the server refuse that
/// (invalid_target). What it may not do is issue a token that silently leaves one out. Asks,
/// as a client allowed each resource on its own, for both at once.
pub async fn multiple_resources(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some((role, first, second)) = two_resource_client(&ctx).await? else {
        return Ok(Outcome::skip("the profile names no [resources].second, or no agent client may obtain tokens for both resources"));
    };
    let a = cc_for(&ctx, role, &[&first, &second]).await?;
    let what = format!("{}'s request with resource={first} and resource={second}", role.key());
    if !a.is_success() {
        return Ok(expect::refused_with(&ctx, &a, &["invalid_target"], &what, "RFC 8707 §2.2"));
    }
    let Some(token) = a.access_token() else { bail!("unreachable: success without a token") };
    let s = seen(&ctx, token).await?;
    let aud = s.aud();
    let dropped: Vec<&str> = [first.as_str(), second.as_str()].into_iter().filter(|r| !aud.contains(*r)).collect();
    Ok(Outcome::expect(
        dropped.is_empty(),
        format!("{what} got a token whose aud {} names both", show(&aud)),
        format!("{what} got a token whose aud is {} ({}): {} silently dropped", show(&aud), s.via, dropped.join(" and ")),
    ))
}
