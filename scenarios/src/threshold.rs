//! `--threshold` rules: pass/fail criteria for a load run, so CI can fail on a regression.
//!
//! A rule is `[SCENARIO.]METRIC OP VALUE`: `issuance.p99<50ms`, `errors<0.1%`,
//! `revocation.max<=2s`, `achieved_rate>190/s`. Without a scenario it applies to every
//! scenario in the run. Metrics: `p50`, `p90`, `p99`, `p999`, `max`, `mean` (latency; `ms`,
//! `s` or `us` — a bare number is ms), `errors` (a ratio with `%`, else a count), and
//! `achieved_rate` (operations a second; `/s`, `/m`, `/h`).

use crate::scenario::ScenarioName;
use agentcert_engine::results::{LoadResult, ThresholdResult};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency figure, by its name in `latency_ms`.
    Latency(&'static str),
    ErrorRatio,
    ErrorCount,
    AchievedRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Op::Lt => observed < limit,
            Op::Le => observed <= limit,
            Op::Gt => observed > limit,
            Op::Ge => observed >= limit,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The rule as written.
    pub rule: String,
    pub scenario: Option<ScenarioName>,
    pub metric: Metric,
    pub op: Op,
    /// In ms for latency, a fraction for error ratios, per second for rates.
    pub value: f64,
}

const LATENCY: [&str; 6] = ["p50", "p90", "p99", "p999", "max", "mean"];

impl Threshold {
    pub fn parse(rule: &str) -> Result<Threshold, String> {
        let bad = |why: &str| format!("threshold `{rule}`: {why}");
        let compact: String = rule.chars().filter(|c| !c.is_whitespace()).collect();
        let at = compact.find(['<', '>']).ok_or_else(|| bad("no `<` or `>`; write it like issuance.p99<50ms"))?;
        let (left, rest) = compact.split_at(at);
        let (op, value) = match (rest.as_bytes()[0], rest.as_bytes().get(1)) {
            (b'<', Some(b'=')) => (Op::Le, &rest[2..]),
            (b'<', _) => (Op::Lt, &rest[1..]),
            (b'>', Some(b'=')) => (Op::Ge, &rest[2..]),
            (_, _) => (Op::Gt, &rest[1..]),
        };
        // `p99.9` is p999, not a scenario named `p99`.
        let left = left.replace("p99.9", "p999");
        let (scenario, metric_name) = match left.rsplit_once('.') {
            Some((s, m)) => (Some(ScenarioName::parse(s).map_err(|e| bad(&e))?), m),
            None => (None, left.as_str()),
        };
        let number = |s: &str| -> Result<f64, String> {
            s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| bad(&format!("`{value}` is not a number")))
        };
        let (metric, value) = if let Some(name) = LATENCY.iter().find(|n| **n == metric_name) {
            let (n, scale) = if let Some(n) = value.strip_suffix("ms") {
                (n, 1.0)
            } else if let Some(n) = value.strip_suffix("us").or_else(|| value.strip_suffix("µs")) {
                (n, 0.001)
            } else if let Some(n) = value.strip_suffix('s') {
                (n, 1000.0)
            } else {
                (value, 1.0)
            };
            (Metric::Latency(name), number(n)? * scale)
        } else if metric_name == "errors" {
            match value.strip_suffix('%') {
                Some(n) => (Metric::ErrorRatio, number(n)? / 100.0),
                None => (Metric::ErrorCount, number(value)?),
            }
        } else if metric_name == "achieved_rate" {
            let (n, per) = value.split_once('/').unwrap_or((value, "s"));
            let seconds = match per {
                "s" => 1.0,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                _ => return Err(bad(&format!("unknown rate unit `/{per}`"))),
            };
            (Metric::AchievedRate, number(n)? / seconds)
        } else {
            return Err(bad(&format!("unknown metric `{metric_name}` (use p50, p90, p99, p999, max, mean, errors or achieved_rate)")));
        };
        Ok(Threshold { rule: rule.trim().to_string(), scenario, metric, op, value })
    }

    pub fn applies_to(&self, scenario: &str) -> bool {
        self.scenario.is_none_or(|s| s.name() == scenario)
    }

    /// Judges the rule against one scenario's result. A figure with nothing behind it (no
    /// latency recorded, no operation sent) fails: a rule cannot pass on no evidence.
    pub fn judge(&self, r: &LoadResult) -> ThresholdResult {
        let l = &r.latency_ms;
        let (observed, shown) = match self.metric {
            Metric::Latency(name) => {
                let v = match name {
                    "p50" => l.p50,
                    "p90" => l.p90,
                    "p99" => l.p99,
                    "p999" => l.p999,
                    "max" => l.max,
                    _ => l.mean,
                };
                ((l.samples > 0).then_some(v), format!("{name} {v}ms over {} samples", l.samples))
            }
            Metric::ErrorRatio => {
                let ratio = r.errors as f64 / r.requests as f64;
                ((r.requests > 0).then_some(ratio), format!("errors {:.3}% ({} of {})", ratio * 100.0, r.errors, r.requests))
            }
            Metric::ErrorCount => (Some(r.errors as f64), format!("errors {}", r.errors)),
            Metric::AchievedRate => ((r.requests > 0).then_some(r.achieved_rate), format!("achieved_rate {:.1}/s", r.achieved_rate)),
        };
        let passed = observed.is_some_and(|o| self.op.holds(o, self.value));
        let observed = if observed.is_some() { shown } else { "nothing to measure".to_string() };
        ThresholdResult { rule: format!("{}: {}", r.scenario, self.rule), observed, passed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentcert_engine::results::LatencySummary;

    #[test]
    fn rules_parse_with_units() {
        let t = Threshold::parse("issuance.p99<50ms").unwrap();
        assert_eq!((t.scenario, t.metric, t.op, t.value), (Some(ScenarioName::Issuance), Metric::Latency("p99"), Op::Lt, 50.0));
        assert_eq!(Threshold::parse("p99 < 0.5s").unwrap().value, 500.0);
        assert_eq!(Threshold::parse("revocation.max<=250us").unwrap().value, 0.25);
        assert_eq!(Threshold::parse("p99.9<7").unwrap().metric, Metric::Latency("p999"));
        assert_eq!(Threshold::parse("issuance.p99.9<7").unwrap().scenario, Some(ScenarioName::Issuance));
        let t = Threshold::parse("errors<0.1%").unwrap();
        assert_eq!((t.scenario, t.metric, t.value), (None, Metric::ErrorRatio, 0.001));
        assert_eq!(Threshold::parse("errors<=3").unwrap().metric, Metric::ErrorCount);
        let t = Threshold::parse("achieved_rate>=190/s").unwrap();
        assert_eq!((t.metric, t.op, t.value), (Metric::AchievedRate, Op::Ge, 190.0));
        assert_eq!(Threshold::parse("achieved_rate>600/m").unwrap().value, 10.0);
    }

    #[test]
    fn bad_rules_say_what_is_wrong_in_one_line() {
        for (rule, says) in [
            ("p99", "no `<` or `>`"),
            ("p98<5ms", "unknown metric `p98`"),
            ("issuance.p99<fast", "`fast` is not a number"),
            ("refresh.p99<5ms", "unknown scenario `refresh`"),
            ("achieved_rate>5/d", "unknown rate unit"),
            ("p99<-1ms", "not a number"),
        ] {
            let e = Threshold::parse(rule).unwrap_err();
            assert!(e.starts_with(&format!("threshold `{rule}`")) && e.contains(says) && !e.contains('\n'), "{rule}: {e}");
        }
    }

    #[test]
    fn rules_judge_results() {
        let r = LoadResult {
            scenario: "issuance".into(),
            requests: 1000,
            errors: 2,
            achieved_rate: 199.0,
            latency_ms: LatencySummary { samples: 1000, p99: 12.5, ..Default::default() },
            ..Default::default()
        };
        let judge = |rule: &str| Threshold::parse(rule).unwrap().judge(&r).passed;
        assert!(judge("issuance.p99<50ms"));
        assert!(!judge("p99<0.001ms"));
        assert!(judge("errors<0.5%") && !judge("errors<0.1%"));
        assert!(judge("errors<=2") && !judge("errors<2"));
        assert!(judge("achieved_rate>190/s") && !judge("achieved_rate>199.5"));
        assert!(Threshold::parse("revocation.p99<1s").unwrap().applies_to("revocation"));
        assert!(!Threshold::parse("revocation.p99<1s").unwrap().applies_to("issuance"));
        let empty = LoadResult { scenario: "issuance".into(), ..Default::default() };
        let t = Threshold::parse("p99<1s").unwrap().judge(&empty);
        assert!(!t.passed && t.observed == "nothing to measure", "{t:?}");
    }
}
