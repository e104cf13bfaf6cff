//! The whole job against a hostile server: one misbehaviour per test, on every path or on one.
//!
//! Whatever the server does, `agentcert run` must not panic, must end within a bound (every
//! request has a timeout that covers the body; every body is read under a cap), must keep its
//! memory bounded, and must either judge the server (exit 1, every report written, the checks
//! that met the misbehaviour `error` or `fail` with a reason that says what happened) or say in
//! one line that the target is not an authorization server at all (exit 2).

mod support;

use serde_json::Value;
use std::time::Duration;
use support::hostile::{fresh_dir, run_cli, Endpoint, HostileServer, Misbehaviour, Scope};

/// The whole run's peak resident memory, even for a 100 MB body or a 10,000-key JWK Set.
const MAX_RSS_KB: u64 = 200 * 1024;
/// The report files every judged run writes.
const REPORTS: [&str; 4] = ["results.json", "junit.xml", "report.html", "summary.md"];

struct Case {
    name: &'static str,
    misbehaviour: Misbehaviour,
    scope: Scope,
    /// The hostile profile's `[limits]` body.
    limits: &'static str,
    args: &'static [&'static str],
    /// 1: judged; 2: not an authorization server (the run cannot start).
    exit: i32,
    /// What the reasons (exit 1) or the one-line error (exit 2) must say, any of these. Empty:
    /// the misbehaviour is legal (a huge token, a huge key set) and need not fail a check,
    /// only never break the harness.
    says: &'static [&'static str],
    /// The run must end within this.
    within: Duration,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            name: "",
            misbehaviour: Misbehaviour::NotJson,
            scope: Scope::Every,
            limits: "timeout = \"2s\"",
            args: &[],
            exit: 1,
            says: &[],
            within: Duration::from_secs(30),
        }
    }
}

fn run_case(case: Case) -> Value {
    let server = HostileServer::start(case.misbehaviour, case.scope);
    let dir = fresh_dir(&format!("hostile-{}", case.name));
    let profile = server.profile(&dir, case.limits, "");
    let out = dir.join("out");
    let mut args = vec!["run", "--target", profile.to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-load"];
    args.extend_from_slice(case.args);
    // The hard bound kills a run that overstays; the case's own bound is asserted after.
    let f = run_cli(&args, &dir, case.within + Duration::from_secs(30));
    let name = case.name;
    eprintln!("{name}: exit {:?} in {:?}, peak RSS {:?} KiB", f.code, f.elapsed, f.peak_rss_kb);

    assert!(!f.stderr.contains("panicked") && !f.stdout.contains("panicked"), "{name}: a panic\n{}", f.describe());
    assert_eq!(f.code, Some(case.exit), "{name}: exit code\n{}", f.describe());
    assert!(f.elapsed <= case.within, "{name}: took {:?}, more than {:?}\n{}", f.elapsed, case.within, f.describe());
    match f.peak_rss_kb {
        Some(kb) => assert!(kb <= MAX_RSS_KB, "{name}: peak RSS {kb} KiB is over {MAX_RSS_KB} KiB"),
        None => eprintln!("{name}: peak RSS could not be measured on this machine"),
    }
    if case.misbehaviour == Misbehaviour::RedirectOffHost {
        assert_eq!(server.off_host_hits(), 0, "{name}: a redirect to another host was followed");
    }
    assert_no_issued_token_in(&server, &dir, &f, name);

    if case.exit == 2 {
        let err = f.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{name}: one line, got {err:?}");
        assert!(err.starts_with("agentcert: error: "), "{name}: {err}");
        assert!(case.says.iter().any(|s| err.contains(s)), "{name}: expected one of {:?} in {err:?}", case.says);
        return Value::Null;
    }

    for file in REPORTS {
        let meta = std::fs::metadata(out.join(file)).unwrap_or_else(|e| panic!("{name}: {file} not written: {e}\n{}", f.describe()));
        assert!(meta.len() > 0, "{name}: {file} is empty");
    }
    let bytes = std::fs::read(out.join("results.json")).unwrap();
    assert!(bytes.len() < 32 << 20, "{name}: results.json is {} bytes: evidence must stay bounded", bytes.len());
    let results: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: results.json does not parse: {e}"));
    assert_eq!(results["schema_version"], "1.0");
    let checks = results["checks"].as_array().unwrap();
    assert!(!checks.is_empty(), "{name}: no checks ran");
    for c in checks {
        let reason = c["reason"].as_str().unwrap_or("");
        assert!(!reason.contains("check panicked"), "{name}: {} panicked: {reason}", c["id"]);
        if matches!(c["verdict"].as_str(), Some("fail" | "error")) {
            assert!(!reason.trim().is_empty(), "{name}: {} has no reason", c["id"]);
        }
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), checks.len(), "{name}: one testcase per check");

    // The checks that met the misbehaviour: those with an exchange on the hostile path.
    let hostile_path = |e: &Value| match case.scope {
        Scope::Every => true,
        Scope::Only(endpoint) => e["url"].as_str().is_some_and(|u| u.split('?').next().unwrap_or("").ends_with(endpoint.path())),
    };
    let affected: Vec<&Value> = checks.iter().filter(|c| c["evidence"].as_array().is_some_and(|ev| ev.iter().any(hostile_path))).collect();
    assert!(!affected.is_empty(), "{name}: no check reached the hostile path");
    if case.says.is_empty() {
        // Legal, only large: the harness's own limits must not be what decides a check.
        for c in &affected {
            let reason = c["reason"].as_str().unwrap_or("");
            assert!(!reason.contains("byte cap") && !reason.contains("timed out"), "{name}: {} hit a limit: {reason}", c["id"]);
        }
        return results;
    }
    let judged: Vec<&&Value> = affected.iter().filter(|c| matches!(c["verdict"].as_str(), Some("fail" | "error"))).collect();
    assert!(!judged.is_empty(), "{name}: no check that met the misbehaviour failed or errored");
    assert!(
        judged.iter().any(|c| case.says.iter().any(|s| c["reason"].as_str().unwrap_or("").contains(s))),
        "{name}: no reason says any of {:?}:\n{}",
        case.says,
        judged.iter().map(|c| format!("{} {}: {}", c["id"], c["verdict"], c["reason"])).collect::<Vec<_>>().join("\n")
    );
    let summary = &results["summary"];
    eprintln!("{name}: {summary}, {} checks met the misbehaviour, {} of them fail/error", affected.len(), judged.len());
    results
}

/// The hostile server's tokens are real bearer tokens: none may appear whole (its signature
/// segment is what redaction always drops) in any report, log or output.
fn assert_no_issued_token_in(server: &HostileServer, dir: &std::path::Path, f: &support::hostile::Finished, name: &str) {
    let issued = server.issued();
    let mut texts = vec![("stdout".to_string(), f.stdout.clone()), ("stderr".to_string(), f.stderr.clone())];
    for entry in std::fs::read_dir(dir.join("out")).into_iter().flatten().flatten() {
        texts.push((entry.path().display().to_string(), String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned()));
    }
    for (file, text) in &texts {
        for sig in &issued {
            assert!(!text.contains(sig.as_str()), "{name}: {file} holds a complete access token (signature {sig})");
        }
    }
}

// ---- On every path, metadata included: the target is not an authorization server (exit 2). --

#[test]
fn not_json_everywhere_is_not_an_authorization_server() {
    run_case(Case { name: "not-json-all", exit: 2, says: &["not JSON"], ..Case::default() });
}

#[test]
fn wrong_shape_everywhere_is_not_an_authorization_server() {
    run_case(Case { name: "shape-all", misbehaviour: Misbehaviour::WrongShape, exit: 2, says: &["no token_endpoint"], ..Case::default() });
}

#[test]
fn a_100_mb_body_everywhere_is_cut_at_the_cap() {
    run_case(Case {
        name: "huge-all",
        misbehaviour: Misbehaviour::HugeBody(100_000_000),
        exit: 2,
        says: &["exceeds the 1048576 byte cap"],
        within: Duration::from_secs(20),
        ..Case::default()
    });
}

#[test]
fn a_slow_drip_everywhere_ends_at_the_timeout() {
    run_case(Case {
        name: "drip-all",
        misbehaviour: Misbehaviour::SlowDrip,
        limits: "timeout = \"1500ms\"",
        exit: 2,
        says: &["timed out"],
        within: Duration::from_secs(10),
        ..Case::default()
    });
}

#[test]
fn a_redirect_loop_everywhere_is_not_followed() {
    run_case(Case { name: "loop-all", misbehaviour: Misbehaviour::RedirectLoop, exit: 2, says: &["HTTP 307"], ..Case::default() });
}

#[test]
fn a_redirect_to_another_host_is_never_followed() {
    run_case(Case { name: "offhost-all", misbehaviour: Misbehaviour::RedirectOffHost, exit: 2, says: &["HTTP 307"], ..Case::default() });
}

#[test]
fn a_reset_mid_response_everywhere() {
    run_case(Case {
        name: "reset-all",
        misbehaviour: Misbehaviour::ResetMidResponse,
        exit: 2,
        says: &["cannot reach the target"],
        ..Case::default()
    });
}

#[test]
fn status_999_everywhere() {
    run_case(Case { name: "999-all", misbehaviour: Misbehaviour::Status(999), exit: 2, says: &["HTTP 999"], ..Case::default() });
}

#[test]
fn wrong_content_type_everywhere_is_judged() {
    run_case(Case {
        name: "ctype-all",
        misbehaviour: Misbehaviour::WrongContentType,
        says: &["content type", "content-type", "Content-Type", "text/html"],
        ..Case::default()
    });
}

// ---- On one path, behind sane metadata: the run goes on and judges (exit 1). ----------------

#[test]
fn token_endpoint_not_json() {
    run_case(Case {
        name: "not-json-token",
        scope: Scope::Only(Endpoint::Token),
        says: &["not a JSON object", "not JSON"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_wrong_shape() {
    run_case(Case {
        name: "shape-token",
        misbehaviour: Misbehaviour::WrongShape,
        scope: Scope::Only(Endpoint::Token),
        says: &["without access_token", "access_token"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_100_mb_body() {
    run_case(Case {
        name: "huge-token-endpoint",
        misbehaviour: Misbehaviour::HugeBody(100_000_000),
        scope: Scope::Only(Endpoint::Token),
        says: &["exceeds the 1048576 byte cap"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_slow_drip() {
    run_case(Case {
        name: "drip-token",
        misbehaviour: Misbehaviour::SlowDrip,
        scope: Scope::Only(Endpoint::Token),
        limits: "timeout = \"300ms\"",
        says: &["timed out"],
        within: Duration::from_secs(45),
        ..Case::default()
    });
}

#[test]
fn token_endpoint_redirect_loop() {
    run_case(Case {
        name: "loop-token",
        misbehaviour: Misbehaviour::RedirectLoop,
        scope: Scope::Only(Endpoint::Token),
        says: &["HTTP 307"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_redirect_to_another_host() {
    run_case(Case {
        name: "offhost-token",
        misbehaviour: Misbehaviour::RedirectOffHost,
        scope: Scope::Only(Endpoint::Token),
        says: &["HTTP 307"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_wrong_content_type() {
    run_case(Case {
        name: "ctype-token",
        misbehaviour: Misbehaviour::WrongContentType,
        scope: Scope::Only(Endpoint::Token),
        says: &["content type", "content-type", "Content-Type", "text/html"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_reset_mid_response() {
    run_case(Case {
        name: "reset-token",
        misbehaviour: Misbehaviour::ResetMidResponse,
        scope: Scope::Only(Endpoint::Token),
        says: &["response body could not be read", "request failed", "connection"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_status_600() {
    run_case(Case {
        name: "600-token",
        misbehaviour: Misbehaviour::Status(600),
        scope: Scope::Only(Endpoint::Token),
        says: &["HTTP 600"],
        ..Case::default()
    });
}

#[test]
fn token_endpoint_issues_a_1_mb_token() {
    run_case(Case {
        name: "big-token",
        misbehaviour: Misbehaviour::HugeToken(1_000_000),
        scope: Scope::Only(Endpoint::Token),
        says: &[],
        ..Case::default()
    });
}

#[test]
fn jwks_of_10000_keys() {
    // The cap raised so that the set is read and searched, not refused for its size.
    let results = run_case(Case {
        name: "many-keys",
        misbehaviour: Misbehaviour::ManyKeys(10_000),
        scope: Scope::Only(Endpoint::Jwks),
        args: &["--max-body-bytes", "8388608"],
        says: &[],
        ..Case::default()
    });
    // The real key, last of 10,000 under one kid, is found, and the duplicates are named.
    let verdict = |id: &str| results["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).map(|c| c["verdict"].clone());
    assert_eq!(verdict("access-token.signature-verifies"), Some("pass".into()));
    assert_eq!(verdict("discovery.jwks-kids-unique"), Some("fail".into()));
}

#[test]
fn jwks_of_10000_keys_over_the_default_cap() {
    run_case(Case {
        name: "many-keys-capped",
        misbehaviour: Misbehaviour::ManyKeys(10_000),
        scope: Scope::Only(Endpoint::Jwks),
        says: &["exceeds the 1048576 byte cap"],
        ..Case::default()
    });
}

#[test]
fn jwks_not_json() {
    run_case(Case { name: "not-json-jwks", scope: Scope::Only(Endpoint::Jwks), says: &["not JSON"], ..Case::default() });
}

#[test]
fn introspection_wrong_shape() {
    run_case(Case {
        name: "shape-introspect",
        misbehaviour: Misbehaviour::WrongShape,
        scope: Scope::Only(Endpoint::Introspection),
        says: &["active"],
        ..Case::default()
    });
}

#[test]
fn introspection_slow_drip() {
    run_case(Case {
        name: "drip-introspect",
        misbehaviour: Misbehaviour::SlowDrip,
        scope: Scope::Only(Endpoint::Introspection),
        limits: "timeout = \"500ms\"",
        says: &["timed out"],
        within: Duration::from_secs(45),
        ..Case::default()
    });
}

#[test]
fn introspection_status_999() {
    run_case(Case {
        name: "999-introspect",
        misbehaviour: Misbehaviour::Status(999),
        scope: Scope::Only(Endpoint::Introspection),
        says: &["999"],
        ..Case::default()
    });
}

#[test]
fn revocation_reset_mid_response() {
    run_case(Case {
        name: "reset-revoke",
        misbehaviour: Misbehaviour::ResetMidResponse,
        scope: Scope::Only(Endpoint::Revocation),
        says: &["response body could not be read", "request failed", "connection"],
        ..Case::default()
    });
}

#[test]
fn revocation_redirect_loop() {
    run_case(Case {
        name: "loop-revoke",
        misbehaviour: Misbehaviour::RedirectLoop,
        scope: Scope::Only(Endpoint::Revocation),
        says: &["307"],
        ..Case::default()
    });
}

#[test]
fn revocation_100_mb_body() {
    run_case(Case {
        name: "huge-revoke",
        misbehaviour: Misbehaviour::HugeBody(100_000_000),
        scope: Scope::Only(Endpoint::Revocation),
        says: &["exceeds the 1048576 byte cap"],
        ..Case::default()
    });
}

/// The body cap is the profile's, or the command line's.
#[test]
fn the_body_cap_is_configurable() {
    let results = run_case(Case {
        name: "cap-profile",
        misbehaviour: Misbehaviour::HugeBody(3_000_000),
        scope: Scope::Only(Endpoint::Jwks),
        limits: "timeout = \"2s\"\nmax_body_bytes = 65536",
        says: &["exceeds the 65536 byte cap"],
        ..Case::default()
    });
    assert!(results.is_object());
    run_case(Case {
        name: "cap-cli",
        misbehaviour: Misbehaviour::HugeBody(3_000_000),
        scope: Scope::Only(Endpoint::Jwks),
        limits: "timeout = \"2s\"\nmax_body_bytes = 65536",
        args: &["--max-body-bytes", "100000"],
        says: &["exceeds the 100000 byte cap"],
        ..Case::default()
    });
}

#[test]
fn jwks_wrong_shape() {
    run_case(Case {
        name: "shape-jwks",
        misbehaviour: Misbehaviour::WrongShape,
        scope: Scope::Only(Endpoint::Jwks),
        says: &["keys"],
        ..Case::default()
    });
}

#[test]
fn revocation_status_999() {
    run_case(Case {
        name: "999-revoke",
        misbehaviour: Misbehaviour::Status(999),
        scope: Scope::Only(Endpoint::Revocation),
        says: &["999"],
        ..Case::default()
    });
}

/// `--timeout` overrides the profile's: a 30 s profile timeout, cut to 1 s on the command line.
#[test]
fn the_timeout_is_configurable_on_the_command_line() {
    run_case(Case {
        name: "drip-cli-timeout",
        misbehaviour: Misbehaviour::SlowDrip,
        limits: "timeout = \"30s\"",
        args: &["--timeout", "1s"],
        exit: 2,
        says: &["timed out"],
        within: Duration::from_secs(8),
        ..Case::default()
    });
}

/// Limits that would disable themselves are refused, in one line, before anything is sent.
#[test]
fn limits_of_zero_are_refused() {
    let server = HostileServer::start(Misbehaviour::NotJson, Scope::Only(Endpoint::Token));
    for (name, limits, args, expect) in [
        ("zero-cap", "max_body_bytes = 0", &[][..], "max_body_bytes must be more than zero"),
        ("zero-timeout", "timeout = \"0s\"", &[], "must be more than zero"),
        ("bad-timeout", "timeout = \"soon\"", &[], "not a duration"),
        ("cli-zero-cap", "", &["--max-body-bytes", "0"], "--max-body-bytes"),
        ("cli-zero-timeout", "", &["--timeout", "0s"], "--timeout"),
    ] {
        let dir = fresh_dir(&format!("hostile-limits-{name}"));
        let profile = server.profile(&dir, limits, "");
        let out = dir.join("out");
        let mut full = vec!["run", "--no-load", "--target", profile.to_str().unwrap(), "--out", out.to_str().unwrap()];
        full.extend_from_slice(args);
        let f = run_cli(&full, &dir, Duration::from_secs(30));
        assert_eq!(f.code, Some(2), "{name}: {}", f.describe());
        assert!(f.stderr.contains(expect), "{name}: expected {expect:?} in {}", f.stderr);
        assert!(!f.stderr.contains("panicked"), "{name}: {}", f.stderr);
        assert!(!out.exists(), "{name}: nothing written");
    }
    assert_eq!(server.hits(Endpoint::Metadata), 0, "nothing was sent");
}
