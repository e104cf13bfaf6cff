//! `agentcert diff`, `certify` and `verify` as CI and vendors meet them: exit codes, one-line
//! errors, and the bundle's promise that any changed byte of any file is caught. One real
//! `certify` run (conformance and load on the embedded reference server) feeds every test;
//! its results.json is also checked against docs/results-schema.json, so the schema is held
//! to real output and not only to the reports crate's hand-built sample.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::LazyLock;

const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/agent-a.key.pem");
const PUB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/agent-a.pub.pem");
const OTHER_PUB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/agent-b.pub.pem");

fn agentcert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentcert")).args(args).env("NO_COLOR", "1").output().expect("agentcert runs")
}

fn text(o: &Output) -> String {
    format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("agentcert-bundle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// One `agentcert certify` of the embedded reference server, shared by the tests below.
static BUNDLE: LazyLock<PathBuf> = LazyLock::new(|| {
    let out = temp("certified");
    let o = agentcert(&["certify", "--key", KEY, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stdout(&o).contains("sealed "), "{}", text(&o));
    out
});

/// A private copy of the bundle to tamper with.
fn copy_of_bundle(name: &str) -> PathBuf {
    let dst = temp(name);
    copy_dir(&BUNDLE, &dst);
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

fn verify(dir: &Path, key: &str) -> Output {
    agentcert(&["verify", dir.to_str().unwrap(), "--key", key])
}

#[test]
fn a_certified_bundle_holds_the_run_and_verifies() {
    let dir = &*BUNDLE;
    let o = verify(dir, PUB);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stdout(&o).starts_with("valid: "), "{}", text(&o));

    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let results: Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "agentcert-bundle/1");
    assert_eq!(manifest["agentcert_version"], env!("CARGO_PKG_VERSION"));
    let commit = manifest["git_commit"].as_str().unwrap();
    assert!(commit == "unknown" || (commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())), "{commit}");
    let paths: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    for f in ["results.json", "junit.xml", "report.html", "summary.md", "metadata.json"] {
        assert!(paths.contains(&f), "{f} is in the manifest: {paths:?}");
    }
    let checks = results["checks"].as_array().unwrap();
    assert_eq!(paths.iter().filter(|p| p.starts_with("evidence/")).count(), checks.len(), "one transcript per check");
    let transcript: Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("evidence/{}.json", checks[0]["id"].as_str().unwrap()))).unwrap()).unwrap();
    assert_eq!(transcript["exchanges"], checks[0]["evidence"]);
    let metadata: Value = serde_json::from_slice(&std::fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(metadata["issuer"], results["target"]["issuer"], "the metadata as the target served it");
    assert!(!results["load"].as_array().unwrap().is_empty(), "certify runs the load phase too");
    assert!(paths.iter().any(|p| p.ends_with(".hlog")), "with its interval logs");
}

#[test]
fn a_bundle_verified_with_another_key_fails() {
    let o = verify(&BUNDLE, OTHER_PUB);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(stdout(&o).contains("signature: the signature does not verify"), "{}", text(&o));
}

/// Every file of the bundle, the manifest and its signature included, changed by one byte
/// (one at a time, restored after): `verify` exits 1 and names the file. (The reports
/// crate's unit test changes every byte of the manifest and signature.)
#[test]
fn changing_a_byte_of_any_file_is_detected() {
    let dir = copy_of_bundle("tamper");
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut paths: Vec<String> = manifest["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    paths.extend(["manifest.json".to_string(), "manifest.jws".to_string()]);
    for path in &paths {
        let file = dir.join(path);
        let original = std::fs::read(&file).unwrap();
        let mut changed = original.clone();
        let i = original.len() / 2;
        changed[i] = if changed[i] == b'x' { b'y' } else { b'x' };
        std::fs::write(&file, &changed).unwrap();
        let o = verify(&dir, PUB);
        assert_eq!(o.status.code(), Some(1), "{path}: {}", text(&o));
        let out = stdout(&o);
        if path.starts_with("manifest.") {
            assert!(out.contains("signature: "), "{path}: {out}");
        } else {
            assert!(out.contains(&format!("altered: {path} ")), "{path}: {out}");
        }
        std::fs::write(&file, &original).unwrap();
    }
    assert_eq!(verify(&dir, PUB).status.code(), Some(0), "restored");

    std::fs::remove_file(dir.join("summary.md")).unwrap();
    std::fs::write(dir.join("notes.txt"), "added later").unwrap();
    let o = verify(&dir, PUB);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("missing: summary.md") && stdout(&o).contains("extra: notes.txt"), "{}", text(&o));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_is_a_one_line_error_and_exit_2() {
    let one_line = |o: &Output, expect: &str| {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{expect}: {}", text(o));
        assert!(err.contains(expect), "expected {expect:?} in {err:?}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err:?}");
        assert!(!err.contains("panicked"));
    };
    let nowhere = temp("nowhere");
    one_line(&verify(&nowhere, PUB), "cannot read bundle");
    one_line(&verify(&BUNDLE, "/nonexistent/key.pem"), "cannot read the public key");
    one_line(&verify(&BUNDLE, KEY), "private key");
    let junk = temp("junk-key");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("k.pem"), "not a key").unwrap();
    let junk_key = junk.join("k.pem");
    one_line(&verify(&BUNDLE, junk_key.to_str().unwrap()), "not an EC public key");

    // certify refuses before running anything: a bad key, or a directory with files in it.
    let out = temp("certify-bad");
    one_line(&agentcert(&["certify", "--key", junk_key.to_str().unwrap(), "--out", out.to_str().unwrap()]), "vendor key");
    assert!(!out.exists(), "nothing written");
    one_line(&agentcert(&["certify", "--key", "/nonexistent.pem", "--out", out.to_str().unwrap()]), "cannot read the vendor key");
    one_line(&agentcert(&["certify", "--key", KEY, "--out", junk.to_str().unwrap()]), "is not empty");

    let results = BUNDLE.join("results.json");
    let r = results.to_str().unwrap();
    one_line(&agentcert(&["diff", r, "/nonexistent/results.json"]), "cannot read /nonexistent/results.json");
    one_line(&agentcert(&["diff", junk_key.to_str().unwrap(), r]), "is not an agentcert results.json");
    one_line(&agentcert(&["diff", r, r, "--latency-tolerance", "fast"]), "tolerance `fast`");
    std::fs::remove_dir_all(junk).unwrap();
}

#[test]
fn diff_exits_1_on_regressions_and_0_otherwise() {
    let dir = temp("diff");
    std::fs::create_dir_all(&dir).unwrap();
    let old_path = BUNDLE.join("results.json");
    let old = old_path.to_str().unwrap();
    let same = agentcert(&["diff", old, old]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(stdout(&same).contains("no regressions (exit 0)"), "{}", text(&same));

    // Two copies of the real run: p99 pinned to 100 ms, then 300 ms with a check now failing.
    let mut r: Value = serde_json::from_slice(&std::fs::read(&old_path).unwrap()).unwrap();
    r["load"][0]["latency_ms"]["p99"] = 100.0.into();
    let old_path = dir.join("old.json");
    std::fs::write(&old_path, serde_json::to_vec_pretty(&r).unwrap()).unwrap();
    let old = old_path.to_str().unwrap();
    let first = r["checks"][0]["id"].as_str().unwrap().to_string();
    r["checks"][0]["verdict"] = "fail".into();
    r["checks"][0]["reason"] = "broken on purpose".into();
    r["load"][0]["latency_ms"]["p99"] = 300.0.into();
    let new_path = dir.join("new.json");
    std::fs::write(&new_path, serde_json::to_vec_pretty(&r).unwrap()).unwrap();
    let new = new_path.to_str().unwrap();

    let o = agentcert(&["diff", old, new]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = stdout(&o);
    let regressions = out.split("\nRegressions\n").nth(1).expect("a Regressions section");
    assert!(regressions.contains(&format!("pass → fail        {first}  broken on purpose")), "{out}");
    assert!(regressions.contains(" p99: 100.000 ms → 300.000 ms (+200.0%)"), "{out}");

    let md = agentcert(&["diff", old, new, "--format", "markdown"]);
    assert_eq!(md.status.code(), Some(1));
    assert!(stdout(&md).starts_with("### agentcert diff: REGRESSED"), "{}", text(&md));
    assert!(stdout(&md).contains(&format!("- pass → fail `{first}`: broken on purpose")), "{}", text(&md));

    // The same latency change passes with a loose enough tolerance; the verdict still fails.
    let loose = agentcert(&["diff", old, new, "--latency-tolerance", "1000%"]);
    assert_eq!(loose.status.code(), Some(1));
    assert!(!stdout(&loose).contains(" p99: "), "{}", text(&loose));
    std::fs::remove_dir_all(dir).unwrap();
}

/// docs/results-schema.json, closed the way the reports crate's schema test closes it (an
/// object that lists its properties allows no others), against a real run's results.json
/// with load results: a field added to the engine but not documented fails here.
#[test]
fn a_real_results_json_matches_the_schema() {
    fn close(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                    m.insert("additionalProperties".into(), false.into());
                }
                m.values_mut().for_each(close);
            }
            Value::Array(a) => a.iter_mut().for_each(close),
            _ => {}
        }
    }
    let mut schema: Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/results-schema.json")).unwrap()).unwrap();
    close(&mut schema);
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    let doc: Value = serde_json::from_slice(&std::fs::read(BUNDLE.join("results.json")).unwrap()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert_eq!(errors, Vec::<String>::new());
}
