//! `cargo xtask fuzz [TARGET …] [--seconds N]`: the real fuzzer (cargo-fuzz, libFuzzer with
//! AddressSanitizer) on the targets in `fuzz/`, for longer than the test suite's short random
//! runs (tests/fuzz_corpus.rs).
//!
//! cargo-fuzz needs nightly compiler flags; on a stable toolchain `RUSTC_BOOTSTRAP=1` allows
//! them, and this sets it. Each target starts from its committed corpus (`fuzz/corpus/TARGET`)
//! but writes what it discovers to a scratch copy (`fuzz/target/corpus/TARGET`), so that the
//! committed corpus changes only by hand. A crash stops the run with libFuzzer's report; the
//! input is in `fuzz/artifacts/TARGET/`. Make it a regression: copy it to
//! `fuzz/corpus/TARGET/crash-NAME` and add a named test to tests/fuzz_corpus.rs.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

pub fn fuzz(args: &[String]) -> Result<()> {
    let root = super::root();
    let dir = root.join("fuzz");
    let mut seconds: u64 = 60;
    let mut targets = vec![];
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--seconds" => {
                let v = rest.next().context("--seconds needs a number")?;
                seconds = v.parse().ok().filter(|s| *s > 0).with_context(|| format!("--seconds `{v}` is not a positive number"))?;
            }
            t if !t.starts_with('-') => targets.push(t.to_string()),
            other => bail!("unknown option {other}: usage: cargo xtask fuzz [TARGET …] [--seconds N]"),
        }
    }
    let known = known_targets(&dir)?;
    if targets.is_empty() {
        targets = known.clone();
    }
    for t in &targets {
        if !known.contains(t) {
            bail!("no fuzz target `{t}`; the targets are: {}", known.join(", "));
        }
    }
    let has_cargo_fuzz = Command::new(env!("CARGO")).args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        bail!("cargo-fuzz is not installed: cargo install cargo-fuzz --locked");
    }
    for t in &targets {
        let scratch = dir.join("target/corpus").join(t);
        std::fs::create_dir_all(&scratch)?;
        eprintln!("xtask: fuzzing {t} for {seconds} s (new inputs go to {})", scratch.display());
        super::run(
            Command::new(env!("CARGO"))
                .args(["fuzz", "run", t])
                .arg(&scratch)
                .arg(dir.join("corpus").join(t))
                .args(["--", &format!("-max_total_time={seconds}"), "-max_len=65536", "-timeout=10", "-rss_limit_mb=2048"])
                .env("RUSTC_BOOTSTRAP", "1")
                .current_dir(&dir),
        )
        .with_context(|| format!("fuzz target {t} failed: its crash input is in fuzz/artifacts/{t}/"))?;
    }
    Ok(())
}

/// The targets: one `fuzz/fuzz_targets/NAME.rs` each.
fn known_targets(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("fuzz_targets"))
        .with_context(|| format!("cannot read {}", dir.join("fuzz_targets").display()))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".rs")).map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}
