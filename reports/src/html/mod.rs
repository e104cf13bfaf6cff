//! `report.html`: the whole run in one self-contained page for a person: a header with the
//! verdict counts, a table per suite (each check with the requirement text, a link to the
//! RFC section, the verdict and reason, and its HTTP evidence folded away), and the load
//! results with hand-drawn SVG plots.
//!
//! It must open from a CI artifact store or an email attachment with no network, and it
//! shows text chosen by the server under test (reasons, response bodies), so: no external
//! resource of any kind, every piece of server text escaped, and a Content-Security-Policy
//! that allows only this page's own stylesheet and script (by hash). Even a bug in the
//! escaping could not run a script or fetch anything.

mod checks;
mod evidence;
mod load;
pub(crate) mod svg;

use crate::context::ReportContext;
use crate::series::LoadSeries;
use crate::text::{by_suite, duration, plural};
use agentcert_engine::results::RunResults;
use agentcert_engine::Verdict;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::fmt::Write;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// Renders report.html from the results alone (the load plots then show the summary
/// percentiles only; [`crate::write_all_with`] adds the full curves from the interval logs).
pub fn html_report(results: &RunResults, ctx: &ReportContext) -> String {
    render(results, ctx, &BTreeMap::new())
}

pub(crate) fn render(results: &RunResults, ctx: &ReportContext, series: &BTreeMap<String, LoadSeries>) -> String {
    let mut out = String::with_capacity(64 * 1024 + results.checks.len() * 2048);
    let t = &results.target;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'\">\n\
         <title>agentcert report: {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        csp_hash(&format!("\n{CSS}")),
        csp_hash(&format!("\n{JS}")),
        esc(&t.name)
    );
    header(&mut out, results);
    out.push_str("<main>\n");
    checks::suites(&mut out, results, ctx);
    if !results.load.is_empty() {
        load::section(&mut out, results, ctx, series);
    }
    out.push_str("</main>\n");
    let _ = write!(
        out,
        "<footer>Rendered by agentcert {} from results.json (schema {}). Evidence is redacted: secrets are replaced and tokens shown as header, claims and a hash.</footer>\n<script>\n{JS}</script>\n</body>\n</html>\n",
        esc(env!("CARGO_PKG_VERSION")),
        esc(&results.schema_version)
    );
    out
}

fn header(out: &mut String, results: &RunResults) {
    let t = &results.target;
    let s = &results.summary;
    let _ = writeln!(out, "<header>\n<h1>agentcert report: {}</h1>", esc(&t.name));
    let (class, word) = if results.exit_code() == 0 { ("pass", "PASS") } else { ("fail", "FAIL") };
    let _ = writeln!(out, "<p class=\"overall {class}\" id=\"overall\">{word}: {}</p>", esc(&why(results)));
    out.push_str("<dl class=\"meta\">\n");
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", esc(v));
    };
    row("target", &t.name);
    row("issuer", &t.issuer);
    if let Some(u) = &t.metadata_url {
        row("metadata", u);
    }
    row("profile", &format!("{} (mode {})", t.profile, t.mode));
    row("agentcert", &results.agentcert_version);
    row("started", &results.started_at);
    row("duration", &duration(results.duration_ms));
    if !results.capabilities.is_empty() {
        let names = |on: bool| -> String {
            let v: Vec<&str> = results.capabilities.iter().filter(|(_, c)| c.enabled == on).map(|(n, _)| n.as_str()).collect();
            if v.is_empty() {
                "none".into()
            } else {
                v.join(", ")
            }
        };
        row("capabilities", &format!("{} (off: {})", names(true), names(false)));
    }
    out.push_str("</dl>\n<ul class=\"counts\" id=\"counts\">\n");
    for (n, word, class) in [
        (s.total, "checks", ""),
        (s.pass, "passed", "v-pass"),
        (s.fail, "failed", "v-fail"),
        (s.warn, "warned", "v-warn"),
        (s.skip, "skipped", "v-skip"),
        (s.error, "errors", "v-error"),
        (s.expected_failures, "expected by baseline", ""),
        (s.stale_baseline, "stale baseline", ""),
    ] {
        let _ = writeln!(out, "<li class=\"{class}\"><b>{n}</b>{word}</li>");
    }
    out.push_str("</ul>\n<nav><ul>\n");
    for (suite, checks) in by_suite(&results.checks) {
        let bad = checks.iter().filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error)).count();
        let note = if bad > 0 { format!(", {bad} failed or errored") } else { String::new() };
        let _ = writeln!(
            out,
            "<li><a href=\"#suite-{}\">{}</a> ({}{note})</li>",
            esc(suite),
            esc(suite),
            plural(checks.len(), "check", "checks")
        );
    }
    if !results.load.is_empty() {
        let _ = writeln!(out, "<li><a href=\"#load\">load</a> ({})</li>", plural(results.load.len(), "scenario", "scenarios"));
    }
    out.push_str("</ul></nav>\n");
    if !results.checks.is_empty() {
        out.push_str(
            "<div class=\"controls\"><label><input type=\"checkbox\" id=\"only-problems\"> problems only</label>\
             <button type=\"button\" id=\"expand-all\">Expand all evidence</button>\
             <button type=\"button\" id=\"collapse-all\">Collapse all</button></div>\n",
        );
    }
    out.push_str("</header>\n");
}

/// One line on what the overall verdict was decided by.
fn why(results: &RunResults) -> String {
    let missed = results.load.iter().flat_map(|r| &r.thresholds).filter(|t| !t.passed).count();
    let mut parts = Vec::new();
    let unexpected = results
        .checks
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error) && c.baseline.as_deref() != Some("expected"))
        .count();
    if unexpected > 0 {
        parts.push(plural(unexpected, "check failed or errored", "checks failed or errored"));
    }
    if results.summary.stale_baseline > 0 {
        parts.push(plural(results.summary.stale_baseline, "stale baseline entry", "stale baseline entries"));
    }
    if missed > 0 {
        parts.push(plural(missed, "load threshold missed", "load thresholds missed"));
    }
    if parts.is_empty() {
        "every required check passed".into()
    } else {
        parts.join(", ")
    }
}

/// `'sha256-…'` of an inline element's exact text, for the Content-Security-Policy.
fn csp_hash(text: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(d.as_ref()))
}

/// Escapes text for HTML element content and quoted attribute values, dropping control
/// characters (other than tab and newline) and noncharacters: server text goes through here.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(ch),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {}
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests;
