//! Real third-party servers as test targets: started from `fixtures/peers/NAME/start.sh` on a
//! free loopback port, stopped when dropped.

use agentcert_engine::TargetProfile;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // start.sh execs the server, so this signals the server itself.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn peer_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/peers").join(name)
}

/// Starts peer `name` with extra environment, or returns None (with a note) when it is not
/// installed and the run did not ask for peers. Under `cargo xtask test`
/// (AGENTCERT_REQUIRE_PEERS) a peer that is missing or does not start fails the test.
pub fn start(name: &str, installed_marker: &str, env: &[(&str, &str)]) -> Option<Peer> {
    if !peer_dir(name).join(installed_marker).exists() {
        assert!(
            std::env::var_os("AGENTCERT_REQUIRE_PEERS").is_none(),
            "peer {name} is not installed ({installed_marker} missing): `cargo xtask peer-install`"
        );
        eprintln!("note: peer {name} is not installed; `cargo xtask test` installs and runs it");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new("bash");
    cmd.arg(peer_dir(name).join("start.sh")).env("PORT", port.to_string()).stdout(Stdio::piped()).stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start.sh runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("listening ") {
                let _ = tx.send(());
            }
        }
    });
    let peer = Peer { child, port };
    rx.recv_timeout(Duration::from_secs(90)).unwrap_or_else(|_| panic!("{name} did not print its listening line within 90 s"));
    Some(peer)
}

/// The peer's profile with its issuer moved to the port the peer was started on.
pub fn profile(file: &str, port: u16) -> TargetProfile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/targets").join(file);
    let mut p = TargetProfile::load(&path).expect("profile parses");
    let issuer = url_with_port(&p.target.issuer, port);
    p.target.issuer = issuer;
    p
}

/// `http://127.0.0.1:3001/api/oidc` with port 4242 → `http://127.0.0.1:4242/api/oidc`.
fn url_with_port(issuer: &str, port: u16) -> String {
    let (scheme, rest) = issuer.split_once("://").expect("issuer has a scheme");
    let (authority, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, String::new()));
    let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority);
    format!("{scheme}://{host}:{port}{path}")
}
