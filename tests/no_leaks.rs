//! No secret ever leaves the harness: after whole jobs (conformance and load) against the
//! embedded reference server and against a server that issues opaque tokens, no output file
//! (results.json, junit.xml, report.html, summary.md, Goose's HTML reports, HdrHistogram logs,
//! percentile tables) and no line of stdout or stderr holds a client secret, private key
//! material, or a complete token.

mod support;

use agentcert_engine::TargetProfile;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::hostile::{fresh_dir, run_cli, Endpoint, HostileServer, Misbehaviour, Scope};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// Everything a run wrote: every file under `dirs` (recursively), and its stdout and stderr.
fn outputs(dirs: &[&Path], runs: &[&support::hostile::Finished]) -> Vec<(String, String)> {
    let mut out = vec![];
    for (i, f) in runs.iter().enumerate() {
        out.push((format!("run {i} stdout"), f.stdout.clone()));
        out.push((format!("run {i} stderr"), f.stderr.clone()));
    }
    let mut pending: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    while let Some(p) = pending.pop() {
        if p.is_dir() {
            pending.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        } else {
            out.push((p.display().to_string(), String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()));
        }
    }
    out
}

/// Every complete compact JWS in `text`: three base64url segments whose first is a JSON
/// header with `alg`, whose second is JSON, and whose signature is present. Redaction keeps a
/// token's header and claims, never its signature, so any hit is a usable token.
fn complete_jws(text: &str) -> Vec<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let json = |seg: &str| URL_SAFE_NO_PAD.decode(seg).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let mut found = vec![];
    for run in text.split(|c: char| !(is_b64(c) || c == '.')) {
        let segs: Vec<&str> = run.split('.').collect();
        for w in segs.windows(3) {
            let header = json(w[0]).filter(|h| h.get("alg").is_some());
            if header.is_some() && json(w[1]).is_some_and(|c| c.is_object()) && !w[2].is_empty() {
                found.push(w.join("."));
            }
        }
    }
    found
}

/// The 32-byte private scalar of a PKCS#8 P-256 key (RFC 5915 ECPrivateKey: version 1, then
/// an OCTET STRING of 32 bytes), base64url: the JWK `d` (RFC 7518 §6.2.2.1).
fn jwk_d(pem: &str) -> String {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(b64).unwrap();
    let at = der.windows(5).position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x20]).expect("an ECPrivateKey");
    URL_SAFE_NO_PAD.encode(&der[at + 5..at + 37])
}

/// The private keys of the fixtures: each PEM body line and the JWK `d`.
fn fixture_key_material() -> Vec<(String, String)> {
    let mut needles = vec![];
    for entry in std::fs::read_dir(Path::new(FIXTURES).join("keys")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".key.pem") {
            continue;
        }
        let pem = std::fs::read_to_string(entry.path()).unwrap();
        for line in pem.lines().filter(|l| !l.starts_with("-----") && l.len() >= 16) {
            needles.push((format!("{name} PEM line"), line.to_string()));
        }
        needles.push((format!("{name} JWK d"), jwk_d(&pem)));
    }
    assert!(needles.len() >= 6, "the fixture keys were found: {needles:?}");
    needles
}

/// Asserts that no output holds any needle, any private JWK member, any PEM private key, or a
/// complete JWS.
fn assert_clean(outputs: &[(String, String)], needles: &[(String, String)]) {
    assert!(!needles.iter().any(|(_, n)| n.len() < 8), "needles too short to mean anything: {needles:?}");
    for (file, text) in outputs {
        for (what, needle) in needles {
            if let Some(at) = text.find(needle.as_str()) {
                let context: String = text[at.saturating_sub(120)..].chars().take(300).collect();
                panic!("{file} holds {what}: …{context}…");
            }
        }
        assert!(!text.contains("PRIVATE KEY-----"), "{file} holds a PEM private key");
        for member in ["\"d\":\"", "\"d\": \"", "\\\"d\\\":\\\""] {
            if let Some(at) = text.find(member) {
                let value: String = text[at + member.len()..].chars().take_while(|c| *c != '"' && *c != '\\').collect();
                assert!(value.len() < 32 || value.starts_with('«'), "{file} holds a private JWK member d = {value}");
            }
        }
        let tokens = complete_jws(text);
        assert!(tokens.is_empty(), "{file} holds {} complete token(s), the first: {}", tokens.len(), tokens[0]);
    }
}

/// The embedded profile's secrets: the same fixture the binary compiles in.
fn embedded_secrets() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("targets/reference.toml")).unwrap();
    let profile = TargetProfile::parse(&text, &Path::new(FIXTURES).join("targets"), "test").unwrap();
    let secrets: Vec<(String, String)> = profile.secrets().into_iter().map(|s| ("a client secret".to_string(), s)).collect();
    assert!(secrets.len() >= 3, "{secrets:?}");
    secrets
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    let key =
        agentcert_engine::jose::SigningKey::from_pem(&std::fs::read_to_string(Path::new(FIXTURES).join("keys/agent-a.key.pem")).unwrap())
            .unwrap();
    let token = key.sign(Some("at+jwt"), &serde_json::json!({"sub": "alice"})).unwrap();
    assert_eq!(complete_jws(&format!("Bearer {token}\n")), vec![token.clone()]);
    assert_eq!(complete_jws(&format!("see.{token}.")), vec![token.clone()], "inside a longer dotted run");
    let redacted = agentcert_engine::redact::Redactor::default().text(&format!("token={token}"));
    assert!(complete_jws(&redacted).is_empty(), "{redacted}");
    let unsigned = agentcert_engine::jose::unsigned(&serde_json::json!({"sub": "x"}));
    assert!(complete_jws(&unsigned).is_empty(), "an unsigned token has no signature to leak");
    // The JWK `d` computed from the PEM is the key's: signing with a JWK of it would agree.
    let d = jwk_d(&std::fs::read_to_string(Path::new(FIXTURES).join("keys/agent-a.key.pem")).unwrap());
    assert_eq!(URL_SAFE_NO_PAD.decode(&d).unwrap().len(), 32);
}

/// `run` (conformance, then its load phase) and `load` (every scenario), on the embedded server.
#[test]
fn the_whole_job_on_the_embedded_server_leaks_nothing() {
    let dir = fresh_dir("no-leaks-embedded");
    let (run_out, load_out) = (dir.join("run"), dir.join("load"));
    let run = run_cli(&["run", "--out", run_out.to_str().unwrap()], &dir.join("run-logs"), Duration::from_secs(240));
    assert!(matches!(run.code, Some(0 | 1)), "{}", run.describe());
    let load = run_cli(
        &[
            "load",
            "--scenario",
            "issuance",
            "--scenario",
            "exchange",
            "--scenario",
            "revocation",
            "--scenario",
            "jwt-bearer",
            "--scenario",
            "population",
            "--rate",
            "20",
            "--duration",
            "2s",
            "--agents",
            "50",
            "--out",
            load_out.to_str().unwrap(),
        ],
        &dir.join("load-logs"),
        Duration::from_secs(120),
    );
    assert_eq!(load.code, Some(0), "{}", load.describe());

    let all = outputs(&[&run_out, &load_out, &dir.join("run-logs"), &dir.join("load-logs")], &[&run, &load]);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["results.json", "junit.xml", "report.html", "summary.md", ".goose.html", ".hlog", ".percentiles.txt"] {
        assert!(names.iter().any(|n| n.ends_with(expected)), "no {expected} among {names:?}");
    }
    // The scan must have something to chew on: the run's evidence summarises real tokens.
    let results = all.iter().find(|(n, _)| n.ends_with("run/results.json")).map(|(_, t)| t.clone()).unwrap();
    assert!(results.contains("«jwt header="), "the evidence shows tokens, redacted");

    let mut needles = embedded_secrets();
    needles.extend(fixture_key_material());
    assert_clean(&all, &needles);
}

/// A server of opaque tokens: the tokens it issued during the run, recorded whole as it issued
/// them, appear nowhere (a JWT scanner would not see them).
#[test]
fn opaque_tokens_issued_during_a_run_appear_nowhere() {
    let server = HostileServer::start(Misbehaviour::OpaqueTokens, Scope::Only(Endpoint::Token));
    let dir = fresh_dir("no-leaks-opaque");
    let profile = server.profile(&dir, "timeout = \"2s\"", "");
    let out = dir.join("out");
    let run = run_cli(
        &["run", "--target", profile.to_str().unwrap(), "--out", out.to_str().unwrap()],
        &dir.join("logs"),
        Duration::from_secs(120),
    );
    assert!(matches!(run.code, Some(0 | 1)), "{}", run.describe());
    let issued = server.issued();
    assert!(issued.len() > 100, "the run (load phase included) was issued {} tokens", issued.len());
    let all = outputs(&[&out, &dir.join("logs")], &[&run]);
    assert!(all.iter().any(|(n, _)| n.ends_with(".hlog")), "the load phase ran: {:?}", all.iter().map(|(n, _)| n).collect::<Vec<_>>());
    assert!(all.iter().any(|(_, t)| t.contains("«opaque token, 44 chars")), "the evidence shows opaque tokens, redacted");

    let text = std::fs::read_to_string(&profile).unwrap();
    let mut needles: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("client_secret = \""))
        .map(|s| ("a client secret".to_string(), s.trim_end_matches('"').to_string()))
        .collect();
    assert_eq!(needles.len(), 3);
    needles.extend(issued.into_iter().map(|t| ("an opaque access token issued during the run".to_string(), t)));
    assert_clean(&all, &needles);
}
