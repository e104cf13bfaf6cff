//! `agentcert merge`: the workers' directories of a split load ([`crate::worker`]) put back
//! together as one run.
//!
//! - **Latency, losslessly.** Percentiles of percentiles mean nothing, so nothing is averaged:
//!   every worker's interval log is decoded and its histograms added (HdrHistogram `add`) into
//!   one total, from which the percentiles are computed afresh; the merged interval log holds,
//!   for each second of the run, the sum of the workers' histograms for that second.
//! - **Counts** (operations, HTTP requests, errors and each error class, late, dropped, users,
//!   the population's actions and tokens) are summed.
//! - **The achieved rate** is the operations sent by all workers over the common window, from
//!   the earliest worker's start to the latest worker's end of sends (each worker's end being
//!   the end of the span its own achieved rate is over). Not the sum of the workers' rates:
//!   that would overstate the rate whenever the workers did not run over the same window
//!   (a late start, a worker that fell behind), and the window is what a server saw.
//! - **Thresholds**, which the workers only recorded, are judged on the merged figures.
//!
//! The inputs must be one run: the same target, the same scenarios in the same models, the
//! same worker count, and every worker exactly once. Anything else is refused (exit 2).

use crate::histogram::{interval_log, new_histogram, percentile_distribution, summary, Interval};
use crate::scenario::population_model;
use crate::threshold::Threshold;
use agentcert_engine::results::{LoadResult, RunResults, TokenVolume, WorkerInfo};
use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A merge, ready for `results.json`: the document and the files written beside it.
#[derive(Debug)]
pub struct Merged {
    pub results: RunResults,
    pub written: Vec<PathBuf>,
}

/// One worker's directory, read.
struct Input {
    dir: PathBuf,
    doc: RunResults,
}

impl Input {
    fn index(&self) -> u32 {
        self.doc.load[0].worker.as_ref().and_then(|w| w.index).unwrap_or(0)
    }
    fn count(&self) -> u32 {
        self.doc.load[0].worker.as_ref().map_or(1, |w| w.count)
    }
    fn scenarios(&self) -> Vec<String> {
        self.doc.load.iter().map(|r| format!("{} ({})", r.scenario, r.model)).collect()
    }
}

/// Merges the worker directories `dirs` into `out` (interval logs and percentile tables; the
/// caller writes `results.json` from [`Merged::results`]). An `Err` is one line: why these
/// directories are not one complete run, or what could not be read or written.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, String> {
    if dirs.is_empty() {
        return Err("merge needs the workers' directories".into());
    }
    let inputs = dirs.iter().map(|d| read_input(d)).collect::<Result<Vec<_>, _>>()?;
    let same = |a: &Path, b: &Path| a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if let Some(i) = inputs.iter().find(|i| same(&i.dir, out)) {
        return Err(format!("--out {} is one of the workers' directories; merge into another", i.dir.display()));
    }
    check_one_run(&inputs)?;

    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut written = vec![];
    let mut load = vec![];
    for k in 0..inputs[0].doc.load.len() {
        let entries: Vec<(&Path, &LoadResult)> = inputs.iter().map(|i| (i.dir.as_path(), &i.doc.load[k])).collect();
        let (result, files) = merge_scenario(&entries, out)?;
        written.extend(files);
        load.push(result);
    }

    let first = &inputs[0].doc;
    let parse = |s: &str| humantime::parse_rfc3339_weak(s).ok();
    let starts: Vec<(SystemTime, u64)> = inputs.iter().filter_map(|i| Some((parse(&i.doc.started_at)?, i.doc.duration_ms))).collect();
    let started = starts.iter().map(|s| s.0).min();
    let ended = starts.iter().map(|(s, ms)| *s + Duration::from_millis(*ms)).max();
    let results = RunResults {
        started_at: started.map_or(first.started_at.clone(), |t| humantime::format_rfc3339_seconds(t).to_string()),
        duration_ms: match (started, ended) {
            (Some(s), Some(e)) => e.duration_since(s).unwrap_or_default().as_millis() as u64,
            _ => first.duration_ms,
        },
        load,
        ..first.clone()
    };
    Ok(Merged { results, written })
}

fn read_input(dir: &Path) -> Result<Input, String> {
    let file = dir.join("results.json");
    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let doc: RunResults = serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a results document: {e}", file.display()))?;
    if doc.load.is_empty() {
        return Err(format!("{} has no load results to merge", file.display()));
    }
    for r in &doc.load {
        match &r.worker {
            None => {
                return Err(format!(
                    "{}: {} was not run as a worker (agentcert load --workers N --worker-index I)",
                    file.display(),
                    r.scenario
                ))
            }
            Some(w) if w.index.is_none() => {
                return Err(format!("{}: {} is already a merge, not one worker's result", file.display(), r.scenario))
            }
            Some(_) => {}
        }
    }
    let index = doc.load[0].worker.as_ref().and_then(|w| w.index);
    if doc.load.iter().any(|r| r.worker.as_ref().and_then(|w| w.index) != index) {
        return Err(format!("{} mixes several workers' results", file.display()));
    }
    Ok(Input { dir: dir.to_path_buf(), doc })
}

/// Same target, scenarios, models and worker count; every worker exactly once.
fn check_one_run(inputs: &[Input]) -> Result<(), String> {
    let first = &inputs[0];
    let count = first.count();
    for i in inputs {
        if i.doc.load.iter().any(|r| r.worker.as_ref().map(|w| w.count) != Some(count)) {
            return Err(format!(
                "mismatched worker counts: {} is worker {} of {count}, {} worker {} of {}",
                first.dir.display(),
                first.index(),
                i.dir.display(),
                i.index(),
                i.doc.load.iter().filter_map(|r| r.worker.as_ref()).map(|w| w.count).find(|c| *c != count).unwrap_or(count)
            ));
        }
        if i.scenarios() != first.scenarios() {
            return Err(format!(
                "mismatched scenarios: {} ran {}, {} ran {}",
                first.dir.display(),
                first.scenarios().join(", "),
                i.dir.display(),
                i.scenarios().join(", ")
            ));
        }
        for (a, b) in first.doc.load.iter().zip(&i.doc.load) {
            if a.latency_basis != b.latency_basis {
                return Err(format!(
                    "mismatched latency: {} measured {} from {}, {} from {}",
                    a.scenario,
                    first.dir.display(),
                    a.latency_basis,
                    i.dir.display(),
                    b.latency_basis
                ));
            }
        }
        if i.doc.target.issuer != first.doc.target.issuer {
            return Err(format!(
                "mismatched targets: {} loaded {}, {} loaded {}",
                first.dir.display(),
                first.doc.target.issuer,
                i.dir.display(),
                i.doc.target.issuer
            ));
        }
    }
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    for i in inputs {
        if let Some(before) = seen.insert(i.index(), &i.dir) {
            return Err(format!("worker {} of {count} is there twice: {} and {}", i.index(), before.display(), i.dir.display()));
        }
    }
    let missing: Vec<String> = (0..count).filter(|i| !seen.contains_key(i)).map(|i| i.to_string()).collect();
    if !missing.is_empty() {
        let which = if missing.len() == 1 { "worker" } else { "workers" };
        return Err(format!("missing {which} {} of {count}: merge needs every worker's directory", missing.join(", ")));
    }
    Ok(())
}

/// One scenario across the workers: the merged entry, and the files written for it.
fn merge_scenario(entries: &[(&Path, &LoadResult)], out: &Path) -> Result<(LoadResult, Vec<PathBuf>), String> {
    let first = entries[0].1;
    let name = first.scenario.clone();
    let time = |dir: &Path, what: &str, s: &str| {
        humantime::parse_rfc3339(s).map_err(|_| format!("{}: {name}: worker {what} `{s}` is not an RFC 3339 time", dir.display()))
    };
    let mut windows = vec![];
    let mut logs = vec![];
    for (dir, r) in entries {
        let w = r.worker.as_ref().expect("checked: every entry is a worker's");
        windows.push((time(dir, "start_at", &w.start_at)?, time(dir, "send_end", &w.send_end)?, r.duration_s));
        let file = dir.join(&r.histogram_file);
        let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let log = read_interval_log(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        let recorded: u64 = log.iter().map(|i| i.histogram.len()).sum();
        if recorded != r.latency_ms.samples {
            return Err(format!(
                "{} holds {recorded} latencies but its results.json counts {}: not this run's log",
                file.display(),
                r.latency_ms.samples
            ));
        }
        logs.push(log);
    }
    let start = windows.iter().map(|w| w.0).min().expect("one worker at least");
    let end = windows.iter().map(|w| w.1).max().expect("one worker at least");
    if windows.iter().any(|w| w.0.duration_since(start).unwrap_or_default() > Duration::from_secs(1)) {
        eprintln!("agentcert: note: {name}: the workers did not share a start (no common --start-at); the merged rate is over the window they spanned together");
    }
    let window = end.duration_since(start).unwrap_or_default();
    let finished = windows.iter().map(|w| w.0 + Duration::from_secs_f64(w.2.max(0.0))).max().unwrap_or(end);

    let (base, intervals, total) = merge_intervals(&logs)?;
    let files = (format!("{name}.hlog"), format!("{name}.percentiles.txt"));
    let comment = format!(
        "agentcert {} merge of {} workers: load {name} ({}): latency in µs from {}",
        env!("CARGO_PKG_VERSION"),
        entries.len(),
        first.model,
        first.latency_basis
    );
    let write = |file: &str, bytes: &[u8]| {
        let path = out.join(file);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display())).map(|_| path)
    };
    let written =
        vec![write(&files.0, &interval_log(&intervals, base, &comment))?, write(&files.1, percentile_distribution(&total).as_bytes())?];

    let sum = |f: fn(&LoadResult) -> u64| entries.iter().map(|(_, r)| f(r)).sum::<u64>();
    let requests = sum(|r| r.requests);
    let mut errors_by_class: BTreeMap<String, u64> = BTreeMap::new();
    for (_, r) in entries {
        for (class, n) in &r.errors_by_class {
            *errors_by_class.entry(class.clone()).or_default() += n;
        }
    }
    let duration = finished.duration_since(start).unwrap_or_default();
    let volumes: Vec<&TokenVolume> = entries.iter().filter_map(|(_, r)| r.token_volume.as_ref()).collect();
    let agents = entries
        .iter()
        .filter_map(|(_, r)| r.worker.as_ref()?.agents)
        .fold(None, |acc: Option<[u64; 2]>, [a, b]| Some(acc.map_or([a, b], |[x, y]| [x.min(a), y.max(b)])));
    let rules = first.worker.as_ref().map(|w| w.thresholds.clone()).unwrap_or_default();
    let mut merged = LoadResult {
        scenario: name.clone(),
        model: first.model.clone(),
        target_rate: entries.iter().map(|(_, r)| r.target_rate).sum::<Option<f64>>().map(round1),
        achieved_rate: round1(requests as f64 / window.as_secs_f64().max(f64::MIN_POSITIVE)),
        duration_s: (duration.as_secs_f64() * 1000.0).round() / 1000.0,
        concurrency: sum(|r| r.concurrency),
        requests,
        http_requests: sum(|r| r.http_requests),
        errors: sum(|r| r.errors),
        errors_by_class,
        late: sum(|r| r.late),
        dropped: sum(|r| r.dropped),
        latency_ms: summary(&total),
        latency_basis: first.latency_basis.clone(),
        histogram_file: files.0,
        percentiles_file: files.1,
        // Goose's per-worker HTML reports stay in the workers' directories.
        goose_report_file: None,
        token_volume: (volumes.len() == entries.len()).then(|| merge_volumes(&volumes, duration)),
        thresholds: vec![],
        worker: Some(WorkerInfo {
            index: None,
            count: entries.len() as u32,
            start_at: crate::worker::format_time(start),
            send_end: crate::worker::format_time(end),
            agents,
            thresholds: rules.clone(),
        }),
        ..LoadResult::default()
    };
    for rule in &rules {
        let t = Threshold::parse(rule)?;
        merged.thresholds.push(t.judge(&merged));
    }
    Ok((merged, written))
}

/// The population's token figures of every worker, as one population: counts summed, the
/// steady-state model evaluated for all the agents, ratios recomputed from the sums.
fn merge_volumes(vs: &[&TokenVolume], duration: Duration) -> TokenVolume {
    let first = vs[0];
    let agents: u64 = vs.iter().map(|v| v.agents).sum();
    let actions: u64 = vs.iter().map(|v| v.actions).sum();
    let issued: u64 = vs.iter().map(|v| v.tokens_issued).sum();
    let valid = Duration::from_secs_f64((first.token_lifetime_s - first.clock_skew_s).max(0.0));
    let (none, reuse) = population_model(agents, first.actions_per_hour, valid);
    // A worker's measured ratio is its actions per token a reusing cache needed.
    let reuse_issued: f64 = vs.iter().filter(|v| v.measured_saving_ratio > 0.0).map(|v| v.actions as f64 / v.measured_saving_ratio).sum();
    TokenVolume {
        agents,
        actions,
        tokens_issued: issued,
        tokens_per_s: round3(issued as f64 / duration.as_secs_f64().max(f64::MIN_POSITIVE)),
        model_tokens_per_s_none: round3(none),
        model_tokens_per_s_reuse: round3(reuse),
        model_saving_ratio: if reuse > 0.0 { round3(none / reuse) } else { 0.0 },
        measured_saving_ratio: if reuse_issued > 0.0 { round3(actions as f64 / reuse_issued) } else { 0.0 },
        ..first.clone()
    }
}

/// One interval of an interval log, placed on the wall clock.
#[derive(Debug, Clone)]
pub struct LoggedInterval {
    pub start: SystemTime,
    pub length: Duration,
    pub histogram: Histogram<u64>,
}

/// Every interval of an HdrHistogram interval log (agentcert's, or any with a BaseTime or
/// StartTime), decoded.
pub fn read_interval_log(bytes: &[u8]) -> Result<Vec<LoggedInterval>, String> {
    let (mut base, mut start) = (None, None);
    let mut out = vec![];
    for entry in IntervalLogIterator::new(bytes) {
        match entry.map_err(|e| format!("not an HdrHistogram interval log: {e:?}"))? {
            LogEntry::BaseTime(t) => base = Some(t),
            LogEntry::StartTime(t) => start = Some(t),
            LogEntry::Interval(i) => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(i.encoded_histogram())
                    .map_err(|e| format!("an interval is not base64: {e}"))?;
                let histogram: Histogram<u64> =
                    Deserializer::new().deserialize(&mut &raw[..]).map_err(|e| format!("an interval is not an HdrHistogram: {e:?}"))?;
                // Timestamps count from BaseTime; with none, from StartTime (as agentcert's
                // logs always have both, this is only for logs from elsewhere).
                let zero = base.or(start).unwrap_or_default();
                out.push(LoggedInterval { start: UNIX_EPOCH + zero + i.start_timestamp(), length: i.duration(), histogram });
            }
        }
    }
    Ok(out)
}

/// The workers' logs as one: intervals that start within half a second of the same second of
/// the run (they all rotate on whole seconds from a shared start) are added together. Returns
/// the merged log's base time, its intervals, and the total of every interval of every log.
pub fn merge_intervals(logs: &[Vec<LoggedInterval>]) -> Result<(SystemTime, Vec<Interval>, Histogram<u64>), String> {
    let base = logs.iter().flatten().map(|i| i.start).min().unwrap_or_else(SystemTime::now);
    let mut seconds: BTreeMap<u64, (Duration, Duration, Histogram<u64>)> = BTreeMap::new();
    let mut total = new_histogram();
    let add = |into: &mut Histogram<u64>, h: &Histogram<u64>| into.add(h).map_err(|e| format!("a latency beyond agentcert's range: {e:?}"));
    for i in logs.iter().flatten() {
        let from = i.start.duration_since(base).unwrap_or_default();
        let (start, end, h) = seconds.entry((from.as_millis() as u64 + 500) / 1000).or_insert_with(|| (from, from, new_histogram()));
        *start = (*start).min(from);
        *end = (*end).max(from + i.length);
        add(h, &i.histogram)?;
        add(&mut total, &i.histogram)?;
    }
    let intervals = seconds.into_values().map(|(start, end, histogram)| Interval { start, length: end - start, histogram }).collect();
    Ok((base, intervals, total))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::LatencyRecorder;
    use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer, V2Serializer};

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = new_histogram();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    fn v2(h: &Histogram<u64>) -> Vec<u8> {
        let mut bytes = vec![];
        V2Serializer::new().serialize(h, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_histogram_reads_back_bit_exact() {
        // Values across the whole range, some repeated, the extremes included.
        let h = histogram((1..5000u64).map(|i| i * i * 37 % 3_600_000_000).chain([1, 1, 3_600_000_000, 999_999]));
        let mut deflated = vec![];
        V2DeflateSerializer::new().serialize(&h, &mut deflated).unwrap();
        let back: Histogram<u64> = Deserializer::new().deserialize(&mut &deflated[..]).unwrap();
        assert_eq!(back, h);
        assert_eq!(v2(&back), v2(&h), "serialized again, the same bytes");

        // And through agentcert's interval log, placed on the clock.
        let started = UNIX_EPOCH + Duration::from_millis(1_772_366_400_250);
        let log = interval_log(
            &[Interval { start: Duration::from_secs(2), length: Duration::from_secs(1), histogram: h.clone() }],
            started,
            "test",
        );
        let read = read_interval_log(&log).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(v2(&read[0].histogram), v2(&h));
        assert_eq!(read[0].start, started + Duration::from_secs(2));
        assert_eq!(read[0].length, Duration::from_secs(1));
    }

    #[test]
    fn merging_logs_adds_every_value_and_keeps_the_seconds() {
        let (a, b) = (LatencyRecorder::default(), LatencyRecorder::default());
        for ms in 1..=100 {
            a.record(Duration::from_millis(ms));
            b.record(Duration::from_millis(ms * 3));
        }
        a.rotate(Duration::from_secs(1));
        b.rotate(Duration::from_secs(1));
        a.record(Duration::from_millis(900));
        a.rotate(Duration::from_millis(1400));
        b.record(Duration::from_millis(5));
        b.rotate(Duration::from_millis(1650));
        let t0 = UNIX_EPOCH + Duration::from_secs(1_772_366_400);
        let read = |r: &LatencyRecorder| read_interval_log(&interval_log(&r.intervals(), t0, "w")).unwrap();
        let (base, intervals, total) = merge_intervals(&[read(&a), read(&b)]).unwrap();
        assert_eq!(base, t0);
        assert_eq!(total.len(), 202);
        let mut both = a.total();
        both.add(b.total()).unwrap();
        assert_eq!(v2(&total), v2(&both), "the merge is the sum, value for value");
        assert_eq!(intervals.len(), 2);
        assert_eq!((intervals[0].start, intervals[0].length, intervals[0].histogram.len()), (Duration::ZERO, Duration::from_secs(1), 200));
        assert_eq!(
            (intervals[1].start, intervals[1].length, intervals[1].histogram.len()),
            (Duration::from_secs(1), Duration::from_millis(650), 2)
        );
    }

    #[test]
    fn population_volumes_add_up() {
        let v = |agents, actions, issued, ratio| TokenVolume {
            agents,
            actions,
            tokens_issued: issued,
            actions_per_hour: 360.0,
            token_lifetime_s: 300.0,
            clock_skew_s: 60.0,
            measured_saving_ratio: ratio,
            token_cache: "reuse".into(),
            ..Default::default()
        };
        let m = merge_volumes(&[&v(500, 100, 50, 2.0), &v(500, 300, 100, 3.0)], Duration::from_secs(10));
        assert_eq!((m.agents, m.actions, m.tokens_issued), (1000, 400, 150));
        // 1000 agents acting every 10 s, a token good for 240 s serving 24 actions.
        assert_eq!(
            (m.tokens_per_s, m.model_tokens_per_s_none, m.model_tokens_per_s_reuse, m.model_saving_ratio),
            (15.0, 100.0, 4.167, 24.0)
        );
        assert_eq!(m.measured_saving_ratio, 2.667, "400 actions for 50 + 100 tokens");
    }
}
