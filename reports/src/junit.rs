//! `junit.xml`, for CI systems that already display JUnit reports (GitLab, Jenkins, GitHub
//! test-report actions). JUnit has no "warn", "expected failure" or "stale baseline", so they
//! are mapped onto what such viewers show sensibly: a warning passes with a note in
//! `<system-out>`, an expected failure is `<skipped>` (visible, not red), a stale baseline
//! entry is a `<failure>` (it fails the run). The XML is written by hand: it is small, and
//! one escaper is less to trust than a dependency.

use crate::text::{by_suite, Shown};
use agentcert_engine::results::{CheckResult, RunResults};
use std::fmt::Write;

/// Renders the run as one `<testsuites>` with one `<testsuite>` per suite.
pub fn junit_xml(results: &RunResults) -> String {
    let all: Vec<&CheckResult> = results.checks.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" {} time=\"{}\">",
        attr(&format!("agentcert {}", results.target.name)),
        counts(&all),
        secs(results.duration_ms)
    );
    for (suite, checks) in by_suite(&results.checks) {
        let time: u64 = checks.iter().map(|c| c.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" {} time=\"{}\" timestamp=\"{}\">",
            attr(suite),
            counts(&checks),
            secs(time),
            attr(&results.started_at)
        );
        for c in checks {
            testcase(&mut out, c);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, c: &CheckResult) {
    let _ =
        write!(out, "    <testcase classname=\"agentcert.{}\" name=\"{}\" time=\"{}\"", attr(&c.suite), attr(&c.id), secs(c.duration_ms));
    let level = format!("{:?}", c.level).to_uppercase();
    let (open, close) = match Shown::of(c) {
        Shown::Pass => return out.push_str("/>\n"),
        Shown::Skip => return out.push_str(&format!(">\n      <skipped message=\"{}\"/>\n    </testcase>\n", attr(&c.reason))),
        Shown::Expected => {
            let msg = format!("expected failure: {}", c.reason);
            return out.push_str(&format!(">\n      <skipped message=\"{}\"/>\n    </testcase>\n", attr(&msg)));
        }
        Shown::Warn => {
            let note = format!("WARN: {}\n{}", c.reason, details(c));
            return out.push_str(&format!(">\n      <system-out>{}</system-out>\n    </testcase>\n", text(&note)));
        }
        Shown::Fail => (format!("<failure message=\"{}\" type=\"{level}\">", attr(&c.reason)), "</failure>"),
        Shown::Stale => {
            let msg = format!("stale baseline: {}", c.reason);
            (format!("<failure message=\"{}\" type=\"stale-baseline\">", attr(&msg)), "</failure>")
        }
        Shown::Error => (format!("<error message=\"{}\" type=\"error\">", attr(&c.reason)), "</error>"),
    };
    let _ = write!(out, ">\n      {open}{}{close}\n    </testcase>\n", text(&details(c)));
}

/// The body of a failure: what was checked, the spec sections with requirement ids, and the
/// HTTP exchanges in one line each (the full evidence is in results.json).
fn details(c: &CheckResult) -> String {
    let mut s = format!("{}\n", c.title);
    for (i, cite) in c.citations.iter().enumerate() {
        match c.requirements.get(i) {
            Some(r) => s.push_str(&format!("{cite} (requirement {r})\n")),
            None => s.push_str(&format!("{cite}\n")),
        }
    }
    for x in &c.evidence {
        let result = match (x.status, &x.transport_error) {
            (Some(status), _) => status.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => "no response".into(),
        };
        s.push_str(&format!("{} {} -> {result} ({}ms)\n", x.method, x.url, x.elapsed_ms));
    }
    s
}

/// `tests="…" failures="…" errors="…" skipped="…"`, counted the way the testcases render.
fn counts(checks: &[&CheckResult]) -> String {
    let n = |f: &dyn Fn(Shown) -> bool| checks.iter().filter(|c| f(Shown::of(c))).count();
    format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
        checks.len(),
        n(&|s| matches!(s, Shown::Fail | Shown::Stale)),
        n(&|s| s == Shown::Error),
        n(&|s| matches!(s, Shown::Skip | Shown::Expected)),
    )
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Escapes for an attribute value; newlines and tabs become character references so they
/// survive attribute-value normalization.
fn attr(s: &str) -> String {
    escape(s, true)
}

/// Escapes for element content.
fn text(s: &str) -> String {
    escape(s, false)
}

/// XML escaping, dropping characters XML 1.0 cannot carry at all (C0 controls other than
/// tab/LF/CR, U+FFFE/U+FFFF) and C1 controls and DEL, which some parsers reject. Server
/// responses end up in reasons, so anything may arrive here.
fn escape(s: &str, in_attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attr => out.push_str("&quot;"),
            '\'' if in_attr => out.push_str("&apos;"),
            '\n' if in_attr => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if in_attr => out.push_str("&#9;"),
            '\t' | '\n' => out.push(ch),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {}
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_snapshot() {
        insta::assert_snapshot!(junit_xml(&crate::sample::results()));
    }

    #[test]
    fn escapes_and_strips_controls() {
        assert_eq!(attr("a<b>&\"c'\n\t\u{1}\u{1b}[31m\u{ffff}"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;[31m");
        assert_eq!(text("x\ny\u{0}\r'\""), "x\ny&#13;'\"");
    }

    #[test]
    fn root_counts_add_up() {
        let xml = junit_xml(&crate::sample::results());
        let root = xml.lines().nth(1).unwrap();
        assert!(root.contains(r#"tests="10" failures="2" errors="1" skipped="4""#), "{root}");
    }
}
