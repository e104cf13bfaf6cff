//! The shape of a load: operations a second, for how long, in steps. Parsed from the command
//! line here, with one-line errors, because a typo in a load shape is a mistake to stop on
//! (exit 2), never something to guess around.

use std::time::Duration;

/// The longest run agentcert will start: load is a test, not a soak, and an unattended
/// mistake must end by itself.
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// The highest arrival rate, operations a second.
pub const MAX_RATE: f64 = 50_000.0;
/// The most operations one run may send, whatever the rate and duration say.
pub const MAX_REQUESTS: u64 = 10_000_000;
/// The most operations in flight (Goose users).
pub const MAX_IN_FLIGHT: usize = 10_000;

/// One step of an open-model schedule: a constant arrival rate for a while.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Operations a second.
    pub rate: f64,
    pub duration: Duration,
}

/// A rate: `200`, `200/s`, `600/m` (or `/min`), `3600/h`. Always operations a second after.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let text = s.trim();
    let (number, per) = match text.split_once('/') {
        Some((n, unit)) => (n.trim(), unit.trim()),
        None => (text, "s"),
    };
    let seconds = match per {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("rate `{s}`: unknown unit `/{per}` (use /s, /m or /h, as in 200/s)")),
    };
    let n: f64 = number.parse().map_err(|_| format!("rate `{s}` is not a number of operations, as in 200/s"))?;
    let rate = n / seconds;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!("rate `{s}` must be more than zero"));
    }
    if rate > MAX_RATE {
        return Err(format!("rate `{s}` is above agentcert's limit of {MAX_RATE}/s"));
    }
    Ok(rate)
}

/// A duration: `5s`, `500ms`, `2m`. More than zero, at most [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|_| format!("duration `{s}` is not a duration like 5s, 500ms or 2m"))?;
    check_duration(&format!("duration `{s}`"), d)?;
    Ok(d)
}

fn check_duration(what: &str, d: Duration) -> Result<(), String> {
    if d.is_zero() {
        return Err(format!("{what} must be more than zero"));
    }
    if d > MAX_DURATION {
        return Err(format!("{what} is longer than agentcert's limit of {}", humantime::format_duration(MAX_DURATION)));
    }
    Ok(())
}

/// A ramp: `50/s:10s,100/s:10s,200/s:10s`, each step a rate held for a duration. The steps
/// together are bounded like any one duration.
pub fn parse_ramp(s: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for part in s.split(',').map(str::trim) {
        let (rate, duration) = part.split_once(':').ok_or_else(|| format!("ramp step `{part}` is not RATE:DURATION, as in 100/s:10s"))?;
        let rate = parse_rate(rate).map_err(|e| format!("ramp step `{part}`: {e}"))?;
        let duration = humantime::parse_duration(duration.trim())
            .map_err(|_| format!("ramp step `{part}`: `{duration}` is not a duration like 10s"))?;
        check_duration(&format!("ramp step `{part}`"), duration)?;
        steps.push(Step { rate, duration });
    }
    let total: Duration = steps.iter().map(|s| s.duration).sum();
    check_duration(&format!("ramp `{s}` in total"), total)?;
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_every_unit() {
        assert_eq!(parse_rate("200").unwrap(), 200.0);
        assert_eq!(parse_rate("200/s").unwrap(), 200.0);
        assert_eq!(parse_rate("600/m").unwrap(), 10.0);
        assert_eq!(parse_rate("3600/h").unwrap(), 1.0);
        assert_eq!(parse_rate(" 2.5/s ").unwrap(), 2.5);
        for bad in ["", "fast", "0", "-5/s", "10/d", "1e9/s", "NaN", "inf"] {
            let e = parse_rate(bad).unwrap_err();
            assert!(!e.contains('\n') && e.starts_with("rate"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations_are_bounded() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("0s").unwrap_err().contains("more than zero"));
        assert!(parse_duration("11m").unwrap_err().contains("limit of 10m"));
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn ramps_parse_step_by_step() {
        let r = parse_ramp("50/s:10s, 100/s:10s,200/s:500ms").unwrap();
        assert_eq!(
            r,
            [
                Step { rate: 50.0, duration: Duration::from_secs(10) },
                Step { rate: 100.0, duration: Duration::from_secs(10) },
                Step { rate: 200.0, duration: Duration::from_millis(500) },
            ]
        );
        for (bad, says) in [
            ("50/s", "not RATE:DURATION"),
            ("50/s:10s,", "not RATE:DURATION"),
            ("fast:10s", "not a number"),
            ("50/s:soon", "not a duration"),
            ("50/s:0s", "more than zero"),
            ("50/s:6m,50/s:6m", "in total is longer"),
        ] {
            let e = parse_ramp(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
