//! The command line as users and CI meet it: exit codes, one-line errors, files written.

use std::process::{Command, Output};

fn agentcert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentcert")).args(args).env("NO_COLOR", "1").output().expect("agentcert runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("agentcert-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The README's first command, minus --release: the whole job on the embedded server.
#[test]
fn run_on_the_embedded_server_passes_and_writes_reports() {
    let out = temp_dir("run");
    let o = agentcert(&["run", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["schema_version"], "1.0");
    let summary = &results["summary"];
    assert_eq!(summary["fail"], 0, "{summary}");
    assert_eq!(summary["error"], 0, "{summary}");
    assert!(summary["total"].as_u64().unwrap() >= 40, "at least 40 checks: {summary}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count() as u64, summary["total"].as_u64().unwrap());
}

fn write_profile(name: &str, text: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let p = dir.join("target.toml");
    std::fs::write(&p, text).unwrap();
    p
}

const MINIMAL: &str = r#"
[target]
name = "t"
issuer = "ISSUER"
[clients.agent_a]
client_id = "a"
auth_method = "client_secret_basic"
client_secret = "s3cret-s3cret"
[clients.resource_server]
client_id = "rs"
auth_method = "client_secret_basic"
client_secret = "s3cret-s3cret"
[resources]
default = "https://api.example.test"
"#;

#[test]
fn a_malformed_profile_is_a_one_line_error_and_exit_2() {
    for (name, text, expect) in [
        ("syntax", "[target\nname=", "target profile"),
        (
            "missing-client",
            "[target]\nname='t'\nissuer='http://127.0.0.1:1'\n[clients]\n[resources]\ndefault='x'\n",
            "[clients.agent_a] is required",
        ),
        ("bad-issuer", &MINIMAL.replace("ISSUER", "not a url"), "is not a URL"),
        (
            "bad-duration",
            &format!("{}\n[timing]\nrevoke_within = \"soon\"\n", MINIMAL.replace("ISSUER", "http://127.0.0.1:1")),
            "not a duration",
        ),
        ("unknown-key", &format!("{}\n[target2]\n", MINIMAL.replace("ISSUER", "http://127.0.0.1:1")), "unknown field"),
        ("zero-bound", &format!("{}\n[timing]\nrevoke_within = \"0s\"\n", MINIMAL.replace("ISSUER", "http://127.0.0.1:1")), "out of range"),
        (
            "absurd-bound",
            &format!("{}\n[timing]\nrevoke_within = \"999999h\"\n", MINIMAL.replace("ISSUER", "http://127.0.0.1:1")),
            "out of range",
        ),
    ] {
        let p = write_profile(name, text);
        let o = agentcert(&["check", "--target", p.to_str().unwrap(), "--out", temp_dir(&format!("{name}-out")).to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(expect), "{name}: expected {expect:?} in {err:?}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: one line, got {err:?}");
    }
}

#[test]
fn a_missing_profile_file_is_exit_2() {
    let o = agentcert(&["check", "--target", "/nonexistent/agentcert.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read it"), "{}", stderr(&o));
}

#[test]
fn an_unreachable_target_is_exit_2() {
    // A port nothing listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let p = write_profile("unreachable", &MINIMAL.replace("ISSUER", &format!("http://127.0.0.1:{port}")));
    let o = agentcert(&["check", "--target", p.to_str().unwrap(), "--out", temp_dir("unreachable-out").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot reach the target"), "{}", stderr(&o));
}

#[test]
fn a_server_that_is_not_an_authorization_server_is_exit_2() {
    // An HTTP server that answers everything with 404: alive, but no metadata.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in listener.incoming().map_while(Result::ok) {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found");
        }
    });
    let p = write_profile("not-as", &MINIMAL.replace("ISSUER", &format!("http://127.0.0.1:{port}")));
    let o = agentcert(&["check", "--target", p.to_str().unwrap(), "--out", temp_dir("not-as-out").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not an OAuth 2.0 authorization server"), "{}", stderr(&o));
}

#[test]
fn an_unknown_suite_is_exit_2_and_names_the_suites() {
    let o = agentcert(&["check", "--suite", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the suites are: discovery"), "{}", stderr(&o));
}

#[test]
fn list_shows_checks_and_requirements() {
    let o = agentcert(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("discovery.issuer-identical") && text.contains("DISC-002"), "{text}");
    let o = agentcert(&["list", "--requirements"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("DISC-002") && text.contains("checked by discovery.issuer-identical"), "{text}");
}

/// An --out that cannot be written is found before the run, not after it.
#[test]
fn an_unwritable_out_is_exit_2_before_any_work() {
    let dir = temp_dir("out-is-a-file");
    let file = dir.join("afile");
    std::fs::write(&file, "x").unwrap();
    let started = std::time::Instant::now();
    let o = agentcert(&["run", "--out", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write reports to"), "{}", stderr(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("checks:"), "no checks should have run");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
