//! The suites: one `<section>` and table per suite, one row per check. Each row cites its
//! requirements with their catalog text and a link to the RFC section (drafts and agentcert's
//! own profile rules are plain text: their anchors are not stable), then the verdict, the
//! reason and the evidence.

use super::{esc, evidence};
use crate::context::ReportContext;
use crate::text::{by_suite, plural, Shown};
use agentcert_engine::results::{CheckResult, RunResults};
use agentcert_engine::Verdict;
use std::fmt::Write;

pub(super) fn suites(out: &mut String, results: &RunResults, ctx: &ReportContext) {
    if results.checks.is_empty() {
        out.push_str("<p id=\"no-checks\">No conformance checks ran.</p>\n");
    }
    for (suite, checks) in by_suite(&results.checks) {
        let n = |v: Verdict| checks.iter().filter(|c| c.verdict == v).count();
        let mut counts = vec![format!("{} passed", n(Verdict::Pass))];
        for (v, word) in [(Verdict::Fail, "failed"), (Verdict::Error, "errors"), (Verdict::Warn, "warned"), (Verdict::Skip, "skipped")] {
            if n(v) > 0 {
                counts.push(format!("{} {word}", n(v)));
            }
        }
        let _ = write!(
            out,
            "<section class=\"suite\" id=\"suite-{id}\">\n<h2>{id}<small>{}: {}</small></h2>\n\
             <table class=\"checks\">\n<thead><tr><th>Check</th><th>Requirements</th><th>Verdict</th><th>Reason and evidence</th></tr></thead>\n<tbody>\n",
            plural(checks.len(), "check", "checks"),
            counts.join(", "),
            id = esc(suite)
        );
        for c in checks {
            row(out, c, ctx);
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }
}

fn row(out: &mut String, c: &CheckResult, ctx: &ReportContext) {
    let v = c.verdict.as_str();
    let _ = write!(
        out,
        "<tr class=\"check v-{v}\" id=\"check-{id}\" data-verdict=\"{v}\"><td><code>{id}</code><span class=\"note title\">{}</span></td><td>",
        esc(&c.title),
        id = esc(&c.id)
    );
    for (i, req) in c.requirements.iter().enumerate() {
        requirement(out, req, c.citations.get(i).map(String::as_str), ctx);
    }
    let _ = write!(out, "</td><td><span class=\"badge\">{}</span>", v.to_uppercase());
    let level = format!("{:?}", c.level).to_uppercase();
    let _ = write!(out, "<span class=\"note\">{level}</span>");
    match Shown::of(c) {
        Shown::Expected => out.push_str("<span class=\"note\">expected by baseline</span>"),
        Shown::Stale => out.push_str("<span class=\"note\">stale baseline: passes now</span>"),
        _ => {}
    }
    let _ = write!(out, "</td><td><div class=\"reason\">{}</div>", esc(&c.reason));
    evidence::details(out, c);
    out.push_str("</td></tr>\n");
}

/// One cited requirement: id, level, the citation (linked when it is an RFC), and its text.
fn requirement(out: &mut String, id: &str, citation: Option<&str>, ctx: &ReportContext) {
    let req = ctx.catalog.and_then(|cat| cat.get(id));
    let (spec, section) = match (req, citation) {
        (Some(r), _) => (r.spec.clone(), r.section.clone()),
        (None, Some(c)) => c.split_once(" §").map(|(a, b)| (a.to_string(), b.to_string())).unwrap_or((c.to_string(), String::new())),
        (None, None) => (String::new(), String::new()),
    };
    let cite = citation.map(str::to_string).unwrap_or_else(|| format!("{spec} §{section}"));
    let _ = write!(out, "<div class=\"req\"><span class=\"rid\">{}</span>", esc(id));
    if let Some(r) = req {
        let _ = write!(out, "<span class=\"lvl\">{}</span>", format!("{:?}", r.level).to_uppercase());
    }
    match spec_link(&spec, &section) {
        Some(href) => {
            let _ = write!(out, " <a href=\"{}\" rel=\"noreferrer\">{}</a>", esc(&href), esc(&cite));
        }
        None => {
            let _ = write!(out, " <span class=\"cite\">{}</span>", esc(&cite));
        }
    }
    match req {
        Some(r) => {
            let _ = write!(out, "<span class=\"rtext\">{}</span>", esc(&r.text));
        }
        None if ctx.catalog.is_none() => {}
        None => out.push_str("<span class=\"rtext\">(not in this build's requirement catalog)</span>"),
    }
    out.push_str("</div>");
}

/// The rfc-editor.org URL of an RFC section (`#section-2.2`, `#appendix-A.1`), the RFC
/// itself for other section names, and nothing for drafts and other documents.
pub(crate) fn spec_link(spec: &str, section: &str) -> Option<String> {
    let num = spec.trim().strip_prefix("RFC ")?.trim();
    if num.is_empty() || num.len() > 5 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let base = format!("https://www.rfc-editor.org/rfc/rfc{num}");
    let section = section.trim();
    let dotted = |s: &str| !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let appendix = section.strip_prefix("Appendix ").unwrap_or(section);
    Some(if dotted(section) && section.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        format!("{base}#section-{section}")
    } else if dotted(appendix) && appendix.as_bytes()[0].is_ascii_uppercase() && appendix.split('.').next().is_some_and(|p| p.len() == 1) {
        format!("{base}#appendix-{appendix}")
    } else {
        base
    })
}
