//! Shared by the integration tests: run checks against a mutant of the reference server (one
//! fault switched on) or against any profile, and read verdicts back.
#![allow(dead_code)]

pub mod hostile;
pub mod peer;

use agentcert::embedded;
use agentcert_engine::context::Roles;
use agentcert_engine::results::{CheckResult, RunResults};
use agentcert_engine::runner::{self, RunOptions};
use agentcert_engine::{Check, TargetProfile, Verdict};
use agentcert_reference::Fault;

/// The checks with these ids, in suite order. Panics on an unknown id (a typo in a test).
pub fn checks(ids: &[&str]) -> Vec<Check> {
    let all = agentcert_suites::all_checks();
    for id in ids {
        assert!(all.iter().any(|c| c.id == *id), "no check has id {id}");
    }
    all.into_iter().filter(|c| ids.contains(&c.id)).collect()
}

/// Runs the given checks against the reference server with `faults` switched on.
pub async fn run_reference(faults: &[Fault], ids: &[&str]) -> RunResults {
    let target = embedded::start(faults).await.expect("embedded reference server starts");
    let (server, profile, roles) = target.into_parts();
    let results = run_profile(profile, roles, &checks(ids)).await;
    server.shutdown().await;
    results
}

/// Runs checks against whatever a profile describes (a wiremock server, a peer). `roles` are
/// harness roles already started (`Some(home)`, or all of an embedded target's), else `None`.
pub async fn run_profile(profile: TargetProfile, roles: impl Into<Roles>, checks: &[Check]) -> RunResults {
    let catalog = agentcert_suites::catalog();
    runner::run(profile, roles, checks, &catalog, &RunOptions::default(), &mut |_| {}).await.expect("the harness runs")
}

pub fn result<'a>(results: &'a RunResults, id: &str) -> &'a CheckResult {
    results.checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("{id} did not run"))
}

/// Asserts that check `id` reached `verdict`, printing its reason and evidence otherwise.
pub fn assert_verdict(results: &RunResults, id: &str, verdict: Verdict) {
    let r = result(results, id);
    assert_eq!(r.verdict, verdict, "{id}: expected {verdict:?}, got {:?}: {}\nevidence: {:#?}", r.verdict, r.reason, r.evidence);
}

/// The negative-test pattern: with `fault` on, check `id` fails (or warns, for a SHOULD).
pub async fn assert_fault_caught(fault: Fault, id: &str, verdict: Verdict) {
    let results = run_reference(&[fault], &[id]).await;
    assert_verdict(&results, id, verdict);
}

/// A profile for the reference fixtures pointed at `issuer` (a wiremock server, say).
pub fn reference_profile_at(issuer: &str) -> TargetProfile {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/targets/reference.toml")).unwrap();
    let base = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/targets"));
    let mut p = TargetProfile::parse(&text, base, "test").expect("reference profile parses");
    p.target.issuer = issuer.to_string();
    p.home_issuer = None;
    p
}
