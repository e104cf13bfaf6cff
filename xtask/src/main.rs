//! `cargo xtask`: the project's own scripts, in Rust so they run wherever cargo does.
//!
//! - `cargo xtask test`: installs what the tests need (the peer servers, and Chromium for the
//!   report's browser test when /usr/bin/chromium is missing), then runs the whole test
//!   suite. This is the README's test command, and what CI runs.
//! - `cargo xtask peer NAME`: installs a real third-party peer server and runs it on loopback
//!   in the foreground, for pointing `agentcert run --target fixtures/targets/NAME.toml` at it.
//! - `cargo xtask peer-install`: installs every peer without starting any.
//! - `cargo xtask requirements`: regenerates REQUIREMENTS.md from the catalog.
//! - `cargo xtask fuzz [TARGET …] [--seconds N]`: cargo-fuzz on `fuzz/`'s targets (see fuzz.rs).
//! - `cargo xtask bench [B1 … B5]`: the benchmarks (release build, loopback, a few minutes),
//!   results in `target/bench/`; BENCHMARKS.md records a run.

mod bench;
#[cfg(feature = "bench")]
mod bench_proc;
#[cfg(feature = "bench")]
mod bench_run;
#[cfg(feature = "bench")]
mod bench_servers;
mod fuzz;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The real third-party servers this repository installs. Each lives in `fixtures/peers/NAME/`
/// with an idempotent `install.sh` and a foreground `start.sh` that honours `PORT` and prints
/// `listening http://127.0.0.1:PORT` when ready; its profile is `fixtures/targets/NAME.toml`.
const PEERS: &[Peer] = &[
    Peer { name: "oidc-provider", port: 3000 },
    Peer { name: "glewlwyd", port: 3001 },
    Peer { name: "django-oauth-toolkit", port: 3002 },
    Peer { name: "oauth2-mock-server", port: 3003 },
];

struct Peer {
    name: &'static str,
    port: u16,
}

impl Peer {
    fn dir(&self) -> PathBuf {
        root().join("fixtures/peers").join(self.name)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("peer") => match args.get(1) {
            Some(name) => peer(name, &args[2..]),
            None => Err(anyhow::anyhow!("usage: cargo xtask peer NAME   (peers: {})", peer_names())),
        },
        Some("peer-install") => PEERS.iter().try_for_each(install),
        Some("bench") => bench::bench(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        #[cfg(feature = "bench")]
        Some("bench-run") => bench_run::main(&args[1..]),
        #[cfg(feature = "bench")]
        Some("bench-serve") => bench_run::serve(&args[1..]),
        Some("requirements") => run(Command::new(env!("CARGO"))
            .args(["test", "-q", "-p", "agentcert-suites", "requirements_md"])
            .env("UPDATE_REQUIREMENTS", "1")
            .current_dir(root())),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  test            install the peer servers and Chromium, then run every test\n  peer NAME       install and run a peer server on loopback ({})\n  peer-install    install every peer server\n  requirements    regenerate REQUIREMENTS.md from suites/requirements.toml\n  bench [B1..B5]  run the benchmarks (release build, loopback; writes target/bench/)\n  fuzz [TARGET] [--seconds N]  run cargo-fuzz on fuzz/'s targets (default: all, 60 s each)",
                peer_names()
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn peer_names() -> String {
    PEERS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd.status().with_context(|| format!("cannot start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed with {status}", cmd.get_program());
    }
    Ok(())
}

/// Runs the peer's own `install.sh`: pinned versions (npm lock files, Debian packages, a PyPI
/// requirements file), so the baselines stay true.
fn install(peer: &Peer) -> Result<()> {
    run(Command::new("bash").arg(peer.dir().join("install.sh")))
}

fn test(extra: &[String]) -> Result<()> {
    PEERS.iter().try_for_each(install)?;
    install_chromium()?;
    install_kubernetes_validate()?;
    // The peer tests start their servers themselves; this tells them the peers were
    // installed, so a missing one is a failure rather than a skip.
    run(Command::new(env!("CARGO"))
        .args(["test", "--workspace", "--locked", "--no-fail-fast"])
        .args(extra)
        .env("AGENTCERT_REQUIRE_PEERS", "1")
        .current_dir(root()))
}

/// tests/report_browser.rs opens report.html in Debian's headless Chromium. Installed only
/// when missing: apt-get is slow, and a machine that has it may have it pinned.
fn install_chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    run(Command::new("apt-get").arg("update").env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get").args(["install", "-y", "chromium"]).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// tests/workers.rs validates deploy/k8s against Kubernetes' own schemas with
/// kubernetes-validate (PyPI; the schemas ship inside the wheel, nothing is fetched at run time).
fn install_kubernetes_validate() -> Result<()> {
    if Command::new("python3").args(["-m", "kubernetes_validate", "--version"]).output().is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "kubernetes-validate==1.37.0"]))
}

fn peer(name: &str, extra: &[String]) -> Result<()> {
    let peer = PEERS.iter().find(|p| p.name == name).with_context(|| format!("unknown peer {name}; peers: {}", peer_names()))?;
    install(peer)?;
    let port = extra.iter().position(|a| a == "--port").and_then(|i| extra.get(i + 1)).cloned().unwrap_or(peer.port.to_string());
    eprintln!("xtask: starting {} on 127.0.0.1:{port} (Ctrl-C stops it); target profile fixtures/targets/{}.toml", peer.name, peer.name);
    run(Command::new("bash").arg(peer.dir().join("start.sh")).env("PORT", port))
}
