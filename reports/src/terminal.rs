//! The summary printed at the end of a run. It answers, in order: what was tested, what
//! failed and which spec section says it should not have, and whether the run passed. Passes
//! are only counted, so failures are never buried; lines stay within ~100 columns.

use crate::text::{by_suite, clean, duration, label, paint, plural, wrap, Paint, Shown};
use agentcert_engine::results::{CheckResult, RunResults};
use agentcert_engine::Verdict;
use std::fmt::Write;

const WIDTH: usize = 100;
/// Where detail lines start: two spaces, a five-wide label, two spaces.
const INDENT: &str = "         ";

/// Renders the end-of-run summary. `color` turns on ANSI colors (callers decide from
/// `isatty`/`NO_COLOR`); with it off the output is plain text, fit for logs and snapshots.
pub fn terminal_summary(results: &RunResults, color: bool) -> String {
    let mut out = String::new();
    let t = &results.target;
    let head = format!("agentcert {}: {}", results.agentcert_version, clean(&t.name));
    let _ = writeln!(out, "{}", paint(color, Paint::Bold, &head));
    let _ = writeln!(out, "  issuer   {}", clean(&t.issuer));
    let _ = writeln!(out, "  profile  {} (mode {})", clean(&t.profile), t.mode);
    let _ = writeln!(out, "  run      {}, took {}", results.started_at, duration(results.duration_ms));
    if !results.capabilities.is_empty() {
        let names = |on: bool| {
            let v: Vec<&str> = results.capabilities.iter().filter(|(_, s)| s.enabled == on).map(|(n, _)| n.as_str()).collect();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let caps = format!("{} (off: {})", names(true), names(false));
        for (i, line) in wrap(&caps, WIDTH - 11).into_iter().enumerate() {
            let _ = writeln!(out, "  {}  {line}", if i == 0 { "enabled" } else { "       " });
        }
    }

    if results.checks.is_empty() {
        let _ = writeln!(out, "\nno checks ran");
    }
    for (suite, checks) in by_suite(&results.checks) {
        let _ = writeln!(out, "\n{}  {}", paint(color, Paint::Bold, suite), counts(&checks, color));
        for c in checks.iter().filter(|c| !matches!(Shown::of(c), Shown::Pass | Shown::Skip)) {
            listing(&mut out, c, color);
        }
        skips(&mut out, &checks, color);
    }

    let s = &results.summary;
    let mut totals = format!("{} passed, {} failed, {} warned, {} skipped, {} errors", s.pass, s.fail, s.warn, s.skip, s.error);
    totals.push_str(&baseline_note(s.expected_failures, s.stale_baseline, color));
    let _ = writeln!(out, "\n{totals}");
    let _ = writeln!(out, "{}", verdict_line(results, color));
    out
}

/// "5 checks: 2 passed, 2 failed, 1 warned (baseline: 1 expected, 1 stale)", zero counts left
/// out (passed is always shown). Counted by verdict, as the totals line is.
fn counts(checks: &[&CheckResult], color: bool) -> String {
    let n = |v: Verdict| checks.iter().filter(|c| c.verdict == v).count();
    let mut parts = vec![paint(color && n(Verdict::Pass) > 0, Paint::Green, &format!("{} passed", n(Verdict::Pass)))];
    for (v, p, word) in [
        (Verdict::Fail, Paint::Red, "failed"),
        (Verdict::Error, Paint::Red, "errors"),
        (Verdict::Warn, Paint::Yellow, "warned"),
        (Verdict::Skip, Paint::Dim, "skipped"),
    ] {
        if n(v) > 0 {
            parts.push(paint(color, p, &format!("{} {word}", n(v))));
        }
    }
    let baseline = |b: &str| checks.iter().filter(|c| c.baseline.as_deref() == Some(b)).count();
    let note = baseline_note(baseline("expected"), baseline("stale"), color);
    format!("{}: {}{note}", plural(checks.len(), "check", "checks"), parts.join(", "))
}

fn baseline_note(expected: usize, stale: usize, color: bool) -> String {
    let mut parts = Vec::new();
    if expected > 0 {
        parts.push(paint(color, Paint::Yellow, &format!("{expected} expected")));
    }
    if stale > 0 {
        parts.push(paint(color, Paint::Red, &format!("{stale} stale")));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(" (baseline: {})", parts.join(", "))
}

/// One failing/warning check: label, id, level, baseline marker; then its reason (wrapped)
/// and the spec sections it cites with their requirement ids.
fn listing(out: &mut String, c: &CheckResult, color: bool) {
    let shown = Shown::of(c);
    let level = format!("{:?}", c.level).to_uppercase();
    let mut head = format!("  {}  {} [{level}]", paint(color, shown.paint(), label(c.verdict)), c.id);
    match shown {
        Shown::Expected => head.push_str(&paint(color, Paint::Yellow, "  (expected by baseline)")),
        Shown::Stale => head.push_str(&paint(color, Paint::Red, "  (stale baseline: passes now)")),
        _ => {}
    }
    let _ = writeln!(out, "{head}");
    for line in wrap(&c.reason, WIDTH - INDENT.len()) {
        let _ = writeln!(out, "{INDENT}{line}");
    }
    let cites: Vec<String> = c
        .citations
        .iter()
        .enumerate()
        .map(|(i, cite)| match c.requirements.get(i) {
            Some(r) if !cite.contains(r.as_str()) => format!("{cite} ({r})"),
            _ => cite.clone(),
        })
        .collect();
    for line in wrap(&cites.join(", "), WIDTH - INDENT.len()) {
        let _ = writeln!(out, "{INDENT}{}", paint(color, Paint::Dim, &line));
    }
}

/// Skips, one line per distinct reason (usually "needs <capability> (...)", shared by many
/// checks), then the ids it covers.
fn skips(out: &mut String, checks: &[&CheckResult], color: bool) {
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in checks.iter().filter(|c| c.verdict == Verdict::Skip) {
        match reasons.iter_mut().find(|(r, _)| *r == c.reason) {
            Some((_, ids)) => ids.push(&c.id),
            None => reasons.push((&c.reason, vec![&c.id])),
        }
    }
    for (reason, ids) in reasons {
        let head = format!("skipped: {} — {reason}", ids.len());
        for (i, line) in wrap(&head, WIDTH - INDENT.len()).into_iter().enumerate() {
            let pad = if i == 0 { "  " } else { INDENT };
            let _ = writeln!(out, "{pad}{}", paint(color, Paint::Dim, &line));
        }
        for line in wrap(&ids.join(", "), WIDTH - INDENT.len()) {
            let _ = writeln!(out, "{INDENT}{}", paint(color, Paint::Dim, &line));
        }
    }
}

/// `PASS`/`FAIL` with the exit code, and what it was decided on.
fn verdict_line(results: &RunResults, color: bool) -> String {
    let count = |k: Shown| results.checks.iter().filter(|c| Shown::of(c) == k).count();
    if results.exit_code() == 0 {
        let mut why = "every required check passed".to_string();
        if results.summary.expected_failures > 0 {
            why.push_str(" or failed as the baseline expects");
        }
        return format!("{} (exit code 0): {why}", paint(color, Paint::Green, "PASS"));
    }
    let why: Vec<String> = [
        (count(Shown::Fail), "unexpected failure", "unexpected failures"),
        (count(Shown::Error), "error", "errors"),
        (results.summary.stale_baseline, "stale baseline entry", "stale baseline entries"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    format!("{} (exit code 1): {}", paint(color, Paint::Red, "FAIL"), why.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_snapshot() {
        insta::assert_snapshot!(terminal_summary(&crate::sample::results(), false));
    }

    #[test]
    fn color_only_when_asked() {
        let r = crate::sample::results();
        assert!(!terminal_summary(&r, false).contains('\x1b'));
        assert!(terminal_summary(&r, true).contains("\x1b[31m"));
    }

    #[test]
    fn fits_in_100_columns() {
        for line in terminal_summary(&crate::sample::results(), false).lines() {
            // Only a single unbreakable word (a URL) may overrun.
            assert!(line.chars().count() <= WIDTH || !line.trim().contains(' '), "{line}");
        }
    }
}
