//! Capacity search: the highest open-model arrival rate at which a scenario still meets an SLO.
//!
//! `--find-capacity --slo 'p99<50ms,errors<0.1%'` runs short, bounded open-model steps: from a
//! start rate it doubles until a step misses the SLO (or the max rate is reached), halving
//! instead if the start already misses; then it bisects between the highest rate that met the
//! SLO and the lowest that missed until the two are within [`RESOLUTION`] of each other. Each
//! step is a whole load run of its own (its own schedule, its own HdrHistogram files), measured
//! from the intended send time, so a server that falls behind shows as latency, never as a
//! generator that quietly slowed down.
//!
//! A step meets the SLO when every rule holds *and* the step kept its schedule: no slot
//! dropped and at least [`MIN_ACHIEVED`] of the rate achieved. Otherwise a saturated generator
//! (or its `--max-in-flight` cap) could pass for a fast server.
//!
//! The search is bounded before it starts: at most [`Search::max_steps`] steps, and a time
//! bound computed from them (each step, its drain grace and a pause, plus one request timeout)
//! that is stated up front and enforced: a step that would not fit is not started.

use crate::attack::REQUEST_TIMEOUT_S;
use crate::pace::{self, Step};
use crate::pacer::DRAIN_GRACE;
use crate::plan::{Job, LoadOptions, LoadPlan, Shape, DEFAULT_DURATION};
use crate::run::{self, run_job};
use crate::scenario::ScenarioName;
use crate::threshold::Threshold;
use agentcert_engine::context::Roles;
use agentcert_engine::profile::TargetProfile;
use agentcert_engine::results::{CapacitySearch, CapacityStep, LoadResult};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The rate the search starts from when `--rate` does not say.
pub const DEFAULT_START_RATE: f64 = 50.0;
/// The highest rate the search tries when `--max-rate` does not say.
pub const DEFAULT_MAX_RATE: f64 = 5000.0;
/// The search is done when the lowest rate that missed is within this fraction above the
/// highest that met the SLO.
pub const RESOLUTION: f64 = 0.05;
/// A step must achieve at least this fraction of its rate to count as meeting the SLO.
pub const MIN_ACHIEVED: f64 = 0.95;
/// How many times the search halves below the start rate before giving up.
pub const MAX_HALVINGS: u32 = 4;
/// The pause between steps, so that a step that overloaded the server does not leave its
/// backlog to the next.
pub const PAUSE: Duration = Duration::from_millis(500);

/// A service-level objective: rules that every step must meet, as `--threshold` writes them
/// (`p99<50ms`, `errors<0.1%`), comma-separated.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub rules: Vec<Threshold>,
}

impl Slo {
    pub fn parse(s: &str) -> Result<Slo, String> {
        let mut rules = vec![];
        for part in s.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(format!("--slo `{s}`: an empty rule; write it like 'p99<50ms,errors<0.1%'"));
            }
            let rule = Threshold::parse(part).map_err(|e| format!("--slo `{s}`: {e}"))?;
            if rule.scenario.is_some() {
                return Err(format!("--slo `{s}`: rule `{part}` names a scenario; an SLO applies to the one scenario searched"));
            }
            rules.push(rule);
        }
        Ok(Slo { rules })
    }

    pub fn texts(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.rule.clone()).collect()
    }

    /// Whether `r` meets the SLO and kept its schedule, and what was observed.
    pub fn judge(&self, r: &LoadResult, rate: f64) -> (bool, String) {
        let mut ok = true;
        let mut seen = vec![];
        for rule in &self.rules {
            let t = rule.judge(r);
            ok &= t.passed;
            seen.push(format!("{} {}", if t.passed { "ok" } else { "MISSED" }, t.observed));
        }
        if r.dropped > 0 {
            ok = false;
            seen.push(format!("MISSED {} slots never sent", r.dropped));
        }
        if r.achieved_rate < rate * MIN_ACHIEVED {
            ok = false;
            seen.push(format!("MISSED achieved {:.1}/s, under {:.0}% of {:.1}/s", r.achieved_rate, MIN_ACHIEVED * 100.0, rate));
        }
        (ok, seen.join("; "))
    }
}

/// The command line's capacity words, unparsed.
#[derive(Debug, Clone, Default)]
pub struct CapacityOptions {
    pub find_capacity: bool,
    pub slo: Option<String>,
    pub max_rate: Option<String>,
}

impl CapacityOptions {
    /// Whether any capacity option was given (and so the run is a capacity search, or an error).
    pub fn any(&self) -> bool {
        self.find_capacity || self.slo.is_some() || self.max_rate.is_some()
    }
}

/// Where the search goes next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    Try(f64),
    Done(Outcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Bracketed to within the resolution.
    Found,
    /// The max rate met the SLO: the capacity is at least that.
    AtMaxRate,
    /// Nothing down to the lowest rate tried met the SLO.
    BelowStart,
    /// The time bound stopped the search.
    TimeBound,
}

impl Outcome {
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::AtMaxRate => "at-max-rate",
            Outcome::BelowStart => "below-start",
            Outcome::TimeBound => "time-bound",
        }
    }
}

/// The search's arithmetic, apart from any load: which rate to try given the verdicts so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    pub start: f64,
    pub max: f64,
    /// The lowest rate a halving may go to.
    pub min: f64,
    pub resolution: f64,
}

impl Search {
    pub fn new(start: f64, max: f64, step: Duration) -> Search {
        // A step must hold a few operations to say anything.
        let floor = 5.0 / step.as_secs_f64();
        let min = (start / f64::from(1u32 << MAX_HALVINGS)).max(floor).min(start);
        Search { start, max, min, resolution: RESOLUTION }
    }

    /// The next rate, from the `(rate, met)` verdicts so far.
    pub fn next(&self, tried: &[(f64, bool)]) -> Next {
        if tried.is_empty() {
            return Next::Try(self.start);
        }
        let best = tried.iter().filter(|t| t.1).map(|t| t.0).fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
        let above = |lo: f64| {
            tried.iter().filter(|t| !t.1 && t.0 > lo).map(|t| t.0).fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.min(r))))
        };
        match best {
            // Nothing met the SLO yet: halve below the lowest miss, down to the floor.
            None => {
                let lowest = tried.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
                let next = lowest / 2.0;
                if next < self.min * 0.999 {
                    Next::Done(Outcome::BelowStart)
                } else {
                    Next::Try(next)
                }
            }
            Some(lo) => match above(lo) {
                // Everything so far met it: double, up to the max.
                None if lo >= self.max => Next::Done(Outcome::AtMaxRate),
                None => Next::Try((lo * 2.0).min(self.max)),
                Some(hi) if hi <= lo * (1.0 + self.resolution) => Next::Done(Outcome::Found),
                Some(hi) => Next::Try(round_rate((lo + hi) / 2.0)),
            },
        }
    }

    /// The most steps the search can take: the longer of the way up (doubling to the max) and
    /// the way down (halving to the floor), then the bisection of a bracket of ratio 2 down to
    /// the resolution.
    pub fn max_steps(&self) -> u64 {
        let up = (self.max / self.start).log2().ceil().max(0.0) as u64 + 1;
        let down = (self.start / self.min).log2().floor().max(0.0) as u64 + 1;
        let bisect = (1.0 / self.resolution).log2().ceil() as u64;
        up.max(down) + bisect
    }
}

/// Rates are kept to 0.1/s, so that a step's rate reads as it was asked for.
fn round_rate(r: f64) -> f64 {
    ((r * 10.0).round() / 10.0).max(0.1)
}

/// A capacity search, checked.
#[derive(Debug, Clone)]
pub struct CapacityPlan {
    /// One job: the scenario, open model at the start rate, for one step's duration.
    pub load: LoadPlan,
    pub scenario: ScenarioName,
    pub slo: Slo,
    pub search: Search,
    pub step: Duration,
}

impl CapacityPlan {
    pub fn from_options(o: &LoadOptions, c: &CapacityOptions) -> Result<CapacityPlan, String> {
        if !c.find_capacity {
            let which = if c.slo.is_some() { "--slo" } else { "--max-rate" };
            return Err(format!("{which} is for --find-capacity (pass/fail rules for one run are --threshold)"));
        }
        let slo = Slo::parse(c.slo.as_deref().ok_or("--find-capacity needs --slo, as in --slo 'p99<50ms,errors<0.1%'")?)?;
        if !o.thresholds.is_empty() {
            return Err("--find-capacity judges each step by --slo; drop --threshold".into());
        }
        if o.model.as_deref().is_some_and(|m| m != "open") || o.ramp.is_some() || o.concurrency.is_some() {
            return Err("--find-capacity searches the open model's arrival rate; drop --model, --ramp and --concurrency".into());
        }
        let names: Vec<&str> = o.scenarios.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()).collect();
        if names.len() > 1 {
            return Err("--find-capacity searches one scenario at a time".into());
        }
        if names.first() == Some(&"population") {
            return Err("population arrives at its own rate (--agents × --actions-per-hour); search issuance's capacity instead".into());
        }
        let start = pace::parse_rate(o.rate.as_deref().unwrap_or("50/s")).map_err(|e| format!("--rate (the search's start): {e}"))?;
        let max = match c.max_rate.as_deref() {
            Some(m) => pace::parse_rate(m).map_err(|e| format!("--max-rate: {e}"))?,
            None => DEFAULT_MAX_RATE.max(start),
        };
        if max < start {
            return Err(format!("--max-rate {max}/s is below the start rate {start}/s"));
        }
        let step = pace::parse_duration(o.duration.as_deref().unwrap_or(DEFAULT_DURATION))?;
        let load = LoadPlan::from_options(&LoadOptions { rate: Some(format!("{start}/s")), ..o.clone() })?;
        let scenario = load.jobs[0].scenario;
        let search = Search::new(start, max, step);
        Ok(CapacityPlan { load, scenario, slo, search, step })
    }

    /// The longest one step may take: its schedule, the drain grace, the pause after it.
    fn step_budget(&self) -> Duration {
        self.step + DRAIN_GRACE + PAUSE
    }

    /// The time bound, stated before the search starts: every step at its budget, plus one
    /// request timeout for the stragglers of the last.
    pub fn time_bound(&self) -> Duration {
        self.step_budget() * self.search.max_steps() as u32 + Duration::from_secs(REQUEST_TIMEOUT_S)
    }

    /// What the search will do, in one line, before it does it.
    pub fn describe(&self) -> String {
        let s = &self.search;
        format!(
            "agentcert: capacity search for {}: SLO {}; from {}/s, doubling up to {}/s (halving down to {}/s if the start misses), then bisecting to {:.0}%; steps of {} each; at most {} steps, at most {}",
            self.scenario.name(),
            self.slo.texts().join(","),
            fmt_rate(s.start),
            fmt_rate(s.max),
            fmt_rate(s.min),
            s.resolution * 100.0,
            humantime::format_duration(self.step),
            s.max_steps(),
            humantime::format_duration(Duration::from_secs(self.time_bound().as_secs())),
        )
    }
}

fn fmt_rate(r: f64) -> String {
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Runs the search against the target `profile` describes, each step's files under
/// `out/capacity/step-NN/`. Returns one load result (none if the target cannot serve the
/// scenario, which is then noted on stderr): the figures of the step at the rate found (or of
/// the last step when nothing met the SLO), with the whole search in its `capacity` member and
/// the SLO rules judged as its thresholds. Each step is reported on stderr as it ends.
pub async fn search(
    profile: TargetProfile,
    roles: impl Into<Roles>,
    plan: &CapacityPlan,
    out: &Path,
    progress: bool,
) -> Result<Vec<LoadResult>, String> {
    let target = run::prepare(profile, roles.into(), &plan.load, out).await?;
    if target.skipped.contains(&plan.scenario) {
        return Ok(vec![]);
    }
    let began = Instant::now();
    let deadline = began + plan.time_bound() - Duration::from_secs(REQUEST_TIMEOUT_S);
    let mut tried: Vec<(f64, bool)> = vec![];
    let mut steps: Vec<CapacityStep> = vec![];
    let mut results: Vec<LoadResult> = vec![];
    let outcome = loop {
        let rate = match plan.search.next(&tried) {
            Next::Done(outcome) => break outcome,
            // The step cap is never expected to bind; if it does, the search stops as at its
            // time bound.
            Next::Try(_) if tried.len() as u64 >= plan.search.max_steps() => break Outcome::TimeBound,
            Next::Try(rate) => rate,
        };
        if Instant::now() + plan.step + DRAIN_GRACE > deadline {
            break Outcome::TimeBound;
        }
        if !steps.is_empty() {
            tokio::time::sleep(PAUSE).await;
        }
        let n = steps.len() + 1;
        let dir = format!("capacity/step-{n:02}");
        let step_out = out.join(&dir);
        std::fs::create_dir_all(&step_out).map_err(|e| format!("cannot create {}: {e}", step_out.display()))?;
        let job = Job { scenario: plan.scenario, shape: Shape::Open { steps: vec![Step { rate, duration: plan.step }], ramp: false } };
        let scenario = target.scenario(&job, &plan.load)?;
        let mut r = run_job(&job, &plan.load, scenario, target.wire.clone(), &target.host, &step_out, progress).await?;
        let (met, verdict) = plan.slo.judge(&r, rate);
        for file in [&mut r.histogram_file, &mut r.percentiles_file] {
            *file = format!("{dir}/{file}");
        }
        r.goose_report_file = r.goose_report_file.map(|f| format!("{dir}/{f}"));
        r.thresholds = plan.slo.rules.iter().map(|t| t.judge(&r)).collect();
        let step = CapacityStep {
            rate: r.target_rate.unwrap_or(rate),
            achieved_rate: r.achieved_rate,
            requests: r.requests,
            errors: r.errors,
            late: r.late,
            dropped: r.dropped,
            latency_ms: r.latency_ms.clone(),
            meets_slo: met,
            verdict,
            histogram_file: r.histogram_file.clone(),
        };
        eprintln!("agentcert: {}", step_line(n, &step));
        steps.push(step);
        tried.push((rate, met));
        results.push(r);
    };
    target.close().await;
    let best = steps.iter().enumerate().filter(|(_, s)| s.meets_slo).max_by(|a, b| a.1.rate.total_cmp(&b.1.rate)).map(|(i, _)| i);
    let chosen = best.or(steps.len().checked_sub(1));
    let Some(i) = chosen else {
        return Err(format!("capacity search for {}: no step fitted in the time bound", plan.scenario.name()));
    };
    let rate = best.map(|i| steps[i].rate);
    let note = note(plan, outcome, rate, &steps);
    let mut r = results.swap_remove(i);
    r.capacity = Some(CapacitySearch {
        slo: plan.slo.texts(),
        rate,
        outcome: outcome.key().into(),
        note,
        start_rate: plan.search.start,
        max_rate: plan.search.max,
        step_duration_s: plan.step.as_secs_f64(),
        resolution: plan.search.resolution,
        max_steps: plan.search.max_steps(),
        time_bound_s: plan.time_bound().as_secs_f64(),
        elapsed_s: (began.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        steps,
    });
    Ok(vec![r])
}

fn note(plan: &CapacityPlan, outcome: Outcome, rate: Option<f64>, steps: &[CapacityStep]) -> String {
    let name = plan.scenario.name();
    let slo = plan.slo.texts().join(",");
    let lowest_miss = |above: f64| {
        steps
            .iter()
            .filter(|s| !s.meets_slo && s.rate > above)
            .map(|s| s.rate)
            .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.min(r))))
    };
    match (outcome, rate) {
        (Outcome::Found, Some(r)) => {
            let miss = lowest_miss(r).map_or(String::new(), |m| format!(", and missed it at {}/s", fmt_rate(m)));
            format!("{name} met {slo} at up to {}/s{miss}", fmt_rate(r))
        }
        (Outcome::AtMaxRate, Some(r)) => {
            format!("{name} met {slo} at the max rate {}/s: its capacity is at least that (raise --max-rate)", fmt_rate(r))
        }
        (Outcome::TimeBound, Some(r)) => {
            format!("{name} met {slo} at up to {}/s when the search reached its time bound (not bracketed)", fmt_rate(r))
        }
        (_, _) => format!(
            "{name} met {slo} at no rate tried, down to {}/s: its capacity under this SLO is below that",
            fmt_rate(steps.iter().map(|s| s.rate).fold(f64::INFINITY, f64::min))
        ),
    }
}

fn step_line(n: usize, s: &CapacityStep) -> String {
    let l = &s.latency_ms;
    format!(
        "capacity step {n}: {}/s -> achieved {:.1}/s, p50 {:.3} ms, p99 {:.3} ms, {} errors, {} late, {} dropped: {}",
        fmt_rate(s.rate),
        s.achieved_rate,
        l.p50,
        l.p99,
        s.errors,
        s.late,
        s.dropped,
        if s.meets_slo { "meets the SLO" } else { "MISSES the SLO" }
    )
}

/// The search's evidence, one row per step, and its conclusion: printed after the summary table.
pub fn capacity_table(results: &[LoadResult]) -> String {
    let mut s = String::new();
    for r in results {
        let Some(c) = &r.capacity else { continue };
        let _ = writeln!(s, "capacity search for {} (SLO {}; steps of {}s):", r.scenario, c.slo.join(","), c.step_duration_s);
        let _ = writeln!(
            s,
            "{:>4} {:>10} {:>10} {:>8} {:>7} {:>6} {:>7} {:>9} {:>9}  verdict",
            "step", "rate/s", "achieved/s", "sent", "errors", "late", "dropped", "p50 ms", "p99 ms"
        );
        for (i, st) in c.steps.iter().enumerate() {
            let l = &st.latency_ms;
            let ms = |v: f64| if l.samples == 0 { "-".to_string() } else { format!("{v:.3}") };
            let _ = writeln!(
                s,
                "{:>4} {:>10} {:>10.1} {:>8} {:>7} {:>6} {:>7} {:>9} {:>9}  {}",
                i + 1,
                fmt_rate(st.rate),
                st.achieved_rate,
                st.requests,
                st.errors,
                st.late,
                st.dropped,
                ms(l.p50),
                ms(l.p99),
                if st.meets_slo { "meets" } else { "MISSES" }
            );
        }
        let rate = c.rate.map_or("none".to_string(), |r| format!("{}/s", fmt_rate(r)));
        let _ = writeln!(s, "capacity {}: {rate} ({}; {} steps in {:.1}s)", r.scenario, c.note, c.steps.len(), c.elapsed_s);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::Metric;
    use agentcert_engine::results::LatencySummary;

    #[test]
    fn slos_parse_as_comma_separated_rules() {
        let slo = Slo::parse("p99<50ms, errors<0.1%").unwrap();
        assert_eq!(slo.rules.len(), 2);
        assert_eq!((slo.rules[0].metric, slo.rules[0].value), (Metric::Latency("p99"), 50.0));
        assert_eq!((slo.rules[1].metric, slo.rules[1].value), (Metric::ErrorRatio, 0.001));
        assert_eq!(slo.texts(), ["p99<50ms", "errors<0.1%"]);
        assert_eq!(Slo::parse("p99.9<1s").unwrap().rules[0].value, 1000.0);
        for (bad, says) in [
            ("", "an empty rule"),
            ("p99<50ms,", "an empty rule"),
            ("p99", "no `<` or `>`"),
            ("p98<5ms", "unknown metric `p98`"),
            ("p99<fast", "`fast` is not a number"),
            ("issuance.p99<5ms", "names a scenario"),
        ] {
            let e = Slo::parse(bad).unwrap_err();
            assert!(e.starts_with("--slo `") && e.contains(says) && !e.contains('\n'), "{bad}: {e}");
        }
    }

    #[test]
    fn a_step_must_meet_every_rule_and_keep_its_schedule() {
        let slo = Slo::parse("p99<50ms,errors<1%").unwrap();
        let r = LoadResult {
            scenario: "issuance".into(),
            requests: 1000,
            achieved_rate: 199.0,
            latency_ms: LatencySummary { samples: 1000, p99: 12.0, ..Default::default() },
            ..Default::default()
        };
        assert!(slo.judge(&r, 200.0).0);
        let (ok, why) = slo.judge(&LoadResult { dropped: 3, ..r.clone() }, 200.0);
        assert!(!ok && why.contains("3 slots never sent"), "{why}");
        let (ok, why) = slo.judge(&LoadResult { achieved_rate: 150.0, ..r.clone() }, 200.0);
        assert!(!ok && why.contains("under 95%"), "{why}");
        let (ok, why) =
            slo.judge(&LoadResult { latency_ms: LatencySummary { samples: 1000, p99: 80.0, ..Default::default() }, ..r.clone() }, 200.0);
        assert!(!ok && why.contains("MISSED p99 80ms"), "{why}");
    }

    /// Runs the search against a server whose capacity is `knee`: a step meets the SLO iff its
    /// rate is at most the knee.
    fn simulate(search: &Search, knee: f64) -> (Outcome, Option<f64>, usize) {
        let mut tried = vec![];
        loop {
            match search.next(&tried) {
                Next::Try(rate) => {
                    assert!(rate > 0.0 && rate <= search.max, "{rate}");
                    tried.push((rate, rate <= knee));
                    assert!(tried.len() as u64 <= search.max_steps(), "{tried:?} exceeds {}", search.max_steps());
                }
                Next::Done(o) => {
                    let best = tried.iter().filter(|t| t.1).map(|t| t.0).fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
                    return (o, best, tried.len());
                }
            }
        }
    }

    #[test]
    fn the_search_brackets_the_knee_to_its_resolution() {
        let s = Search::new(50.0, 5000.0, Duration::from_secs(5));
        assert_eq!(s.max_steps(), 8 + 5);
        for knee in [60.0, 99.0, 300.0, 777.0, 1234.5, 3999.0, 4990.0] {
            let (o, best, n) = simulate(&s, knee);
            let best = best.unwrap();
            assert_eq!(o, Outcome::Found, "{knee}");
            assert!(best <= knee && best >= knee / (1.0 + RESOLUTION) - 0.1, "knee {knee}: found {best} in {n} steps");
        }
        // Above the max: the max, stated as a lower bound.
        assert_eq!(simulate(&s, 1e9), (Outcome::AtMaxRate, Some(5000.0), 8));
        // Below the start: halving, then bisection.
        let (o, best, _) = simulate(&s, 20.0);
        assert_eq!(o, Outcome::Found);
        assert!(best.unwrap() <= 20.0 && best.unwrap() >= 19.0, "{best:?}");
        // Below the floor (50/16): nothing.
        assert_eq!(simulate(&s, 1.0).0, Outcome::BelowStart);
        assert_eq!(simulate(&s, 1.0).1, None);
    }

    #[test]
    fn plans_check_their_options() {
        let o = LoadOptions { scenarios: vec!["issuance".into()], ..Default::default() };
        let c = CapacityOptions { find_capacity: true, slo: Some("p99<50ms,errors<0.1%".into()), max_rate: None };
        let p = CapacityPlan::from_options(&o, &c).unwrap();
        assert_eq!((p.search.start, p.search.max, p.step), (50.0, 5000.0, Duration::from_secs(5)));
        // 13 steps of (5 s + 1 s drain + 0.5 s pause), plus one request timeout.
        assert_eq!(p.time_bound(), Duration::from_millis(13 * 6500 + 10_000));
        let d = p.describe();
        assert!(d.contains("from 50/s, doubling up to 5000/s") && d.contains("at most 13 steps, at most 1m 34s"), "{d}");
        for (o2, c2, says) in [
            (o.clone(), CapacityOptions { slo: Some("p99<1s".into()), ..Default::default() }, "--slo is for --find-capacity"),
            (o.clone(), CapacityOptions { find_capacity: true, ..Default::default() }, "needs --slo"),
            (o.clone(), CapacityOptions { slo: Some("p99<<1".into()), ..c.clone() }, "--slo `p99<<1`"),
            (LoadOptions { model: Some("closed".into()), ..o.clone() }, c.clone(), "drop --model"),
            (LoadOptions { thresholds: vec!["p99<1s".into()], ..o.clone() }, c.clone(), "drop --threshold"),
            (LoadOptions { scenarios: vec!["issuance,revocation".into()], ..o.clone() }, c.clone(), "one scenario"),
            (LoadOptions { scenarios: vec!["population".into()], ..o.clone() }, c.clone(), "population"),
            (o.clone(), CapacityOptions { max_rate: Some("10/s".into()), ..c.clone() }, "below the start rate"),
            (LoadOptions { rate: Some("fast".into()), ..o.clone() }, c.clone(), "--rate (the search's start)"),
        ] {
            let e = CapacityPlan::from_options(&o2, &c2).unwrap_err();
            assert!(e.contains(says) && !e.contains('\n'), "{says}: {e}");
        }
    }
}
