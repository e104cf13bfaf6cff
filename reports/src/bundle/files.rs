//! The files of a bundle directory: listed recursively with `/`-separated relative paths,
//! and hashed. Anything that is not a plain file or directory (a symlink could point outside
//! the bundle and change after signing) is refused.

use std::io::Read;
use std::path::Path;

/// Every regular file under `dir` except the manifest and its signature, sorted.
pub(super) fn list(dir: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.retain(|p| p != super::MANIFEST && p != super::SIGNATURE);
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let name = entry.file_name().into_string().map_err(|n| format!("{prefix}{} is not a UTF-8 file name", n.to_string_lossy()))?;
        let rel = format!("{prefix}{name}");
        let kind = entry.file_type().map_err(|e| format!("cannot read {rel}: {e}"))?;
        if kind.is_dir() {
            walk(&entry.path(), &format!("{rel}/"), out)?;
        } else if kind.is_file() {
            out.push(rel);
        } else {
            return Err(format!("{rel} is neither a file nor a directory (symlinks are not allowed in a bundle)"));
        }
    }
    Ok(())
}

/// SHA-256 (lower-case hex) and length of a file.
pub(super) fn digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        total += n as u64;
    }
    Ok((ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect(), total))
}

/// A check id as a file name: characters outside `[A-Za-z0-9._-]` become `_`, and a name
/// that could mean "this directory" or "the parent" is prefixed.
pub(super) fn safe_name(id: &str) -> String {
    let s: String = id.chars().take(120).map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// A manifest path is acceptable only if it names a file inside the bundle.
pub(super) fn valid_path(p: &str) -> bool {
    !p.is_empty() && !p.starts_with('/') && !p.contains('\\') && p.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}
