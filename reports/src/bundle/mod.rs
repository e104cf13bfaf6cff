//! Certification bundles: a directory a vendor can hand to anyone, proving what agentcert
//! found. It holds the run's reports, one evidence transcript per check, the target's
//! metadata as fetched, and `manifest.json`: every file's SHA-256 with the agentcert version
//! and commit that produced them. `manifest.jws` signs the manifest's exact bytes as a
//! detached JWS (RFC 7515 Appendix F, ES256), so the manifest stays a plain JSON file while
//! any change to any byte of any file, the manifest included, breaks the chain.
//!
//! [`seal`] writes the manifest and signature over whatever the directory holds;
//! [`verify()`] checks a bundle against the vendor's public key.

mod files;
mod jws;
mod verify;

pub use jws::public_key;
pub use verify::{verify, Verification};

use agentcert_engine::jose::SigningKey;
use agentcert_engine::results::{CheckResult, RunResults};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.jws";
pub const METADATA: &str = "metadata.json";
pub const EVIDENCE_DIR: &str = "evidence";
/// `format` of the manifests this version writes and reads.
pub const FORMAT: &str = "agentcert-bundle/1";

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub agentcert_version: String,
    /// The commit agentcert was built from (`unknown` outside a git checkout).
    pub git_commit: String,
    /// When the bundle was sealed, RFC 3339, UTC.
    pub created_at: String,
    pub target_name: String,
    pub issuer: String,
    /// Where metadata.json was fetched from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_url: Option<String>,
    /// Every file of the bundle but the manifest and its signature, sorted by path.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative, `/`-separated.
    pub path: String,
    /// Lower-case hex.
    pub sha256: String,
    pub bytes: u64,
}

/// Who made the bundle and when; the caller knows (the git commit is a build-time fact of
/// the binary, not of this library).
#[derive(Debug, Clone)]
pub struct Provenance {
    pub agentcert_version: String,
    pub git_commit: String,
    pub created_at: String,
}

/// One JSON file per check under `evidence/`, named after the check id, holding its verdict
/// and every HTTP exchange it made (already redacted by the engine).
pub fn write_evidence(results: &RunResults, dir: &Path) -> std::io::Result<usize> {
    let ev = dir.join(EVIDENCE_DIR);
    std::fs::create_dir_all(&ev)?;
    let mut used = std::collections::BTreeSet::new();
    for c in &results.checks {
        let base = files::safe_name(&c.id);
        let name =
            (1..).map(|i| if i == 1 { base.clone() } else { format!("{base}-{i}") }).find(|n| used.insert(n.clone())).unwrap_or(base);
        std::fs::write(ev.join(format!("{name}.json")), transcript(c)?)?;
    }
    Ok(results.checks.len())
}

fn transcript(c: &CheckResult) -> std::io::Result<Vec<u8>> {
    let doc = serde_json::json!({
        "id": c.id,
        "suite": c.suite,
        "title": c.title,
        "requirements": c.requirements,
        "citations": c.citations,
        "verdict": c.verdict,
        "reason": c.reason,
        "exchanges": c.evidence,
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Hashes every file in `dir` into `manifest.json` and signs it into `manifest.jws`.
pub fn seal(dir: &Path, key: &SigningKey, provenance: &Provenance, results: &RunResults) -> Result<Manifest, String> {
    let mut entries = Vec::new();
    for path in files::list(dir)? {
        let (sha256, bytes) = files::digest(&dir.join(&path)).map_err(|e| format!("cannot read {path}: {e}"))?;
        entries.push(FileEntry { path, sha256, bytes });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        agentcert_version: provenance.agentcert_version.clone(),
        git_commit: provenance.git_commit.clone(),
        created_at: provenance.created_at.clone(),
        target_name: results.target.name.clone(),
        issuer: results.target.issuer.clone(),
        metadata_url: results.target.metadata_url.clone(),
        files: entries,
    };
    let value = serde_json::to_value(&manifest).map_err(|e| e.to_string())?;
    let bytes = serde_json::to_vec(&value).map_err(|e| e.to_string())?;
    let signature = jws::sign_detached(key, &value, &bytes)?;
    let write = |name: &str, data: &[u8]| std::fs::write(dir.join(name), data).map_err(|e| format!("cannot write {name}: {e}"));
    write(MANIFEST, &bytes)?;
    write(SIGNATURE, signature.as_bytes())?;
    Ok(manifest)
}

#[cfg(test)]
mod tests;
