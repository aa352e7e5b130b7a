//! Chapter 21's table: the Go report's rows one by one, each beside ours
//! (traced at 100 %: the median of the repeats, with their range), the
//! ratio ours ÷ the report's claim, and a verdict. Also the latency against
//! offered load, as series the chapter draws.

use std::path::Path;

use book_results::Measurement;

use super::{MODES, Run, Spans, median, spread};

/// Lower is better, except for throughput.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
}

/// Where our figure for a row comes from.
#[derive(Clone, Copy)]
enum Ours {
    /// Each repeat of the traced-at-100 % run.
    Run(fn(&Run) -> f64),
    /// Criterion's last estimate of this benchmark, in ns.
    Criterion(&'static str),
}

/// One row of the report's table.
struct Claim {
    key: &'static str,
    what: &'static str,
    /// The report's figure, in `unit`.
    value: f64,
    unit: &'static str,
    better: Better,
    ours: Ours,
}

/// The configuration set beside the report's figures: every request traced.
pub const COMPARED: &str = "traced_100pct";

/// The book's recommended set-up, span started and ended (chapter 12).
pub const SPAN_BENCH: &str = "ch12_span_cost/book_setup";

// The report's final figures: `../shared/seed/OTLP_go-final-report.md`,
// section "累计性能提升总览" (Phase 0 → Phase 3), column 最终值; the span
// operation from its section "Phase 3: 性能深度优化" ("Span 操作: 850ns →
// 420ns"). The report says MB; we read it as 10^6 bytes. It gives GC pause
// 0.25 ms: Rust has no collector, so the stand-ins are the longest stalls a
// client saw at the fixed rate.
const CLAIMS: [Claim; 9] = [
    Claim {
        key: "startup",
        what: "start-up to ready",
        value: 180.0,
        unit: "ms",
        better: Better::Lower,
        ours: Ours::Run(|r| r.startup.as_secs_f64() * 1e3),
    },
    Claim {
        key: "memory",
        what: "resident memory after the run",
        value: 52.0,
        unit: "MB",
        better: Better::Lower,
        ours: Ours::Run(|r| r.status.vm_rss_kb as f64 * 1024.0 / 1e6),
    },
    Claim {
        key: "gc_p999",
        what: "GC pause; ours: P99.9 latency",
        value: 0.25,
        unit: "ms",
        better: Better::Lower,
        ours: Ours::Run(|r| r.fixed_rate.latency_ms(0.999)),
    },
    Claim {
        key: "gc_max",
        what: "GC pause; ours: max latency",
        value: 0.25,
        unit: "ms",
        better: Better::Lower,
        ours: Ours::Run(|r| r.fixed_rate.latency.max() as f64 / 1e6),
    },
    Claim {
        key: "throughput",
        what: "throughput at saturation",
        value: 85_000.0,
        unit: "req/s",
        better: Better::Higher,
        ours: Ours::Run(|r| r.saturation.throughput()),
    },
    Claim {
        key: "p50",
        what: "P50 latency",
        value: 1.5,
        unit: "ms",
        better: Better::Lower,
        ours: Ours::Run(|r| r.fixed_rate.latency_ms(0.5)),
    },
    Claim {
        key: "p99",
        what: "P99 latency",
        value: 2.8,
        unit: "ms",
        better: Better::Lower,
        ours: Ours::Run(|r| r.fixed_rate.latency_ms(0.99)),
    },
    Claim {
        key: "alloc",
        what: "bytes allocated per request",
        value: 800.0,
        unit: "B",
        better: Better::Lower,
        ours: Ours::Run(|r| r.alloc_per_request),
    },
    Claim {
        key: "span_op",
        what: "span start+end",
        value: 420.0,
        unit: "ns",
        better: Better::Lower,
        ours: Ours::Criterion(SPAN_BENCH),
    },
];

/// A row as measured: our values (one per repeat, or criterion's one).
pub struct Row {
    claim: &'static Claim,
    ours: Option<Vec<f64>>,
}

impl Row {
    fn median(&self) -> Option<f64> {
        self.ours.as_deref().map(median)
    }

    /// Ours ÷ the report's claim.
    pub fn ratio(&self) -> Option<f64> {
        Some(self.median()? / self.claim.value)
    }

    /// Met: ours no worse than the claim (median against the claim).
    pub fn met(&self) -> Option<bool> {
        let ratio = self.ratio()?;
        Some(match self.claim.better {
            Better::Lower => ratio <= 1.0,
            Better::Higher => ratio >= 1.0,
        })
    }
}

/// Criterion's latest estimate of `id` in ns, if the benchmark has run.
pub fn criterion_ns(root: &Path, id: &str) -> Option<f64> {
    let dir =
        book_results::criterion::criterion_dir(root, |name| std::env::var_os(name));
    let fresh = book_results::criterion::read_all(&dir).ok()?;
    let found = fresh.into_iter().find(|r| r.measurement.id == id)?;
    found.measurement.nanos()
}

/// Every row, from the runs (all modes, all repeats) and `span_ns`.
pub fn rows(runs: &[Run], span_ns: Option<f64>) -> Vec<Row> {
    let compared: Vec<&Run> =
        runs.iter().filter(|r| r.mode.name == COMPARED).collect();
    CLAIMS
        .iter()
        .map(|claim| Row {
            claim,
            ours: match claim.ours {
                Ours::Run(f) if !compared.is_empty() => {
                    Some(compared.iter().map(|r| f(r)).collect())
                }
                Ours::Run(_) => None,
                Ours::Criterion(_) => span_ns.map(|ns| vec![ns]),
            },
        })
        .collect()
}

/// Three significant digits, no exponent.
fn sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// The table as text, for `{{#result-text ch21_perf/report_rows}}`.
pub fn text(rows: &[Row]) -> String {
    let mut lines = vec![[
        "row".to_owned(),
        "report".to_owned(),
        "ours: median (min-max)".to_owned(),
        "ours/report".to_owned(),
        "verdict".to_owned(),
    ]];
    for r in rows {
        let c = r.claim;
        let (ours, ratio, verdict) = match (&r.ours, r.ratio(), r.met()) {
            (Some(v), Some(ratio), Some(met)) => {
                let min = v.iter().copied().fold(f64::INFINITY, f64::min);
                let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let range = match (v.len(), c.ours) {
                    (_, Ours::Criterion(id)) => format!(" (criterion, {id})"),
                    (1, _) => String::new(),
                    _ => format!(" ({}-{})", sig(min), sig(max)),
                };
                let word = if met { "met" } else { "MISSED" };
                (
                    format!("{} {}{range}", sig(median(v)), c.unit),
                    format!("{} x", sig(ratio)),
                    word.to_owned(),
                )
            }
            _ => (
                match c.ours {
                    Ours::Criterion(id) => {
                        format!("not measured: no criterion result for {id}")
                    }
                    Ours::Run(_) => format!("not measured: no {COMPARED} run"),
                },
                "-".to_owned(),
                "-".to_owned(),
            ),
        };
        lines.push([
            c.what.to_owned(),
            format!("{} {}", sig(c.value), c.unit),
            ours,
            ratio,
            verdict,
        ]);
    }
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    lines
        .iter()
        .map(|l| {
            let cells: Vec<String> = l
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:w$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}

/// Each row's figures (`report_KEY_claim`, `report_KEY_ours`,
/// `report_KEY_ratio` with the verdict as its text), then the count of rows
/// met with the table as its text (`report_rows`).
pub fn measurements(rows: &[Row], g: impl Fn(&str) -> String) -> Vec<Measurement> {
    let mut m = Vec::new();
    for r in rows {
        let c = r.claim;
        let id = |what: &str| g(&format!("report_{}_{what}", c.key));
        m.push(
            Measurement::count(id("claim"), c.value, c.unit)
                .with_statistic("claimed"),
        );
        if let (Some(v), Some(ratio), Some(met)) = (&r.ours, r.ratio(), r.met()) {
            let ours = Measurement::count(id("ours"), median(v), c.unit);
            m.push(match c.ours {
                Ours::Run(_) => spread(ours, v).with_statistic("median"),
                Ours::Criterion(_) => ours.with_statistic("criterion estimate"),
            });
            m.push(
                Measurement::count(id("ratio"), ratio, "×")
                    .with_statistic("ratio")
                    .with_text(if met { "met" } else { "MISSED" }),
            );
        }
    }
    let met = rows.iter().filter(|r| r.met() == Some(true)).count();
    m.push(
        Measurement::count(g("report_rows"), met as f64, "rows met")
            .with_text(text(rows)),
    );
    m
}

/// Every mode's figures, each the median over the repeats with their range
/// (ids `MODE_WHAT`); the span counts are totals over the repeats.
pub fn per_mode(runs: &[Run], g: impl Fn(&str) -> String) -> Vec<Measurement> {
    type Of = fn(&Run) -> f64;
    const FIGURES: [(&str, &str, &str, Of); 21] = [
        ("startup", "ms", "count", |r| r.startup.as_secs_f64() * 1e3),
        ("rss", "MiB", "count", |r| {
            r.status.vm_rss_kb as f64 / 1024.0
        }),
        ("peak_rss", "MiB", "max", |r| {
            r.status.vm_hwm_kb as f64 / 1024.0
        }),
        ("throughput", "req/s", "count", |r| {
            r.saturation.throughput()
        }),
        ("p50", "ms", "p50", |r| r.fixed_rate.latency_ms(0.5)),
        ("p99", "ms", "p99", |r| r.fixed_rate.latency_ms(0.99)),
        ("p999", "ms", "p99.9", |r| r.fixed_rate.latency_ms(0.999)),
        ("max", "ms", "max", |r| {
            r.fixed_rate.latency.max() as f64 / 1e6
        }),
        ("service_p99", "ms", "p99", |r| {
            r.fixed_rate.service_ms(0.99)
        }),
        ("saturation_p99", "ms", "p99", |r| {
            r.saturation.latency_ms(0.99)
        }),
        ("alloc_per_request", "B/req", "mean", |r| {
            r.alloc_per_request
        }),
        ("allocs_per_request", "allocations/req", "mean", |r| {
            r.allocs_per_request
        }),
        ("large_alloc_per_request", "B/req", "mean", |r| {
            r.large_per_request
        }),
        ("cpu_per_request", "µs", "mean", |r| r.cpu_per_request_us),
        ("loadgen_cpu_share", "%", "mean", |r| {
            r.loadgen_cpu_share * 100.0
        }),
        // The generator's CPU per request, from its share of the two.
        ("loadgen_cpu_per_request", "µs", "mean", |r| {
            let share = r.loadgen_cpu_share.min(0.999);
            r.cpu_per_request_us * share / (1.0 - share)
        }),
        ("rotel_cpu_per_request", "µs", "mean", |r| {
            r.rotel_cpu_per_request_us
        }),
        // Each side's core, busy as a share of the saturation phase.
        ("target_core_busy", "%", "mean", |r| r.busy.target * 100.0),
        ("generator_core_busy", "%", "mean", |r| {
            r.busy.generator * 100.0
        }),
        ("threads", "threads", "count", |r| r.status.threads as f64),
        ("spans_dropped_pct", "%", "mean", |r| {
            100.0 * r.spans.dropped as f64 / r.spans.ended.max(1) as f64
        }),
    ];
    let mut m = Vec::new();
    for mode in MODES {
        let of_mode: Vec<&Run> =
            runs.iter().filter(|r| r.mode.name == mode.name).collect();
        if of_mode.is_empty() {
            continue;
        }
        let id = |what: &str| g(&format!("{}_{what}", mode.name));
        for (what, unit, statistic, f) in FIGURES {
            let v: Vec<f64> = of_mode.iter().map(|r| f(r)).collect();
            let figure = Measurement::count(id(what), median(&v), unit);
            m.push(match (v.len(), statistic) {
                (1, _) => figure.with_statistic(statistic),
                (_, "count") => spread(figure, &v).with_statistic("median"),
                _ => {
                    spread(figure, &v).with_statistic(format!("median {statistic}"))
                }
            });
        }
        let mut spans = Spans::default();
        for r in &of_mode {
            spans.add(&r.spans);
        }
        m.extend(spans.measurements(id));
        if mode.name != "untraced" {
            let ratios = super::vs_untraced(runs, mode.name);
            let ratio = Measurement::count(id("vs_untraced"), median(&ratios), "×");
            m.push(match ratios.len() {
                1 => ratio.with_statistic("ratio"),
                _ => spread(ratio, &ratios).with_statistic("median ratio"),
            });
        }
    }
    m
}

/// Offered load in the latency curve, as % of the run's own saturation
/// throughput.
pub const CURVE_PERCENTS: [u32; 5] = [10, 25, 50, 75, 90];

/// The curve as series `latency_vs_load/MODE_pQ/xPCT` (the median over the
/// repeats), and the x axis's name (`latency_vs_load/x`).
pub fn curve(runs: &[Run], g: impl Fn(&str) -> String) -> Vec<Measurement> {
    let mut m = vec![
        Measurement::count(
            g("latency_vs_load/x"),
            CURVE_PERCENTS.len() as f64,
            "points",
        )
        .with_text("offered load, % of the configuration's saturation throughput"),
    ];
    for mode in super::MODES {
        let of_mode: Vec<&Run> =
            runs.iter().filter(|r| r.mode.name == mode.name).collect();
        for pct in CURVE_PERCENTS {
            for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
                let values: Vec<f64> = of_mode
                    .iter()
                    .filter_map(|r| r.curve.iter().find(|p| p.percent == pct))
                    .map(|p| p.report.latency_ms(q))
                    .collect();
                if values.is_empty() {
                    continue;
                }
                let id = g(&format!("latency_vs_load/{}_{name}/x{pct}", mode.name));
                m.push(
                    spread(Measurement::count(id, median(&values), "ms"), &values)
                        .with_statistic(format!("median {name}")),
                );
            }
        }
    }
    m
}

/// The target's resident memory through the run, once a second, as series
/// `rss_over_run/MODE/xSECOND` with the x axis's name (`rss_over_run/x`).
/// A memory line is one run's, not a median: the first repeat of each
/// configuration is drawn.
pub fn rss(runs: &[Run], g: impl Fn(&str) -> String) -> Vec<Measurement> {
    let mut m = vec![
        Measurement::count(g("rss_over_run/x"), runs.len() as f64, "runs")
            .with_text("seconds since the first request (the first repeat of each)"),
    ];
    for mode in super::MODES {
        let Some(run) = runs.iter().find(|r| r.mode.name == mode.name) else {
            continue;
        };
        for (second, mib) in run.rss_mib.iter().enumerate() {
            let id = g(&format!("rss_over_run/{}/x{second}", mode.name));
            m.push(Measurement::count(id, *mib, "MiB"));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, ours: Option<Vec<f64>>) -> Row {
        Row {
            claim: CLAIMS.iter().find(|c| c.key == key).unwrap(),
            ours,
        }
    }

    #[test]
    fn verdicts_follow_the_direction_of_each_row() {
        // Lower is better: 2 ms against 2.8 ms is met, 3 ms is not.
        assert_eq!(row("p99", Some(vec![2.0, 9.0, 1.0])).met(), Some(true));
        assert_eq!(row("p99", Some(vec![3.0])).met(), Some(false));
        // Throughput: higher is better.
        assert_eq!(row("throughput", Some(vec![90_000.0])).met(), Some(true));
        assert_eq!(row("throughput", Some(vec![80_000.0])).met(), Some(false));
        let r = row("alloc", Some(vec![1600.0]));
        assert_eq!(r.ratio(), Some(2.0));
        // Nothing measured: no ratio, no verdict, and the text says so.
        let missing = row("span_op", None);
        assert_eq!((missing.ratio(), missing.met()), (None, None));
        let t = text(&[missing, r]);
        assert!(t.contains(
            "not measured: no criterion result for ch12_span_cost/book_setup"
        ));
        let alloc = t
            .lines()
            .find(|l| l.starts_with("bytes allocated"))
            .unwrap();
        assert!(
            alloc.contains(" 1600 B ") && alloc.contains(" 2.00 x "),
            "{t}"
        );
        assert!(alloc.ends_with("MISSED"), "{t}");
    }

    #[test]
    fn the_ratio_and_verdict_are_recorded() {
        let rows = vec![row("p50", Some(vec![0.3, 0.2, 0.4])), row("span_op", None)];
        let m = measurements(&rows, |id| format!("g/{id}"));
        let get = |id: &str| m.iter().find(|x| x.id == id).unwrap();
        let ratio = get("g/report_p50_ratio");
        assert!((ratio.value - 0.2).abs() < 1e-9);
        assert_eq!(ratio.text.as_deref(), Some("met"));
        let ours = get("g/report_p50_ours");
        assert_eq!((ours.lower, ours.upper), (Some(0.2), Some(0.4)));
        assert!(m.iter().all(|x| x.id != "g/report_span_op_ratio"));
        assert_eq!(get("g/report_rows").value, 1.0);
    }

    #[test]
    fn three_significant_digits() {
        assert_eq!(sig(0.123_456), "0.123");
        assert_eq!(sig(2.8), "2.80");
        assert_eq!(sig(85_000.0), "85000");
        assert_eq!(sig(180.4), "180");
    }
}
