//! agentcert against a real, OpenID Certified server nobody here wrote: panva's oidc-provider
//! 9.13.3 from npm, installed by `cargo xtask test` from its pinned lock file.
//!
//! Every failure against it must be explained: either the server deviates (the profile's
//! `[expected_failures]` baseline says how, and the README lists it), or agentcert is wrong
//! and gets fixed. So the assertion is the run's own exit code: 0 means every failure was
//! expected and no baseline entry is stale.

mod support;

use agentcert_engine::{TargetProfile, Verdict};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PEER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/peers/oidc-provider");

/// The provider process; killed when dropped, so a failing test leaves nothing behind.
struct Peer {
    child: Child,
    issuer: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the provider on a free loopback port, or returns None (with a note) when it is not
/// installed and the run did not ask for peers. Under `cargo xtask test` a missing peer fails.
fn start(token_format: &str) -> Option<Peer> {
    if !Path::new(PEER_DIR).join("node_modules/oidc-provider").is_dir() {
        assert!(
            std::env::var_os("AGENTCERT_REQUIRE_PEERS").is_none(),
            "oidc-provider is not installed in {PEER_DIR}: `cargo xtask peer-install`"
        );
        eprintln!("note: oidc-provider is not installed; run `cargo xtask test` to include the peer tests");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(PEER_DIR)
        .env("PORT", port.to_string())
        .env("TOKEN_FORMAT", token_format)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("listening ") {
                let _ = tx.send(line);
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let line = rx.recv_timeout(deadline - Instant::now()).expect("oidc-provider prints its listening line within 30 s");
    Some(Peer { child, issuer: line.trim_start_matches("listening ").trim().to_string() })
}

fn profile(file: &str, issuer: &str) -> TargetProfile {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/targets")).join(file);
    let mut p = TargetProfile::load(&path).expect("profile parses");
    p.target.issuer = issuer.to_string();
    p
}

async fn run_against(token_format: &str, profile_file: &str) {
    let Some(peer) = start(token_format) else { return };
    let results = support::run_profile(profile(profile_file, &peer.issuer), None, &agentcert_suites::all_checks()).await;
    let unexplained: Vec<String> = results
        .checks
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error) && c.baseline.is_none() || c.baseline.as_deref() == Some("stale"))
        .map(|c| format!("{} {:?}: {}", c.id, c.verdict, c.reason))
        .collect();
    assert!(unexplained.is_empty(), "unexplained results against oidc-provider ({token_format}):\n{}", unexplained.join("\n"));
    assert_eq!(results.exit_code(), 0);
    // It does not do token exchange, and must not look as if it did.
    assert!(!results.capabilities["token-exchange"].enabled);
    for c in results.checks.iter().filter(|c| c.suite == "delegation") {
        assert_eq!(c.verdict, Verdict::Skip, "{} should skip: {}", c.id, c.reason);
    }
}

#[tokio::test]
async fn oidc_provider_with_jwt_access_tokens() {
    run_against("jwt", "oidc-provider.toml").await;
}

#[tokio::test]
async fn oidc_provider_with_opaque_access_tokens() {
    run_against("opaque", "oidc-provider-opaque.toml").await;
}
