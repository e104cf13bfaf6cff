//! Latency, recorded the HdrHistogram way: every value kept at 3 significant digits in
//! microseconds, one interval histogram a second, written as an interval log that
//! HistogramLogAnalyzer (and the hdrhistogram crate's `IntervalLogIterator`) reads, plus the
//! classic percentile distribution table. Percentiles of percentiles are meaningless, so the
//! files carry the whole distribution, not summaries.

use agentcert_engine::results::LatencySummary;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Microseconds per millisecond: values are recorded in µs and shown in ms.
const US_PER_MS: f64 = 1000.0;
/// The largest value tracked: an hour, in µs. Longer saturates (no run lasts that long).
const HIGHEST_US: u64 = 3_600_000_000;

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid HdrHistogram bounds")
}

/// One closed interval: its start and length from the run's start, and what it recorded.
#[derive(Debug, Clone)]
pub struct Interval {
    pub start: Duration,
    pub length: Duration,
    pub histogram: Histogram<u64>,
}

/// Records latencies from many users at once. The lock is held for one `record`, which is
/// nanoseconds of work; contention is negligible next to an HTTP round trip.
#[derive(Debug)]
pub struct LatencyRecorder {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    current: Histogram<u64>,
    current_start: Duration,
    total: Histogram<u64>,
    intervals: Vec<Interval>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        LatencyRecorder {
            inner: Mutex::new(Inner { current: new_histogram(), current_start: Duration::ZERO, total: new_histogram(), intervals: vec![] }),
        }
    }
}

impl LatencyRecorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, latency: Duration) {
        let us = (latency.as_micros() as u64).max(1);
        self.lock().current.saturating_record(us);
    }

    /// Closes the current interval at `at` (from the run's start) and opens the next.
    pub fn rotate(&self, at: Duration) {
        let mut inner = self.lock();
        let histogram = std::mem::replace(&mut inner.current, new_histogram());
        let start = inner.current_start;
        inner.total.add(&histogram).expect("same bounds");
        inner.intervals.push(Interval { start, length: at.saturating_sub(start), histogram });
        inner.current_start = at;
    }

    /// Values recorded in the interval still open.
    pub fn current_count(&self) -> u64 {
        self.lock().current.len()
    }

    /// Every closed interval, merged.
    pub fn total(&self) -> Histogram<u64> {
        self.lock().total.clone()
    }

    pub fn intervals(&self) -> Vec<Interval> {
        self.lock().intervals.clone()
    }
}

/// p50 … max and mean, in milliseconds.
pub fn summary(h: &Histogram<u64>) -> LatencySummary {
    let ms = |us: u64| round3(us as f64 / US_PER_MS);
    if h.is_empty() {
        return LatencySummary::default();
    }
    LatencySummary {
        samples: h.len(),
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
        mean: round3(h.mean() / US_PER_MS),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The interval log: Java `HistogramLogWriter`'s layout (version 1.3 header, StartTime and
/// BaseTime, legend, then one V2-deflate-compressed histogram per line), values in µs, the
/// per-interval max shown in ms.
pub fn interval_log(intervals: &[Interval], started: SystemTime, comment: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    {
        let _header = IntervalLogWriterBuilder::new()
            .add_comment(comment)
            .add_comment("[Histogram log format version 1.3]")
            .with_start_time(started)
            .with_base_time(started)
            .begin_log_with(&mut buf, &mut serializer)
            .expect("writing to memory");
    }
    buf.extend_from_slice(b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n");
    let mut writer = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(US_PER_MS)
        .begin_log_with(&mut buf, &mut serializer)
        .expect("writing to memory");
    for i in intervals {
        writer.write_histogram(&i.histogram, i.start, i.length, None).expect("serializing to memory");
    }
    drop(writer);
    buf
}

/// The percentile distribution as HdrHistogram's `outputPercentileDistribution` prints it
/// (5 ticks per half distance, values in ms), which plotting tools read as is.
pub fn percentile_distribution(h: &Histogram<u64>) -> String {
    let mut out = Vec::new();
    let _ = writeln!(out, "{:>12} {:>14} {:>10} {:>14}\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = v.value_iterated_to() as f64 / US_PER_MS;
            if q < 1.0 {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10} {:14.2}", 1.0 / (1.0 - q));
            } else {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
            }
        }
    }
    let (mean, stdev, max) =
        if h.is_empty() { (0.0, 0.0, 0.0) } else { (h.mean() / US_PER_MS, h.stdev() / US_PER_MS, h.max() as f64 / US_PER_MS) };
    let _ = writeln!(out, "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]");
    let _ = writeln!(out, "#[Max     = {max:12.3}, Total count    = {:12}]", h.len());
    // HdrHistogram's sub-bucket count: the power of two that resolves `sigfig` digits.
    let sub_buckets = 1u64 << ((2.0 * 10f64.powi(h.sigfig().into())).log2().ceil() as u32);
    let _ = writeln!(out, "#[Buckets = {:12}, SubBuckets     = {:12}]", h.buckets(), sub_buckets);
    String::from_utf8(out).expect("ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn intervals_round_trip_through_the_log() {
        let r = LatencyRecorder::default();
        for ms in 1..=100 {
            r.record(Duration::from_millis(ms));
        }
        r.rotate(Duration::from_secs(1));
        r.record(Duration::from_millis(500));
        r.rotate(Duration::from_millis(1500));
        let total = r.total();
        assert_eq!(total.len(), 101);
        let s = summary(&total);
        // HdrHistogram reports the highest value equivalent to the one recorded (3 digits).
        assert!((s.p50 - 51.0).abs() < 0.1 && (s.max - 500.0).abs() < 0.5, "{s:?}");

        let log = interval_log(&r.intervals(), SystemTime::now(), "test");
        let text = String::from_utf8(log.clone()).unwrap();
        assert!(text.contains("#[Histogram log format version 1.3]\n#[StartTime: "), "{text}");
        assert!(text.contains("\"StartTimestamp\""), "{text}");
        let mut back = vec![];
        for entry in IntervalLogIterator::new(&log) {
            if let LogEntry::Interval(i) = entry.unwrap() {
                let bytes = base64_decode(i.encoded_histogram());
                let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
                back.push((i.start_timestamp(), i.duration(), i.max(), h.len()));
            }
        }
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, Duration::ZERO);
        assert_eq!(back[0].1, Duration::from_secs(1));
        assert_eq!(back[0].3, 100);
        assert_eq!(back[1].0, Duration::from_secs(1));
        assert!((back[1].2 - 500.0).abs() < 0.5, "max in ms: {}", back[1].2);
    }

    fn base64_decode(s: &str) -> Vec<u8> {
        // The log is standard base64; a tiny decoder keeps base64 out of the dependencies.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = vec![];
        for c in s.bytes().filter(|c| *c != b'=') {
            bits = (bits << 6) | alphabet.iter().position(|a| *a == c).unwrap() as u32;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    #[test]
    fn the_distribution_table_is_hdrhistograms() {
        let mut h = new_histogram();
        for us in [1000, 2000, 3000, 4000] {
            h.record(us).unwrap();
        }
        let t = percentile_distribution(&h);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)");
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "       1.000 0.000000000000          1           1.00");
        assert_eq!(lines[lines.len() - 4], "       4.001 1.000000000000          4");
        assert_eq!(lines[lines.len() - 2], "#[Max     =        4.001, Total count    =            4]");
        assert_eq!(lines[lines.len() - 1], "#[Buckets =           22, SubBuckets     =         2048]");
    }
}
