//! `results.json`: the run's result document as serde writes it. The shape is owned by
//! `agentcert_engine::results`; this module only fixes the formatting (pretty, trailing
//! newline, so the file diffs cleanly) and checks in tests that docs/results-schema.json
//! still describes it.

use agentcert_engine::results::RunResults;
use std::path::Path;

/// The document as written to `results.json`.
pub fn to_json(results: &RunResults) -> serde_json::Result<String> {
    let mut s = serde_json::to_string_pretty(results)?;
    s.push('\n');
    Ok(s)
}

/// Writes `results.json` to `path` (its directory must exist; [`crate::write_all`] makes it).
pub fn write_json(results: &RunResults, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, to_json(results).map_err(std::io::Error::other)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(to_json(&crate::sample::results()).unwrap());
    }

    #[test]
    fn round_trips() {
        let r = crate::sample::results();
        let back: RunResults = serde_json::from_str(&to_json(&r).unwrap()).unwrap();
        assert_eq!(to_json(&back).unwrap(), to_json(&r).unwrap());
    }
}
