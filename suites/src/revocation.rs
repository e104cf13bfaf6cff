//! Revocation (RFC 7009): an agent's token can be killed, by its owner only, at once, and the
//! tokens exchanged from it go with it. Whether a token is dead is read at introspection
//! (RFC 7662), as the resource server, within the profile's `timing.revoke_within`.

use crate::delegation::{delegate, exchange, reexchange, token_of};
use crate::expect;
use agentcert_engine::client_auth;
use agentcert_engine::http::Request;
use agentcert_engine::oauth::{TokenAnswer, TT_ACCESS_TOKEN};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome};
use serde_json::json;
use std::time::{Duration, Instant};

const SUITE: &str = "revocation";

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "revocation.revoked-token-inactive",
            SUITE,
            "A revoked access token introspects as inactive within revoke_within",
            ["REV-002"],
            [Revocation, Introspection],
            revoked_inactive
        ),
        check!(
            "revocation.revoked-token-not-exchangeable",
            SUITE,
            "A revoked delegated token is refused as a subject_token",
            ["REV-002", "DELEG-007"],
            [Revocation, TokenExchange, HomeIssuerTrust],
            revoked_not_exchangeable
        ),
        check!(
            "revocation.unknown-token-gets-200",
            SUITE,
            "Revoking an unknown or malformed token answers 200",
            ["REV-005"],
            [Revocation],
            unknown_token_200
        ),
        check!(
            "revocation.wrong-hint-still-revokes",
            SUITE,
            "token_type_hint=refresh_token for an access token still revokes it",
            ["REV-006"],
            [Revocation, Introspection],
            wrong_hint
        ),
        check!(
            "revocation.bogus-hint-ignored",
            SUITE,
            "An unknown token_type_hint value is ignored: 200, and the token is revoked",
            ["REV-006"],
            [Revocation, Introspection],
            bogus_hint
        ),
        check!(
            "revocation.requires-client-authentication",
            SUITE,
            "A revocation request without client authentication is refused",
            ["REV-009"],
            [Revocation],
            requires_auth
        ),
        check!(
            "revocation.other-client-cannot-revoke",
            SUITE,
            "Agent B cannot revoke agent A's token: it stays active",
            ["REV-008"],
            [Revocation, Introspection],
            other_client
        ),
        check!(
            "revocation.no-false-200",
            SUITE,
            "An access token is revoked, or the server says unsupported_token_type: never a 200 that does nothing",
            ["REV-007"],
            [Revocation, Introspection],
            no_false_200
        ),
        check!(
            "revocation.cascades-to-exchanged-tokens",
            SUITE,
            "Revoking a delegated token also kills the tokens exchanged from it",
            ["REV-010"],
            [Revocation, Introspection, TokenExchange, HomeIssuerTrust],
            cascades
        ),
        check!(
            "revocation.get-refused",
            SUITE,
            "A revocation request by GET (token in the query) is refused and revokes nothing",
            ["REV-001"],
            [Revocation],
            get_refused
        ),
        check!(
            "revocation.missing-token-invalid-request",
            SUITE,
            "A revocation request without token gets 400 invalid_request",
            ["REV-001"],
            [Revocation],
            missing_token
        ),
    ]
}

/// Revokes `token` as its owner `role`. `Err(outcome)` when the server did not take the
/// request: that is the verdict of a check that relies on revocation working (RFC 7009
/// §2.2.1 `unsupported_token_type` is honest, but it still means the token lives on).
async fn revoke_as_owner(ctx: &Ctx, role: ClientRole, token: &str, hint: Option<&str>) -> anyhow::Result<Result<(), Outcome>> {
    let resp = ctx.revoke(role, token, hint).await?;
    if resp.status == 200 {
        return Ok(Ok(()));
    }
    let answer = TokenAnswer::from(&resp);
    Ok(Err(match answer.error() {
        Some("unsupported_token_type") => Outcome::fail(format!(
            "this server cannot revoke access tokens: it answered {} (RFC 7009 §2.2.1), so a stolen or leaked agent token stays usable until it expires",
            answer.describe()
        )),
        _ => Outcome::fail(format!("{} revoking its own access token got {}, not 200 (RFC 7009 §2.2)", role.key(), answer.describe())),
    }))
}

/// Polls introspection until `token` reads inactive or `revoke_within` has passed.
async fn dies(ctx: &Ctx, token: &str) -> anyhow::Result<bool> {
    let deadline = Instant::now() + ctx.profile().timing.revoke_within;
    loop {
        if !ctx.is_active(token).await? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Setup: an access token of agent A that introspects as active.
async fn live_token(ctx: &Ctx) -> anyhow::Result<String> {
    let token = ctx.issue_token(ClientRole::AgentA).await?;
    if !ctx.is_active(&token).await? {
        anyhow::bail!("setup: a freshly issued token of agent_a already introspects as inactive");
    }
    Ok(token)
}

/// Revokes a live token of agent A (with `hint`) and judges whether it died.
async fn revoke_and_watch(ctx: &Ctx, hint: Option<&str>, label: &str) -> anyhow::Result<Outcome> {
    let token = live_token(ctx).await?;
    if let Err(outcome) = revoke_as_owner(ctx, ClientRole::AgentA, &token, hint).await? {
        return Ok(outcome);
    }
    let within = ctx.profile().timing.revoke_within;
    Ok(Outcome::expect(
        dies(ctx, &token).await?,
        format!("{label}: 200, and the token introspects as inactive"),
        format!("{label}: the server answered 200 but the token still introspects as active after {within:?}"),
    ))
}

/// RFC 7009 §2.1: "The invalidation takes place immediately, and the token cannot be used
/// again after the revocation"; agentcert's profile applies it to agents' access tokens.
async fn revoked_inactive(ctx: Ctx) -> anyhow::Result<Outcome> {
    revoke_and_watch(&ctx, None, "revoking agent A's access token").await
}

/// RFC 7009 §2.1 (the token "cannot be used again") and RFC 8693 §2.2.2 (an invalid subject
/// token is invalid_request): a revoked delegated token buys nothing at the token endpoint.
/// The control re-exchange proves the token was exchangeable before.
async fn revoked_not_exchangeable(ctx: Ctx) -> anyhow::Result<Outcome> {
    let first = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    let token = token_of(&first)?;
    reexchange(&ctx, ClientRole::AgentA, token, &[]).await?;
    if let Err(outcome) = revoke_as_owner(&ctx, ClientRole::AgentA, token, None).await? {
        return Ok(outcome);
    }
    let deadline = Instant::now() + ctx.profile().timing.revoke_within;
    loop {
        let answer = exchange(&ctx, ClientRole::AgentA, (token, TT_ACCESS_TOKEN), &[]).await?;
        if !answer.is_success() || Instant::now() >= deadline {
            return Ok(expect::refused_with(
                &ctx,
                &answer,
                &["invalid_request"],
                "re-exchanging a revoked delegated token",
                "RFC 8693 §2.2.2",
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// RFC 7009 §2.2: "The authorization server responds with HTTP status code 200 if the token
/// has been revoked successfully or if the client submitted an invalid token."
async fn unknown_token_200(ctx: Ctx) -> anyhow::Result<Outcome> {
    let unknown = agentcert_engine::jose::random_id();
    let mut findings = Vec::new();
    for (token, what) in [(unknown.as_str(), "an unknown token"), ("not a token at all ✗", "a malformed token")] {
        let resp = ctx.revoke(ClientRole::AgentA, token, None).await?;
        if resp.status != 200 {
            findings.push(format!("{what} got {} (RFC 7009 §2.2: 200)", TokenAnswer::from(&resp).describe()));
        }
    }
    Ok(Outcome::from_findings(findings, "unknown and malformed tokens both get 200"))
}

/// RFC 7009 §2.1: "If the server is unable to locate the token using the given hint, it MUST
/// extend its search across all of its supported token types."
async fn wrong_hint(ctx: Ctx) -> anyhow::Result<Outcome> {
    revoke_and_watch(&ctx, Some("refresh_token"), "revoking an access token with token_type_hint=refresh_token").await
}

/// RFC 7009 §2.2: "An invalid token type hint value is ignored by the authorization server
/// and does not influence the revocation response."
async fn bogus_hint(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = live_token(&ctx).await?;
    let resp = ctx.revoke(ClientRole::AgentA, &token, Some("foo")).await?;
    if resp.status != 200 {
        return Ok(Outcome::fail(format!(
            "token_type_hint=foo got {}: an invalid hint must be ignored (RFC 7009 §2.2)",
            TokenAnswer::from(&resp).describe()
        )));
    }
    let within = ctx.profile().timing.revoke_within;
    Ok(Outcome::expect(
        dies(&ctx, &token).await?,
        "token_type_hint=foo was ignored: 200, and the token is revoked",
        format!("token_type_hint=foo got 200 but the token still introspects as active after {within:?}"),
    ))
}

/// RFC 7009 §2.1: "The authorization server first validates the client credentials (in case
/// of a confidential client) … If this validation fails, the request is refused and the
/// client is informed of the error"; RFC 6749 §5.2: that error is invalid_client.
async fn requires_auth(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = ctx.issue_token(ClientRole::AgentA).await?;
    let resp = ctx.post_anonymous("revocation_endpoint", &[("token", &token)]).await?;
    if (200..300).contains(&resp.status) {
        let revoked = if ctx.has(agentcert_engine::Capability::Introspection) {
            if ctx.is_active(&token).await? {
                "; the token is still active"
            } else {
                ", and the token was revoked"
            }
        } else {
            ""
        };
        return Ok(Outcome::fail(format!("a revocation request with no client authentication got HTTP {}{revoked}", resp.status)));
    }
    let answer = TokenAnswer::from(&resp);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], "a revocation request with no client authentication", "RFC 6749 §5.2"))
}

/// RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
/// revocation request. If this validation fails, the request is refused". What matters is
/// that the token lives on; the status is reported but not judged (answering 200, as for an
/// unknown token, avoids disclosing that the token exists).
async fn other_client(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = live_token(&ctx).await?;
    let resp = ctx.revoke(ClientRole::AgentB, &token, None).await?;
    let answer = match resp.status {
        200 => "HTTP 200".to_string(),
        _ => TokenAnswer::from(&resp).describe(),
    };
    Ok(Outcome::expect(
        ctx.is_active(&token).await?,
        format!("agent B's revocation of agent A's token ({answer}) left it active"),
        format!("agent B revoked agent A's token ({answer}): it now introspects as inactive"),
    ))
}

/// RFC 7009 §2.2.1: `unsupported_token_type` is for "a server not supporting" access-token
/// revocation. Either the token dies, or the server says so; a 200 that leaves the token
/// active tells the agent a lie it will act on.
async fn no_false_200(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = live_token(&ctx).await?;
    let resp = ctx.revoke(ClientRole::AgentA, &token, None).await?;
    let answer = TokenAnswer::from(&resp);
    if resp.status != 200 {
        return Ok(Outcome::expect(
            answer.error() == Some("unsupported_token_type"),
            format!("the server declares it cannot revoke access tokens ({})", answer.describe()),
            format!("revoking agent A's own access token got {}: neither revoked nor declared unsupported_token_type", answer.describe()),
        ));
    }
    let within = ctx.profile().timing.revoke_within;
    Ok(Outcome::expect(
        dies(&ctx, &token).await?,
        "200, and the token is revoked",
        format!("a false 200: the token still introspects as active after {within:?} (a server that cannot revoke access tokens answers unsupported_token_type)"),
    ))
}

/// RFC 7009 §2.1: revoking a token "may cause the revocation of related tokens"; agentcert
/// grades the delegation cascade SHOULD (a revoked delegation must not live on in tokens
/// exchanged from it). user → A (token 1) → A re-exchanges (token 2); revoke 1, 2 must die.
async fn cascades(ctx: Ctx) -> anyhow::Result<Outcome> {
    let first = delegate(&ctx, ClientRole::AgentA, json!({}), &[]).await?;
    let parent = token_of(&first)?;
    let second = reexchange(&ctx, ClientRole::AgentA, parent, &[]).await?;
    let child = token_of(&second)?;
    if !ctx.is_active(child).await? {
        anyhow::bail!("setup: the exchanged token already introspects as inactive");
    }
    if let Err(outcome) = revoke_as_owner(&ctx, ClientRole::AgentA, parent, None).await? {
        return Ok(outcome);
    }
    if !dies(&ctx, parent).await? {
        return Ok(Outcome::fail("the revoked token itself still introspects as active, so no cascade can be judged"));
    }
    let within = ctx.profile().timing.revoke_within;
    Ok(Outcome::expect(
        dies(&ctx, child).await?,
        "the token exchanged from the revoked one is inactive too",
        format!("the parent is revoked, but the token exchanged from it still introspects as active after {within:?}"),
    ))
}

/// RFC 7009 §2.1: "The client requests the revocation of a particular token by making an HTTP
/// POST request to the token revocation endpoint URL." Sends agent A's own token and agent A's
/// credentials as a GET query instead. A refusal (405, 400, …) passes; a 2xx that revoked the
/// token, or a 5xx, fails; a 2xx that left the token alone is a mismatch (it was not refused).
async fn get_refused(ctx: Ctx) -> anyhow::Result<Outcome> {
    let token = ctx.issue_token(ClientRole::AgentA).await?;
    let url = ctx.endpoint("revocation_endpoint")?;
    let (mut params, mut headers) = (vec![("token".to_string(), token.clone())], Vec::new());
    client_auth::apply(ctx.client(ClientRole::AgentA)?, ctx.issuer(), &url, &ctx.endpoint("token_endpoint")?, &mut params, &mut headers)?;
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let query = Request::post_form(&url, &pairs).body.map(|(_, b)| b).unwrap_or_default();
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut req = Request::get(format!("{url}{sep}{query}")).header("accept", "application/json");
    req.headers.extend(headers);
    let resp = ctx.http.send(req).await?;
    if resp.status >= 500 {
        return Ok(Outcome::fail(format!("a revocation request by GET caused HTTP {}", resp.status)));
    }
    if !(200..300).contains(&resp.status) {
        return Ok(Outcome::pass(format!("a revocation request by GET was refused (HTTP {})", resp.status)));
    }
    if ctx.has(agentcert_engine::Capability::Introspection) && !ctx.is_active(&token).await? {
        return Ok(Outcome::fail(format!(
            "a revocation request by GET was honoured (HTTP {}): the token is revoked; RFC 7009 §2.1 requires POST",
            resp.status
        )));
    }
    Ok(expect::mismatch(
        &ctx,
        format!("a revocation request by GET got HTTP {} instead of a refusal (it left the token alone)", resp.status),
    ))
}

/// RFC 7009 §2.1: `token` is REQUIRED; RFC 7009 §2.2.1 answers errors as RFC 6749 §5.2 does,
/// where a missing required parameter is `invalid_request`. Agent A, authenticated, sends no
/// token at all.
async fn missing_token(ctx: Ctx) -> anyhow::Result<Outcome> {
    let resp = ctx.post_as(ClientRole::AgentA, "revocation_endpoint", &[]).await?;
    let answer = TokenAnswer::from(&resp);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_request"], "a revocation request without token", "RFC 7009 §2.1 / RFC 6749 §5.2"))
}
