//! agentcert against real servers nobody here wrote, installed by `cargo xtask test` from
//! pinned versions: oidc-provider (npm), Glewlwyd (Debian), django-oauth-toolkit (PyPI), and a
//! negative control, oauth2-mock-server (npm).
//!
//! Every failure against a real server must be explained: either the server deviates (its
//! profile's `[expected_failures]` says how, and the README lists it), or agentcert is wrong
//! and gets fixed. So the assertion is the run's own verdict: exit code 0 means every failure
//! was expected and no baseline entry is stale.

mod support;

use agentcert_engine::results::RunResults;
use agentcert_engine::Verdict;
use support::peer;

async fn run(name: &str, marker: &str, env: &[(&str, &str)], profile_file: &str) -> Option<RunResults> {
    let peer = peer::start(name, marker, env)?;
    let profile = peer::profile(profile_file, peer.port);
    let results = support::run_profile(profile, None, &agentcert_suites::all_checks()).await;
    drop(peer);
    Some(results)
}

/// Every fail and error is in the baseline, and no baseline entry is stale.
fn assert_explained(results: &RunResults) {
    let unexplained: Vec<String> = results
        .checks
        .iter()
        .filter(|c| (matches!(c.verdict, Verdict::Fail | Verdict::Error) && c.baseline.is_none()) || c.baseline.as_deref() == Some("stale"))
        .map(|c| format!("{} {:?}: {}", c.id, c.verdict, c.reason))
        .collect();
    assert!(unexplained.is_empty(), "unexplained results against {}:\n{}", results.target.name, unexplained.join("\n"));
    assert_eq!(results.exit_code(), 0);
}

fn assert_no_delegation(results: &RunResults) {
    assert!(!results.capabilities["token-exchange"].enabled, "{} does not do token exchange", results.target.name);
    for c in results.checks.iter().filter(|c| c.suite == "delegation") {
        assert_eq!(c.verdict, Verdict::Skip, "{} should skip: {}", c.id, c.reason);
    }
}

#[tokio::test]
async fn oidc_provider_with_jwt_access_tokens() {
    let Some(r) = run("oidc-provider", "node_modules/oidc-provider", &[("TOKEN_FORMAT", "jwt")], "oidc-provider.toml").await else {
        return;
    };
    assert_explained(&r);
    assert_no_delegation(&r);
    assert!(r.capabilities["jwt-access-tokens"].enabled);
}

#[tokio::test]
async fn oidc_provider_with_opaque_access_tokens() {
    let Some(r) = run("oidc-provider", "node_modules/oidc-provider", &[("TOKEN_FORMAT", "opaque")], "oidc-provider-opaque.toml").await
    else {
        return;
    };
    assert_explained(&r);
    assert_no_delegation(&r);
    // With opaque tokens, revocation is observable: the core rules pass.
    for id in [
        "revocation.revoked-token-inactive",
        "revocation.unknown-token-gets-200",
        "revocation.other-client-cannot-revoke",
        "introspection.unknown-token-inactive",
    ] {
        assert_eq!(r.checks.iter().find(|c| c.id == id).unwrap().verdict, Verdict::Pass, "{id}");
    }
}

#[tokio::test]
async fn glewlwyd() {
    let Some(r) = run("glewlwyd", "/usr/bin/glewlwyd", &[], "glewlwyd.toml").await else { return };
    assert_explained(&r);
    assert_no_delegation(&r);
}

#[tokio::test]
async fn django_oauth_toolkit() {
    let Some(r) = run("django-oauth-toolkit", ".venv/bin/python", &[], "django-oauth-toolkit.toml").await else { return };
    assert_explained(&r);
    assert_no_delegation(&r);
}

/// A mock that accepts any secret, says every token is active and revokes nothing. A suite
/// that passed it would be worthless: agentcert must fail it on client authentication,
/// introspection and revocation.
#[tokio::test]
async fn oauth2_mock_server_is_failed() {
    let Some(r) = run("oauth2-mock-server", "node_modules/oauth2-mock-server", &[], "oauth2-mock-server.toml").await else { return };
    assert_eq!(r.exit_code(), 1);
    let verdict = |id: &str| r.checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("{id} ran")).verdict;
    for id in [
        "issuance.wrong-secret-401-challenge",
        "issuance.unknown-client-refused",
        "issuance.no-credentials-refused",
        "introspection.requires-authentication",
        "introspection.unknown-token-inactive",
        "revocation.revoked-token-inactive",
    ] {
        assert_eq!(verdict(id), Verdict::Fail, "{id} must fail against the mock");
    }
}
