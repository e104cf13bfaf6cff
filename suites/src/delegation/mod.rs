//! Delegation: RFC 8693 token exchange as agents use it. A user (the home issuer's subject)
//! delegates to agent A, which may delegate on to agent B. The subject tokens are minted by
//! the harness's home issuer, which the target is configured to trust.
//!
//! The helpers here are shared with the revocation and introspection suites, which need
//! delegated tokens too.

mod chain;
mod narrowing;
mod requests;
mod semantics;

pub(crate) use semantics::{identities, one_of};

use agentcert_engine::jose::decode_unverified;
use agentcert_engine::oauth::{scopes, TokenAnswer, GRANT_TOKEN_EXCHANGE, TT_ACCESS_TOKEN, TT_JWT};
use agentcert_engine::{Check, ClientRole, Ctx};
use anyhow::{anyhow, bail, Context as _};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

pub(crate) const SUITE: &str = "delegation";

pub fn checks() -> Vec<Check> {
    let mut checks = semantics::checks();
    checks.extend(requests::checks());
    checks.extend(narrowing::checks());
    checks.extend(chain::checks());
    checks
}

/// A token-exchange request (RFC 8693 §2.1) as `role`: `subject` is the subject token with its
/// type; `extra` is appended as given. When `extra` names no `audience` or `resource` and the
/// profile says to always send one, the default resource is added.
pub(crate) async fn exchange(ctx: &Ctx, role: ClientRole, subject: (&str, &str), extra: &[(&str, &str)]) -> anyhow::Result<TokenAnswer> {
    let mut params = vec![("grant_type", GRANT_TOKEN_EXCHANGE), ("subject_token", subject.0), ("subject_token_type", subject.1)];
    params.extend_from_slice(extra);
    let res = &ctx.profile().resources;
    if res.always_send && !extra.iter().any(|(k, _)| *k == "audience" || *k == "resource") {
        params.push(("resource", res.default.as_str()));
    }
    ctx.token_request(role, &params).await
}

/// The subject of the home issuer's user tokens.
pub(crate) fn user_subject(ctx: &Ctx) -> anyhow::Result<String> {
    Ok(ctx.profile().home_issuer.as_ref().ok_or_else(|| anyhow!("the target profile has no [home_issuer]"))?.subject.clone())
}

/// The client id the target knows `role` by.
pub(crate) fn client_id(ctx: &Ctx, role: ClientRole) -> anyhow::Result<String> {
    Ok(ctx.client(role)?.client_id.clone())
}

/// Setup: a user token (with `overrides`) exchanged as `role`, which must succeed; otherwise
/// the check cannot run and the error says why.
pub(crate) async fn delegate(ctx: &Ctx, role: ClientRole, overrides: Value, extra: &[(&str, &str)]) -> anyhow::Result<TokenAnswer> {
    let user = ctx.user_token(overrides)?;
    let answer = exchange(ctx, role, (&user, TT_JWT), extra).await?;
    if !answer.is_success() {
        bail!("setup: exchanging a home-issuer user token as {} failed: {}", role.key(), answer.describe());
    }
    Ok(answer)
}

/// Setup: re-exchanges a token the target issued (as an access token) as `role`.
pub(crate) async fn reexchange(ctx: &Ctx, role: ClientRole, token: &str, extra: &[(&str, &str)]) -> anyhow::Result<TokenAnswer> {
    let answer = exchange(ctx, role, (token, TT_ACCESS_TOKEN), extra).await?;
    if !answer.is_success() {
        bail!("setup: re-exchanging a delegated token as {} failed: {}", role.key(), answer.describe());
    }
    Ok(answer)
}

/// The access token of a successful answer (the helpers above guarantee one).
pub(crate) fn token_of(answer: &TokenAnswer) -> anyhow::Result<&str> {
    answer.access_token().ok_or_else(|| anyhow!("setup: no access token in {}", answer.describe()))
}

/// What a token the target issued says: its JWT claims, or for an opaque token its RFC 7662
/// introspection response (as the resource server). `via` names which, for reasons.
pub(crate) struct Seen {
    pub claims: Map<String, Value>,
    pub via: &'static str,
}

impl Seen {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
    pub fn scope(&self) -> Option<BTreeSet<String>> {
        self.str("scope").map(scopes)
    }
    /// `aud` as a set, whether a string or an array (RFC 7519 §4.1.3).
    pub fn aud(&self) -> BTreeSet<String> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => [s.clone()].into(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => BTreeSet::new(),
        }
    }
    /// The actors from the current one outwards to the first: `act.sub`, `act.act.sub`, …
    pub fn actors(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut act = self.claims.get("act");
        while let Some(a) = act.and_then(Value::as_object) {
            out.push(a.get("sub").and_then(Value::as_str).unwrap_or("(no sub)").to_string());
            act = a.get("act");
        }
        out
    }
}

/// Reads what a token the target issued carries (see [`Seen`]).
pub(crate) async fn seen(ctx: &Ctx, token: &str) -> anyhow::Result<Seen> {
    if let Ok(jwt) = decode_unverified(token) {
        if let Value::Object(claims) = jwt.claims {
            return Ok(Seen { claims, via: "the issued JWT" });
        }
    }
    if !ctx.has(agentcert_engine::Capability::Introspection) {
        bail!("the issued token is opaque and the server offers no introspection, so its claims cannot be read");
    }
    let resp = ctx.introspect(ClientRole::ResourceServer, token, None).await?;
    let claims = resp.json_object().context("introspecting the issued token")?;
    if claims.get("active") != Some(&Value::Bool(true)) {
        bail!("setup: the token just issued introspects as inactive (HTTP {})", resp.status);
    }
    Ok(Seen { claims, via: "introspection" })
}

/// "{a b}" for reasons.
pub(crate) fn show(set: &BTreeSet<String>) -> String {
    format!("{{{}}}", set.iter().cloned().collect::<Vec<_>>().join(" "))
}
