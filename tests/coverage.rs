//! Guards on the test suite itself: every conformance check has a negative test, and every
//! fault switch of the reference server is exercised somewhere. A check that only ever passes
//! proves nothing; a fault nobody switches on is dead code.

use std::path::Path;

/// The text of every Rust file under `dir`.
fn sources(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.push_str(&sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Does some statement in `tests` assert a failing verdict for `id`? Either the id and a
/// `Verdict::Fail`/`Verdict::Warn` stand in one statement, or it is bound as `let id = "…"`
/// for the assertions that follow.
fn asserts_failure(tests: &str, id: &str) -> bool {
    let quoted = format!("\"{id}\"");
    tests.match_indices(&quoted).any(|(at, _)| {
        let statement = tests[at..].split(';').next().unwrap_or("");
        statement.contains("Verdict::Fail") || statement.contains("Verdict::Warn") || tests[..at].ends_with("let id = ")
    })
}

#[test]
fn every_check_has_a_negative_test() {
    let tests = sources(&root().join("tests"));
    let missing: Vec<&str> = agentcert_suites::all_checks().into_iter().map(|c| c.id).filter(|id| !asserts_failure(&tests, id)).collect();
    assert!(missing.is_empty(), "checks with no test asserting their failing verdict in tests/: {missing:#?}");
}

#[test]
fn every_fault_switch_is_exercised() {
    let tests = sources(&root().join("tests")) + &sources(&root().join("reference/tests"));
    let missing: Vec<String> =
        agentcert_reference::Fault::ALL.iter().map(|f| format!("{f:?}")).filter(|name| !tests.contains(name.as_str())).collect();
    assert!(missing.is_empty(), "fault switches no test turns on: {missing:#?}");
}
