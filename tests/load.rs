//! `agentcert load` as users and CI meet it: the acceptance run, refusals, exit codes.
//!
//! The tests that generate load take a lock so that they never compete with each other for
//! the machine's two cores (the acceptance test's 2% rate tolerance is not loosened for that).

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use std::process::{Command, Output};
use std::sync::Mutex;

/// Held by every test that sends load.
static LOAD: Mutex<()> = Mutex::new(());

fn agentcert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentcert")).args(args).env("NO_COLOR", "1").output().expect("agentcert runs")
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("agentcert-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn load_entries(out: &std::path::Path) -> Vec<serde_json::Value> {
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["schema_version"], "1.0");
    results["load"].as_array().unwrap().clone()
}

/// Every interval of an HdrHistogram interval log, decoded.
fn read_hlog(path: &std::path::Path) -> Vec<Histogram<u64>> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = vec![];
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(i) = entry.expect("a well-formed interval log") {
            let raw = base64::engine::general_purpose::STANDARD.decode(i.encoded_histogram()).unwrap();
            out.push(Deserializer::new().deserialize(&mut &raw[..]).expect("a V2 histogram"));
        }
    }
    out
}

/// The acceptance test: 200/s for 5 s against the embedded reference server.
#[test]
fn issuance_at_200_per_second_achieves_its_rate_and_writes_a_readable_histogram_log() {
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("issuance");
    let o = agentcert(&["load", "--scenario", "issuance", "--rate", "200", "--duration", "5s", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let load = load_entries(&out);
    let r = &load[0];
    eprintln!("acceptance: {r}");
    assert_eq!((r["scenario"].as_str(), r["model"].as_str()), (Some("issuance"), Some("open")));
    assert_eq!(r["target_rate"], 200.0);
    let achieved = r["achieved_rate"].as_f64().unwrap();
    assert!((achieved - 200.0).abs() <= 200.0 * 0.02, "achieved {achieved}/s is not within 2% of 200/s: {r}");
    assert_eq!(r["errors"], 0, "{r}");
    assert_eq!(r["latency_basis"], "intended send time");
    let requests = r["requests"].as_u64().unwrap();
    assert_eq!(requests + r["dropped"].as_u64().unwrap(), 1000, "{r}");

    let intervals = read_hlog(&out.join(r["histogram_file"].as_str().unwrap()));
    assert!(intervals.len() >= 5, "one interval a second: {}", intervals.len());
    let recorded: u64 = intervals.iter().map(|h| h.len()).sum();
    assert_eq!(recorded, r["latency_ms"]["samples"].as_u64().unwrap());
    assert_eq!(recorded, requests, "every answered request is in the log");
    let table = std::fs::read_to_string(out.join(r["percentiles_file"].as_str().unwrap())).unwrap();
    assert!(table.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"), "{table}");
    assert!(out.join(r["goose_report_file"].as_str().unwrap()).exists());
    assert!(String::from_utf8_lossy(&o.stdout).contains("intended send time"), "the summary table: {}", text(&o));
}

#[test]
fn revocation_reports_a_propagation_latency_histogram() {
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("revocation");
    let o = agentcert(&["load", "--scenario", "revocation", "--rate", "10", "--duration", "2s", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = &load_entries(&out)[0];
    assert_eq!(r["scenario"], "revocation");
    assert_eq!(r["latency_basis"], "revoke call start");
    assert_eq!(r["errors"], 0, "{r}");
    assert_eq!(r["requests"], 20, "{r}");
    // Issue, revoke and at least one introspection per operation.
    assert!(r["http_requests"].as_u64().unwrap() >= 60, "{r}");
    assert_eq!(r["latency_ms"]["samples"], 20, "{r}");
    assert!(r["latency_ms"]["p50"].as_f64().unwrap() > 0.0, "{r}");
    let recorded: u64 = read_hlog(&out.join("revocation.hlog")).iter().map(|h| h.len()).sum();
    assert_eq!(recorded, 20);
}

#[test]
fn a_threshold_that_must_miss_is_listed_and_exits_1() {
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("threshold");
    let o = agentcert(&[
        "load",
        "--scenario",
        "issuance",
        "--rate",
        "20",
        "--duration",
        "1s",
        "--threshold",
        "issuance.p99<0.001ms",
        "--threshold",
        "errors<1%",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("threshold MISSED issuance: issuance.p99<0.001ms"), "{}", text(&o));
    assert!(stdout.contains("threshold passed issuance: errors<1%"), "{}", text(&o));
    let r = &load_entries(&out)[0];
    assert_eq!(r["thresholds"][0]["passed"], false, "{r}");
}

/// The host's own non-loopback address, if it has one: a target there is this machine, so a
/// listener can prove that nothing was sent to it.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("192.0.2.1:9").ok()?; // TEST-NET: connecting a UDP socket sends nothing
    let ip = probe.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn a_target_off_loopback_is_refused_before_any_request() {
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let ip = non_loopback_ip().map_or("10.255.255.1".to_string(), |ip| ip.to_string());
    let dir = temp_dir("remote");
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("target.toml");
    std::fs::write(
        &profile,
        format!(
            "[target]\nname = \"remote\"\nissuer = \"http://{ip}:{}\"\n[clients.agent_a]\nclient_id = \"a\"\nauth_method = \"client_secret_basic\"\nclient_secret = \"s3cret-s3cret\"\n[clients.resource_server]\nclient_id = \"rs\"\nauth_method = \"client_secret_basic\"\nclient_secret = \"s3cret-s3cret\"\n[resources]\ndefault = \"https://api.example.test\"\n",
            listener.local_addr().unwrap().port()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let o = agentcert(&["load", "--scenario", "issuance", "--target", profile.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(err.contains("not a loopback address") && err.contains("--allow-remote"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err:?}");
    assert!(!out.exists(), "nothing written");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the refused target was contacted: {other:?}"),
    }
}

#[test]
fn bad_load_arguments_are_a_one_line_error_and_exit_2() {
    for (args, expect) in [
        (&["--rate", "fast"][..], "rate `fast` is not a number"),
        (&["--rate", "0/s"], "rate `0/s` must be more than zero"),
        (&["--duration", "soon"], "duration `soon` is not a duration"),
        (&["--duration", "1h"], "limit of 10m"),
        (&["--ramp", "50/s"], "not RATE:DURATION"),
        (&["--threshold", "p99<fast"], "threshold `p99<fast`"),
        (&["--threshold", "issuance.p98<5ms"], "unknown metric `p98`"),
        (&["--model", "closed", "--rate", "5"], "drop --rate"),
    ] {
        let out = temp_dir("bad");
        let mut full = vec!["load", "--scenario", "issuance", "--out", out.to_str().unwrap()];
        full.extend_from_slice(args);
        let o = agentcert(&full);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(err.contains(expect), "{args:?}: expected {expect:?} in {err:?}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(!err.contains("panicked"));
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}

/// `--max-requests` ends a load at its bound, whatever the duration: in the open model the
/// schedule has that many slots (each sent or counted dropped), in the closed model the users
/// stop claiming operations.
#[test]
fn max_requests_stops_the_load_at_its_bound() {
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    for (name, shape) in [
        ("open", &["--rate", "200", "--duration", "10s"][..]),
        ("closed", &["--model", "closed", "--concurrency", "4", "--duration", "10s"]),
    ] {
        let out = temp_dir(&format!("max-requests-{name}"));
        let mut args = vec!["load", "--scenario", "issuance", "--max-requests", "50", "--out", out.to_str().unwrap()];
        args.extend_from_slice(shape);
        let started = std::time::Instant::now();
        let o = agentcert(&args);
        let elapsed = started.elapsed();
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        let r = &load_entries(&out)[0];
        let (requests, dropped) = (r["requests"].as_u64().unwrap(), r["dropped"].as_u64().unwrap_or(0));
        assert_eq!(requests + dropped, 50, "{name}: every one of the 50 operations is accounted for: {r}");
        assert!(requests >= 45, "{name}: {r}");
        assert!(elapsed < std::time::Duration::from_secs(7), "{name}: the bound, not the 10 s duration, ended the run ({elapsed:?})");
    }
}

/// A load without a bound, or beyond agentcert's, is refused before anything is sent.
#[test]
fn loads_beyond_the_bounds_are_refused() {
    for (args, expect) in [
        (&["--max-requests", "0"][..], "--max-requests must be 1 to 10000000"),
        (&["--max-requests", "10000001"], "--max-requests must be 1 to 10000000"),
        (&["--duration", "601s"], "limit of 10m"),
        (&["--model", "closed", "--duration", "11m"], "limit of 10m"),
        (&["--rate", "10000000/s"], "above agentcert's limit"),
        (&["--model", "ramp", "--ramp", "1/s:6m,1/s:6m"], "in total is longer than agentcert's limit of 10m"),
    ] {
        let out = temp_dir("beyond");
        let mut full = vec!["load", "--scenario", "issuance", "--out", out.to_str().unwrap()];
        full.extend_from_slice(args);
        let o = agentcert(&full);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(err.contains(expect), "{args:?}: expected {expect:?} in {err:?}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}

/// push-revocation: from the revoke call's start to the CAEP session-revoked SET's arrival at
/// the harness's signals receiver, under background issuance, against the embedded reference
/// server (an SSF Transmitter). Every delivered revocation is one value in the interval log.
#[test]
fn push_revocation_times_the_set_from_the_revoke_call() {
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("push-revocation");
    let o = agentcert(&["load", "--scenario", "push-revocation", "--rate", "10", "--duration", "3s", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = &load_entries(&out)[0];
    eprintln!("push-revocation: {r}");
    assert_eq!((r["scenario"].as_str(), r["latency_basis"].as_str()), (Some("push-revocation"), Some("revoke call start")), "{r}");
    let count = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let delivered = count(&r["latency_ms"]["samples"]);
    assert!(delivered > 0, "{r}");
    // Every operation is delivered (timed) or failed by class; invalid SETs are extra errors.
    assert_eq!(delivered + count(&r["errors"]) - count(&r["errors_by_class"]["invalid-set"]), count(&r["requests"]), "{r}");
    let recorded: u64 = read_hlog(&out.join("push-revocation.hlog")).iter().map(|h| h.len()).sum();
    assert_eq!(recorded, delivered, "one value per delivered revocation: {r}");
    assert!(r["latency_ms"]["p99"].as_f64().unwrap() > 0.0, "{r}");
    assert!(out.join("push-revocation.percentiles.txt").exists() && out.join("push-revocation.goose.html").exists(), "{r}");
    let background = &r["background_issuance"];
    assert_eq!(background["multiple"], 5.0, "{r}");
    assert!(count(&background["requests"]) > 0, "{r}");
}

/// A Transmitter that never sends the event, and one whose SETs break a rule: the first is
/// `not-delivered` (after revoke_within × 3, at least 1 s), the second `invalid-set` (its
/// arrivals still timed). In process, against mutants of the reference server.
#[test]
fn push_revocation_counts_undelivered_and_invalid_sets() {
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let options = agentcert_scenarios::LoadOptions {
        scenarios: vec!["push-revocation".into()],
        rate: Some("5".into()),
        duration: Some("1s".into()),
        background_issuance: Some("1".into()),
        ..Default::default()
    };
    let plan = agentcert_scenarios::LoadPlan::from_options(&options).unwrap();
    for (fault, class) in
        [(agentcert_reference::Fault::SsfNoRevocationEvent, "not-delivered"), (agentcert_reference::Fault::SsfSetWrongAud, "invalid-set")]
    {
        let r = rt.block_on(async {
            let (server, mut profile, _) = agentcert::embedded::start(&[fault]).await.unwrap().into_parts();
            profile.timing.revoke_within = std::time::Duration::from_millis(100);
            let out = temp_dir(&format!("push-{class}"));
            let r = agentcert_scenarios::run(profile, None, &plan, &out, false).await.unwrap();
            server.shutdown().await;
            r[0].clone()
        });
        assert_eq!((r.requests, r.errors_by_class.get(class).copied()), (5, Some(5)), "{fault:?}: {r:?}");
        let expected_samples = if class == "invalid-set" { 5 } else { 0 };
        assert_eq!(r.latency_ms.samples, expected_samples, "{fault:?}: {r:?}");
        let background = r.background_issuance.as_ref().map_or(0, |b| b.requests);
        assert!((1..=5).contains(&background), "one background request a revocation, sent by the end: {r:?}");
    }
}

/// A target that is no Transmitter, or whose access tokens are opaque, is refused before any
/// load when push-revocation is all that was asked for (exit 2 from the command line).
#[test]
fn push_revocation_needs_a_transmitter_and_tokens_with_a_jti() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let options = agentcert_scenarios::LoadOptions {
        scenarios: vec!["push-revocation".into()],
        rate: Some("5".into()),
        duration: Some("1s".into()),
        ..Default::default()
    };
    let plan = agentcert_scenarios::LoadPlan::from_options(&options).unwrap();
    rt.block_on(async {
        let (server, profile, _) = agentcert::embedded::start(&[]).await.unwrap().into_parts();
        for (capability, says) in [
            ("ssf-transmitter", "push-revocation: the target profile turns the ssf-transmitter capability off"),
            ("jwt-access-tokens", "opaque"),
        ] {
            let mut p = profile.clone();
            p.capabilities.insert(capability.into(), false);
            let out = temp_dir(&format!("push-refused-{capability}"));
            let e = agentcert_scenarios::run(p, None, &plan, &out, false).await.unwrap_err();
            assert!(e.contains(says) && !e.contains('\n'), "{capability}: {e}");
            assert!(!out.exists(), "{capability}: nothing written");
        }
        server.shutdown().await;
    });
}

/// A load whose every operation fails measures nothing about the server: it exits 1 and says
/// so, instead of printing refusal timings as if they were latencies. Here the target is a
/// reference server started alone (`agentcert serve`), which does not trust the harness's
/// home issuer, so every token exchange is refused.
#[test]
fn a_load_where_every_operation_fails_exits_1() {
    use std::io::{BufRead, BufReader};
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_agentcert"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = temp_dir("all-failed");
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("target.toml");
    let fixture = std::fs::read_to_string(format!("{root}/fixtures/targets/reference.toml")).unwrap();
    let adapted = fixture
        .replace("issuer = \"http://127.0.0.1:0\"", &format!("issuer = \"http://127.0.0.1:{port}\""))
        .replace("\"../keys/", &format!("\"{root}/fixtures/keys/"));
    std::fs::write(&profile, adapted).unwrap();
    let out = dir.join("out");
    let o = agentcert(&[
        "load",
        "--scenario",
        "exchange",
        "--rate",
        "10",
        "--duration",
        "1s",
        "--target",
        profile.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("every exchange operation failed"), "{}", text(&o));
    let entry = &load_entries(&out)[0];
    assert_eq!(entry["errors"], entry["requests"], "{entry}");
    assert!(out.join("report.html").exists() && out.join("summary.md").exists(), "load writes every report");
}
