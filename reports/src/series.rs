//! The load phase's full latency distributions and per-second counts, read back from the
//! HdrHistogram interval logs that `results.json` names (`histogram_file`). results.json keeps
//! only summary percentiles; the plots in report.html want the whole curve, and the log is
//! the lossless record of it. A missing or unreadable log is not an error: the report falls
//! back to the summary percentiles and says so.

use agentcert_engine::results::LoadResult;
use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::path::{Component, Path};

/// Logs larger than this are not plotted (a run of agentcert's bounded length writes KBs).
const MAX_LOG_BYTES: u64 = 64 << 20;

/// One scenario's recorded latencies, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LoadSeries {
    /// (quantile 0..=1, latency ms), HdrHistogram's percentile iteration of the whole run.
    pub distribution: Vec<(f64, f64)>,
    /// (start s, length s, values recorded) per interval: answered operations over time.
    pub intervals: Vec<(f64, f64, u64)>,
}

/// The series of every load entry whose log can be read, keyed by scenario name.
pub(crate) fn read_all(dir: &Path, load: &[LoadResult]) -> BTreeMap<String, LoadSeries> {
    load.iter().filter_map(|r| Some((r.scenario.clone(), read(dir, &r.histogram_file)?))).collect()
}

/// Reads one interval log. `file` comes from results.json, so only a plain relative path
/// inside `dir` is followed.
pub(crate) fn read(dir: &Path, file: &str) -> Option<LoadSeries> {
    let rel = Path::new(file);
    if file.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let path = dir.join(rel);
    if std::fs::metadata(&path).ok()?.len() > MAX_LOG_BYTES {
        return None;
    }
    parse(&std::fs::read(path).ok()?)
}

/// Decodes an interval log (values in µs, as the scenarios crate records them).
pub(crate) fn parse(bytes: &[u8]) -> Option<LoadSeries> {
    let mut total: Histogram<u64> = Histogram::new(3).ok()?;
    let mut intervals = Vec::new();
    for entry in IntervalLogIterator::new(bytes) {
        let LogEntry::Interval(i) = entry.ok()? else { continue };
        let raw = base64::engine::general_purpose::STANDARD.decode(i.encoded_histogram()).ok()?;
        let h: Histogram<u64> = Deserializer::new().deserialize(&mut &raw[..]).ok()?;
        total.add(&h).ok()?;
        intervals.push((i.start_timestamp().as_secs_f64(), i.duration().as_secs_f64(), h.len()));
    }
    if intervals.is_empty() {
        return None;
    }
    let distribution = if total.is_empty() {
        vec![]
    } else {
        total.iter_quantiles(5).map(|v| (v.quantile_iterated_to(), v.value_iterated_to() as f64 / 1000.0)).collect()
    };
    Some(LoadSeries { distribution, intervals })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A revocation run's log as the scenarios crate wrote it.
    const LOG: &str = include_str!("../testdata/revocation.hlog");

    #[test]
    fn decodes_a_real_log() {
        let s = parse(LOG.as_bytes()).unwrap();
        assert_eq!(s.intervals.len(), 4);
        assert_eq!((s.intervals[0].0, s.intervals[0].1), (0.0, 1.0));
        assert_eq!(s.intervals.iter().map(|i| i.2).sum::<u64>(), 30);
        let (q, max) = *s.distribution.last().unwrap();
        assert_eq!(q, 1.0);
        assert!((max - 9.639).abs() < 0.01, "{max}");
    }

    #[test]
    fn refuses_paths_outside_the_dir_and_garbage() {
        let dir = std::env::temp_dir();
        assert_eq!(read(&dir, "../etc/passwd"), None);
        assert_eq!(read(&dir, "/etc/passwd"), None);
        assert_eq!(read(&dir, ""), None);
        assert_eq!(parse(b"not a log\n1,2,3,HISTxx\n"), None);
        assert_eq!(parse(b""), None);
    }
}
