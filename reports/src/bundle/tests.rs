//! The bundle's promise: any change to any byte of any file is detected, and so is a bundle
//! signed with another key.

use super::*;
use agentcert_engine::jose::SigningKey;

const KEY: &str = include_str!("../../../fixtures/keys/agent-a.key.pem");
const PUB: &str = include_str!("../../../fixtures/keys/agent-a.pub.pem");
const OTHER_PUB: &str = include_str!("../../../fixtures/keys/agent-b.pub.pem");

fn sealed(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("agentcert-bundle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let results = crate::sample::with_load();
    crate::write_all(&results, &dir).unwrap();
    write_evidence(&results, &dir).unwrap();
    std::fs::write(dir.join(METADATA), br#"{"issuer":"https://as.example.com"}"#).unwrap();
    let p = Provenance { agentcert_version: "0.1.0".into(), git_commit: "abc".into(), created_at: "2025-01-02T03:04:05Z".into() };
    seal(&dir, &SigningKey::from_pem(KEY).unwrap(), &p, &results).unwrap();
    dir
}

#[test]
fn a_fresh_bundle_verifies() {
    let dir = sealed("fresh");
    let v = verify(&dir, PUB).unwrap();
    assert!(v.valid(), "{:?}", v.problems);
    let m = v.manifest.unwrap();
    assert_eq!(v.files, 4 + 1 + 10, "reports, metadata, one transcript per check");
    assert!(m.files.iter().any(|f| f.path == "evidence/revocation.unknown-token-gets-200.json"));
    assert_eq!(v.kid.as_deref(), Some(SigningKey::from_pem(KEY).unwrap().kid()));
    let jws = std::fs::read_to_string(dir.join(SIGNATURE)).unwrap();
    assert!(jws.contains("..") && jws.split('.').count() == 3, "detached: {jws}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn another_key_fails() {
    let dir = sealed("other-key");
    let v = verify(&dir, OTHER_PUB).unwrap();
    assert!(!v.valid());
    assert!(v.problems[0].starts_with("signature: the signature does not verify"), "{:?}", v.problems);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every byte of the manifest and its signature, and the first, middle and last byte of
/// every other file, changed one at a time.
#[test]
fn changing_any_byte_of_any_file_is_detected() {
    let dir = sealed("bytes");
    let mut paths = files::list(&dir).unwrap();
    paths.extend([MANIFEST.to_string(), SIGNATURE.to_string()]);
    let mut tried = 0;
    for path in &paths {
        let file = dir.join(path);
        let original = std::fs::read(&file).unwrap();
        let positions: Vec<usize> = if path == MANIFEST || path == SIGNATURE {
            (0..original.len()).collect()
        } else {
            vec![0, original.len() / 2, original.len() - 1]
        };
        for i in positions {
            let mut changed = original.clone();
            changed[i] ^= 0x01;
            std::fs::write(&file, &changed).unwrap();
            let v = verify(&dir, PUB).unwrap();
            assert!(!v.valid(), "{path} byte {i} changed, still valid");
            if path != MANIFEST && path != SIGNATURE {
                assert_eq!(v.problems, [format!("altered: {path} (its SHA-256 differs from the manifest)")]);
            }
            tried += 1;
        }
        std::fs::write(&file, &original).unwrap();
    }
    assert!(tried > 1000, "{tried}");
    assert!(verify(&dir, PUB).unwrap().valid(), "restored");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_extra_and_truncated_files_are_named() {
    let dir = sealed("missing");
    std::fs::remove_file(dir.join("summary.md")).unwrap();
    std::fs::write(dir.join("evidence/planted.json"), "{}").unwrap();
    std::fs::write(dir.join("junit.xml"), "").unwrap();
    let v = verify(&dir, PUB).unwrap();
    assert_eq!(
        v.problems,
        [
            "altered: junit.xml (its SHA-256 differs from the manifest)",
            "missing: summary.md",
            "extra: evidence/planted.json (not in the manifest)"
        ]
    );
    std::fs::remove_file(dir.join(SIGNATURE)).unwrap();
    assert!(verify(&dir, PUB).unwrap().problems.contains(&"missing: manifest.jws".to_string()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unreadable_input_is_an_error_not_a_verdict() {
    let dir = sealed("unreadable");
    assert!(verify(&dir.join("nope"), PUB).unwrap_err().contains("cannot read bundle"));
    assert!(verify(&dir.join("report.html"), PUB).unwrap_err().contains("is not a bundle directory"));
    assert!(verify(&dir, KEY).unwrap_err().contains("private key"));
    assert!(verify(&dir, "not a key").unwrap_err().contains("not an EC public key"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused() {
    let dir = sealed("symlink");
    std::os::unix::fs::symlink("/etc/hostname", dir.join("link")).unwrap();
    let v = verify(&dir, PUB).unwrap();
    assert!(v.problems.iter().any(|p| p.contains("symlinks are not allowed")), "{:?}", v.problems);
    let p = Provenance { agentcert_version: "x".into(), git_commit: "x".into(), created_at: "x".into() };
    assert!(seal(&dir, &SigningKey::from_pem(KEY).unwrap(), &p, &crate::sample::results()).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn file_names_are_safe() {
    assert_eq!(files::safe_name("revocation.a-b_c"), "revocation.a-b_c");
    assert_eq!(files::safe_name("../x/y z"), "_.._x_y_z");
    assert!(files::valid_path("evidence/a.json") && !files::valid_path("../a") && !files::valid_path("/a") && !files::valid_path("a//b"));
}
