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
    #[serde(default)]
    pub load: Vec<serde_json::Value>,
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
        let unexpected = self
            .checks
            .iter()
            .any(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error) && c.baseline.as_deref() != Some("expected"));
        if unexpected || self.summary.stale_baseline > 0 {
            1
        } else {
            0
        }
    }
}
