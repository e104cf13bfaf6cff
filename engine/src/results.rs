//! The run's result document, `results.json`. Every report is rendered from it, and CI and
//! vendors parse it: its shape is a contract, versioned by `schema_version` and described in
//! docs/results-schema.json. Add fields freely; rename or remove one only with a new major
//! schema version.

use crate::check::Verdict;
use crate::evidence::Exchange;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: &str = "1.0";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResults {
    pub schema_version: String,
    pub agentcert_version: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub target: TargetInfo,
    /// Every capability, whether it is on, and how that was decided.
    pub capabilities: BTreeMap<String, CapabilityState>,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
    /// One entry per load scenario run (`agentcert load`, or the load phase of `run`).
    #[serde(default)]
    pub load: Vec<LoadResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetInfo {
    pub name: String,
    pub issuer: String,
    /// The profile file, or `embedded`.
    pub profile: String,
    pub mode: String,
    /// The metadata document as fetched (already public; nothing to redact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CapabilityState {
    pub enabled: bool,
    /// e.g. "metadata: grant_types_supported lists it" or "profile override".
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub error: usize,
    /// Failures the target's baseline lists: reported, but not held against the run.
    pub expected_failures: usize,
    /// Baseline entries whose check now passes: the baseline is stale, and the run fails
    /// until it is updated.
    pub stale_baseline: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub suite: String,
    pub title: String,
    pub requirements: Vec<String>,
    /// "RFC 7009 §2.2" for each cited requirement, in the same order.
    pub citations: Vec<String>,
    /// The strongest level among the cited requirements.
    pub level: crate::catalog::Level,
    pub verdict: Verdict,
    pub reason: String,
    /// `expected` when the baseline lists this failure, `stale` when it lists it but the
    /// check passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    pub duration_ms: u64,
    pub evidence: Vec<Exchange>,
}

/// One load scenario's result. Latency figures are only as honest as their basis:
/// `intended send time` (open and ramp models: coordinated-omission-correct, as wrk2 does),
/// `service time` (closed model: what each request took once sent, which hides stalls), or
/// `revoke call start` (revocation propagation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadResult {
    pub scenario: String,
    /// `open`, `closed` or `ramp`.
    pub model: String,
    /// Operations a second the schedule asked for (the mean over a ramp); absent for closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// Operations a second actually sent.
    pub achieved_rate: f64,
    pub duration_s: f64,
    /// Goose users: the cap on operations in flight.
    pub concurrency: u64,
    /// Operations sent (one per schedule slot; an operation may be several HTTP requests).
    pub requests: u64,
    /// HTTP requests made by those operations.
    pub http_requests: u64,
    /// Operations that failed, also counted by class in `errors_by_class`.
    pub errors: u64,
    /// `status-4xx`, `status-5xx`, `timeout`, `connect`, `transport`, `bad-response`,
    /// `not-propagated`.
    pub errors_by_class: BTreeMap<String, u64>,
    /// Slots sent later than the pacer's tolerance after their intended time.
    pub late: u64,
    /// Slots never sent by the end of the run (the generator fell behind, or every user was busy).
    pub dropped: u64,
    pub latency_ms: LatencySummary,
    pub latency_basis: String,
    /// HdrHistogram interval log, relative to the directory of `results.json`.
    pub histogram_file: String,
    /// HdrHistogram percentile distribution, relative to the directory of `results.json`.
    pub percentiles_file: String,
    /// Goose's HTML report, relative to the directory of `results.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goose_report_file: Option<String>,
    /// The population scenario's token volume figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_volume: Option<TokenVolume>,
    /// The `--threshold` rules that named this scenario, judged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdResult>,
    /// `--find-capacity`: the search and its evidence, step by step. The entry's own figures
    /// (and files) are those of the step at the rate found, or of the last step when no rate
    /// met the SLO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacitySearch>,
    /// Set when the scenario ran split over workers (`agentcert load --workers`), or is the
    /// merge of such a run (`agentcert merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<WorkerInfo>,
    /// push-revocation: the plain issuance load sent beside the revocations, counted apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_issuance: Option<BackgroundIssuance>,
}

/// Client-credentials requests sent beside a scenario's operations (push-revocation's
/// `--background-issuance`), so that what the scenario measures is measured while the server
/// issues tokens. Not operations of the scenario: counted here, apart from its figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackgroundIssuance {
    /// Requests per operation of the scenario, spread over the gap to the next one.
    pub multiple: f64,
    /// Requests sent.
    pub requests: u64,
    /// Requests never sent: as many were already in flight as the cap allows.
    pub dropped: u64,
    pub errors: u64,
    pub errors_by_class: BTreeMap<String, u64>,
    /// From each request's intended send time to its answer.
    pub latency_ms: LatencySummary,
}

/// One worker's share of a load split over several (or, with no `index`, the merge of every
/// share). Worker `index` of `count` takes every `count`-th slot of the whole schedule from
/// slot `index`, timed from one shared start, so that the workers' slots together are the
/// single-process schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// This worker's index, from 0; absent on a merged result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// How many workers the load was split over.
    pub count: u32,
    /// When the schedule started (RFC 3339, UTC, microseconds): the shared `--start-at`; on a
    /// merged result, the earliest worker's.
    pub start_at: String,
    /// When the sends ended (RFC 3339, UTC, microseconds): the end of the span the achieved
    /// rate is computed over; on a merged result, the latest worker's.
    pub send_end: String,
    /// population: the agent ids simulated, `[first, end)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<[u64; 2]>,
    /// The `--threshold` rules as written. A worker does not judge them (its share of the
    /// rate, or its percentiles, are not the run's); `agentcert merge` does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<String>,
}

/// A capacity search: the highest open-model arrival rate at which the scenario still meets
/// its SLO, found by short bounded steps (doubling from a start rate, then bisection).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacitySearch {
    /// The SLO rules, as written (`p99<50ms`, `errors<0.1%`).
    pub slo: Vec<String>,
    /// Operations a second: the highest step that met the SLO; absent when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// `found` (bracketed to within `resolution`), `at-max-rate` (even `max_rate` met the SLO:
    /// the capacity is at least that), `below-start` (no step met it), or `time-bound` (the
    /// search stopped at its time bound, `rate` being the best so far).
    pub outcome: String,
    /// One line that says what the figure means.
    pub note: String,
    pub start_rate: f64,
    pub max_rate: f64,
    pub step_duration_s: f64,
    /// The search stops when the lowest missing rate is within this fraction above the rate found.
    pub resolution: f64,
    /// The bound stated up front: the most steps, and the longest the search may take.
    pub max_steps: u64,
    pub time_bound_s: f64,
    pub elapsed_s: f64,
    pub steps: Vec<CapacityStep>,
}

/// One step of a capacity search: a short open-model load at one rate, and its verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    /// Operations a second the step's schedule asked for.
    pub rate: f64,
    pub achieved_rate: f64,
    pub requests: u64,
    pub errors: u64,
    pub late: u64,
    pub dropped: u64,
    pub latency_ms: LatencySummary,
    /// Whether the step met the SLO (and kept its schedule: nothing dropped, at least 95% of
    /// the rate achieved).
    pub meets_slo: bool,
    /// What the SLO rules observed, and why the step missed if it did.
    pub verdict: String,
    /// The step's files (interval log, percentiles), relative to the directory of `results.json`.
    pub histogram_file: String,
}

/// Latency percentiles in milliseconds, from the HdrHistogram (3 significant digits).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Values recorded (answered operations; transport failures are counted, not timed).
    pub samples: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// What an agent population costs the authorization server in tokens, by the steady-state
/// model and as measured during the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenVolume {
    pub agents: u64,
    pub actions_per_hour: f64,
    /// `none` (a new token every action) or `reuse` (until expiry minus clock skew).
    pub token_cache: String,
    /// The issued tokens' `expires_in` (or the profile's max lifetime when none was seen).
    pub token_lifetime_s: f64,
    pub clock_skew_s: f64,
    pub actions: u64,
    pub tokens_issued: u64,
    /// Tokens issued a second during the run.
    pub tokens_per_s: f64,
    /// Steady state: tokens a second the server must issue with no cache.
    pub model_tokens_per_s_none: f64,
    /// Steady state: tokens a second with every agent reusing its token.
    pub model_tokens_per_s_reuse: f64,
    /// `model_tokens_per_s_none / model_tokens_per_s_reuse`.
    pub model_saving_ratio: f64,
    /// Actions per token a reusing cache needed during this run (measured with the real
    /// `expires_in`; for `none` runs, by a shadow cache). Short runs see cold caches.
    pub measured_saving_ratio: f64,
}

/// A `--threshold` rule and how the run fared against it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    pub rule: String,
    pub observed: String,
    pub passed: bool,
}

impl Summary {
    pub fn tally(checks: &[CheckResult]) -> Self {
        let mut s = Summary { total: checks.len(), ..Default::default() };
        for c in checks {
            match c.verdict {
                Verdict::Pass => s.pass += 1,
                Verdict::Fail => s.fail += 1,
                Verdict::Warn => s.warn += 1,
                Verdict::Skip => s.skip += 1,
                Verdict::Error => s.error += 1,
            }
            match c.baseline.as_deref() {
                Some("expected") => s.expected_failures += 1,
                Some("stale") => s.stale_baseline += 1,
                _ => {}
            }
        }
        s
    }
}

impl RunResults {
    /// 0 when every required check passed (or failed as the baseline expects), else 1.
    /// (Exit code 2, "could not run", never gets this far.)
    pub fn exit_code(&self) -> i32 {
        let unexpected =
            self.checks.iter().any(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error) && c.baseline.as_deref() != Some("expected"));
        if unexpected || self.summary.stale_baseline > 0 {
            1
        } else {
            0
        }
    }
}
