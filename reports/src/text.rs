//! Small helpers the renderers share: ANSI paint, durations, word wrap, and the one place that
//! decides how a check's verdict and baseline combine into what a reader should see.

use agentcert_engine::results::CheckResult;
use agentcert_engine::Verdict;

#[derive(Clone, Copy)]
pub(crate) enum Paint {
    Green,
    Red,
    Yellow,
    Dim,
    Bold,
}

/// Wraps `s` in an ANSI SGR sequence when `on`; plain text otherwise.
pub(crate) fn paint(on: bool, p: Paint, s: &str) -> String {
    if !on {
        return s.to_string();
    }
    let code = match p {
        Paint::Green => "32",
        Paint::Red => "31",
        Paint::Yellow => "33",
        Paint::Dim => "2",
        Paint::Bold => "1",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// How a finished check reads once its baseline entry is taken into account.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    Pass,
    Fail,
    Error,
    Warn,
    Skip,
    /// A failure or error the baseline lists: reported, not held against the run.
    Expected,
    /// A pass the baseline still lists as failing: the run fails until the entry goes.
    Stale,
}

impl Shown {
    pub(crate) fn of(c: &CheckResult) -> Self {
        match (c.verdict, c.baseline.as_deref()) {
            (Verdict::Fail | Verdict::Error, Some("expected")) => Shown::Expected,
            (Verdict::Pass, Some("stale")) => Shown::Stale,
            (Verdict::Pass, _) => Shown::Pass,
            (Verdict::Fail, _) => Shown::Fail,
            (Verdict::Error, _) => Shown::Error,
            (Verdict::Warn, _) => Shown::Warn,
            (Verdict::Skip, _) => Shown::Skip,
        }
    }

    pub(crate) fn paint(self) -> Paint {
        match self {
            Shown::Pass => Paint::Green,
            Shown::Fail | Shown::Error | Shown::Stale => Paint::Red,
            Shown::Warn | Shown::Expected => Paint::Yellow,
            Shown::Skip => Paint::Dim,
        }
    }
}

/// Fixed-width (5) verdict label for listings.
pub(crate) fn label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS ",
        Verdict::Fail => "FAIL ",
        Verdict::Error => "ERROR",
        Verdict::Warn => "WARN ",
        Verdict::Skip => "SKIP ",
    }
}

/// "850ms", "12.3s", "2m05s".
pub(crate) fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms}ms"),
        1_000..=59_999 => format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        _ => format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// Drops control characters (ESC, BEL, ...) so text that came from the server under test
/// cannot move the cursor or recolor the terminal. Whitespace controls become spaces.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

/// "1 error", "2 errors".
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Greedy word wrap at `width` columns (counted in chars). Words longer than a line (URLs)
/// are kept whole rather than split.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in clean(text).split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Cuts `s` to at most `max` chars on one line, marking the cut with an ellipsis.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let s = clean(s).split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Checks grouped by suite, suites in the order they first ran.
pub(crate) fn by_suite(checks: &[CheckResult]) -> Vec<(&str, Vec<&CheckResult>)> {
    let mut groups: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
    for c in checks {
        match groups.iter_mut().find(|(s, _)| *s == c.suite) {
            Some((_, v)) => v.push(c),
            None => groups.push((&c.suite, vec![c])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(12_345), "12.3s");
        assert_eq!(duration(125_000), "2m05s");
    }

    #[test]
    fn wraps_and_keeps_long_words() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("https://very.long/url x", 5), ["https://very.long/url", "x"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(one_line("a\nb  c", 10), "a b c");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(wrap("a\u{1b}[31mb\u{7}\tc", 80), ["a[31mb c"]);
    }
}
