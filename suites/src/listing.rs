//! Plain-text listings for `agentcert list`: the checks by suite, and the catalog with the
//! checks that cover each requirement (or why none does).

use agentcert_engine::{Catalog, Check, Tier};
use std::fmt::Write;

/// Every check, grouped by suite, with the requirements it cites and what it needs.
pub fn checks(catalog: &Catalog, checks: &[Check]) -> String {
    let mut out = String::new();
    for (suite, about) in crate::SUITES {
        let in_suite: Vec<&Check> = checks.iter().filter(|c| c.suite == *suite).collect();
        let _ = writeln!(out, "{suite} ({} checks): {about}", in_suite.len());
        for c in in_suite {
            let cites: Vec<String> = c
                .requirements
                .iter()
                .map(|r| match catalog.get(r) {
                    Some(req) => format!("{r} {:?} {}", req.level, req.citation()),
                    None => format!("{r} (not in catalog)"),
                })
                .collect();
            let _ = writeln!(out, "  {}\n      {}\n      cites {}", c.id, c.title, cites.join("; "));
            if !c.needs.is_empty() {
                let needs: Vec<&str> = c.needs.iter().map(|n| n.name()).collect();
                let _ = writeln!(out, "      needs {}", needs.join(", "));
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{} checks in {} suites", checks.len(), crate::SUITES.len());
    out
}

/// The catalog, each requirement with its checks. A requirement no check covers says so, with
/// the reason it is excluded when the catalog gives one.
pub fn requirements(catalog: &Catalog, checks: &[Check]) -> String {
    let mut out = String::new();
    let (mut covered, mut excluded, mut open) = (0, 0, 0);
    for r in catalog.requirements.values() {
        let by: Vec<&str> = checks.iter().filter(|c| c.requirements.contains(&r.id.as_str())).map(|c| c.id).collect();
        let tier = match r.tier {
            Tier::Core => "core",
            Tier::Conditional => "conditional",
            Tier::Optional => "optional",
        };
        let _ = writeln!(out, "{} [{:?}, {tier}] {}: {}", r.id, r.level, r.citation(), r.text);
        if !by.is_empty() {
            covered += 1;
            let _ = writeln!(out, "    checked by {}", by.join(", "));
        } else if let Some(why) = &r.excluded {
            excluded += 1;
            let _ = writeln!(out, "    not checked: {why}");
        } else {
            open += 1;
            let _ = writeln!(out, "    not checked yet");
        }
    }
    let _ = writeln!(out, "\n{} requirements: {covered} checked, {excluded} excluded with a reason, {open} not yet checked", catalog.requirements.len());
    out
}
