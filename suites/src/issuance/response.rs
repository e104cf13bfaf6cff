//! The client credentials success response (RFC 6749 §4.4.3, §5.1) and the scope it grants
//! (RFC 6749 §3.3).

use crate::expect;
use agentcert_engine::http::Response;
use agentcert_engine::jose::decode_unverified;
use agentcert_engine::oauth::{scopes, TokenAnswer};
use agentcert_engine::{ClientRole, Ctx, Outcome};
use anyhow::anyhow;
use serde_json::Value;
use std::collections::BTreeSet;

/// A successful client credentials response for agent A, or an error saying why there was
/// none: the checks below judge details of a success, so no success is a setup failure.
async fn success(ctx: &Ctx) -> anyhow::Result<(Response, TokenAnswer)> {
    let resp = ctx.client_credentials(ClientRole::AgentA, None).await?;
    let answer = TokenAnswer::from(&resp);
    if !answer.is_success() {
        return Err(anyhow!("setup: agent_a's client credentials request did not succeed: {}", answer.describe()));
    }
    Ok((resp, answer))
}

/// RFC 6749 §4.4.3 and §5.1: a successful request gets HTTP 200 with `access_token` and
/// `token_type`, both REQUIRED, as strings.
pub async fn success_shape(ctx: Ctx) -> anyhow::Result<Outcome> {
    let resp = ctx.client_credentials(ClientRole::AgentA, None).await?;
    let answer = TokenAnswer::from(&resp);
    if resp.status != 200 {
        return Ok(Outcome::fail(format!("agent_a's client credentials request got {}, not 200 (RFC 6749 §5.1)", answer.describe())));
    }
    let Some(body) = &answer.body else {
        return Ok(Outcome::fail(format!(
            "HTTP 200 with a body that is not a JSON object: {}",
            agentcert_engine::http::snippet(&resp.body)
        )));
    };
    let mut findings = Vec::new();
    match body.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(Value::String(_)) => findings.push("access_token is an empty string".to_string()),
        Some(other) => findings.push(format!("access_token is not a string but {}", kind(other))),
        None => findings.push("access_token is missing".to_string()),
    }
    match body.get("token_type") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(other) => findings.push(format!("token_type is not a non-empty string but {}", kind(other))),
        None => findings.push("token_type is missing".to_string()),
    }
    Ok(Outcome::from_findings(findings, "HTTP 200 with a string access_token and token_type"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// RFC 6749 §7.1 and §5.1: `token_type` names a registered type and is case-insensitive;
/// a bearer token is `Bearer` (RFC 6750 §4), a DPoP-bound one `DPoP` (RFC 9449 §5).
pub async fn token_type_bearer(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (_, answer) = success(&ctx).await?;
    Ok(match answer.str("token_type") {
        Some(t) if t.eq_ignore_ascii_case("bearer") || t.eq_ignore_ascii_case("dpop") => Outcome::pass(format!("token_type is {t:?}")),
        Some(t) => {
            Outcome::fail(format!("token_type is {t:?}; a bearer token's type is Bearer (RFC 6750 §4), compared case-insensitively"))
        }
        None => Outcome::fail(format!("token_type is missing or not a string: {:?}", answer.get("token_type"))),
    })
}

/// RFC 6749 §5.1: the parameters are top-level members of a JSON object, served as
/// `application/json`.
pub async fn json_response(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (resp, _) = success(&ctx).await?;
    Ok(match resp.content_type() {
        Some(ct) if ct == "application/json" => Outcome::pass("application/json, a JSON object with access_token at the top level"),
        other => {
            Outcome::fail(format!("Content-Type is {:?}, not application/json (RFC 6749 §5.1)", other.unwrap_or_else(|| "absent".into())))
        }
    })
}

/// RFC 6749 §5.1: "The authorization server MUST include the HTTP Cache-Control response
/// header field with a value of no-store in any response containing tokens". The same
/// sentence asks for `Pragma: no-cache`, an HTTP/1.0 header RFC 9111 §5.4 deprecates and the
/// OAuth 2.1 draft drops: its absence is reported, not failed.
pub async fn no_store(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (resp, _) = success(&ctx).await?;
    let cache_control: Vec<String> =
        resp.headers.get_all("cache-control").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
    let has_no_store = cache_control.iter().flat_map(|v| v.split(',')).any(|d| d.trim().eq_ignore_ascii_case("no-store"));
    if !has_no_store {
        return Ok(Outcome::fail(format!(
            "Cache-Control is {:?}: a response carrying a token must say no-store (RFC 6749 §5.1)",
            if cache_control.is_empty() { "absent".to_string() } else { cache_control.join(", ") }
        )));
    }
    let pragma = resp.header("pragma").is_some_and(|p| p.to_ascii_lowercase().contains("no-cache"));
    Ok(Outcome::pass(if pragma {
        "Cache-Control: no-store and Pragma: no-cache"
    } else {
        "Cache-Control: no-store (Pragma: no-cache is absent; RFC 9111 deprecates it)"
    }))
}

/// RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included." A client that holds its own
/// credentials asks again instead.
pub async fn no_refresh_token(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (_, answer) = success(&ctx).await?;
    Ok(Outcome::expect(
        answer.get("refresh_token").is_none(),
        "no refresh_token",
        "the client credentials response includes a refresh_token (RFC 6749 §4.4.3: SHOULD NOT)",
    ))
}

/// agentcert's profile on RFC 6749 §5.1 (expires_in RECOMMENDED) and RFC 9700 §2.3: agent
/// tokens say how long they live, and live no longer than the target promises.
pub async fn expires_in_bounded(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (_, answer) = success(&ctx).await?;
    let max = ctx.profile().timing.max_token_lifetime.as_secs();
    Ok(match answer.get("expires_in") {
        None => Outcome::fail("expires_in is missing: an agent's token must state its lifetime"),
        Some(v) => match v.as_u64() {
            None => Outcome::fail(format!("expires_in is {v}, not a positive integer number of seconds (RFC 6749 §5.1)")),
            Some(0) => Outcome::fail("expires_in is 0"),
            Some(n) if n > max => Outcome::fail(format!("expires_in is {n} s, longer than the profile's max_token_lifetime of {max} s")),
            Some(n) => Outcome::pass(format!("expires_in is {n} s (at most {max} s)")),
        },
    })
}

/// RFC 6749 §3.3: the server "MAY fully or partially ignore the scope requested by the
/// client", saying so in the response `scope`, or refuses with `invalid_scope` (§5.2). It
/// never grants a scope beyond the client's allowance, and never more than was asked for
/// (RFC 9700 §2.3). Asks for one allowed scope plus one the client does not have: the home
/// issuer's user scope that no agent holds (`mail.send` in the reference profile).
pub async fn scope_beyond_allowance(ctx: Ctx) -> anyhow::Result<Outcome> {
    let allowance = scopes(&ctx.client(ClientRole::AgentA)?.scope);
    let beyond = ctx
        .profile()
        .home_issuer
        .as_ref()
        .and_then(|h| scopes(&h.scope).into_iter().find(|s| !allowance.contains(s)))
        .unwrap_or_else(|| "agentcert.not-allowed".to_string());
    let requested: Vec<String> = allowance.iter().take(1).cloned().chain([beyond.clone()]).collect();
    let requested_str = requested.join(" ");
    let resp = ctx.client_credentials(ClientRole::AgentA, Some(&requested_str)).await?;
    let answer = TokenAnswer::from(&resp);
    let what = format!("a request for scope {requested_str:?} ({beyond} is beyond agent_a's allowance)");
    let Some(token) = answer.access_token() else {
        return Ok(expect::refused_with(&ctx, &answer, &["invalid_scope"], &what, "RFC 6749 §5.2"));
    };
    // RFC 6749 §5.1: `scope` may be omitted only when it is identical to the request.
    let granted: BTreeSet<String> = match answer.str("scope") {
        Some(s) => scopes(s),
        None => requested.iter().cloned().collect(),
    };
    let mut findings = Vec::new();
    if granted.contains(&beyond) {
        let how = if answer.str("scope").is_some() {
            "the response scope lists it"
        } else {
            "the response has no scope member, which means the requested scope was granted (RFC 6749 §5.1)"
        };
        findings.push(format!("{beyond} was granted: {how}"));
    }
    let extra: Vec<&String> = granted.iter().filter(|s| !requested.contains(s)).collect();
    if !extra.is_empty() {
        findings.push(format!("the granted scope adds {extra:?}, which was not requested (RFC 9700 §2.3)"));
    }
    if let Some(claim) = decode_unverified(token).ok().and_then(|j| j.claim_str("scope").map(str::to_string)) {
        if scopes(&claim).contains(&beyond) {
            findings.push(format!("the access token's scope claim {claim:?} carries {beyond}"));
        }
    }
    Ok(Outcome::from_findings(findings, format!("{beyond} was dropped: granted {:?}", granted.iter().collect::<Vec<_>>())))
}

/// RFC 9068 §2.2 and RFC 7519 §4.1.7: every token is uniquely identified; two successive
/// issuances never hand out the same token (opaque or not).
pub async fn successive_tokens_differ(ctx: Ctx) -> anyhow::Result<Outcome> {
    let first = ctx.issue_token(ClientRole::AgentA).await?;
    let second = ctx.issue_token(ClientRole::AgentA).await?;
    Ok(Outcome::expect(first != second, "two requests got two different tokens", "two successive requests got the very same access token"))
}
