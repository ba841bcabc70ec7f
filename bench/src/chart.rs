//! Line charts as standalone SVG files, for `docs/benchmarks.md`: one series per server, axes
//! linear or logarithmic. Written by hand (a few hundred bytes of markup per chart) so the
//! figures need no plotting dependency and render wherever markdown does.

use std::fmt::Write as _;
use std::path::Path;

use crate::stats::{Summary, ms};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
/// Below the plot: tick labels and the axis label, then the legend's rows.
const BOTTOM: f64 = 52.0;
const LEGEND_ROW: f64 = 18.0;
const LEGEND_COLUMNS: usize = 3;
const LEGEND_WIDTH: f64 = 180.0;
const COLOURS: [&str; 4] = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];

pub struct Series {
    pub name: String,
    /// Drawn dashed: a second measure of the same server (p99 beside the median).
    pub dashed: bool,
    pub colour: usize,
    pub points: Vec<(f64, f64)>,
}

pub struct Axis {
    pub label: &'static str,
    pub log: bool,
    /// How a tick's value is written: [`number`] or [`percentile`].
    pub format: fn(f64) -> String,
}

impl Axis {
    /// The x axis of a [`distribution`].
    pub fn percentiles() -> Axis {
        Axis {
            label: "percentile",
            log: true,
            format: percentile,
        }
    }

    /// Latency in milliseconds, on a log scale.
    pub fn latency_ms() -> Axis {
        Axis {
            label: "latency, ms",
            log: true,
            format: number,
        }
    }
}

/// A distribution's series: each quantile q at 1 / (1 − q) on a log axis, so the tail (p99,
/// p99.9) gets as much room as the middle; label that axis with [`percentile`].
pub fn distribution(name: String, colour: usize, summary: &Summary) -> Series {
    Series {
        name,
        dashed: false,
        colour,
        points: summary
            .quantiles
            .iter()
            .map(|(q, d)| (1.0 / (1.0 - q), ms(*d)))
            .collect(),
    }
}

/// A tick of a [`distribution`] axis: 10 is p90, 100 is p99, 1,000 is p99.9.
pub fn percentile(v: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / v);
    if q <= 0.0 {
        return "min".to_owned();
    }
    let digits = format!("{q:.2}");
    format!("p{}", digits.trim_end_matches('0').trim_end_matches('.'))
}

pub struct Chart {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
}

/// Where values fall on one axis, in pixels.
struct Scale {
    log: bool,
    min: f64,
    max: f64,
    from: f64,
    to: f64,
}

impl Scale {
    fn new(axis: &Axis, values: impl Iterator<Item = f64>, from: f64, to: f64) -> Scale {
        let values: Vec<f64> = values
            .filter(|v| v.is_finite() && (!axis.log || *v > 0.0))
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (min, max) = if axis.log {
            let lo = if lo.is_finite() { lo } else { 1.0 };
            let hi = if hi.is_finite() { hi } else { 10.0 };
            (
                10f64.powf(lo.log10().floor()),
                10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
            )
        } else {
            let hi = if hi.is_finite() && hi > 0.0 { hi } else { 1.0 };
            (0.0, nice_ceiling(hi))
        };
        Scale {
            log: axis.log,
            min,
            max,
            from,
            to,
        }
    }

    fn at(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.min).log10() - self.min.log10()) / (self.max.log10() - self.min.log10())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        self.from + t * (self.to - self.from)
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut out = Vec::new();
            let mut decade = self.min;
            while decade <= self.max * 1.000_001 {
                out.push(decade);
                decade *= 10.0;
            }
            out
        } else {
            (0..=5).map(|i| self.max * f64::from(i) / 5.0).collect()
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    let decade = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * decade)
}

/// A tick written as a number, thousands separated as in the tables.
pub fn number(v: f64) -> String {
    if v >= 1000.0 {
        let text = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in text.chars().enumerate() {
            if i > 0 && (text.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 1.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Chart {
    fn legend_rows(&self) -> usize {
        self.series.len().div_ceil(LEGEND_COLUMNS)
    }

    pub fn svg(&self) -> String {
        let bottom = HEIGHT - BOTTOM - LEGEND_ROW * self.legend_rows() as f64;
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let x = Scale::new(&self.x, points().map(|p| p.0), LEFT, WIDTH - RIGHT);
        let y = Scale::new(&self.y, points().map(|p| p.1), bottom, TOP);
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = write!(
            svg,
            r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
            WIDTH / 2.0,
            escape(&self.title)
        );
        for tick in x.ticks() {
            let px = x.at(tick);
            let _ = write!(
                svg,
                r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{bottom}" stroke="#e5e7eb"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
                bottom + 16.0,
                (self.x.format)(tick)
            );
        }
        for tick in y.ticks() {
            let py = y.at(tick);
            let _ = write!(
                svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                WIDTH - RIGHT,
                LEFT - 6.0,
                py + 4.0,
                (self.y.format)(tick)
            );
        }
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#111"/><line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#111"/>"##,
            right = WIDTH - RIGHT
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text transform="translate(16 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
            (LEFT + WIDTH - RIGHT) / 2.0,
            bottom + 36.0,
            escape(self.x.label),
            (TOP + bottom) / 2.0,
            escape(self.y.label)
        );
        for (i, series) in self.series.iter().enumerate() {
            let colour = COLOURS[series.colour % COLOURS.len()];
            let dash = if series.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let path: Vec<String> = series
                .points
                .iter()
                .map(|(vx, vy)| format!("{:.1},{:.1}", x.at(*vx), y.at(*vy)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
            for point in &path {
                let (px, py) = point.split_once(',').unwrap_or(("0", "0"));
                let _ = write!(svg, r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#);
            }
            // The legend sits under the chart, three entries a row, clear of the data.
            let lx = LEFT + LEGEND_WIDTH * (i % LEGEND_COLUMNS) as f64;
            let ly = HEIGHT - LEGEND_ROW * (self.legend_rows() - i / LEGEND_COLUMNS) as f64 + 6.0;
            let _ = write!(
                svg,
                r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
                lx + 22.0,
                lx + 28.0,
                ly + 4.0,
                escape(&series.name),
            );
        }
        svg.push_str("</svg>\n");
        svg
    }

    pub fn write(&self, dir: &Path, name: &str) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(name);
        std::fs::write(&path, self.svg())?;
        eprintln!("chart: {}", path.display());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_places_points_on_its_axes_and_escapes_its_text() {
        let chart = Chart {
            title: "posts <per> second".into(),
            x: Axis {
                label: "offered",
                log: true,
                format: number,
            },
            y: Axis {
                label: "acknowledged",
                log: false,
                format: number,
            },
            series: vec![Series {
                name: "Echo & co".into(),
                dashed: false,
                colour: 0,
                points: vec![(50.0, 50.0), (500.0, 480.0), (5_000.0, 700.0)],
            }],
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("posts &lt;per&gt; second") && svg.contains("Echo &amp; co"));
        // A log axis from 10 to 10,000: 50 sits between the first two decades.
        assert!(svg.contains(">10<") && svg.contains(">10,000<"));
        assert_eq!(svg.matches("<circle").count(), 3);
        // The linear axis ends at a round number above the largest value.
        assert!(svg.contains(">1,000<"));
    }

    #[test]
    fn round_ceilings_and_labels() {
        assert_eq!(nice_ceiling(480.0), 500.0);
        assert_eq!(nice_ceiling(701.0), 1000.0);
        assert_eq!(number(34_227.0), "34,227");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(percentile(1.0), "min");
        assert_eq!(percentile(100.0), "p99");
        assert_eq!(percentile(1000.0), "p99.9");
        assert_eq!(percentile(10_000.0), "p99.99");
    }
}
