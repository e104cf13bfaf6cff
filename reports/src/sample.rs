//! A hand-built run for tests: two suites, every verdict, both baseline markers, evidence with
//! a full exchange and a transport error, and text that needs XML escaping. Times are fixed so
//! snapshots are stable. [`with_load`] adds a load phase: an issuance run, a revocation run
//! with late propagations, and a population run with its token volume.

use agentcert_engine::evidence::Exchange;
use agentcert_engine::results::{
    CapabilityState, CapacitySearch, CapacityStep, CheckResult, LatencySummary, LoadResult, RunResults, Summary, TargetInfo,
    ThresholdResult, TokenVolume, WorkerInfo, SCHEMA_VERSION,
};
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
        check(
            "revocation.revoked-token-is-inactive",
            Level::Must,
            Verdict::Pass,
            "introspection says active=false",
            &[("rev-invalidate", "RFC 7009 §2.1")],
        ),
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
        check(
            "introspection.active-token",
            Level::Must,
            Verdict::Pass,
            "active=true with scope and client_id",
            &[("int-active", "RFC 7662 §2.2")],
        ),
        check(
            "introspection.unknown-token-inactive",
            Level::Must,
            Verdict::Error,
            "POST https://as.example.com/introspect: timed out after 10s",
            &[("int-inactive", "RFC 7662 §2.2")],
        ),
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
        check(
            "introspection.jwt-typ",
            Level::Must,
            Verdict::Skip,
            "needs jwt-access-tokens (probe: access token is opaque)",
            &[("jwt-typ", "RFC 9068 §2.1")],
        ),
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

/// [`results`] plus three load entries, every optional field set somewhere.
pub(crate) fn with_load() -> RunResults {
    let mut r = results();
    let issuance = LoadResult {
        scenario: "issuance".into(),
        model: "open".into(),
        target_rate: Some(50.0),
        achieved_rate: 49.8,
        duration_s: 3.01,
        concurrency: 256,
        requests: 150,
        http_requests: 150,
        errors: 2,
        errors_by_class: [("status-5xx".to_string(), 2)].into(),
        late: 3,
        dropped: 0,
        latency_ms: LatencySummary { samples: 148, p50: 3.529, p90: 6.295, p99: 85.951, p999: 86.655, max: 86.655, mean: 5.1 },
        latency_basis: "intended send time".into(),
        histogram_file: "issuance.hlog".into(),
        percentiles_file: "issuance.percentiles.txt".into(),
        goose_report_file: Some("issuance.goose.html".into()),
        token_volume: None,
        thresholds: vec![ThresholdResult {
            rule: "issuance.p99<50ms".into(),
            observed: "p99 85.951ms over 148 samples".into(),
            passed: false,
        }],
        ..Default::default()
    };
    let revocation = LoadResult {
        scenario: "revocation".into(),
        target_rate: Some(10.0),
        achieved_rate: 10.0,
        requests: 30,
        http_requests: 95,
        errors: 1,
        errors_by_class: [("not-propagated".to_string(), 1)].into(),
        latency_ms: LatencySummary { samples: 30, p50: 2.707, p90: 3.267, p99: 9.639, p999: 9.639, max: 6100.0, mean: 205.0 },
        latency_basis: "revoke call start".into(),
        histogram_file: "revocation.hlog".into(),
        percentiles_file: "revocation.percentiles.txt".into(),
        goose_report_file: None,
        thresholds: vec![],
        ..issuance.clone()
    };
    let population = LoadResult {
        scenario: "population".into(),
        target_rate: Some(100.0),
        achieved_rate: 100.0,
        requests: 300,
        http_requests: 12,
        errors: 0,
        errors_by_class: Default::default(),
        late: 0,
        latency_ms: LatencySummary { samples: 300, p50: 0.2, p90: 0.4, p99: 1.1, p999: 2.0, max: 2.0, mean: 0.25 },
        histogram_file: "population.hlog".into(),
        percentiles_file: "population.percentiles.txt".into(),
        goose_report_file: None,
        token_volume: Some(TokenVolume {
            agents: 1000,
            actions_per_hour: 360.0,
            token_cache: "reuse".into(),
            token_lifetime_s: 300.0,
            clock_skew_s: 30.0,
            actions: 300,
            tokens_issued: 12,
            tokens_per_s: 4.0,
            model_tokens_per_s_none: 100.0,
            model_tokens_per_s_reuse: 3.704,
            model_saving_ratio: 27.0,
            measured_saving_ratio: 25.0,
        }),
        thresholds: vec![],
        ..issuance.clone()
    };
    let step = |rate: f64, p99: f64, meets_slo: bool| CapacityStep {
        rate,
        achieved_rate: rate,
        requests: (rate * 2.0) as u64,
        latency_ms: LatencySummary {
            samples: (rate * 2.0) as u64,
            p50: p99 / 4.0,
            p90: p99 / 2.0,
            p99,
            p999: p99,
            max: p99,
            mean: p99 / 3.0,
        },
        meets_slo,
        verdict: format!("p99 {p99}ms"),
        histogram_file: format!("capacity-{rate}.hlog"),
        ..Default::default()
    };
    let capacity = LoadResult {
        scenario: "exchange".into(),
        target_rate: Some(400.0),
        achieved_rate: 399.0,
        requests: 800,
        errors: 0,
        errors_by_class: Default::default(),
        thresholds: vec![],
        histogram_file: "exchange.hlog".into(),
        capacity: Some(CapacitySearch {
            slo: vec!["p99<50ms".into()],
            rate: Some(400.0),
            outcome: "found".into(),
            note: "the highest rate that met p99<50ms, to within 10%".into(),
            start_rate: 100.0,
            max_rate: 5000.0,
            step_duration_s: 2.0,
            resolution: 0.1,
            max_steps: 12,
            time_bound_s: 60.0,
            elapsed_s: 10.0,
            steps: vec![step(100.0, 5.0, true), step(200.0, 9.0, true), step(400.0, 30.0, true), step(800.0, 120.0, false)],
        }),
        ..issuance.clone()
    };
    let population = LoadResult {
        worker: Some(WorkerInfo {
            index: None,
            count: 2,
            start_at: "2025-01-02T03:04:20.000000Z".into(),
            send_end: "2025-01-02T03:04:23.000000Z".into(),
            agents: Some([0, 1000]),
            thresholds: vec![],
        }),
        ..population
    };
    r.load = vec![issuance, revocation, population, capacity];
    r
}
