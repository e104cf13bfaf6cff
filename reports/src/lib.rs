//! Renderers for a finished run. Everything here is a pure function of
//! [`RunResults`](agentcert_engine::results::RunResults) (plus the runner's live events for
//! [`Progress`]), so the terminal, `results.json` and `junit.xml` cannot disagree: they are
//! three views of one document.
//!
//! - [`terminal_summary`]: what a person reads first: what failed, and where in the spec.
//! - [`Progress`]: live status on stderr while checks run.
//! - [`write_json`] / [`to_json`]: the contract for machines, described by
//!   `docs/results-schema.json`.
//! - [`junit_xml`]: for CI systems that already know how to show JUnit test reports.

mod json;
mod junit;
mod progress;
mod terminal;
mod text;

pub use json::{to_json, write_json};
pub use junit::junit_xml;
pub use progress::Progress;
pub use terminal::terminal_summary;

use agentcert_engine::results::RunResults;
use std::path::{Path, PathBuf};

/// Writes `results.json` and `junit.xml` into `out_dir` (created if missing) and returns the
/// paths written, in that order, so the caller can tell the user where they are.
pub fn write_all(results: &RunResults, out_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir)?;
    let json = out_dir.join("results.json");
    write_json(results, &json)?;
    let junit = out_dir.join("junit.xml");
    std::fs::write(&junit, junit_xml(results))?;
    Ok(vec![json, junit])
}

#[cfg(test)]
mod sample;

#[cfg(test)]
mod tests {
    #[test]
    fn write_all_creates_the_dir_and_both_files() {
        let dir = std::env::temp_dir().join(format!("agentcert-reports-{}", std::process::id())).join("out");
        let written = super::write_all(&crate::sample::results(), &dir).unwrap();
        assert_eq!(written, [dir.join("results.json"), dir.join("junit.xml")]);
        let json = std::fs::read_to_string(&written[0]).unwrap();
        assert!(json.starts_with("{\n") && json.ends_with("}\n"));
        assert!(std::fs::read_to_string(&written[1]).unwrap().starts_with("<?xml"));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
