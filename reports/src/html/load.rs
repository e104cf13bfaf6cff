//! The load results: a table of the key figures, then per scenario its plots. Latency by
//! percentile uses HdrHistogram's customary log axis of 1/(1-p), which gives the tail (where
//! agents time out) as much room as the median; throughput is answered operations per
//! interval against the target rate; revocation is a CDF of propagation latency with the
//! profile's `revoke_within` drawn on it, because "how many revocations were late" is the
//! question it answers.

use super::esc;
use super::svg::{self, Axis, Chart, Line, Rule};
use crate::context::ReportContext;
use crate::series::LoadSeries;
use agentcert_engine::results::{CapacitySearch, LoadResult, RunResults};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Intervals shorter than this (the tail of a run) are left out of the throughput plot:
/// a handful of completions in 100 ms is noise, not a rate.
const MIN_INTERVAL_S: f64 = 0.25;

pub(super) fn section(out: &mut String, results: &RunResults, ctx: &ReportContext, series: &BTreeMap<String, LoadSeries>) {
    out.push_str("<section class=\"load\" id=\"load\">\n<h2>Load</h2>\n");
    figures(out, &results.load);
    for r in &results.load {
        scenario(out, r, ctx, series.get(&r.scenario));
    }
    out.push_str("</section>\n");
}

fn figures(out: &mut String, load: &[LoadResult]) {
    out.push_str(
        "<table class=\"figures\" id=\"load-figures\">\n<thead><tr><th>scenario</th><th>model</th><th>target/s</th><th>achieved/s</th><th>sent</th><th>errors</th><th>late</th><th>dropped</th>\
         <th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>latency from</th></tr></thead>\n<tbody>\n",
    );
    for r in load {
        let l = &r.latency_ms;
        let target = r.target_rate.map_or("-".to_string(), |t| format!("{t:.1}"));
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#load-{s}\">{s}</a></td><td>{}</td><td>{target}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
            esc(&r.model), r.achieved_rate, r.requests, r.errors, r.late, r.dropped, l.p50, l.p90, l.p99, l.p999, l.max, esc(&r.latency_basis),
            s = esc(&r.scenario)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn scenario(out: &mut String, r: &LoadResult, ctx: &ReportContext, series: Option<&LoadSeries>) {
    let id = esc(&r.scenario);
    let _ = writeln!(
        out,
        "<article class=\"scenario\" id=\"load-{id}\">\n<h3>{id}<small>{} model, {:.1}/s over {:.1} s, {} HTTP requests</small></h3>",
        esc(&r.model),
        r.achieved_rate,
        r.duration_s,
        r.http_requests
    );
    let mut notes = Vec::new();
    if !r.errors_by_class.is_empty() {
        let classes: Vec<String> = r.errors_by_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
        notes.push(format!("errors: {}", classes.join(", ")));
    }
    if r.late > 0 || r.dropped > 0 {
        notes.push(format!("{} slots sent late and {} never sent; latency still counts from the intended send time", r.late, r.dropped));
    }
    for t in &r.thresholds {
        notes.push(format!("threshold {} {}: {}", if t.passed { "passed" } else { "MISSED" }, t.rule, t.observed));
    }
    if let Some(w) = &r.worker {
        notes.push(match w.index {
            Some(i) => format!("worker {} of {}: its share of the schedule only, from {} to {}", i + 1, w.count, w.start_at, w.send_end),
            None => format!("merged from {} workers, sending from {} to {}", w.count, w.start_at, w.send_end),
        });
    }
    if let Some(v) = &r.token_volume {
        notes.push(format!(
            "{} agents × {}/h, token cache {}: the model needs {:.3} tokens/s without a cache, {:.3} with reuse ({:.2}× fewer); this run issued {} tokens for {} actions",
            v.agents, v.actions_per_hour, v.token_cache, v.model_tokens_per_s_none, v.model_tokens_per_s_reuse, v.model_saving_ratio, v.tokens_issued, v.actions
        ));
    }
    if !notes.is_empty() {
        out.push_str("<ul class=\"notes\">\n");
        for n in notes {
            let _ = writeln!(out, "<li>{}</li>", esc(&n));
        }
        out.push_str("</ul>\n");
    }
    if let Some(c) = &r.capacity {
        capacity(out, c);
    }
    let revocation = r.scenario == "revocation" || r.latency_basis == "revoke call start";
    let basis = if series.is_some() {
        "the full distribution from the interval log"
    } else {
        "the summary percentiles in results.json (interval log not found)"
    };
    out.push_str("<div class=\"plots\">\n");
    if r.latency_ms.samples == 0 {
        out.push_str("<p class=\"note\">No latency was recorded: no operation was answered.</p>\n");
    } else if revocation {
        let bound = ctx.revoke_within.map(|d| d.as_secs_f64() * 1000.0);
        let seen = observed_by(r);
        let caption = match bound {
            Some(b) => format!("Share of revocations {seen} within a given time of the revoke call, from {basis}. The dashed line is the profile's revoke_within ({}).", svg::ms_label(b)),
            None => format!("Share of revocations {seen} within a given time of the revoke call, from {basis}. The profile's revoke_within was not supplied to this report."),
        };
        figure(out, &cdf_chart(r, series, bound), &caption);
    } else {
        let caption = format!("Latency by percentile (from the {}), from {basis}; the maximum is in the table above.", r.latency_basis);
        figure(out, &percentile_chart(r, series), &caption);
    }
    if let Some(chart) = series.and_then(|s| throughput_chart(r, s)) {
        figure(out, &chart, "Answered operations per second, per interval of the log; the dashed line is the target rate.");
    }
    out.push_str("</div>\n</article>\n");
}

/// A capacity search: the rate found, and every step with its verdict, so the figure can be
/// checked rather than trusted.
fn capacity(out: &mut String, c: &CapacitySearch) {
    let rate = c.rate.map_or("none".to_string(), |r| format!("{}/s", svg::num(r)));
    let _ = writeln!(
        out,
        "<p class=\"capacity\"><b>Capacity: {}</b> ({}; SLO {}). {}</p>",
        esc(&rate),
        esc(&c.outcome),
        esc(&c.slo.join(", ")),
        esc(&c.note)
    );
    out.push_str("<table class=\"figures capacity-steps\">\n<thead><tr><th>step rate/s</th><th>achieved/s</th><th>sent</th><th>errors</th><th>dropped</th><th>p50 ms</th><th>p99 ms</th><th>meets SLO</th><th>verdict</th></tr></thead>\n<tbody>\n");
    for s in &c.steps {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            svg::num(s.rate),
            s.achieved_rate,
            s.requests,
            s.errors,
            s.dropped,
            s.latency_ms.p50,
            s.latency_ms.p99,
            if s.meets_slo { "yes" } else { "no" },
            esc(&s.verdict)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn figure(out: &mut String, chart: &Chart, caption: &str) {
    let _ = writeln!(out, "<figure>{}<figcaption>{}</figcaption></figure>", svg::render(chart), esc(caption));
}

/// (quantile, ms) points: the log's full distribution, or the five summary percentiles.
fn distribution(r: &LoadResult, series: Option<&LoadSeries>) -> (Vec<(f64, f64)>, bool) {
    match series.filter(|s| !s.distribution.is_empty()) {
        Some(s) => (s.distribution.clone(), false),
        None => {
            let l = &r.latency_ms;
            (vec![(0.5, l.p50), (0.9, l.p90), (0.99, l.p99), (0.999, l.p999), (1.0, l.max)], true)
        }
    }
}

fn percentile_chart(r: &LoadResult, series: Option<&LoadSeries>) -> Chart {
    // The 100th percentile (the max) has no place on a 1/(1-p) axis; the table shows it.
    let (mut points, summary_only) = distribution(r, series);
    points.retain(|(q, _)| *q < 1.0);
    let inv = |q: f64| 1.0 / (1.0 - q);
    let widest = points.iter().map(|(q, _)| inv(*q)).fold(100.0, f64::max);
    let hi = (widest.log10().ceil() as i32).clamp(2, 6);
    let x_max = 10f64.powi(hi);
    let max_ms = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let line = Line {
        label: r.scenario.clone(),
        points: points.iter().map(|(q, v)| (inv(*q).min(x_max), *v)).collect(),
        class: "s1",
        step: false,
        dots: summary_only,
    };
    Chart {
        id: format!("plot-{}-percentiles", r.scenario),
        title: format!("{}: latency by percentile", r.scenario),
        x: Axis::decades("percentile", 0, hi, percentile_label),
        y: Axis::linear("latency (ms)", max_ms, svg::num),
        lines: vec![line],
        rules: vec![],
    }
}

/// 1 → 0%, 10 → 90%, 100 → 99%, 1000 → 99.9%.
fn percentile_label(x: f64) -> String {
    match x.log10().round() as i32 {
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        e => format!("99.{}%", "9".repeat((e - 2).max(1) as usize)),
    }
}

/// How a scenario observes a revocation: by polling introspection, or by the push of a
/// CAEP session-revoked SET to the harness's signals receiver.
fn observed_by(r: &LoadResult) -> &'static str {
    if r.scenario == "push-revocation" {
        "whose session-revoked event reached the signals receiver"
    } else {
        "that introspection reported inactive"
    }
}

fn cdf_chart(r: &LoadResult, series: Option<&LoadSeries>, bound_ms: Option<f64>) -> Chart {
    let (points, summary_only) = distribution(r, series);
    let positive = points.iter().map(|p| p.1).filter(|v| *v > 0.0);
    let lo_ms = positive.clone().chain(bound_ms).fold(f64::INFINITY, f64::min);
    let hi_ms = positive.chain(bound_ms).fold(0.0, f64::max);
    let lo = if lo_ms.is_finite() { lo_ms.log10().floor() as i32 } else { 0 };
    let hi = if hi_ms > 0.0 { (hi_ms.log10() + 1e-9).ceil() as i32 } else { lo + 1 };
    let mut pts: Vec<(f64, f64)> = points.iter().map(|(q, v)| (*v, q * 100.0)).collect();
    if let Some(first) = pts.first().copied() {
        pts.insert(0, (first.0, 0.0));
    }
    Chart {
        id: format!("plot-{}-cdf", r.scenario),
        title: format!("{}: revocation propagation latency (CDF)", r.scenario),
        x: Axis::decades(
            if r.scenario == "push-revocation" {
                "time from the revoke call to the SET's arrival"
            } else {
                "time from the revoke call to inactive at introspection"
            },
            lo.min(hi - 1),
            hi,
            svg::ms_label,
        ),
        y: Axis::linear("revocations (%)", 100.0, svg::num),
        lines: vec![Line { label: r.scenario.clone(), points: pts, class: "s1", step: true, dots: summary_only }],
        rules: bound_ms.map(|b| Rule::Vertical(b, format!("revoke_within {}", svg::ms_label(b)))).into_iter().collect(),
    }
}

fn throughput_chart(r: &LoadResult, s: &LoadSeries) -> Option<Chart> {
    let rates: Vec<(f64, f64)> =
        s.intervals.iter().filter(|(_, len, _)| *len >= MIN_INTERVAL_S).map(|(start, len, n)| (*start, *n as f64 / len)).collect();
    let (last_start, last_len, _) = s.intervals.iter().rfind(|(_, len, _)| *len >= MIN_INTERVAL_S)?;
    let mut points = rates.clone();
    points.push((last_start + last_len, rates.last()?.1));
    let top = rates.iter().map(|p| p.1).chain(r.target_rate).fold(0.0, f64::max) * 1.1;
    Some(Chart {
        id: format!("plot-{}-throughput", r.scenario),
        title: format!("{}: answered operations per second", r.scenario),
        x: Axis::linear("time (s)", last_start + last_len, svg::num),
        y: Axis::linear("operations/s", top, svg::num),
        lines: vec![Line { label: r.scenario.clone(), points, class: "s1", step: true, dots: false }],
        rules: r.target_rate.map(|t| Rule::Horizontal(t, format!("target {}/s", svg::num(t)))).into_iter().collect(),
    })
}
