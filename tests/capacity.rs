//! `agentcert load --find-capacity` and the jwt-bearer scenario, as users meet them.
//!
//! The capacity test loads a loopback server with a known knee: it serves one request at a
//! time in a fixed service time (a single-server queue), so below its capacity every request
//! takes the service time and above it the queue, and so the latency, grows for as long as
//! the load lasts. The search must find a rate near that capacity.
//!
//! Tests that send load hold a lock, so that they never compete for the machine's two cores.

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static LOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The queue server's capacity, requests a second.
const KNEE: f64 = 160.0;

fn agentcert(args: Vec<String>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentcert")).args(args).env("NO_COLOR", "1").output().expect("agentcert runs")
}

async fn agentcert_async(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || agentcert(args)).await.unwrap()
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("agentcert-capacity-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An authorization server (metadata and a token endpoint, nothing else) whose token endpoint
/// is a single-server queue: each request is served after the one before it, in `1 / KNEE`.
async fn queue_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let metadata =
        json!({ "issuer": issuer, "token_endpoint": format!("{issuer}/token"), "grant_types_supported": ["client_credentials"] });
    let service = Duration::from_secs_f64(1.0 / KNEE);
    let free_at = Arc::new(Mutex::new(Instant::now()));
    let app = Router::new().route("/.well-known/oauth-authorization-server", get(move || async move { Json(metadata) })).route(
        "/token",
        post(move || async move {
            let done = {
                let mut free = free_at.lock().unwrap();
                *free = (*free).max(Instant::now()) + service;
                *free
            };
            tokio::time::sleep_until(done.into()).await;
            Json(json!({ "access_token": "t", "token_type": "Bearer", "expires_in": 300 }))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    issuer
}

/// A target profile for `issuer`, with a partner when `partner` (listening on an ephemeral
/// port, trusted: whether the target offers the grant is up to its metadata).
fn profile(dir: &Path, issuer: &str, partner: bool) -> PathBuf {
    let mut text = format!(
        "[target]\nname = \"queue\"\nissuer = \"{issuer}\"\n[clients.agent_a]\nclient_id = \"a\"\nauth_method = \"client_secret_basic\"\nclient_secret = \"s3cret-s3cret\"\n[clients.resource_server]\nclient_id = \"rs\"\nauth_method = \"client_secret_basic\"\nclient_secret = \"s3cret-s3cret\"\n[resources]\ndefault = \"https://api.example.test\"\n"
    );
    if partner {
        text.push_str("[partner]\nlisten = \"127.0.0.1:0\"\nsubject = \"partner-agent-7\"\nscope = \"calendar.read\"\n");
    }
    let path = dir.join("target.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn results(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_capacity_search_finds_the_knee_of_a_queueing_server() {
    let _one = LOAD.lock().await;
    let issuer = queue_server().await;
    let dir = temp_dir("knee");
    let target = profile(&dir, &issuer, false);
    let out = dir.join("out");
    let o = agentcert_async(&[
        "load",
        "--scenario",
        "issuance",
        "--target",
        target.to_str().unwrap(),
        "--find-capacity",
        "--slo",
        "p99<150ms,errors<1%",
        "--rate",
        "20/s",
        "--max-rate",
        "1000/s",
        "--duration",
        "2s",
        "--out",
        out.to_str().unwrap(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The bound is stated before the first step.
    let plan = stderr
        .lines()
        .position(|l| l.contains("capacity search for issuance") && l.contains("at most 12 steps"))
        .unwrap_or_else(|| panic!("{}", text(&o)));
    let first = stderr.lines().position(|l| l.contains("capacity step 1: 20/s")).unwrap_or_else(|| panic!("{}", text(&o)));
    assert!(plan < first, "{}", text(&o));

    let r = &results(&out)["load"][0];
    let c = &r["capacity"];
    eprintln!("capacity: {}", serde_json::to_string_pretty(c).unwrap());
    let found = c["rate"].as_f64().expect("a rate met the SLO");
    assert!((found - KNEE).abs() <= KNEE * 0.12, "found {found}/s; the knee is {KNEE}/s: {c}");
    assert_eq!(c["outcome"], "found", "{c}");
    assert!(c["elapsed_s"].as_f64().unwrap() <= c["time_bound_s"].as_f64().unwrap(), "{c}");
    let steps = c["steps"].as_array().unwrap();
    assert!(steps.len() >= 5 && steps.len() as u64 <= c["max_steps"].as_u64().unwrap(), "{c}");
    // The evidence of every step: well under the knee met the SLO; twice the knee missed it.
    for s in steps {
        let rate = s["rate"].as_f64().unwrap();
        for field in ["achieved_rate", "requests", "errors", "late", "dropped", "verdict", "histogram_file"] {
            assert!(!s[field].is_null(), "{field} in {s}");
        }
        assert!(s["latency_ms"]["p50"].as_f64().is_some() && s["latency_ms"]["p99"].as_f64().is_some(), "{s}");
        assert!(out.join(s["histogram_file"].as_str().unwrap()).exists(), "{s}");
        if rate <= KNEE * 0.6 {
            assert_eq!(s["meets_slo"], true, "{s}");
        }
        if rate >= KNEE * 1.5 {
            assert_eq!(s["meets_slo"], false, "{s}");
        }
    }
    // The entry's own figures are the step at the rate found, its SLO judged as thresholds.
    assert_eq!(r["target_rate"].as_f64(), Some(found), "{r}");
    assert!(r["thresholds"].as_array().unwrap().iter().all(|t| t["passed"] == true), "{r}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("capacity search for issuance (SLO p99<150ms,errors<1%") && stdout.contains("capacity issuance: "),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_capacity_options_are_a_one_line_error_and_exit_2() {
    let _one = LOAD.blocking_lock();
    for (args, expect) in [
        (&["--find-capacity", "--slo", "p99<fast"][..], "--slo `p99<fast`: threshold `p99<fast`: `fast` is not a number"),
        (&["--find-capacity", "--slo", "p98<5ms"], "unknown metric `p98`"),
        (&["--find-capacity", "--slo", "p99<5ms,"], "an empty rule"),
        (&["--find-capacity", "--slo", "p99"], "no `<` or `>`"),
        (&["--find-capacity"], "--find-capacity needs --slo"),
        (&["--slo", "p99<5ms"], "--slo is for --find-capacity"),
        (&["--find-capacity", "--slo", "p99<5ms", "--model", "closed"], "open model"),
        (&["--find-capacity", "--slo", "p99<5ms", "--max-rate", "1/s"], "below the start rate"),
    ] {
        let out = temp_dir("bad").join("out");
        let mut full: Vec<String> =
            ["load", "--scenario", "issuance", "--out", out.to_str().unwrap()].iter().map(|s| s.to_string()).collect();
        full.extend(args.iter().map(|s| s.to_string()));
        let o = agentcert(full);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(err.contains(expect), "{args:?}: expected {expect:?} in {err:?}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}

/// The partner's assertions, exchanged at the embedded reference server: every one accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_exchanges_partner_assertions_for_tokens() {
    let _one = LOAD.lock().await;
    let out = temp_dir("jwt-bearer").join("out");
    let o =
        agentcert_async(&["load", "--scenario", "jwt-bearer", "--rate", "20", "--duration", "1s", "--out", out.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = &results(&out)["load"][0];
    assert_eq!((r["scenario"].as_str(), r["requests"].as_u64(), r["errors"].as_u64()), (Some("jwt-bearer"), Some(20), Some(0)), "{r}");
    assert_eq!(r["latency_ms"]["samples"], 20, "{r}");
}

/// A target whose metadata does not list the grant: the scenario is skipped with a note, and
/// nothing is sent to the token endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_is_skipped_with_a_note_when_the_target_has_no_such_grant() {
    let _one = LOAD.lock().await;
    let issuer = queue_server().await;
    let dir = temp_dir("no-jwt-bearer");
    let target = profile(&dir, &issuer, true);
    let out = dir.join("out");
    let o = agentcert_async(&[
        "load",
        "--scenario",
        "jwt-bearer,issuance",
        "--rate",
        "10",
        "--duration",
        "1s",
        "--target",
        target.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr
            .contains("load jwt-bearer skipped: the target's metadata does not list the grant urn:ietf:params:oauth:grant-type:jwt-bearer"),
        "{}",
        text(&o)
    );
    let load = results(&out)["load"].as_array().unwrap().clone();
    assert_eq!(load.len(), 1, "only issuance ran: {load:?}");
    assert_eq!(load[0]["scenario"], "issuance");
    let _ = std::fs::remove_dir_all(&dir);
}
