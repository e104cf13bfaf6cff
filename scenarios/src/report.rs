//! What a load run tells people: a live line on stderr while it runs, a summary table at the
//! end, and the `load` entries of `results.json` (a load-only run writes a results document
//! with no checks in it).

use agentcert_engine::profile::TargetProfile;
use agentcert_engine::results::{LoadResult, RunResults, Summary, TargetInfo, ThresholdResult, SCHEMA_VERSION};
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, SystemTime};

use crate::attack::Tick;

/// The live line: rewritten in place each second, on a terminal only.
pub fn progress_line(scenario: &str, t: &Tick) -> String {
    format!("load {scenario}: {:>4}s  {:>8} sent  {:>8.0}/s  {} errors", t.elapsed.as_secs(), t.sent, t.rate, t.errors)
}

/// Writes the live line to stderr (carriage return, clear to end of line).
pub fn show_progress(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{line}");
    let _ = err.flush();
}

/// Clears the live line.
pub fn clear_progress() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K");
    let _ = err.flush();
}

/// The table printed at the end, one row per scenario, then error classes, token volumes and
/// thresholds. Late and dropped slots are always shown: they qualify every latency figure.
pub fn summary_table(results: &[LoadResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<15} {:<6} {:>9} {:>10} {:>8} {:>7} {:>6} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}  latency from",
        "scenario",
        "model",
        "target/s",
        "achieved/s",
        "sent",
        "errors",
        "late",
        "dropped",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms"
    );
    for r in results {
        let l = &r.latency_ms;
        let target = r.target_rate.map_or("-".to_string(), |t| format!("{t:.1}"));
        // No samples (every operation failed without an answer): no latency, not zero.
        let ms = |v: f64| if l.samples == 0 { "-".to_string() } else { format!("{v:.3}") };
        let _ = writeln!(
            s,
            "{:<15} {:<6} {:>9} {:>10.1} {:>8} {:>7} {:>6} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
            r.scenario,
            r.model,
            target,
            r.achieved_rate,
            r.requests,
            r.errors,
            r.late,
            r.dropped,
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            r.latency_basis
        );
    }
    for r in results {
        if !r.errors_by_class.is_empty() {
            let classes: Vec<String> = r.errors_by_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
            let _ = writeln!(s, "{} errors: {}", r.scenario, classes.join(", "));
        }
        if r.dropped > 0 || r.late > 0 {
            let _ = writeln!(
                s,
                "{}: {} sent late, {} never sent (the generator, or its --max-in-flight cap, was behind the schedule; latency still counts from the intended time)",
                r.scenario,
                if r.late == 1 { "1 slot".to_string() } else { format!("{} slots", r.late) },
                r.dropped
            );
        }
        if let Some(b) = &r.background_issuance {
            let p99 = if b.latency_ms.samples == 0 { "-".to_string() } else { format!("{:.3} ms", b.latency_ms.p99) };
            let _ = writeln!(
                s,
                "{} background issuance: {} client-credentials requests ({}× the operations), {} errors, {} dropped, p99 {p99} from the intended send time",
                r.scenario, b.requests, b.multiple, b.errors, b.dropped
            );
        }
        if let Some(v) = &r.token_volume {
            let _ = writeln!(
                s,
                "{} tokens: {} agents × {}/h, cache {}: model {:.3} tokens/s with no cache, {:.3} with reuse (saves {:.2}×); this run issued {} for {} actions ({:.3}/s, reuse {:.2}× measured)",
                r.scenario, v.agents, v.actions_per_hour, v.token_cache, v.model_tokens_per_s_none, v.model_tokens_per_s_reuse, v.model_saving_ratio, v.tokens_issued, v.actions, v.tokens_per_s, v.measured_saving_ratio
            );
        }
    }
    for r in results {
        if let Some(w) = r.worker.as_ref() {
            let rules = if w.thresholds.is_empty() {
                String::new()
            } else {
                format!("; thresholds {} are judged by agentcert merge", w.thresholds.join(", "))
            };
            let _ = match w.index {
                Some(i) => writeln!(s, "{}: worker {i} of {}, from {}{rules}", r.scenario, w.count, w.start_at),
                None => writeln!(s, "{}: merged from {} workers, {} to {}", r.scenario, w.count, w.start_at, w.send_end),
            };
        }
    }
    for t in results.iter().flat_map(|r| &r.thresholds) {
        let _ = writeln!(s, "threshold {} {}: {}", if t.passed { "passed" } else { "MISSED" }, t.rule, t.observed);
    }
    s
}

/// Every threshold that missed, across the run.
pub fn missed(results: &[LoadResult]) -> Vec<&ThresholdResult> {
    results.iter().flat_map(|r| &r.thresholds).filter(|t| !t.passed).collect()
}

/// The results document of a load-only run: the target, no checks, the load entries.
pub fn results_document(profile: &TargetProfile, started: SystemTime, elapsed: Duration, load: Vec<LoadResult>) -> RunResults {
    RunResults {
        schema_version: SCHEMA_VERSION.into(),
        agentcert_version: env!("CARGO_PKG_VERSION").into(),
        started_at: humantime::format_rfc3339_seconds(started).to_string(),
        duration_ms: elapsed.as_millis() as u64,
        target: TargetInfo {
            name: profile.target.name.clone(),
            issuer: profile.issuer().to_string(),
            profile: profile.source.clone(),
            mode: format!("{:?}", profile.target.mode).to_lowercase(),
            metadata_url: None,
        },
        capabilities: Default::default(),
        summary: Summary::default(),
        checks: vec![],
        load,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentcert_engine::results::LatencySummary;

    #[test]
    fn the_table_shows_late_dropped_errors_and_thresholds() {
        let r = LoadResult {
            scenario: "issuance".into(),
            model: "open".into(),
            target_rate: Some(200.0),
            achieved_rate: 199.5,
            requests: 998,
            errors: 1,
            errors_by_class: [("status-5xx".to_string(), 1)].into(),
            late: 3,
            dropped: 2,
            latency_ms: LatencySummary { samples: 998, p50: 1.2, p90: 2.0, p99: 4.5, p999: 6.0, max: 7.0, mean: 1.4 },
            latency_basis: "intended send time".into(),
            thresholds: vec![ThresholdResult {
                rule: "issuance: p99<1ms".into(),
                observed: "p99 4.5ms over 998 samples".into(),
                passed: false,
            }],
            ..Default::default()
        };
        let t = summary_table(std::slice::from_ref(&r));
        assert!(t.contains("issuance        open       200.0      199.5      998       1      3       2     1.200"), "{t}");
        assert!(t.contains("intended send time"), "{t}");
        assert!(t.contains("issuance errors: status-5xx 1"), "{t}");
        assert!(t.contains("3 slots sent late, 2 never sent"), "{t}");
        assert!(t.contains("threshold MISSED issuance: p99<1ms: p99 4.5ms over 998 samples"), "{t}");
        assert_eq!(missed(&[r]).len(), 1);
    }
}
