//! A hand-built run for tests: two suites, every verdict, both baseline markers, evidence with
//! a full exchange and a transport error, and text that needs XML escaping. Times are fixed so
//! snapshots are stable.

use agentcert_engine::evidence::Exchange;
use agentcert_engine::results::{CapabilityState, CheckResult, RunResults, Summary, TargetInfo, SCHEMA_VERSION};
use agentcert_engine::{Level, Verdict};

fn check(id: &str, level: Level, verdict: Verdict, reason: &str, reqs: &[(&str, &str)]) -> CheckResult {
    CheckResult {
        id: id.into(),
        suite: id.split('.').next().unwrap().into(),
        title: format!("title of {id}"),
        requirements: reqs.iter().map(|(r, _)| r.to_string()).collect(),
        citations: reqs.iter().map(|(_, c)| c.to_string()).collect(),
        level,
        verdict,
        reason: reason.into(),
        baseline: None,
        duration_ms: 12,
        evidence: vec![],
    }
}

pub(crate) fn results() -> RunResults {
    let revoke = Exchange {
        method: "POST".into(),
        url: "https://as.example.com/revoke".into(),
        request_headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("authorization".into(), "Basic [REDACTED]".into()),
        ],
        request_body: Some("token=[REDACTED]&token_type_hint=access_token".into()),
        status: Some(400),
        response_headers: vec![("content-type".into(), "application/json".into())],
        response_body: Some(r#"{"error":"invalid_request"}"#.into()),
        transport_error: None,
        elapsed_ms: 7,
    };
    let timeout = Exchange {
        method: "POST".into(),
        url: "https://as.example.com/introspect".into(),
        request_headers: vec![],
        request_body: None,
        status: None,
        response_headers: vec![],
        response_body: None,
        transport_error: Some("timed out after 10s".into()),
        elapsed_ms: 10_000,
    };
    let mut checks = vec![
        check("revocation.revoked-token-is-inactive", Level::Must, Verdict::Pass, "introspection says active=false", &[("rev-invalidate", "RFC 7009 §2.1")]),
        check(
            "revocation.unknown-token-gets-200",
            Level::Must,
            Verdict::Fail,
            "expected 200 for an unknown token, got 400 <invalid_request> & a body with \"quotes\"\u{7}",
            &[("rev-unknown-200", "RFC 7009 §2.2"), ("rev-invalid-token", "RFC 7009 §2.2.1")],
        ),
        check(
            "revocation.cors-not-required",
            Level::Should,
            Verdict::Warn,
            "no Cache-Control: no-store on the response (a Should-level rule: reported as a warning)",
            &[("oauth-no-store", "RFC 6749 §5.1")],
        ),
        check(
            "revocation.refresh-token-revokes-grant",
            Level::Must,
            Verdict::Fail,
            "access token still active after its refresh token was revoked [expected by the target's baseline: known bug #12]",
            &[("rev-refresh-cascade", "RFC 7009 §2.1")],
        ),
        check(
            "revocation.requires-client-auth",
            Level::Must,
            Verdict::Pass,
            "unauthenticated request rejected with 401 [the baseline expects this check to fail: remove it from expected_failures]",
            &[("rev-client-auth", "RFC 7009 §2.1")],
        ),
        check("introspection.active-token", Level::Must, Verdict::Pass, "active=true with scope and client_id", &[("int-active", "RFC 7662 §2.2")]),
        check("introspection.unknown-token-inactive", Level::Must, Verdict::Error, "POST https://as.example.com/introspect: timed out after 10s", &[("int-inactive", "RFC 7662 §2.2")]),
        check(
            "introspection.token-exchange-audience",
            Level::Profile,
            Verdict::Skip,
            "needs token-exchange (metadata: grant_types_supported does not list it)",
            &[("agent-exchange-aud", "agentcert §3.1")],
        ),
        check(
            "introspection.token-exchange-actor",
            Level::Profile,
            Verdict::Skip,
            "needs token-exchange (metadata: grant_types_supported does not list it)",
            &[("agent-exchange-act", "agentcert §3.2")],
        ),
        check("introspection.jwt-typ", Level::Must, Verdict::Skip, "needs jwt-access-tokens (probe: access token is opaque)", &[("jwt-typ", "RFC 9068 §2.1")]),
    ];
    checks[1].evidence = vec![revoke];
    checks[3].baseline = Some("expected".into());
    checks[4].baseline = Some("stale".into());
    checks[6].evidence = vec![timeout];
    checks[6].duration_ms = 10_004;
    let cap = |enabled, source: &str| CapabilityState { enabled, source: source.into() };
    RunResults {
        schema_version: SCHEMA_VERSION.into(),
        agentcert_version: "0.1.0".into(),
        started_at: "2025-01-02T03:04:05Z".into(),
        duration_ms: 10_250,
        target: TargetInfo {
            name: "example-as".into(),
            issuer: "https://as.example.com".into(),
            profile: "targets/example.toml".into(),
            mode: "strict".into(),
            metadata_url: Some("https://as.example.com/.well-known/oauth-authorization-server".into()),
        },
        capabilities: [
            ("introspection".to_string(), cap(true, "metadata: introspection_endpoint")),
            ("revocation".to_string(), cap(true, "metadata: revocation_endpoint")),
            ("token-exchange".to_string(), cap(false, "metadata: grant_types_supported does not list it")),
            ("jwt-access-tokens".to_string(), cap(false, "probe: access token is opaque")),
        ]
        .into_iter()
        .collect(),
        summary: Summary::tally(&checks),
        checks,
        load: vec![],
    }
}
