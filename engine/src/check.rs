//! The check model: one observable rule, the requirements it cites, the capabilities it needs,
//! and the verdict it reaches.

use crate::context::Ctx;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// What a check's body returns. `Err` means the harness could not decide (a transport
/// failure, a response it could not parse while setting up), which becomes `error`.
pub type CheckFuture = Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + Send>>;

/// One conformance check. Checks are plain data plus a function, so suites are lists that
/// `agentcert list` can print without running anything.
#[derive(Clone, Copy)]
pub struct Check {
    /// Stable id, `suite.rule-in-words`, e.g. `revocation.unknown-token-gets-200`.
    pub id: &'static str,
    pub suite: &'static str,
    /// One line saying what is checked.
    pub title: &'static str,
    /// Requirement ids from the catalog. Every check cites at least one.
    pub requirements: &'static [&'static str],
    /// Capabilities the server must declare for the check to apply; otherwise it is `skip`.
    pub needs: &'static [Capability],
    pub run: fn(Ctx) -> CheckFuture,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A feature of the server under test that some checks depend on. Detected from metadata
/// (or a probe), and overridable in the target profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// `introspection_endpoint` is advertised (RFC 8414 §2, RFC 7662).
    Introspection,
    /// `revocation_endpoint` is advertised (RFC 8414 §2, RFC 7009).
    Revocation,
    /// `grant_types_supported` lists the RFC 8693 token-exchange grant.
    TokenExchange,
    /// Access tokens are JWTs with `typ` `at+jwt` (RFC 9068).
    JwtAccessTokens,
    /// `{issuer}/.well-known/openid-configuration` is served (OIDC Discovery).
    OpenIdDiscovery,
    /// The target trusts the harness's home issuer for subject tokens (profile).
    HomeIssuerTrust,
    /// `grant_types_supported` lists the RFC 7523 jwt-bearer grant, and the target trusts the
    /// harness's partner organization (profile).
    JwtBearer,
    /// `/.well-known/ssf-configuration{issuer path}` answers 200 with a JSON object: the
    /// server is an OpenID Shared Signals Transmitter (SSF 1.0 §7.2).
    SsfTransmitter,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::Introspection,
        Capability::Revocation,
        Capability::TokenExchange,
        Capability::JwtAccessTokens,
        Capability::OpenIdDiscovery,
        Capability::HomeIssuerTrust,
        Capability::JwtBearer,
        Capability::SsfTransmitter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Introspection => "introspection",
            Capability::Revocation => "revocation",
            Capability::TokenExchange => "token-exchange",
            Capability::JwtAccessTokens => "jwt-access-tokens",
            Capability::OpenIdDiscovery => "openid-discovery",
            Capability::HomeIssuerTrust => "home-issuer-trust",
            Capability::JwtBearer => "jwt-bearer",
            Capability::SsfTransmitter => "ssf-transmitter",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Warn,
    /// The server does not declare the feature. Never counted as a pass.
    Skip,
    /// The harness could not decide. Counts against the run, never silently.
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
        }
    }
}

/// What a check concluded, and why, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub reason: String,
}

impl Outcome {
    pub fn pass(reason: impl Into<String>) -> Self {
        Outcome { verdict: Verdict::Pass, reason: reason.into() }
    }
    pub fn fail(reason: impl Into<String>) -> Self {
        Outcome { verdict: Verdict::Fail, reason: reason.into() }
    }
    pub fn skip(reason: impl Into<String>) -> Self {
        Outcome { verdict: Verdict::Skip, reason: reason.into() }
    }
    pub fn error(reason: impl Into<String>) -> Self {
        Outcome { verdict: Verdict::Error, reason: reason.into() }
    }

    /// `pass` with `ok` when the condition holds, else `fail` with `why`.
    pub fn expect(condition: bool, ok: impl Into<String>, why: impl Into<String>) -> Self {
        if condition {
            Outcome::pass(ok)
        } else {
            Outcome::fail(why)
        }
    }

    /// Folds a list of findings: pass when there are none, else fail listing them all.
    pub fn from_findings(findings: Vec<String>, ok: impl Into<String>) -> Self {
        if findings.is_empty() {
            Outcome::pass(ok)
        } else {
            Outcome::fail(findings.join("; "))
        }
    }
}

/// Declares a check: `check!(id, suite, title, [reqs], [needs], fn_name)`.
/// The function is `async fn(Ctx) -> anyhow::Result<Outcome>`.
#[macro_export]
macro_rules! check {
    ($id:literal, $suite:expr, $title:literal, [$($req:literal),+ $(,)?], [$($cap:ident),* $(,)?], $body:path) => {
        $crate::Check {
            id: $id,
            suite: $suite,
            title: $title,
            requirements: &[$($req),+],
            needs: &[$($crate::Capability::$cap),*],
            run: |ctx| Box::pin($body(ctx)),
        }
    };
}
