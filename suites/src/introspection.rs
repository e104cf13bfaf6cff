//! Introspection (RFC 7662): what a resource server learns about an agent's token. Live tokens
//! read active with their claims; everything else reads `{"active": false}` and nothing more;
//! only authorized callers are answered.

use crate::delegation::{client_id, delegate, seen, token_of, user_subject};
use crate::expect;
use agentcert_engine::http::Response;
use agentcert_engine::jose::{decode_unverified, now, random_id, tamper_claims, unsigned, SigningKey};
use agentcert_engine::oauth::{scopes, TokenAnswer};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome, Verdict};
use serde_json::{json, Map, Value};
use std::time::Duration;

const SUITE: &str = "introspection";

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "introspection.active-token-claims",
            SUITE,
            "A live token reads active: true (a JSON boolean) with scope, client_id and exp matching the token",
            ["INTRO-002"],
            [Introspection],
            active_claims
        ),
        check!(
            "introspection.unknown-token-inactive",
            SUITE,
            "A token the server never issued reads 200 {\"active\": false}",
            ["INTRO-003"],
            [Introspection],
            unknown_inactive
        ),
        check!(
            "introspection.inactive-has-no-other-members",
            SUITE,
            "An inactive response carries no member besides active",
            ["INTRO-003"],
            [Introspection],
            inactive_no_members
        ),
        check!(
            "introspection.garbage-token-inactive",
            SUITE,
            "Strings that are not tokens read 200 {\"active\": false}, never an error or a 5xx",
            ["INTRO-003", "ERR-008"],
            [Introspection],
            garbage_inactive
        ),
        check!(
            "introspection.requires-authentication",
            SUITE,
            "An introspection request without caller authentication gets 401",
            ["INTRO-001"],
            [Introspection],
            requires_auth
        ),
        check!(
            "introspection.unentitled-client-sees-nothing",
            SUITE,
            "Agent X, not a resource server, learns nothing about agent A's token",
            ["INTRO-001"],
            [Introspection],
            unentitled_client
        ),
        check!(
            "introspection.forged-token-inactive",
            SUITE,
            "A copy of a real token re-signed by another key, tampered, or unsigned reads inactive",
            ["INTRO-004"],
            [Introspection, JwtAccessTokens],
            forged_inactive
        ),
        check!(
            "introspection.expired-token-inactive",
            SUITE,
            "A token past its exp reads inactive",
            ["INTRO-004"],
            [Introspection, TokenExchange, HomeIssuerTrust],
            expired_inactive
        ),
        check!(
            "introspection.wrong-hint-still-found",
            SUITE,
            "token_type_hint=refresh_token for an access token still finds it",
            ["INTRO-005"],
            [Introspection],
            wrong_hint
        ),
        check!(
            "introspection.delegated-token-shows-act",
            SUITE,
            "A delegated token reads sub = the user and act naming agent A",
            ["INTRO-006"],
            [Introspection, TokenExchange, HomeIssuerTrust],
            delegated_shows_act
        ),
    ]
}

/// Introspects as the resource server and returns the body, or why it is not an answer.
async fn ask(
    ctx: &Ctx,
    caller: ClientRole,
    token: &str,
    hint: Option<&str>,
) -> anyhow::Result<(Response, Result<Map<String, Value>, String>)> {
    let resp = ctx.introspect(caller, token, hint).await?;
    let body = if resp.status != 200 {
        Err(format!("HTTP {} ({})", resp.status, TokenAnswer::from(&resp).describe()))
    } else {
        resp.json_object().map_err(|e| format!("{e:#}"))
    };
    Ok((resp, body))
}

/// None when `body` is exactly an inactive answer's `active`; else what is wrong.
fn not_inactive(body: &Result<Map<String, Value>, String>) -> Option<String> {
    match body {
        Err(e) => Some(e.clone()),
        Ok(m) => match m.get("active") {
            Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some("active: true".into()),
            other => Some(format!("active is {other:?}, not the JSON boolean false")),
        },
    }
}

/// RFC 7662 §2.2: `active` is REQUIRED and a boolean; the other members are OPTIONAL, but when
/// present they describe the token. agentcert's profile wants scope, client_id and exp (a
/// resource server cannot enforce scope or expiry without them): their absence is a warning,
/// a wrong value a failure.
async fn active_claims(ctx: Ctx) -> anyhow::Result<Outcome> {
    let issued = TokenAnswer::from(&ctx.client_credentials(ClientRole::AgentA, None).await?);
    let token = issued.access_token().ok_or_else(|| anyhow::anyhow!("setup: no access token for agent_a: {}", issued.describe()))?;
    let (_, body) = ask(&ctx, ClientRole::ResourceServer, token, None).await?;
    let body = match body {
        Ok(b) => b,
        Err(e) => return Ok(Outcome::fail(format!("introspecting a live token got {e}"))),
    };
    if body.get("active") != Some(&Value::Bool(true)) {
        return Ok(Outcome::fail(format!("a live token reads active = {:?}, not the JSON boolean true", body.get("active"))));
    }
    // What the token says of itself, when it is a JWT; otherwise what the harness knows.
    let mut expected: Map<String, Value> = decode_unverified(token).ok().and_then(|j| j.claims.as_object().cloned()).unwrap_or_default();
    expected.entry("client_id").or_insert_with(|| json!(ctx.client(ClientRole::AgentA).map(|c| c.client_id.clone()).unwrap_or_default()));
    let mut findings = Vec::new();
    for name in ["client_id", "sub", "aud", "iss", "exp", "iat", "jti"] {
        if let (Some(got), Some(want)) = (body.get(name), expected.get(name)) {
            if got != want {
                findings.push(format!("{name} is {got} but the token says {want}"));
            }
        }
    }
    if let (Some(got), Some(want)) =
        (body.get("scope").and_then(Value::as_str), expected.get("scope").and_then(Value::as_str).or(issued.str("scope")))
    {
        if scopes(got) != scopes(want) {
            findings.push(format!("scope is {got:?} but the token was issued {want:?}"));
        }
    }
    for name in ["exp", "iat", "nbf"] {
        if body.get(name).is_some_and(|v| !v.is_i64() && !v.is_u64()) {
            findings.push(format!("{name} is {}, not an integer timestamp (RFC 7662 §2.2)", body[name]));
        }
    }
    if body.get("exp").and_then(Value::as_i64).is_some_and(|e| e <= now()) {
        findings.push("exp is already past for a live token".into());
    }
    if !findings.is_empty() {
        return Ok(Outcome::fail(findings.join("; ")));
    }
    // A token issued without any scope has none to report: expect `scope` only when it had one.
    let had_scope = expected.get("scope").and_then(Value::as_str).or(issued.str("scope")).is_some_and(|s| !s.trim().is_empty());
    let missing: Vec<&str> =
        ["scope", "client_id", "exp"].into_iter().filter(|m| !body.contains_key(*m) && (*m != "scope" || had_scope)).collect();
    if !missing.is_empty() {
        return Ok(Outcome {
            verdict: Verdict::Warn,
            reason: format!(
                "active: true, but {} missing: OPTIONAL in RFC 7662 §2.2, yet a resource server needs them to enforce the token",
                missing.join(", ")
            ),
        });
    }
    Ok(Outcome::pass("active: true with scope, client_id and exp matching the token"))
}

/// RFC 7662 §2.2: a token that "does not exist on this server" gets `"active": false`, and
/// §2.3: that is "not considered an error response".
async fn unknown_inactive(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (_, body) = ask(&ctx, ClientRole::ResourceServer, &random_id(), None).await?;
    Ok(match not_inactive(&body) {
        None => Outcome::pass("an unknown token reads {\"active\": false}"),
        Some(why) => Outcome::fail(format!("an unknown token got {why}; RFC 7662 §2.2 requires 200 {{\"active\": false}}")),
    })
}

/// RFC 7662 §2.2: "the authorization server SHOULD NOT include any additional information
/// about an inactive token, including why the token is inactive." A SHOULD NOT: reported as a
/// warning, whatever the cited row's level.
async fn inactive_no_members(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (_, body) = ask(&ctx, ClientRole::ResourceServer, &random_id(), None).await?;
    if let Some(why) = not_inactive(&body) {
        return Ok(Outcome::error(format!("an unknown token got {why}, not an inactive answer, so its members cannot be judged (see introspection.unknown-token-inactive)")));
    }
    let extra: Vec<String> = body.iter().flat_map(|m| m.keys()).filter(|k| *k != "active").cloned().collect();
    Ok(if extra.is_empty() {
        Outcome::pass("exactly {\"active\": false}")
    } else {
        Outcome {
            verdict: Verdict::Warn,
            reason: format!("the inactive answer also carries {} (RFC 7662 §2.2 SHOULD NOT: reported as a warning)", extra.join(", ")),
        }
    })
}

/// RFC 7662 §2.3: "a properly formed and authorized query for an inactive or otherwise invalid
/// token … is not considered an error response"; the answer is `"active": false`. A 5xx is a
/// robustness failure (ERR-008).
async fn garbage_inactive(ctx: Ctx) -> anyhow::Result<Outcome> {
    let long = "A".repeat(8 * 1024);
    let cases = [
        ("garbage", "a word"),
        ("a.b.c", "three segments that are not base64url JSON"),
        ("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0", "two JWT segments"),
        ("\u{0}\u{1}\u{7f}ÿ✗", "control and non-ASCII characters"),
        (long.as_str(), "8 KB of one letter"),
    ];
    let mut findings = Vec::new();
    for (token, what) in cases {
        let (_, body) = ask(&ctx, ClientRole::ResourceServer, token, None).await?;
        if let Some(why) = not_inactive(&body) {
            findings.push(format!("{what}: {why}"));
        }
    }
    Ok(Outcome::from_findings(findings, "every non-token reads {\"active\": false}"))
}

/// RFC 7662 §2.1: "the endpoint MUST also require some form of authorization to access this
/// endpoint"; §2.3: a caller whose credentials are invalid gets HTTP 401.
async fn requires_auth(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = ctx.issue_token(ClientRole::AgentA).await?;
    let resp = ctx.post_anonymous("introspection_endpoint", &[("token", &token)]).await?;
    if (200..300).contains(&resp.status) {
        let told = resp.json_object().ok().and_then(|m| m.get("active").cloned());
        return Ok(Outcome::fail(format!("an unauthenticated caller got HTTP {} (active = {told:?})", resp.status)));
    }
    // RFC 7662 §2.3 answers invalid credentials with 401; for no credentials at all, RFC 6749
    // §5.2's `invalid_client` ("no client authentication included") with 400 or 401 is right.
    let answer = agentcert_engine::oauth::TokenAnswer::from(&resp);
    Ok(match resp.status {
        401 => Outcome::pass("an unauthenticated caller gets 401"),
        400 if answer.error() == Some("invalid_client") => Outcome::pass("an unauthenticated caller gets 400 invalid_client"),
        s if s >= 500 => Outcome::fail(format!("an unauthenticated caller caused HTTP {s}")),
        _ => expect::mismatch(
            &ctx,
            format!(
                "an unauthenticated caller was refused, but with {} where RFC 6749 §5.2 names invalid_client (400 or 401)",
                answer.describe()
            ),
        ),
    })
}

/// RFC 7662 §4: the server "SHOULD require protected resources to be specifically authorized
/// to call the introspection endpoint", and §2.2: a caller "not allowed to introspect this
/// particular token" gets `"active": false`. Agent X is a client, not a resource server, and
/// the token is neither issued to it nor meant for it. A SHOULD: reported as a warning.
async fn unentitled_client(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = ctx.issue_token(ClientRole::AgentA).await?;
    if !ctx.is_active(&token).await? {
        anyhow::bail!("setup: agent A's fresh token does not read active for the resource server");
    }
    let (resp, body) = ask(&ctx, ClientRole::AgentX, &token, None).await?;
    if matches!(resp.status, 401 | 403) {
        return Ok(Outcome::pass(format!("agent X is not allowed to introspect (HTTP {})", resp.status)));
    }
    Ok(match not_inactive(&body) {
        None => Outcome::pass("agent X is told {\"active\": false} about agent A's token"),
        Some(why) if why == "active: true" => {
            let members: Vec<&String> = body.iter().flat_map(|m| m.keys()).filter(|k| *k != "active").collect();
            Outcome {
                verdict: Verdict::Warn,
                reason: format!("agent X, which is not a resource server, introspected agent A's token: active: true with {members:?} (RFC 7662 §4 SHOULD: reported as a warning)"),
            }
        }
        Some(why) if resp.status >= 500 => Outcome::fail(format!("agent X's introspection caused {why}")),
        Some(why) => Outcome::pass(format!("agent X learns nothing: {why}")),
    })
}

/// RFC 7662 §4: the server MUST check the token's signature (among the state checks that
/// apply). Three copies of a live token with its claims, jti included: re-signed by a key the
/// harness made, tampered (claims changed under the real signature), and unsigned.
async fn forged_inactive(ctx: Ctx) -> anyhow::Result<Outcome> {
    let real = ctx.issue_token(ClientRole::AgentA).await?;
    if !ctx.is_active(&real).await? {
        anyhow::bail!("setup: the genuine token does not read active, so forged copies prove nothing");
    }
    let jwt = decode_unverified(&real)?;
    let mut wider = jwt.claims.clone();
    wider["scope"] = json!("admin");
    let forgeries = [
        (SigningKey::generate()?.sign(jwt.header_str("typ").or(Some("at+jwt")), &jwt.claims)?, "re-signed by a key the harness made"),
        (tamper_claims(&real, &wider), "its scope changed to admin under the genuine signature"),
        (unsigned(&jwt.claims), "unsigned (alg none)"),
    ];
    let mut findings = Vec::new();
    for (token, what) in &forgeries {
        let (resp, body) = ask(&ctx, ClientRole::ResourceServer, token, None).await?;
        match not_inactive(&body) {
            Some(why) if why == "active: true" || resp.status >= 500 => findings.push(format!("a copy {what}: {why}")),
            _ => {}
        }
    }
    Ok(Outcome::from_findings(findings, "every forged copy reads inactive"))
}

/// RFC 7662 §4: an expired token is inactive. A delegated token cannot outlive its subject
/// token (see delegation.exp-within-subject-exp), so a 4-second user token gives a token that
/// expires while the check waits. Allows 5 s for the server's clock.
async fn expired_inactive(ctx: Ctx) -> anyhow::Result<Outcome> {
    let a = delegate(&ctx, ClientRole::AgentA, json!({ "exp": now() + 4 }), &[]).await?;
    let token = token_of(&a)?;
    let exp = match seen(&ctx, token).await?.claims.get("exp").and_then(Value::as_i64) {
        Some(e) => e,
        None => match a.get("expires_in").and_then(Value::as_i64) {
            Some(e) => now() + e,
            None => anyhow::bail!("the delegated token states no exp and the response no expires_in"),
        },
    };
    if exp > now() + 15 {
        return Ok(Outcome::skip("the delegated token outlives its 4-second subject token, so its expiry cannot be awaited here"));
    }
    tokio::time::sleep(Duration::from_secs((exp + 1 - now()).max(0) as u64)).await;
    let deadline = exp + 5;
    loop {
        let (_, body) = ask(&ctx, ClientRole::ResourceServer, token, None).await?;
        let why = not_inactive(&body);
        if why.is_none() {
            return Ok(Outcome::pass(format!("after exp ({exp}) the token reads inactive")));
        }
        if now() > deadline {
            return Ok(Outcome::fail(format!("{} s after its exp the token still reads {}", now() - exp, why.unwrap_or_default())));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// RFC 7662 §2.1: "If the server is unable to locate the token using the given hint, it MUST
/// extend its search across all of its supported token types."
async fn wrong_hint(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = ctx.issue_token(ClientRole::AgentA).await?;
    let (_, body) = ask(&ctx, ClientRole::ResourceServer, &token, Some("refresh_token")).await?;
    Ok(match body {
        Ok(m) if m.get("active") == Some(&Value::Bool(true)) => Outcome::pass("found despite token_type_hint=refresh_token"),
        Ok(m) => Outcome::fail(format!("a live access token with token_type_hint=refresh_token reads active = {:?}", m.get("active"))),
        Err(e) => Outcome::fail(format!("a live access token with token_type_hint=refresh_token got {e}")),
    })
}

/// RFC 8693 §4.1 and §2.2 of RFC 7662: introspection describes the token, so a delegated
/// token reads sub = the user and act naming the agent, as its JWT would.
async fn delegated_shows_act(ctx: Ctx) -> anyhow::Result<Outcome> {
    let user = user_subject(&ctx)?;
    let agent = client_id(&ctx, ClientRole::AgentA)?;
    let a = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    let token = token_of(&a)?;
    let (_, body) = ask(&ctx, ClientRole::ResourceServer, token, None).await?;
    let body = match body {
        Ok(b) if b.get("active") == Some(&Value::Bool(true)) => b,
        Ok(b) => return Ok(Outcome::fail(format!("a live delegated token reads active = {:?}", b.get("active")))),
        Err(e) => return Ok(Outcome::fail(format!("introspecting a live delegated token got {e}"))),
    };
    let mut findings = Vec::new();
    if body.get("sub").and_then(Value::as_str) != Some(user.as_str()) {
        findings.push(format!("sub is {:?}, not the user {user:?}", body.get("sub")));
    }
    let in_jwt = decode_unverified(token).ok().and_then(|j| j.claims.get("act").cloned());
    match (body.get("act"), in_jwt) {
        (None, _) => findings.push("there is no act member".into()),
        (Some(act), Some(jwt_act)) if *act != jwt_act => findings.push(format!("act is {act} but the token says {jwt_act}")),
        (Some(act), None) if act.get("sub").and_then(Value::as_str) != Some(agent.as_str()) => {
            findings.push(format!("act is {act}, not naming agent A ({agent:?})"))
        }
        _ => {}
    }
    Ok(Outcome::from_findings(findings, format!("sub is {user:?} and act names the actor")))
}
