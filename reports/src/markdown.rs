//! `summary.md`: the run as a pull-request comment. It has to fit one (GitHub allows 65,536
//! characters), so it lists only what a reviewer acts on: the counts, each check that fails
//! the run with its requirement ids and a one-line reason, and the load figures. Everything
//! else is one click away in report.html. Server text is escaped so that a hostile reason
//! cannot format the comment, inject HTML or mention people.

use crate::text::{one_line, Shown};
use agentcert_engine::results::{CheckResult, RunResults};
use std::fmt::Write;

/// Checks listed in full before the rest are only counted.
const MAX_LISTED: usize = 40;
/// Characters of a reason shown.
const REASON_CHARS: usize = 200;

pub fn summary_md(results: &RunResults) -> String {
    let mut out = String::new();
    let s = &results.summary;
    let verdict = if results.exit_code() == 0 { "PASS" } else { "FAIL" };
    let _ = writeln!(out, "### agentcert: {} — {verdict}\n", md(&results.target.name));
    let _ = writeln!(
        out,
        "{} · agentcert {} · {} · {} mode\n",
        md(&results.target.issuer),
        md(&results.agentcert_version),
        md(&results.started_at),
        md(&results.target.mode)
    );
    if !results.checks.is_empty() {
        out.push_str("| checks | pass | fail | warn | skip | error | expected by baseline | stale baseline |\n");
        out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.total, s.pass, s.fail, s.warn, s.skip, s.error, s.expected_failures, s.stale_baseline
        );
    }
    let failing: Vec<&CheckResult> =
        results.checks.iter().filter(|c| matches!(Shown::of(c), Shown::Fail | Shown::Error | Shown::Stale)).collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "**Failing the run ({})**\n", failing.len());
        list(&mut out, &failing);
    }
    for (kind, title) in [(Shown::Expected, "Expected by the baseline"), (Shown::Warn, "Warnings")] {
        let these: Vec<&CheckResult> = results.checks.iter().filter(|c| Shown::of(c) == kind).collect();
        if !these.is_empty() {
            let _ = writeln!(out, "<details><summary>{title} ({})</summary>\n", these.len());
            list(&mut out, &these);
            out.push_str("</details>\n\n");
        }
    }
    if !results.load.is_empty() {
        load(&mut out, results);
    }
    out.push_str("Full details, with the evidence for every check: `report.html`; machine-readable: `results.json`.\n");
    out
}

fn list(out: &mut String, checks: &[&CheckResult]) {
    for c in checks.iter().take(MAX_LISTED) {
        let label = match Shown::of(c) {
            Shown::Stale => "STALE BASELINE".to_string(),
            _ => c.verdict.as_str().to_uppercase(),
        };
        let reqs: Vec<String> = c.requirements.iter().map(|r| md(r)).collect();
        let _ = writeln!(out, "- **{label}** `{}` ({}): {}", code(&c.id), reqs.join(", "), md(&one_line(&c.reason, REASON_CHARS)));
    }
    if checks.len() > MAX_LISTED {
        let _ = writeln!(out, "- … and {} more in report.html", checks.len() - MAX_LISTED);
    }
    out.push('\n');
}

fn load(out: &mut String, results: &RunResults) {
    out.push_str("**Load**\n\n| scenario | model | target/s | achieved/s | p50 ms | p99 ms | errors | late | dropped |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &results.load {
        let target = r.target_rate.map_or("-".to_string(), |t| format!("{t:.1}"));
        let _ = writeln!(
            out,
            "| {} | {} | {target} | {:.1} | {:.3} | {:.3} | {} of {} | {} | {} |",
            md(&r.scenario),
            md(&r.model),
            r.achieved_rate,
            r.latency_ms.p50,
            r.latency_ms.p99,
            r.errors,
            r.requests,
            r.late,
            r.dropped
        );
    }
    out.push('\n');
    let mut notes = Vec::new();
    for r in &results.load {
        if let Some(c) = &r.capacity {
            let rate = c.rate.map_or("none met the SLO".to_string(), |v| format!("{v:.1}/s"));
            notes.push(format!("- **capacity** {}: {} ({}, SLO {})", md(&r.scenario), md(&rate), md(&c.outcome), md(&c.slo.join(", "))));
        }
    }
    for t in results.load.iter().flat_map(|r| &r.thresholds).filter(|t| !t.passed) {
        notes.push(format!("- **threshold missed** {}: {}", md(&t.rule), md(&t.observed)));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "{}\n", notes.join("\n"));
    }
}

/// Escapes Markdown (and the HTML GitHub accepts in it) on one line: punctuation that
/// formats is backslash-escaped, `<`, `>` and `&` become entities, and `@` is followed by a
/// word joiner so that server text cannot mention a user or team.
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in one_line(s, usize::MAX).chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("@\u{2060}"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' | '(' | ')' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Text for inside a single-backtick code span, where nothing is escaped: backticks and
/// pipes (which still split table cells) are dropped.
pub(crate) fn code(s: &str) -> String {
    one_line(s, usize::MAX).chars().filter(|c| !matches!(c, '`' | '|')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_md_snapshot() {
        insta::assert_snapshot!(summary_md(&crate::sample::with_load()));
    }

    #[test]
    fn escapes_hostile_text() {
        assert_eq!(
            md("<img src=x onerror=alert(1)> @admin *b* [l](u) a|b `c`"),
            "&lt;img src=x onerror=alert\\(1\\)&gt; @\u{2060}admin \\*b\\* \\[l\\]\\(u\\) a\\|b \\`c\\`"
        );
        assert_eq!(md("line\nbreak\u{1b}[31m"), "line break\\[31m");
        assert_eq!(code("a`b|c\nd"), "abc d");
    }

    #[test]
    fn fits_in_a_pull_request_comment() {
        let mut r = crate::sample::with_load();
        let template = r.checks[1].clone();
        r.checks = (0..2000)
            .map(|i| {
                let mut c = template.clone();
                c.id = format!("revocation.check-{i}");
                c.reason = "x".repeat(5000);
                c
            })
            .collect();
        r.summary = agentcert_engine::results::Summary::tally(&r.checks);
        let md = summary_md(&r);
        assert!(md.len() < 65_536, "{}", md.len());
        assert!(md.contains("… and 1960 more in report.html"));
    }
}
