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
    let _ = writeln!(
        out,
        "\n{} requirements: {covered} checked, {excluded} excluded with a reason, {open} not yet checked",
        catalog.requirements.len()
    );
    out
}

/// REQUIREMENTS.md: the catalog as a table per area, each requirement with the checks that
/// cover it. Generated, checked in, and tested for staleness (`cargo xtask requirements`
/// rewrites it).
pub fn requirements_markdown(catalog: &Catalog, checks: &[Check]) -> String {
    let mut out = String::from(
        "# Requirements\n\nGenerated from `suites/requirements.toml` by `cargo xtask requirements`; do not edit by hand.\n\
         Levels: MUST, SHOULD, MAY as in the source (BCP 14); PROFILE is agentcert's own rule for an\n\
         agent-ready server, with its basis in the source column. Tiers: core (every server),\n\
         conditional (when a precondition holds), optional (a declared profile feature).\n",
    );
    let mut area = String::new();
    for r in catalog.requirements.values() {
        let prefix = r.id.split('-').next().unwrap_or("").to_string();
        if prefix != area {
            let _ = write!(out, "\n## {prefix}\n\n| id | level | tier | section | requirement | checked by |\n|---|---|---|---|---|---|\n");
            area = prefix;
        }
        let by: Vec<String> = checks.iter().filter(|c| c.requirements.contains(&r.id.as_str())).map(|c| format!("`{}`", c.id)).collect();
        let coverage = if !by.is_empty() {
            by.join("<br>")
        } else if let Some(why) = &r.excluded {
            format!("not checked: {why}")
        } else {
            "not checked yet".to_string()
        };
        let tier = match r.tier {
            Tier::Core => "core",
            Tier::Conditional => "conditional",
            Tier::Optional => "optional",
        };
        let cell = |s: &str| s.replace('|', "\\|");
        let _ = writeln!(out, "| {} | {:?} | {tier} | {} | {} | {} |", r.id, r.level, cell(&r.citation()), cell(&r.text), cell(&coverage));
    }
    out
}

#[cfg(test)]
mod tests {
    /// REQUIREMENTS.md is generated from the catalog; a stale copy fails here.
    /// `UPDATE_REQUIREMENTS=1 cargo test -p agentcert-suites requirements_md` rewrites it.
    #[test]
    fn requirements_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../REQUIREMENTS.md");
        let fresh = super::requirements_markdown(&crate::catalog(), &crate::all_checks());
        if std::env::var_os("UPDATE_REQUIREMENTS").is_some() {
            std::fs::write(path, &fresh).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(on_disk == fresh, "REQUIREMENTS.md is stale: run `cargo xtask requirements`");
    }
}
