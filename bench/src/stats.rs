//! Latency summaries. Samples are kept whole, so percentiles are exact rather than estimated.

use std::fmt;
use std::time::Duration;

pub struct Summary {
    pub count: usize,
    pub mean: Duration,
    pub median: Duration,
    pub p99: Duration,
    /// The latency at each of [`QUANTILES`], for distribution charts.
    pub quantiles: Vec<(f64, Duration)>,
}

/// Where a distribution is drawn: from the fastest sample to the slowest in a thousand.
pub const QUANTILES: [f64; 9] = [0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995];

impl Summary {
    pub fn of(mut samples: Vec<Duration>) -> Summary {
        samples.sort_unstable();
        let at = |q: f64| {
            samples
                .get(((samples.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        let total: Duration = samples.iter().sum();
        Summary {
            count: samples.len(),
            mean: total.checked_div(samples.len() as u32).unwrap_or_default(),
            median: at(0.5),
            p99: at(0.99),
            quantiles: QUANTILES.iter().map(|q| (*q, at(*q))).collect(),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} | {:.2} ms | {:.2} ms",
            self.count,
            ms(self.median),
            ms(self.p99)
        )
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
