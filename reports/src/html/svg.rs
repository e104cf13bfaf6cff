//! Hand-drawn SVG line charts for report.html: one plot area, two axes (linear or log10),
//! grid lines at the ticks, polylines, and labelled reference rules (a bound, a target rate).
//! Small on purpose: a plotting crate would bring fonts and a raster backend for three
//! charts. Colours come from CSS classes, so the page's stylesheet (and its CSP hash) is
//! the only place that styles them.

use super::esc;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 48.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scale {
    Linear,
    Log,
}

#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub label: String,
    pub min: f64,
    pub max: f64,
    pub scale: Scale,
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// 0 to a round number at or above `max_value`, with about five round ticks.
    pub(crate) fn linear(label: &str, max_value: f64, fmt: fn(f64) -> String) -> Axis {
        let top = if max_value.is_finite() && max_value > 0.0 { max_value } else { 1.0 };
        let step = nice_step(top / 5.0);
        let max = (top / step).ceil() * step;
        let ticks = (0..=((max / step).round() as usize)).map(|i| i as f64 * step).map(|v| (v, fmt(v))).collect();
        Axis { label: label.into(), min: 0.0, max, scale: Scale::Linear, ticks }
    }

    /// Whole decades from `10^lo` to `10^hi`, a tick at each.
    pub(crate) fn decades(label: &str, lo: i32, hi: i32, fmt: fn(f64) -> String) -> Axis {
        let hi = hi.max(lo + 1);
        let ticks = (lo..=hi).map(|e| 10f64.powi(e)).map(|v| (v, fmt(v))).collect();
        Axis { label: label.into(), min: 10f64.powi(lo), max: 10f64.powi(hi), scale: Scale::Log, ticks }
    }

    /// Where `v` falls, 0 at `min` to 1 at `max`, clamped (values beyond the axis sit on it).
    fn frac(&self, v: f64) -> f64 {
        let f = match self.scale {
            Scale::Linear => (v - self.min) / (self.max - self.min),
            Scale::Log => (v.max(self.min).log10() - self.min.log10()) / (self.max.log10() - self.min.log10()),
        };
        if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// 1, 2, 2.5 or 5 times a power of ten, at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let n = raw / mag;
    let m = [1.0, 2.0, 2.5, 5.0].into_iter().find(|m| n <= *m + 1e-9).unwrap_or(10.0);
    m * mag
}

#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// CSS class: `s1`, `s2`.
    pub class: &'static str,
    /// Hold each value until the next point (counts per interval, a CDF).
    pub step: bool,
    /// Draw a dot at every point (few points, such as summary percentiles).
    pub dots: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// A vertical line at this x, labelled (the revocation bound).
    Vertical(f64, String),
    /// A horizontal line at this y, labelled (the target rate).
    Horizontal(f64, String),
}

#[derive(Debug, Clone)]
pub(crate) struct Chart {
    pub id: String,
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub lines: Vec<Line>,
    pub rules: Vec<Rule>,
}

impl Chart {
    fn px(&self, x: f64) -> f64 {
        LEFT + self.x.frac(x) * (W - LEFT - RIGHT)
    }
    fn py(&self, y: f64) -> f64 {
        H - BOTTOM - self.y.frac(y) * (H - TOP - BOTTOM)
    }
}

/// The chart as an inline `<svg>` element, titled for screen readers.
pub(crate) fn render(c: &Chart) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-t"><title id="{id}-t">{t}</title>"#,
        id = esc(&c.id),
        t = esc(&c.title)
    );
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    for (v, label) in &c.x.ticks {
        let x = c.px(*v);
        let _ = write!(s, r#"<line class="grid" x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}"/>"#);
        let _ = write!(s, r#"<text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, y1 + 16.0, esc(label));
    }
    for (v, label) in &c.y.ticks {
        let y = c.py(*v);
        let _ = write!(s, r#"<line class="grid" x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}"/>"#);
        let _ = write!(s, r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, x0 - 6.0, y + 4.0, esc(label));
    }
    let _ = write!(s, r#"<path class="axis" d="M{x0} {y0}V{y1}H{x1}"/>"#);
    let _ =
        write!(s, r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, (x0 + x1) / 2.0, H - 8.0, esc(&c.x.label));
    let ym = (y0 + y1) / 2.0;
    let _ = write!(
        s,
        r#"<text class="label" x="14" y="{ym:.1}" text-anchor="middle" transform="rotate(-90 14 {ym:.1})">{}</text>"#,
        esc(&c.y.label)
    );
    for rule in &c.rules {
        match rule {
            Rule::Vertical(v, label) => {
                let x = c.px(*v);
                let _ = write!(s, r#"<line class="rule" x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}"/>"#);
                let (anchor, dx) = if x > W - 160.0 { ("end", -4.0) } else { ("start", 4.0) };
                let _ = write!(
                    s,
                    r#"<text class="rule-label" x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
                    x + dx,
                    y0 + 12.0,
                    esc(label)
                );
            }
            Rule::Horizontal(v, label) => {
                let y = c.py(*v);
                let _ = write!(s, r#"<line class="rule" x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}"/>"#);
                let _ =
                    write!(s, r#"<text class="rule-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, x1 - 4.0, y - 4.0, esc(label));
            }
        }
    }
    for line in &c.lines {
        let _ = write!(s, r#"<polyline class="series {}" points="{}"/>"#, line.class, points(c, line));
        if line.dots {
            for (x, y) in &line.points {
                let _ = write!(s, r#"<circle class="dot {}" cx="{:.1}" cy="{:.1}" r="3"/>"#, line.class, c.px(*x), c.py(*y));
            }
        }
    }
    if c.lines.len() > 1 {
        for (i, line) in c.lines.iter().enumerate() {
            let y = y0 + 14.0 * i as f64 + 8.0;
            let _ =
                write!(s, r#"<line class="series {}" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/>"#, line.class, x0 + 10.0, x0 + 28.0);
            let _ = write!(s, r#"<text class="legend" x="{:.1}" y="{:.1}">{}</text>"#, x0 + 32.0, y + 4.0, esc(&line.label));
        }
    }
    s.push_str("</svg>");
    s
}

fn points(c: &Chart, line: &Line) -> String {
    let mut pts: Vec<(f64, f64)> = Vec::with_capacity(line.points.len() * 2);
    for (i, (x, y)) in line.points.iter().enumerate() {
        if line.step && i > 0 {
            pts.push((c.px(*x), c.py(line.points[i - 1].1)));
        }
        pts.push((c.px(*x), c.py(*y)));
    }
    pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ")
}

/// A number without trailing zeros: 0.25, 2, 1500.
pub(crate) fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Milliseconds on an axis: "0.1 ms", "250 ms", "2 s".
pub(crate) fn ms_label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{} s", num(v / 1000.0))
    } else {
        format!("{} ms", num(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axes() {
        let a = Axis::linear("y", 87.0, num);
        assert_eq!(a.max, 100.0);
        assert_eq!(a.ticks.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["0", "20", "40", "60", "80", "100"]);
        assert_eq!(Axis::linear("y", 0.0, num).max, 1.0);
        assert_eq!(Axis::linear("y", 11.0, num).max, 12.5);
        let d = Axis::decades("x", -1, 3, ms_label);
        assert_eq!(d.ticks.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["0.1 ms", "1 ms", "10 ms", "100 ms", "1 s"]);
        assert_eq!((d.frac(1.0), d.frac(1e6), d.frac(0.0)), (0.25, 1.0, 0.0));
    }

    #[test]
    fn renders_escaped_labels_and_step_lines() {
        let c = Chart {
            id: "c".into(),
            title: "<t>".into(),
            x: Axis::linear("x", 2.0, num),
            y: Axis::linear("y", 2.0, num),
            lines: vec![Line { label: "a".into(), points: vec![(0.0, 0.0), (2.0, 2.0)], class: "s1", step: true, dots: false }],
            rules: vec![Rule::Vertical(1.0, "bound <1s>".into())],
        };
        let svg = render(&c);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;t&gt;") && svg.contains("bound &lt;1s&gt;"));
        assert!(svg.contains(r#"points="64.0,252.0 620.0,252.0 620.0,30.0""#), "{svg}");
    }
}
