//! Records the git commit the binary is built from (`AGENTCERT_GIT_COMMIT`), which
//! certification bundles carry next to the version: a version names a release, a commit names
//! the exact checks that ran. Outside a git checkout (a source tarball) it is `unknown`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|o| o.status.success())?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).filter(|c| c.len() >= 40 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    println!("cargo:rustc-env=AGENTCERT_GIT_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    // Rerun when HEAD moves: HEAD itself (a checkout), the branch it points at (a commit),
    // and packed-refs. Only files that exist are named: a missing one would rerun every build.
    println!("cargo:rerun-if-changed=build.rs");
    let Some(dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) else { return };
    let head = dir.join("HEAD");
    let mut watch = vec![head.clone(), dir.join("packed-refs")];
    if let Some(r) = std::fs::read_to_string(&head).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string())) {
        watch.push(dir.join(r));
    }
    for p in watch.iter().filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}
