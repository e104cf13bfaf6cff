//! Renderers for a finished run. Everything here is a pure function of
//! [`RunResults`](agentcert_engine::results::RunResults) (plus the runner's live events for
//! [`Progress`], and for the HTML plots the interval logs results.json names), so the
//! terminal, `results.json`, `junit.xml`, `report.html` and `summary.md` cannot disagree:
//! they are views of one document.
//!
//! - [`terminal_summary`]: what a person reads first: what failed, and where in the spec.
//! - [`Progress`]: live status on stderr while checks run.
//! - [`write_json`] / [`to_json`]: the contract for machines, described by
//!   `docs/results-schema.json`.
//! - [`junit_xml`]: for CI systems that already know how to show JUnit test reports.
//! - [`html_report`]: one self-contained page with the evidence and the load plots.
//! - [`summary_md`]: a pull-request comment.
//! - [`diff`]: what changed between two results.json files (`agentcert diff`).
//! - [`bundle`]: signed certification bundles (`agentcert certify`, `agentcert verify`).

pub mod bundle;
mod context;
pub mod diff;
mod html;
mod json;
mod junit;
mod markdown;
mod progress;
mod series;
mod terminal;
mod text;

pub use context::ReportContext;
pub use html::html_report;
pub use json::{to_json, write_json};
pub use junit::junit_xml;
pub use markdown::summary_md;
pub use progress::Progress;
pub use terminal::terminal_summary;

use agentcert_engine::results::RunResults;
use std::path::{Path, PathBuf};

/// Writes every report into `out_dir` (created if missing) and returns the paths written, in
/// order: results.json, junit.xml, report.html, summary.md. Without a [`ReportContext`], the
/// HTML report has no requirement texts and no revocation bound.
pub fn write_all(results: &RunResults, out_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    write_all_with(results, out_dir, &ReportContext::default())
}

/// [`write_all`] with what the HTML report needs beyond results.json. The load plots read
/// the interval logs that results.json names from `out_dir`, where the load phase wrote them.
pub fn write_all_with(results: &RunResults, out_dir: &Path, ctx: &ReportContext) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir)?;
    let json = out_dir.join("results.json");
    write_json(results, &json)?;
    let junit = out_dir.join("junit.xml");
    std::fs::write(&junit, junit_xml(results))?;
    let html = out_dir.join("report.html");
    let series = series::read_all(out_dir, &results.load);
    std::fs::write(&html, html::render(results, ctx, &series))?;
    let md = out_dir.join("summary.md");
    std::fs::write(&md, summary_md(results))?;
    Ok(vec![json, junit, html, md])
}

#[cfg(test)]
mod sample;

#[cfg(test)]
mod tests {
    #[test]
    fn write_all_creates_the_dir_and_every_file() {
        let dir = std::env::temp_dir().join(format!("agentcert-reports-{}", std::process::id())).join("out");
        let written = super::write_all(&crate::sample::with_load(), &dir).unwrap();
        let names = ["results.json", "junit.xml", "report.html", "summary.md"];
        assert_eq!(written, names.map(|n| dir.join(n)));
        let json = std::fs::read_to_string(&written[0]).unwrap();
        assert!(json.starts_with("{\n") && json.ends_with("}\n"));
        assert!(std::fs::read_to_string(&written[1]).unwrap().starts_with("<?xml"));
        assert!(std::fs::read_to_string(&written[2]).unwrap().starts_with("<!DOCTYPE html>"));
        assert!(std::fs::read_to_string(&written[3]).unwrap().starts_with("### agentcert"));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
