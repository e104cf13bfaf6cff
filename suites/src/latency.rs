//! Latency samples against a bound: how the timed checks (`timing.revoke_within`) measure and
//! report. A bound is a promise about every revocation, so one late sample fails; the reason
//! gives the measured distribution beside the bound, so a near miss reads as one.

use agentcert_engine::Outcome;
use std::time::Duration;

/// How many revocations a timed check measures.
pub const SAMPLES: usize = 5;

/// How long one sample is watched: three times the bound (at least one second more), so a
/// late answer is measured rather than only known to be late.
pub fn watch_for(bound: Duration) -> Duration {
    (bound * 3).max(bound + Duration::from_secs(1))
}

/// Measured latencies; `None` is a sample still outstanding when watching stopped.
#[derive(Debug, Clone)]
pub struct Samples {
    pub bound: Duration,
    pub watched: Duration,
    pub taken: Vec<Option<Duration>>,
}

impl Samples {
    pub fn new(bound: Duration) -> Self {
        Samples { bound, watched: watch_for(bound), taken: Vec::new() }
    }

    /// "min 3.0 ms, p50 4.1 ms, max 2.01 s (bound 1.00 s, 5 samples)".
    pub fn summary(&self) -> String {
        let mut sorted: Vec<Option<Duration>> = self.taken.clone();
        sorted.sort_by_key(|d| d.unwrap_or(Duration::MAX));
        let show = |d: Option<&Option<Duration>>| match d {
            Some(Some(d)) => fmt(*d),
            Some(None) => format!("> {}", fmt(self.watched)),
            None => "-".into(),
        };
        format!(
            "min {}, p50 {}, max {} (bound {}, {} samples)",
            show(sorted.first()),
            show(sorted.get(sorted.len().saturating_sub(1) / 2)),
            show(sorted.last()),
            fmt(self.bound),
            sorted.len()
        )
    }

    /// Pass when every sample is within the bound, else fail saying how many were not.
    pub fn outcome(&self, what: &str) -> Outcome {
        let late = self.taken.iter().filter(|d| d.is_none_or(|d| d > self.bound)).count();
        if late == 0 {
            Outcome::pass(format!("{what} within the bound: {}", self.summary()))
        } else {
            let stopped = if self.taken.last() == Some(&None) && self.taken.len() < SAMPLES {
                format!("; stopped after a sample still outstanding at {}", fmt(self.watched))
            } else {
                String::new()
            };
            Outcome::fail(format!(
                "{what}: {late} of {} samples exceeded timing.revoke_within: {}{stopped}",
                self.taken.len(),
                self.summary()
            ))
        }
    }
}

/// "0.4 ms", "850.0 ms", "2.01 s".
pub fn fmt(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_and_judges() {
        let ms = Duration::from_millis;
        let s = Samples { bound: ms(1000), watched: ms(3000), taken: vec![Some(ms(5)), Some(ms(3)), Some(ms(4))] };
        assert_eq!(s.summary(), "min 3.0 ms, p50 4.0 ms, max 5.0 ms (bound 1.00 s, 3 samples)");
        assert_eq!(s.outcome("x").verdict, agentcert_engine::Verdict::Pass);
        let late = Samples { taken: vec![Some(ms(5)), None, Some(ms(2100))], ..s };
        assert!(late.summary().ends_with("max > 3.00 s (bound 1.00 s, 3 samples)"), "{}", late.summary());
        assert_eq!(late.outcome("x").verdict, agentcert_engine::Verdict::Fail);
    }
}
