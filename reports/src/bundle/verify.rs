//! `agentcert verify`: the signature first, then every file against the manifest. All
//! problems are collected, not just the first, so a reader sees the extent of a change.

use super::{files, jws, Manifest, FORMAT, MANIFEST, SIGNATURE};
use std::collections::BTreeSet;
use std::path::Path;

/// What verification found. Valid only with no problems.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// One line each: `signature: …`, `missing: PATH`, `extra: PATH`, `altered: PATH`.
    pub problems: Vec<String>,
    /// Files the manifest lists.
    pub files: usize,
    /// The signing key's `kid` (its RFC 7638 thumbprint), when the signature holds.
    pub kid: Option<String>,
    pub manifest: Option<Manifest>,
}

impl Verification {
    pub fn valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies the bundle in `dir` with the vendor's PEM public key. `Err` only when there is
/// nothing to judge: the directory or the key cannot be read.
pub fn verify(dir: &Path, public_key_pem: &str) -> Result<Verification, String> {
    let key = jws::public_key(public_key_pem)?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot read bundle {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a bundle directory", dir.display()));
    }
    let mut v = Verification::default();
    let read = |name: &str, v: &mut Verification| match std::fs::read(dir.join(name)) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            v.problems.push(format!("missing: {name}"));
            None
        }
        Err(e) => {
            v.problems.push(format!("unreadable: {name}: {e}"));
            None
        }
    };
    let manifest_bytes = read(MANIFEST, &mut v);
    let signature = read(SIGNATURE, &mut v);
    if let (Some(m), Some(s)) = (&manifest_bytes, &signature) {
        match jws::verify_detached(s, m, &key) {
            Ok(kid) => v.kid = kid,
            Err(e) => v.problems.push(format!("signature: {e}")),
        }
    }
    let Some(bytes) = manifest_bytes else { return Ok(v) };
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            v.problems.push(format!("manifest: manifest.json is not a bundle manifest: {e}"));
            return Ok(v);
        }
    };
    if manifest.format != FORMAT {
        v.problems.push(format!("manifest: format {:?} is not {FORMAT}", manifest.format));
    }
    check_files(dir, &manifest, &mut v);
    v.files = manifest.files.len();
    v.manifest = Some(manifest);
    Ok(v)
}

fn check_files(dir: &Path, manifest: &Manifest, v: &mut Verification) {
    let on_disk: BTreeSet<String> = match files::list(dir) {
        Ok(list) => list.into_iter().collect(),
        Err(e) => {
            v.problems.push(format!("bundle: {e}"));
            return;
        }
    };
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        if !files::valid_path(&f.path) || f.path == MANIFEST || f.path == SIGNATURE {
            v.problems.push(format!("manifest: {:?} is not a path inside the bundle", f.path));
            continue;
        }
        if !listed.insert(f.path.clone()) {
            v.problems.push(format!("manifest: {} is listed twice", f.path));
            continue;
        }
        if !on_disk.contains(&f.path) {
            v.problems.push(format!("missing: {}", f.path));
            continue;
        }
        match files::digest(&dir.join(&f.path)) {
            Ok((sha, len)) if sha == f.sha256.to_ascii_lowercase() && len == f.bytes => {}
            Ok(_) => v.problems.push(format!("altered: {} (its SHA-256 differs from the manifest)", f.path)),
            Err(e) => v.problems.push(format!("unreadable: {}: {e}", f.path)),
        }
    }
    for extra in on_disk.difference(&listed) {
        v.problems.push(format!("extra: {extra} (not in the manifest)"));
    }
}
