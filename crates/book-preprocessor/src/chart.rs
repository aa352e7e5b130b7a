//! An SVG chart of a benchmark group: one row per result, a bar (or, when
//! the figures are orders of magnitude apart, a point on a log axis) with
//! confidence-interval whiskers and the value written beside it.
//!
//! Drawn with plotters' SVG backend into a string and embedded inline, so it
//! follows the page's theme: all ink is drawn black and then rewritten to
//! `currentColor`, and bars and points use one fill that `theme/bench.css`
//! maps to the theme's accent colour. The background stays transparent.

use crate::catalogue::Figure;
use crate::scale::{self, TimeUnit};
use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The bar and point fill as plotters writes it; `theme/bench.css` selects on it.
pub const BAR_FILL: &str = "#4E79A7";
pub(crate) const BAR: RGBColor = RGBColor(0x4E, 0x79, 0xA7);

const WIDTH: u32 = 720;
const ROW_HEIGHT: u32 = 30;
const TOP: u32 = 12;
const AXIS_AREA: u32 = 48;
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const FONT_SIZE: u32 = 15;
const LONGEST_LABEL: usize = 36;

/// One bar: label, value and optional interval, all in the chart's unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Row label.
    pub label: String,
    /// Bar length.
    pub value: f64,
    /// Whisker from lower to upper bound.
    pub interval: Option<(f64, f64)>,
    /// Text written after the whisker, e.g. `182 ns`.
    pub annotation: String,
}

/// Bars for `figures` (a group's rows, labelled relative to `group`) in one
/// shared unit, and that unit's axis title; `None` when the rows cannot share
/// an axis (a time beside a count, or two different non-time units).
pub fn bars(group: &str, figures: &[&Figure]) -> Option<(Vec<Bar>, String)> {
    let first = figures.first()?;
    let all_times = figures.iter().all(|f| f.measurement.is_time());
    let (unit_label, divisor) = if all_times {
        let largest = figures
            .iter()
            .filter_map(|f| f.measurement.nanos())
            .fold(0f64, f64::max);
        let unit = TimeUnit::for_nanos(largest);
        (unit.symbol().to_owned(), unit.nanos())
    } else if figures
        .iter()
        .all(|f| f.measurement.unit == first.measurement.unit)
    {
        (first.measurement.unit.clone(), 1.0)
    } else {
        return None;
    };
    let bars = figures
        .iter()
        .map(|figure| {
            let m = &figure.measurement;
            let (value, interval, annotation) = if all_times {
                let nanos = m.nanos().expect("checked: a time");
                let (number, unit) = scale::time(nanos);
                (
                    nanos / divisor,
                    m.interval_nanos().map(|(l, u)| (l / divisor, u / divisor)),
                    format!("{number} {unit}"),
                )
            } else {
                (
                    m.value,
                    m.lower.zip(m.upper),
                    format!("{} {}", scale::plain(m.value), m.unit),
                )
            };
            Bar {
                label: shorten(m.label_in(group)),
                value,
                interval,
                annotation,
            }
        })
        .collect();
    let axis = if all_times {
        format!("time per iteration ({unit_label})")
    } else {
        unit_label
    };
    Some((bars, axis))
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= LONGEST_LABEL {
        label.to_owned()
    } else {
        let kept: String = label.chars().take(LONGEST_LABEL - 1).collect();
        format!("{kept}…")
    }
}

/// How values map to the horizontal axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Bars from zero to `0..max`: honest lengths for figures of one magnitude.
    Linear {
        /// Right end of the axis.
        max: f64,
    },
    /// Points on a logarithmic axis `min..max`: a 30 ns span beside a 60 µs
    /// export would otherwise be an invisible bar.
    Log {
        /// Left end of the axis.
        min: f64,
        /// Right end of the axis.
        max: f64,
    },
}

/// Figures further apart than this ratio are charted on a log axis.
pub const LOG_SCALE_RATIO: f64 = 30.0;

impl Scale {
    /// The scale for `rows`, with head room on the right for the value text.
    pub fn choose(rows: &[Bar]) -> Scale {
        let ends = |bar: &Bar| match bar.interval {
            Some((lower, upper)) => (lower.min(bar.value), upper.max(bar.value)),
            None => (bar.value, bar.value),
        };
        let low = rows.iter().map(|b| ends(b).0).fold(f64::INFINITY, f64::min);
        let high = rows.iter().map(|b| ends(b).1).fold(0f64, f64::max);
        if low > 0.0 && high / low > LOG_SCALE_RATIO {
            let (low, high) = (low.log10(), high.log10());
            let span = high - low;
            Scale::Log {
                min: 10f64.powf(low - 0.05 * span - 0.05),
                max: 10f64.powf(high + 0.3 * span),
            }
        } else {
            Scale::Linear {
                max: if high > 0.0 { high * 1.3 } else { 1.0 },
            }
        }
    }
}

/// Renders the chart as an SVG document with no blank lines (a blank line
/// would end the HTML block in markdown) and theme-following colours.
pub fn svg(bars: &[Bar], axis_title: &str, description: &str) -> Result<String> {
    if bars.is_empty() {
        return Err(anyhow!("a chart needs at least one bar"));
    }
    let rows = bars.len() as u32;
    let height = TOP + ROW_HEIGHT * rows + AXIS_AREA;
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    // The SVG backend cannot measure text; ~0.6 em per character is a safe
    // over-estimate for a sans-serif font.
    let label_area = (longest as u32 * FONT_SIZE * 6 / 10 + 16).clamp(48, 300);

    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        let mut builder = ChartBuilder::on(&root);
        builder
            .margin_top(TOP)
            .margin_right(16)
            .x_label_area_size(AXIS_AREA)
            .y_label_area_size(label_area);
        let y_range = 0f64..f64::from(rows);
        let layout = |e| anyhow!("laying out the chart: {e}");
        match Scale::choose(bars) {
            Scale::Linear { max } => {
                let chart = builder
                    .build_cartesian_2d(0f64..max, y_range)
                    .map_err(layout)?;
                draw(&root, chart, bars, axis_title, false)?;
            }
            Scale::Log { min, max } => {
                let chart = builder
                    .build_cartesian_2d((min..max).log_scale(), y_range)
                    .map_err(layout)?;
                draw(
                    &root,
                    chart,
                    bars,
                    &format!("{axis_title}, log scale"),
                    true,
                )?;
            }
        }
        root.present()
            .map_err(|e| anyhow!("finishing the SVG: {e}"))?;
    }
    Ok(themed(&out, description))
}

/// Draws axes, marks, whiskers and labels; `points` draws a dot at each
/// value instead of a bar from zero (a bar has no zero on a log axis).
fn draw<'a, DB, X>(
    root: &DrawingArea<DB, Shift>,
    mut chart: ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    bars: &[Bar],
    axis_title: &str,
    points: bool,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let failed = |what: &'static str| {
        move |e: DrawingAreaErrorKind<DB::ErrorType>| {
            anyhow!("drawing the {what}: {e}")
        }
    };
    let ink = BLACK;
    let label_style = TextStyle::from((FONT, FONT_SIZE).into_font()).color(&ink);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(6)
        .x_label_formatter(&|v| tick_label(*v))
        .x_desc(axis_title)
        .axis_style(ink)
        .bold_line_style(ink.mix(0.15))
        .light_line_style(ink.mix(0.0))
        .label_style(label_style.clone())
        .axis_desc_style(label_style.clone())
        .draw()
        .map_err(failed("axes"))?;

    let rows = bars.len();
    let centre = |row: usize| (rows - row) as f64 - 0.5;
    let origin = chart.x_range().start;
    for (row, bar) in bars.iter().enumerate() {
        let y = centre(row);
        if points {
            chart
                .draw_series([Circle::new((bar.value, y), 5, BAR.filled())])
                .map_err(failed("points"))?;
        } else {
            chart
                .draw_series([Rectangle::new(
                    [(0.0, y - 0.32), (bar.value, y + 0.32)],
                    BAR.filled(),
                )])
                .map_err(failed("bars"))?;
        }
        if let Some((lower, upper)) = bar.interval {
            let whisker = ShapeStyle::from(&ink).stroke_width(2);
            let lines = [
                vec![(lower, y), (upper, y)],
                vec![(lower, y - 0.18), (lower, y + 0.18)],
                vec![(upper, y - 0.18), (upper, y + 0.18)],
            ];
            chart
                .draw_series(
                    lines
                        .into_iter()
                        .map(|points| PathElement::new(points, whisker)),
                )
                .map_err(failed("whiskers"))?;
        }
        let end = bar
            .interval
            .map_or(bar.value, |(_, upper)| upper.max(bar.value));
        let (x, y_pixel) = chart.backend_coord(&(end, y));
        let (left, _) = chart.backend_coord(&(origin, y));
        let value_style = label_style.pos(Pos::new(HPos::Left, VPos::Center));
        let name_style = label_style.pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(
            bar.annotation.clone(),
            (x + 8, y_pixel),
            value_style,
        ))
        .and_then(|()| {
            root.draw(&Text::new(
                bar.label.clone(),
                (left - 8, y_pixel),
                name_style,
            ))
        })
        .map_err(failed("labels"))?;
    }
    Ok(())
}

/// Axis tick text without floating-point noise (`0.30000000000000004` → `0.3`).
pub(crate) fn tick_label(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// Rewrites black to `currentColor`, labels the image for screen readers and
/// drops blank lines.
pub(crate) fn themed(svg: &str, description: &str) -> String {
    let label = crate::render::escape(description);
    svg.replace("#000000", "currentColor")
        .replacen(
            "<svg ",
            &format!(
                "<svg class=\"bench-chart-svg\" role=\"img\" aria-label=\"{label}\" "
            ),
            1,
        )
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::Origin;
    use crate::results::Measurement;
    use crate::testutil::example_provenance;

    fn figure(
        id: &str,
        value: f64,
        unit: &str,
        interval: Option<(f64, f64)>,
    ) -> Figure {
        Figure {
            measurement: Measurement {
                id: id.into(),
                value,
                unit: unit.into(),
                lower: interval.map(|i| i.0),
                upper: interval.map(|i| i.1),
                confidence: None,
                statistic: "slope".into(),
                text: None,
            },
            origin: Origin::Fresh,
            provenance: example_provenance(),
        }
    }

    #[test]
    fn bars_share_the_unit_of_the_largest_time() {
        let a = figure("g/fast", 500.0, "ns", Some((490.0, 510.0)));
        let b = figure("g/slow/1024", 2.5, "µs", Some((2.4, 2.6)));
        let (bars, axis) = bars("g", &[&a, &b]).unwrap();
        assert_eq!(axis, "time per iteration (µs)");
        assert_eq!(bars[0].label, "fast");
        assert_eq!(bars[0].value, 0.5);
        assert_eq!(bars[0].interval, Some((0.49, 0.51)));
        assert_eq!(bars[0].annotation, "500 ns");
        assert_eq!(bars[1].label, "slow/1024");
        assert_eq!(bars[1].annotation, "2.50 µs");
    }

    #[test]
    fn counts_chart_in_their_own_unit_and_mixed_units_do_not_chart() {
        let a = figure("m/small", 1200.0, "states", None);
        let b = figure("m/large", 34_567.0, "states", None);
        let (bars_, axis) = bars("m", &[&a, &b]).unwrap();
        assert_eq!(axis, "states");
        assert_eq!(bars_[1].annotation, "34567 states");
        let t = figure("m/time", 1.0, "ns", None);
        assert_eq!(bars("m", &[&a, &t]), None);
    }

    #[test]
    fn svg_is_one_themed_block() {
        let a = figure("g/noop_tracer", 31.2, "ns", Some((30.9, 31.5)));
        let b = figure("g/sdk_tracer", 182.0, "ns", Some((180.0, 185.0)));
        let (bars, axis) = bars("g", &[&a, &b]).unwrap();
        let svg = svg(&bars, &axis, "g <timings>").unwrap();
        assert!(svg.starts_with(
            "<svg class=\"bench-chart-svg\" role=\"img\" aria-label=\"g &lt;timings&gt;\" "
        ));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(
            !svg.contains("\n\n"),
            "a blank line would end the markdown HTML block"
        );
        assert!(!svg.contains("#000000"), "ink follows the theme");
        assert!(svg.contains("currentColor"));
        assert!(svg.contains(&format!("fill=\"{BAR_FILL}\"")));
        for text in [
            "noop_tracer",
            "sdk_tracer",
            "31.2 ns",
            "182 ns",
            "time per iteration (ns)",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
        // Two bars plus six whisker strokes.
        assert_eq!(svg.matches(&format!("fill=\"{BAR_FILL}\"")).count(), 2);
        assert_eq!(svg.matches("stroke-width=\"2\"").count(), 6);
    }

    #[test]
    fn far_apart_figures_chart_as_points_on_a_log_axis() {
        let close = |value: f64| Bar {
            label: "x".into(),
            value,
            interval: Some((value * 0.9, value * 1.1)),
            annotation: String::new(),
        };
        assert_eq!(
            Scale::choose(&[close(10.0), close(200.0)]),
            Scale::Linear {
                max: 200.0 * 1.1 * 1.3
            }
        );
        let Scale::Log { min, max } = Scale::choose(&[close(30.0), close(60_000.0)])
        else {
            panic!("a 2000× spread needs a log axis");
        };
        assert!(min < 27.0 && max > 66_000.0, "{min}..{max}");

        let a = figure("g/noop", 31.2, "ns", Some((30.9, 31.5)));
        let b = figure("g/export", 61_234.0, "ns", Some((60_000.0, 63_000.0)));
        let (bars, axis) = bars("g", &[&a, &b]).unwrap();
        let svg = svg(&bars, &axis, "g").unwrap();
        assert!(svg.contains("time per iteration (µs), log scale"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(!svg.contains("<rect"), "no bars on a log axis");
        assert!(svg.contains("61.2 µs") && svg.contains("31.2 ns"));
    }

    #[test]
    fn tick_labels_have_no_float_noise() {
        assert_eq!(tick_label(0.1 + 0.2), "0.3");
        assert_eq!(tick_label(40.0), "40");
        assert_eq!(tick_label(0.0), "0");
    }

    #[test]
    fn long_labels_are_shortened() {
        let long = "x".repeat(50);
        assert_eq!(shorten(&long).chars().count(), LONGEST_LABEL);
        assert!(shorten(&long).ends_with('…'));
    }
}
