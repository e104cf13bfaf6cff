//! Worker mode: one process's share of a load that several machines offer together
//! (`agentcert load --workers N --worker-index I --start-at TIME`).
//!
//! No coordinator: every worker computes its share from the same command line.
//!
//! - **Rate.** Worker `I` of `N` takes every `N`-th slot of the whole open-model schedule, from
//!   slot `I` ([`Schedule::share`]), each at the time the whole schedule gives it. So each
//!   worker runs at R/N through every step of a ramp, and the workers' slots together are the
//!   single-process schedule exactly, slot for slot. The closed model splits its users (and
//!   `--max-requests`) as evenly as whole numbers allow.
//! - **Start.** All workers count from one shared `--start-at` (RFC 3339 or unix seconds),
//!   which must be ahead of them, or behind by at most [`PAST_TOLERANCE`]. A worker sets up
//!   (discovery, roles) and launches Goose straight away; its users wait for their slots, so
//!   stamp the start far enough ahead for every worker to get there (a minute, in Kubernetes). With several scenarios, scenario `k` starts at the shared start
//!   plus the longest each earlier scenario can take ([`job_slot`]), the same on every worker.
//! - **Identities.** The population's agents are split into contiguous ranges: worker `I` of
//!   `N` simulates agents `I·k .. (I+1)·k`, `k = agents / N` (`--agents` must divide evenly, so
//!   that every agent acts at the single-process rate). The other scenarios act as one
//!   registered client with a fresh assertion per request; Goose's users are per process and
//!   never on the wire, so nothing else needs splitting.
//! - **Output.** Each worker writes its own `results.json`, interval logs and percentile
//!   tables, its index, count, start and send span in each load entry's `worker`. Thresholds
//!   are recorded, not judged: a worker's share is not the run. `agentcert merge` combines the
//!   directories ([`crate::merge`]) and judges them.

use crate::attack::REQUEST_TIMEOUT_S;
use crate::pacer::{Schedule, DRAIN_GRACE};
use crate::plan::{Job, LoadPlan, Shape};
use crate::run::{prepare, run_job_as};
use crate::scenario::ScenarioName;
use agentcert_engine::context::Roles;
use agentcert_engine::profile::TargetProfile;
use agentcert_engine::results::{LoadResult, WorkerInfo};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The most workers one load may be split over.
pub const MAX_WORKERS: u32 = 1000;
/// How far in the past `--start-at` may be: clocks a little apart, a process a little slow to
/// start. Slots due before the worker got there are sent late, and counted late.
pub const PAST_TOLERANCE: Duration = Duration::from_secs(2);
/// How far ahead `--start-at` may be: a typo must not leave a worker waiting for days.
pub const FUTURE_LIMIT: Duration = Duration::from_secs(3600);

/// The command line's words, unparsed.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    pub workers: Option<u32>,
    pub worker_index: Option<u32>,
    pub start_at: Option<String>,
}

/// This process's place in a split load.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    pub index: u32,
    pub count: u32,
    /// The shared start of the first scenario.
    pub start_at: SystemTime,
}

impl Worker {
    /// The worker the options describe, checked against `plan`; `None` without `--workers`.
    /// `now` is the wall clock (a parameter for the tests).
    pub fn from_options(o: &WorkerOptions, plan: &LoadPlan, now: SystemTime) -> Result<Option<Worker>, String> {
        let Some(count) = o.workers else {
            if o.worker_index.is_some() || o.start_at.is_some() {
                return Err("--worker-index and --start-at are for a load split over workers; add --workers N".into());
            }
            return Ok(None);
        };
        if count == 0 || count > MAX_WORKERS {
            return Err(format!("--workers must be 1 to {MAX_WORKERS}"));
        }
        let index =
            o.worker_index.ok_or("--workers needs --worker-index (0 to N-1; in a Kubernetes Indexed Job, $(JOB_COMPLETION_INDEX))")?;
        if index >= count {
            return Err(format!("--worker-index {index} is not below --workers {count} (indexes run from 0)"));
        }
        let start_at = match o.start_at.as_deref() {
            None => now,
            Some(s) => parse_start_at(s, now)?,
        };
        let worker = Worker { index, count, start_at };
        worker.check(plan)?;
        Ok(Some(worker))
    }

    /// Every job must leave this worker something to do, and split evenly where it matters.
    fn check(&self, plan: &LoadPlan) -> Result<(), String> {
        let (i, n) = (u64::from(self.index), u64::from(self.count));
        for job in &plan.jobs {
            let name = job.scenario.name();
            match &job.shape {
                Shape::Open { steps, .. } => {
                    if Schedule::new(steps, plan.max_requests).share(i, n).total() == 0 {
                        return Err(format!(
                            "{name}: worker {i} of {n} would send nothing: the rate × duration is fewer than {n} operations"
                        ));
                    }
                }
                Shape::Closed { concurrency, .. } => {
                    if (*concurrency as u64) < n {
                        return Err(format!(
                            "{name}: --concurrency {concurrency} is fewer users than --workers {n}; each worker runs its share"
                        ));
                    }
                    if plan.max_requests < n {
                        return Err(format!("{name}: --max-requests {} is fewer than --workers {n}", plan.max_requests));
                    }
                }
            }
            if job.scenario == ScenarioName::Population && plan.population.agents % n != 0 {
                return Err(format!(
                    "population: --agents {} does not split evenly over {n} workers; use a multiple of {n}, so that every agent acts at the same rate",
                    plan.population.agents
                ));
            }
        }
        Ok(())
    }

    /// The agent ids this worker simulates, of `agents` in all: `[first, end)`.
    pub fn agents(&self, agents: u64) -> [u64; 2] {
        let k = agents / u64::from(self.count);
        [u64::from(self.index) * k, (u64::from(self.index) + 1) * k]
    }

    /// When the `k`-th job of `plan` starts: the shared start, plus the longest each earlier
    /// job can take. Every worker computes the same times.
    pub fn job_start(&self, plan: &LoadPlan, k: usize) -> SystemTime {
        self.start_at + plan.jobs[..k].iter().map(job_slot).sum::<Duration>()
    }
}

/// The longest a job can take from its start: its schedule, the drain grace, Goose's backstop
/// (the request timeout and five seconds), and five more for Goose to stop and the files to be
/// written. The next job of a split load starts no earlier, so that no worker is still busy.
pub fn job_slot(job: &Job) -> Duration {
    job.shape.duration() + DRAIN_GRACE + Duration::from_secs(REQUEST_TIMEOUT_S + 5 + 5)
}

/// `--start-at`: RFC 3339 (`2026-03-01T12:00:00Z`, fractions and `+01:00` offsets allowed) or
/// unix seconds (`1772366400`, `1772366400.25`). At most [`PAST_TOLERANCE`] behind `now` and
/// [`FUTURE_LIMIT`] ahead.
pub fn parse_start_at(s: &str, now: SystemTime) -> Result<SystemTime, String> {
    let text = s.trim();
    let at = if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let secs: f64 = text.parse().map_err(|_| format!("--start-at `{s}` is not unix seconds"))?;
        UNIX_EPOCH + Duration::from_secs_f64(secs)
    } else {
        parse_rfc3339(text).ok_or_else(|| format!("--start-at `{s}` is neither RFC 3339 (2026-03-01T12:00:00Z) nor unix seconds"))?
    };
    if let Ok(behind) = now.duration_since(at) {
        if behind > PAST_TOLERANCE {
            return Err(format!(
                "--start-at {} was {:.1}s ago: the shared start must be ahead of every worker (stamp it further ahead)",
                humantime::format_rfc3339_seconds(at),
                behind.as_secs_f64()
            ));
        }
    }
    if let Ok(ahead) = at.duration_since(now) {
        if ahead > FUTURE_LIMIT {
            return Err(format!(
                "--start-at {} is more than {} ahead",
                humantime::format_rfc3339_seconds(at),
                humantime::format_duration(FUTURE_LIMIT)
            ));
        }
    }
    Ok(at)
}

/// RFC 3339 with `Z` or a numeric offset (humantime reads `Z` only).
fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    if let Ok(t) = humantime::parse_rfc3339(s) {
        return Some(t);
    }
    let (local, sign, offset) = match s.len().checked_sub(6).map(|at| s.split_at(at)) {
        Some((local, off)) if off.starts_with('+') => (local, 1, &off[1..]),
        Some((local, off)) if off.starts_with('-') => (local, -1, &off[1..]),
        _ => return None,
    };
    let (h, m) = offset.split_once(':')?;
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    let t = humantime::parse_rfc3339(&format!("{local}Z")).ok()?;
    let offset = Duration::from_secs(h * 3600 + m * 60);
    // 12:00+01:00 is 11:00Z.
    if sign > 0 {
        t.checked_sub(offset)
    } else {
        t.checked_add(offset)
    }
}

/// RFC 3339, UTC, to the microsecond: the precision of a worker's window in results.json.
pub fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

/// One job's share, as `run_job_as` applies it.
#[derive(Debug, Clone)]
pub(crate) struct Share {
    pub index: u64,
    pub count: u64,
    /// The job's start, on the wall clock and on this process's monotonic clock.
    pub start: SystemTime,
    pub instant: Instant,
}

impl Share {
    fn new(worker: &Worker, start: SystemTime) -> Share {
        let (now, clock) = (SystemTime::now(), Instant::now());
        let instant = match start.duration_since(now) {
            Ok(ahead) => clock + ahead,
            Err(e) => clock.checked_sub(e.duration()).unwrap_or(clock),
        };
        Share { index: u64::from(worker.index), count: u64::from(worker.count), start, instant }
    }

    /// This worker's part of `n` (users, a request cap): `n / count`, one more for the first
    /// `n % count` workers.
    pub fn part(&self, n: u64) -> u64 {
        n / self.count + u64::from(self.index < n % self.count)
    }

    /// What the job's result records of the share, `send_span` after the start.
    pub fn info(&self, send_span: Duration) -> WorkerInfo {
        WorkerInfo {
            index: Some(self.index as u32),
            count: self.count as u32,
            start_at: format_time(self.start),
            send_end: format_time(self.start + send_span),
            agents: None,
            thresholds: vec![],
        }
    }
}

/// [`crate::run`] as worker `worker`: the same checks and set-up, then each job at its shared
/// start, with this worker's share of the schedule, users and agents.
pub async fn run(
    profile: TargetProfile,
    roles: impl Into<Roles>,
    plan: &LoadPlan,
    worker: &Worker,
    out: &Path,
    progress: bool,
) -> Result<Vec<LoadResult>, String> {
    let target = prepare(profile, roles.into(), plan, out).await?;
    let mut share_plan = plan.clone();
    let [first, end] = worker.agents(plan.population.agents);
    share_plan.population.agents = end - first;
    let mut results = vec![];
    for (k, job) in plan.jobs.iter().enumerate() {
        if target.skipped.contains(&job.scenario) {
            continue;
        }
        let scenario = target.scenario(job, &share_plan)?;
        // Goose is launched now, its users waiting for the start: starting hundreds of users
        // (each with its own HTTP client) takes a loaded machine seconds, and must be over
        // before the first slot is due.
        let share = Share::new(worker, worker.job_start(plan, k));
        let mut result = run_job_as(job, &share_plan, scenario, target.wire.clone(), &target.host, out, progress, Some(&share)).await?;
        if let Some(info) = result.worker.as_mut() {
            info.agents = (job.scenario == ScenarioName::Population).then_some([first, end]);
            info.thresholds = plan.thresholds.iter().filter(|t| t.applies_to(&result.scenario)).map(|t| t.rule.clone()).collect();
        }
        results.push(result);
    }
    target.close().await;
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pace::Step;
    use crate::plan::LoadOptions;

    fn plan(o: LoadOptions) -> LoadPlan {
        LoadPlan::from_options(&LoadOptions {
            scenarios: if o.scenarios.is_empty() { vec!["issuance".into()] } else { o.scenarios.clone() },
            ..o
        })
        .unwrap()
    }

    fn opts(workers: u32, index: u32, start_at: Option<&str>) -> WorkerOptions {
        WorkerOptions { workers: Some(workers), worker_index: Some(index), start_at: start_at.map(str::to_string) }
    }

    #[test]
    fn the_shares_of_a_schedule_are_the_whole_schedule() {
        // A ramp, cut short by max_requests, split three ways: slot for slot the same times.
        let steps = [Step { rate: 70.0, duration: Duration::from_millis(1500) }, Step { rate: 130.0, duration: Duration::from_secs(1) }];
        let whole = Schedule::new(&steps, 200);
        let mut times: Vec<Duration> = (0..3)
            .flat_map(|i| {
                let s = Schedule::new(&steps, 200).share(i, 3);
                assert_eq!(s.end(), whole.end());
                (0..s.total()).map(move |j| s.offset(j))
            })
            .collect();
        times.sort();
        let expected: Vec<Duration> = (0..whole.total()).map(|j| whole.offset(j)).collect();
        assert_eq!(times, expected);
        // Each share runs at a third of the rate, and keeps the whole schedule's tolerances.
        let s = Schedule::new(&steps, u64::MAX).share(1, 3);
        assert_eq!((s.offset(0), s.offset(1)), (whole.offset(1), whole.offset(4)));
        assert_eq!(s.interval(0), whole.interval(1));
        let one = Schedule::new(&[Step { rate: 100.0, duration: Duration::from_secs(4) }], u64::MAX);
        assert_eq!(one.clone().share(0, 2).total() + one.clone().share(1, 2).total(), 400);
        assert!((one.share(1, 2).mean_rate() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn start_times_parse_and_must_be_near() {
        let now = UNIX_EPOCH + Duration::from_secs(1_772_366_400); // 2026-03-01T12:00:00Z
        let at = |s: &str| parse_start_at(s, now);
        assert_eq!(at("2026-03-01T12:00:30Z").unwrap(), now + Duration::from_secs(30));
        assert_eq!(at("2026-03-01T12:00:30.250Z").unwrap(), now + Duration::from_millis(30_250));
        assert_eq!(at("2026-03-01T13:00:30+01:00").unwrap(), now + Duration::from_secs(30));
        assert_eq!(at("2026-03-01T11:30:30-00:30").unwrap(), now + Duration::from_secs(30));
        assert_eq!(at("1772366430").unwrap(), now + Duration::from_secs(30));
        assert_eq!(at("1772366430.5").unwrap(), now + Duration::from_millis(30_500));
        assert_eq!(at("1772366399").unwrap(), now - Duration::from_secs(1), "a little in the past is fine");
        for (bad, says) in [
            ("1772366390", "was 10.0s ago"),
            ("2026-03-01T11:59:00Z", "was 60.0s ago"),
            ("2026-03-01T14:00:00Z", "more than 1h ahead"),
            ("tomorrow", "neither RFC 3339"),
            ("2026-03-01T12:00:00+25:00", "neither RFC 3339"),
            ("1.2.3", "not unix seconds"),
        ] {
            let e = at(bad).unwrap_err();
            assert!(e.contains(says) && !e.contains('\n'), "{bad}: {e}");
        }
    }

    #[test]
    fn worker_options_are_checked_against_the_plan() {
        let now = SystemTime::now();
        let issuance = plan(LoadOptions { rate: Some("10".into()), duration: Some("1s".into()), ..Default::default() });
        assert_eq!(Worker::from_options(&WorkerOptions::default(), &issuance, now).unwrap(), None);
        let w = Worker::from_options(&opts(4, 3, None), &issuance, now).unwrap().unwrap();
        assert_eq!((w.index, w.count, w.start_at), (3, 4, now));
        let population = plan(LoadOptions { scenarios: vec!["population".into()], agents: Some(3600), ..Default::default() });
        assert_eq!(Worker::from_options(&opts(4, 1, None), &population, now).unwrap().unwrap().agents(3600), [900, 1800]);
        let closed = plan(LoadOptions { model: Some("closed".into()), concurrency: Some(3), ..Default::default() });
        for (o, p, says) in [
            (WorkerOptions { worker_index: Some(0), ..Default::default() }, &issuance, "add --workers N"),
            (WorkerOptions { start_at: Some("1".into()), ..Default::default() }, &issuance, "add --workers N"),
            (WorkerOptions { workers: Some(2), ..Default::default() }, &issuance, "needs --worker-index"),
            (opts(0, 0, None), &issuance, "--workers must be 1 to 1000"),
            (opts(2, 2, None), &issuance, "not below --workers 2"),
            (opts(11, 10, None), &issuance, "would send nothing"),
            (opts(7, 0, None), &population, "does not split evenly over 7 workers"),
            (opts(4, 0, None), &closed, "--concurrency 3 is fewer users than --workers 4"),
            (opts(2, 0, Some("0")), &issuance, "ago"),
        ] {
            let e = Worker::from_options(&o, p, now).unwrap_err();
            assert!(e.contains(says) && !e.contains('\n'), "{o:?}: {e}");
        }
    }

    #[test]
    fn shares_split_users_and_later_jobs_start_together() {
        let w = Worker { index: 1, count: 3, start_at: UNIX_EPOCH + Duration::from_secs(100) };
        let share = |index| Share { index, count: 3, start: w.start_at, instant: Instant::now() };
        assert_eq!((0..3).map(|i| share(i).part(8)).collect::<Vec<_>>(), [3, 3, 2]);
        let p = plan(LoadOptions { scenarios: vec!["issuance,revocation".into()], duration: Some("4s".into()), ..Default::default() });
        assert_eq!(w.job_start(&p, 0), w.start_at);
        assert_eq!(w.job_start(&p, 1), w.start_at + Duration::from_secs(4 + 1 + 10 + 10));
        let info = share(1).info(Duration::from_micros(4_010_000));
        assert_eq!((info.index, info.count), (Some(1), 3));
        assert_eq!((info.start_at.as_str(), info.send_end.as_str()), ("1970-01-01T00:01:40.000000Z", "1970-01-01T00:01:44.010000Z"));
    }
}
