//! `agentcert diff OLD NEW`: what changed between two runs, for a release pipeline that
//! gates on "nothing got worse" rather than on a fixed bar. A check's verdict is compared by
//! id; load figures by scenario, each against a relative tolerance, because two load runs
//! never measure the same numbers. Regressions are listed first and decide the exit code.

mod render;

pub use render::{render_markdown, render_text};

use agentcert_engine::results::{LoadResult, RunResults};
use agentcert_engine::Verdict;
use std::path::Path;

/// How much a load figure may move before it counts as changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Relative latency increase (p50, p90, p99) allowed: 0.10 is 10%.
    pub latency: f64,
    /// Relative drop in achieved rate allowed.
    pub rate: f64,
    /// Latency differences smaller than this (ms) never count: sub-millisecond noise on a
    /// loopback server would otherwise be a "regression" of 30%.
    pub latency_floor_ms: f64,
    /// Rise in the error ratio (errors / operations) allowed, absolute: 0.001 is 0.1 points.
    pub error_ratio: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances { latency: 0.10, rate: 0.05, latency_floor_ms: 1.0, error_ratio: 0.001 }
    }
}

/// Parses a tolerance: `10%`, `10` (percent) or `2.5%`. Between 0% and 1000%.
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let n = t.strip_suffix('%').unwrap_or(t).trim();
    match n.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1000.0).contains(&v) => Ok(v / 100.0),
        _ => Err(format!("tolerance `{s}` is not a percentage such as 10%")),
    }
}

/// Reads a results.json, with a one-line error naming the file when it cannot.
pub fn read_results(path: &Path) -> Result<RunResults, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let r: RunResults = serde_json::from_str(&text).map_err(|e| format!("{} is not an agentcert results.json: {e}", path.display()))?;
    if !r.schema_version.starts_with("1.") {
        return Err(format!("{} has schema_version {}, this agentcert reads 1.x", path.display(), r.schema_version));
    }
    Ok(r)
}

/// One run, as named in the output.
#[derive(Debug, Clone)]
pub struct Side {
    pub label: String,
    pub target: String,
    pub agentcert_version: String,
    pub started_at: String,
}

/// A check whose verdict changed, appeared or went away.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckChange {
    pub id: String,
    /// `None`: the check is new.
    pub old: Option<Verdict>,
    /// `None`: the check is gone.
    pub new: Option<Verdict>,
    /// The newer reason (the old one for a gone check).
    pub reason: String,
    pub regression: bool,
}

/// A load figure that moved beyond its tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadChange {
    pub scenario: String,
    /// `p50`, `p90`, `p99` (ms), `achieved rate` and `capacity` (/s), `error ratio` (%).
    pub metric: &'static str,
    pub old: f64,
    pub new: f64,
    pub regression: bool,
}

#[derive(Debug, Clone)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    pub tolerances: Tolerances,
    /// Regressions first, then the rest, each group in the newer run's order.
    pub checks: Vec<CheckChange>,
    pub load: Vec<LoadChange>,
    /// Scenarios in one run only, and runs that are not like for like.
    pub notes: Vec<String>,
    /// Scenarios compared with no figure beyond tolerance.
    pub load_steady: Vec<String>,
}

impl Diff {
    pub fn regressions(&self) -> usize {
        self.checks.iter().filter(|c| c.regression).count() + self.load.iter().filter(|l| l.regression).count()
    }

    /// 1 when anything regressed, else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.regressions() > 0)
    }
}

fn bad(v: Verdict) -> bool {
    matches!(v, Verdict::Fail | Verdict::Error)
}

fn side(label: &str, r: &RunResults) -> Side {
    Side {
        label: label.into(),
        target: r.target.name.clone(),
        agentcert_version: r.agentcert_version.clone(),
        started_at: r.started_at.clone(),
    }
}

/// Compares `old` with `new`. Labels name the runs in the output (their paths, usually).
pub fn diff(old_label: &str, old: &RunResults, new_label: &str, new: &RunResults, tolerances: Tolerances) -> Diff {
    let mut checks = Vec::new();
    for c in &new.checks {
        match old.checks.iter().find(|o| o.id == c.id) {
            Some(o) if o.verdict == c.verdict => {}
            Some(o) => checks.push(CheckChange {
                id: c.id.clone(),
                old: Some(o.verdict),
                new: Some(c.verdict),
                reason: c.reason.clone(),
                regression: bad(c.verdict) && !bad(o.verdict),
            }),
            None => checks.push(CheckChange {
                id: c.id.clone(),
                old: None,
                new: Some(c.verdict),
                reason: c.reason.clone(),
                regression: bad(c.verdict),
            }),
        }
    }
    // A check the newer run no longer makes is coverage lost: a gate must not pass because a
    // check (or a whole suite) went missing. Only a check that was skipped before loses nothing.
    for o in old.checks.iter().filter(|o| !new.checks.iter().any(|c| c.id == o.id)) {
        let regression = o.verdict != Verdict::Skip;
        checks.push(CheckChange { id: o.id.clone(), old: Some(o.verdict), new: None, reason: o.reason.clone(), regression });
    }
    checks.sort_by_key(|c| !c.regression);

    let (mut load, mut notes, mut load_steady) = (Vec::new(), Vec::new(), Vec::new());
    for n in &new.load {
        let Some(o) = old.load.iter().find(|o| o.scenario == n.scenario) else {
            notes.push(format!("load scenario {} is new", n.scenario));
            continue;
        };
        if o.model != n.model || o.target_rate != n.target_rate {
            let rate = |r: &LoadResult| r.target_rate.map_or("no target rate".into(), |t| format!("{t}/s"));
            notes.push(format!(
                "{}: the runs differ ({} at {} → {} at {}), so the figures compare different loads",
                n.scenario,
                o.model,
                rate(o),
                n.model,
                rate(n)
            ));
        }
        let before = load.len();
        compare_load(o, n, &tolerances, &mut load);
        if load.len() == before {
            load_steady.push(n.scenario.clone());
        }
    }
    for o in old.load.iter().filter(|o| !new.load.iter().any(|n| n.scenario == o.scenario)) {
        notes.push(format!("load scenario {} is gone", o.scenario));
    }
    load.sort_by_key(|l| !l.regression);
    Diff { old: side(old_label, old), new: side(new_label, new), tolerances, checks, load, notes, load_steady }
}

fn compare_load(o: &LoadResult, n: &LoadResult, t: &Tolerances, out: &mut Vec<LoadChange>) {
    let mut push =
        |metric, old: f64, new: f64, regression: bool| out.push(LoadChange { scenario: n.scenario.clone(), metric, old, new, regression });
    for (metric, old, new) in [
        ("p50", o.latency_ms.p50, n.latency_ms.p50),
        ("p90", o.latency_ms.p90, n.latency_ms.p90),
        ("p99", o.latency_ms.p99, n.latency_ms.p99),
    ] {
        if (new - old).abs() <= t.latency_floor_ms {
            continue;
        }
        if new > old * (1.0 + t.latency) {
            push(metric, old, new, true);
        } else if new < old * (1.0 - t.latency) {
            push(metric, old, new, false);
        }
    }
    let (old, new) = (o.achieved_rate, n.achieved_rate);
    if new < old * (1.0 - t.rate) {
        push("achieved rate", old, new, true);
    } else if new > old * (1.0 + t.rate) {
        push("achieved rate", old, new, false);
    }
    if let (Some(old), Some(new)) = (o.capacity.as_ref().and_then(|c| c.rate), n.capacity.as_ref().and_then(|c| c.rate)) {
        if new < old * (1.0 - t.rate) {
            push("capacity", old, new, true);
        } else if new > old * (1.0 + t.rate) {
            push("capacity", old, new, false);
        }
    }
    let ratio = |r: &LoadResult| if r.requests == 0 { 0.0 } else { r.errors as f64 / r.requests as f64 };
    let (old, new) = (ratio(o), ratio(n));
    if new - old > t.error_ratio {
        push("error ratio", old * 100.0, new * 100.0, true);
    } else if old - new > t.error_ratio {
        push("error ratio", old * 100.0, new * 100.0, false);
    }
}

#[cfg(test)]
mod tests;
