//! `cargo xtask bench`: agentcert's benchmarks, on demand only (never part of `cargo test`).
//!
//! This half only builds: agentcert and xtask itself in release (xtask with its `bench`
//! feature, which brings the loopback servers and the measuring code), then runs
//! `target/release/xtask bench-run`, which does the work (see `bench_run.rs`). Figures from a
//! debug build would measure the compiler's optimizer, not agentcert.

use anyhow::{Context, Result};
use std::process::Command;

pub fn bench(args: &[String]) -> Result<()> {
    let root = crate::root();
    crate::run(
        Command::new(env!("CARGO"))
            .args(["build", "--release", "--locked", "-p", "agentcert", "-p", "xtask", "--features", "xtask/bench"])
            .current_dir(&root),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let runner = target.join("release/xtask");
    let status = Command::new(&runner)
        .arg("bench-run")
        .args(args)
        .env("AGENTCERT_BENCH_TARGET_DIR", &target)
        .current_dir(&root)
        .status()
        .with_context(|| format!("cannot start {}", runner.display()))?;
    if !status.success() {
        anyhow::bail!("the benchmarks failed ({status})");
    }
    Ok(())
}
