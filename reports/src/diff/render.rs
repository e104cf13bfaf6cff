//! The diff for a terminal (plain text, aligned) and as Markdown (a pull-request comment).
//! Both list regressions first, then improvements, then other changes; check ids and reasons
//! come from results.json files that may be anyone's, so the Markdown escapes them.

use super::{CheckChange, Diff, LoadChange};
use crate::markdown::{code, md};
use crate::text::one_line;
use agentcert_engine::Verdict;
use std::fmt::Write;

const REASON_CHARS: usize = 140;

fn verdicts(c: &CheckChange) -> String {
    let v = |v: Option<Verdict>| v.map_or("-", Verdict::as_str);
    match (c.old, c.new) {
        (None, Some(n)) => format!("new, {}", n.as_str()),
        (Some(o), None) => format!("gone, was {}", o.as_str()),
        _ => format!("{} → {}", v(c.old), v(c.new)),
    }
}

/// A new check that is not failing: listed by id only, grouped by verdict, since a release
/// that adds checks would otherwise bury its one regression under a page of them.
fn quietly_new(c: &CheckChange) -> bool {
    c.old.is_none() && !c.regression
}

fn by_verdict<'a>(added: &[&'a CheckChange]) -> Vec<(&'static str, Vec<&'a str>)> {
    let mut out: Vec<(&'static str, Vec<&'a str>)> = Vec::new();
    for c in added {
        let v = c.new.map_or("-", Verdict::as_str);
        match out.iter_mut().find(|(k, _)| *k == v) {
            Some((_, ids)) => ids.push(&c.id),
            None => out.push((v, vec![&c.id])),
        }
    }
    out
}

fn figure(l: &LoadChange) -> String {
    let (unit, digits) = match l.metric {
        "achieved rate" | "capacity" => ("/s", 1),
        "error ratio" => ("%", 2),
        _ => (" ms", 3),
    };
    let rel = if l.old != 0.0 { format!(" ({:+.1}%)", (l.new - l.old) / l.old * 100.0) } else { String::new() };
    format!("{} {}: {:.digits$}{unit} → {:.digits$}{unit}{rel}", l.scenario, l.metric, l.old, l.new)
}

fn headline(d: &Diff) -> String {
    match d.regressions() {
        0 => "no regressions (exit 0)".into(),
        1 => "REGRESSED: 1 regression (exit 1)".into(),
        n => format!("REGRESSED: {n} regressions (exit 1)"),
    }
}

fn tolerances(d: &Diff) -> String {
    let t = &d.tolerances;
    format!(
        "tolerances: latency {}% (differences under {} ms ignored), rate {}%, error ratio {} points",
        crate::html::svg::num(t.latency * 100.0),
        crate::html::svg::num(t.latency_floor_ms),
        crate::html::svg::num(t.rate * 100.0),
        crate::html::svg::num(t.error_ratio * 100.0)
    )
}

/// Groups: regressions, improvements (a failure fixed, a figure better), other changes.
fn groups(d: &Diff) -> [(&'static str, Vec<&CheckChange>, Vec<&LoadChange>); 3] {
    let improved = |c: &&CheckChange| matches!((c.old, c.new), (Some(o), Some(n)) if matches!(o, Verdict::Fail | Verdict::Error) && !matches!(n, Verdict::Fail | Verdict::Error));
    [
        ("Regressions", d.checks.iter().filter(|c| c.regression).collect(), d.load.iter().filter(|l| l.regression).collect()),
        (
            "Improvements",
            d.checks.iter().filter(|c| !c.regression).filter(improved).collect(),
            d.load.iter().filter(|l| !l.regression).collect(),
        ),
        ("Other changes", d.checks.iter().filter(|c| !c.regression && !improved(c)).collect(), vec![]),
    ]
}

pub fn render_text(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "agentcert diff");
    for (name, s) in [("old", &d.old), ("new", &d.new)] {
        let _ = writeln!(
            out,
            "  {name}  {}: {}, agentcert {}, {}",
            one_line(&s.label, 200),
            one_line(&s.target, 80),
            one_line(&s.agentcert_version, 40),
            one_line(&s.started_at, 40)
        );
    }
    let _ = writeln!(out, "{}", headline(d));
    for (title, checks, load) in groups(d) {
        if checks.is_empty() && load.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        let (added, changed): (Vec<&CheckChange>, Vec<&CheckChange>) = checks.iter().partition(|c| quietly_new(c));
        for c in changed {
            let _ = writeln!(out, "  {:<18} {}  {}", verdicts(c), one_line(&c.id, 100), one_line(&c.reason, REASON_CHARS));
        }
        for (verdict, ids) in by_verdict(&added) {
            let head = format!("new, {verdict} ({})", ids.len());
            for (i, line) in crate::text::wrap(&ids.join(", "), 78).iter().enumerate() {
                let _ = writeln!(out, "  {:<18} {line}", if i == 0 { head.as_str() } else { "" });
            }
        }
        for l in load {
            let _ = writeln!(out, "  {:<18} {}", "load", figure(l));
        }
    }
    if !d.notes.is_empty() || !d.load_steady.is_empty() {
        let _ = writeln!(out, "\nLoad");
        for n in &d.notes {
            let _ = writeln!(out, "  {}", one_line(n, 200));
        }
        if !d.load_steady.is_empty() {
            let _ = writeln!(out, "  within tolerance: {}", one_line(&d.load_steady.join(", "), 200));
        }
    }
    let _ = writeln!(out, "\n{}", tolerances(d));
    out
}

pub fn render_markdown(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### agentcert diff: {}\n", headline(d));
    out.push_str("| | run | target | agentcert | started |\n|---|---|---|---|---|\n");
    for (name, s) in [("old", &d.old), ("new", &d.new)] {
        let _ =
            writeln!(out, "| {name} | `{}` | {} | {} | {} |", code(&s.label), md(&s.target), md(&s.agentcert_version), md(&s.started_at));
    }
    for (title, checks, load) in groups(d) {
        if checks.is_empty() && load.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n**{title}**\n");
        let (added, changed): (Vec<&CheckChange>, Vec<&CheckChange>) = checks.iter().partition(|c| quietly_new(c));
        for c in changed {
            let _ = writeln!(out, "- {} `{}`: {}", md(&verdicts(c)), code(&c.id), md(&one_line(&c.reason, REASON_CHARS)));
        }
        for (verdict, ids) in by_verdict(&added) {
            let ids: Vec<String> = ids.iter().map(|id| format!("`{}`", code(id))).collect();
            let _ = writeln!(out, "- new, {verdict} ({}): {}", ids.len(), ids.join(", "));
        }
        for l in load {
            let _ = writeln!(out, "- load {}", md(&figure(l)));
        }
    }
    if !d.notes.is_empty() || !d.load_steady.is_empty() {
        out.push_str("\n**Load**\n\n");
        for n in &d.notes {
            let _ = writeln!(out, "- {}", md(n));
        }
        if !d.load_steady.is_empty() {
            let _ = writeln!(out, "- within tolerance: {}", md(&d.load_steady.join(", ")));
        }
    }
    let _ = writeln!(out, "\n_{}_", md(&tolerances(d)));
    out
}
