//! The HTML that replaces `{{#bench}}` and `{{#bench-table}}`.
//!
//! Every number sits in a `<span class="bench">` whose `data-*` attributes
//! carry the unrounded value (`data-ns` for times, which for a criterion
//! result is its `estimates.json` point estimate printed with Rust's
//! shortest round-trip formatting), so a test can compare the page with the
//! source exactly, while the reader sees three significant digits.

use crate::catalogue::Figure;
use crate::provenance::{Origin, Provenance};
use crate::scale::{self, TimeUnit};
use std::collections::BTreeMap;

/// Escapes text for an HTML attribute value or element content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The figure's number as the reader sees it, unit included, e.g. `182&nbsp;ns`.
pub fn shown_value(figure: &Figure) -> (String, Option<TimeUnit>) {
    let m = &figure.measurement;
    match m.nanos() {
        Some(nanos) => {
            let (number, unit) = scale::time(nanos);
            (format!("{number}&nbsp;{unit}"), Some(unit))
        }
        None => (
            format!("{}&nbsp;{}", scale::plain(m.value), escape(&m.unit)),
            None,
        ),
    }
}

/// The interval as the reader sees it, in the unit of the estimate,
/// e.g. `180–185&nbsp;ns`.
pub fn shown_interval(figure: &Figure, unit: Option<TimeUnit>) -> Option<String> {
    let m = &figure.measurement;
    match (unit, m.interval_nanos()) {
        (Some(unit), Some((lower, upper))) => Some(format!(
            "{}–{}&nbsp;{unit}",
            scale::time_in(lower, unit),
            scale::time_in(upper, unit)
        )),
        _ => {
            let (lower, upper) = m.lower.zip(m.upper)?;
            Some(format!(
                "{}–{}&nbsp;{}",
                scale::plain(lower),
                scale::plain(upper),
                escape(&m.unit)
            ))
        }
    }
}

/// What a figure's interval is: a confidence interval, or, for the median
/// of repeated runs, the range of the repeats or, for the median of many
/// interleaved rounds, their quartiles (neither is a confidence interval).
fn interval_label(m: &crate::results::Measurement) -> String {
    if m.confidence.is_none() && m.statistic.starts_with("median") {
        if m.statistic.contains("quartiles") {
            return "quartiles of the rounds".to_owned();
        }
        "range of the repeats".to_owned()
    } else {
        interval_name(m.confidence)
    }
}

/// `95&nbsp;% CI`, or `CI` when the level is unknown.
fn interval_name(confidence: Option<f64>) -> String {
    match confidence {
        Some(level) => format!(
            "{}&nbsp;% CI",
            scale::plain((level * 100.0 * 1e6).round() / 1e6)
        ),
        None => "CI".to_owned(),
    }
}

/// The `<span class="bench" ...>` around a number.
fn value_span(figure: &Figure) -> String {
    let m = &figure.measurement;
    let mut attributes = format!(
        " class=\"bench\" data-bench-id=\"{}\" data-value=\"{}\" data-unit=\"{}\"",
        escape(&m.id),
        m.value,
        escape(&m.unit)
    );
    if let Some(nanos) = m.nanos() {
        attributes.push_str(&format!(" data-ns=\"{nanos}\""));
    }
    if let Some((lower, upper)) = m.interval_nanos() {
        attributes.push_str(&format!(
            " data-lower-ns=\"{lower}\" data-upper-ns=\"{upper}\""
        ));
    } else if let Some((lower, upper)) = m.lower.zip(m.upper) {
        attributes
            .push_str(&format!(" data-lower=\"{lower}\" data-upper=\"{upper}\""));
    }
    attributes.push_str(&format!(
        " data-statistic=\"{}\" data-source=\"{}\"",
        escape(&m.statistic),
        figure.origin
    ));
    let (shown, _) = shown_value(figure);
    format!("<span{attributes}>{shown}</span>")
}

/// The small mark after an inline figure: visible text `fresh` or
/// `baseline`, the full provenance in its tooltip.
pub fn provenance_mark(figure: &Figure) -> String {
    format!(
        "<sup class=\"bench-provenance\" data-source=\"{origin}\" title=\"{}\">{origin}</sup>",
        escape(&figure.provenance.describe(figure.origin)),
        origin = figure.origin
    )
}

/// What replaces `{{#bench ID}}`:
/// `182 ns (95 % CI 180–185 ns)` plus the provenance mark.
pub fn inline(figure: &Figure) -> String {
    let (_, unit) = shown_value(figure);
    let interval = shown_interval(figure, unit)
        .map(|range| {
            format!(
                " <span class=\"bench-ci\">({} {range})</span>",
                interval_label(&figure.measurement)
            )
        })
        .unwrap_or_default();
    format!(
        "{}{interval}{}",
        value_span(figure),
        provenance_mark(figure)
    )
}

/// What replaces `{{#result-text ID}}`: the recorded text in a preformatted
/// block, then the figure and where it was measured. An error if the
/// result has no text.
pub fn text_block(figure: &Figure) -> Result<String, String> {
    let text = figure.measurement.text.as_deref().ok_or_else(|| {
        format!(
            "result `{}` has no text (record it with `Measurement::with_text`)",
            figure.measurement.id
        )
    })?;
    // A block that starts with `<pre` ends only at `</pre>` (CommonMark's
    // first kind of HTML block), so blank lines in the text are safe.
    Ok(format!(
        "\n\n<pre class=\"result-text\" data-bench-id=\"{id}\" data-source=\"{origin}\"><code>{body}</code></pre>\n\n\
         <p class=\"bench-provenance-line\">{caption}</p>\n\n",
        id = escape(&figure.measurement.id),
        origin = figure.origin,
        body = escape(text.trim_end()),
        caption = escape(&capitalised(&figure.provenance.describe(figure.origin))),
    ))
}

/// What replaces `{{#bench-table GROUP}}`: a table, the chart (if the rows
/// share a unit) and the provenance, as one HTML block with no blank line
/// inside, surrounded by blank lines so markdown treats it as a block.
pub fn table(group: &str, figures: &[&Figure], chart_svg: Option<&str>) -> String {
    let levels: Vec<Option<f64>> =
        figures.iter().map(|f| f.measurement.confidence).collect();
    let shared_level = levels.windows(2).all(|w| w[0] == w[1]);
    let ci_header = if shared_level {
        interval_name(levels.first().copied().flatten())
    } else {
        "CI".to_owned()
    };
    let provenances = provenance_lines(figures);
    let mark_rows = provenances.len() > 1;

    let mut html = format!(
        "\n\n<div class=\"bench-table\" data-bench-group=\"{}\">\n<table>\n<thead><tr><th>Benchmark</th><th>Estimate</th><th>{ci_header}</th><th>Statistic</th></tr></thead>\n<tbody>\n",
        escape(group)
    );
    for figure in figures {
        let (_, unit) = shown_value(figure);
        let interval =
            shown_interval(figure, unit).unwrap_or_else(|| "—".to_owned());
        let interval = if shared_level || figure.measurement.confidence.is_none() {
            interval
        } else {
            format!(
                "{interval} ({})",
                interval_name(figure.measurement.confidence)
            )
        };
        let mark = if mark_rows {
            provenance_mark(figure)
        } else {
            String::new()
        };
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}{mark}</td><td>{interval}</td><td>{}</td></tr>\n",
            escape(figure.measurement.label_in(group)),
            value_span(figure),
            escape(&figure.measurement.statistic)
        ));
    }
    html.push_str("</tbody>\n</table>\n");
    if let Some(svg) = chart_svg {
        html.push_str("<div class=\"bench-chart\">\n");
        html.push_str(svg.trim());
        html.push_str("\n</div>\n");
    }
    html.push_str("<p class=\"bench-provenance-line\">");
    html.push_str(&provenances.join("<br>"));
    html.push_str("</p>\n</div>\n\n");
    html
}

/// One line per distinct origin, machine and commit, with the dates they
/// span: results derived from file times differ by seconds, and one line per
/// result would bury the table.
pub fn provenance_lines(figures: &[&Figure]) -> Vec<String> {
    type Key<'a> = (Origin, &'a str, u32, &'a str, Option<&'a str>);
    let mut groups: BTreeMap<Key<'_>, (&str, &str)> = BTreeMap::new();
    for figure in figures {
        let p = &figure.provenance;
        let key = (
            figure.origin,
            p.cpu.as_str(),
            p.cores,
            p.commit.as_str(),
            p.note.as_deref(),
        );
        let dates = groups.entry(key).or_insert((&p.date, &p.date));
        dates.0 = dates.0.min(&p.date);
        dates.1 = dates.1.max(&p.date);
    }
    groups
        .into_iter()
        .map(|((origin, cpu, cores, commit, note), (first, last))| {
            let date = if first == last {
                first.to_owned()
            } else {
                format!("{first} to {last}")
            };
            let provenance = Provenance {
                cpu: cpu.to_owned(),
                cores,
                date,
                commit: commit.to_owned(),
                note: note.map(str::to_owned),
            };
            let text = provenance.describe(origin);
            format!(
                "<span data-source=\"{origin}\">{}</span>",
                escape(&capitalised(&text))
            )
        })
        .collect()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Measurement;
    use crate::testutil::example_provenance;

    fn figure(
        id: &str,
        value: f64,
        interval: Option<(f64, f64)>,
        origin: Origin,
    ) -> Figure {
        Figure {
            measurement: Measurement {
                id: id.into(),
                value,
                unit: "ns".into(),
                lower: interval.map(|i| i.0),
                upper: interval.map(|i| i.1),
                confidence: interval.map(|_| 0.95),
                statistic: "slope".into(),
                text: None,
            },
            origin,
            provenance: example_provenance(),
        }
    }

    #[test]
    fn inline_figure_carries_exact_value_and_provenance() {
        let fig = figure("g/f", 181.934_567_8, Some((180.1, 185.2)), Origin::Fresh);
        assert_eq!(
            inline(&fig),
            "<span class=\"bench\" data-bench-id=\"g/f\" data-value=\"181.9345678\" data-unit=\"ns\" \
             data-ns=\"181.9345678\" data-lower-ns=\"180.1\" data-upper-ns=\"185.2\" data-statistic=\"slope\" \
             data-source=\"fresh\">182&nbsp;ns</span> <span class=\"bench-ci\">(95&nbsp;% CI 180–185&nbsp;ns)</span>\
             <sup class=\"bench-provenance\" data-source=\"fresh\" title=\"fresh measurement · Example CPU @ 2.40GHz · \
             2 cores · 2026-11-25T22:00:00Z · commit abc1234\">fresh</sup>"
        );
    }

    #[test]
    fn interval_is_written_in_the_unit_of_the_estimate() {
        let fig = figure("g/f", 999.6, Some((998.0, 1_001.0)), Origin::Baseline);
        let (shown, unit) = shown_value(&fig);
        assert_eq!(shown, "1.00&nbsp;µs");
        assert_eq!(shown_interval(&fig, unit).unwrap(), "0.998–1.00&nbsp;µs");
        assert!(inline(&fig).ends_with(">baseline</sup>"));
    }

    #[test]
    fn figures_without_interval_or_time_unit() {
        let mut fig = figure("model/states", 12_345.0, None, Origin::Baseline);
        fig.measurement.unit = "states".into();
        fig.measurement.statistic = "count".into();
        let html = inline(&fig);
        assert!(html.contains(">12345&nbsp;states</span><sup"), "{html}");
        assert!(!html.contains("data-ns"));
        assert!(!html.contains("CI"));
    }

    #[test]
    fn a_median_of_repeats_shows_their_range_not_a_ci() {
        let mut fig = figure("faults/x_vs_healthy", 0.97, None, Origin::Fresh);
        fig.measurement.unit = "×".into();
        fig.measurement.statistic = "median ratio".into();
        fig.measurement.lower = Some(0.9);
        fig.measurement.upper = Some(1.01);
        fig.measurement.confidence = None;
        let html = inline(&fig);
        assert!(html.contains("(range of the repeats 0.900–1.01"), "{html}");
        assert!(!html.contains("CI"), "{html}");
    }

    #[test]
    fn interleaved_rounds_show_their_quartiles() {
        let mut fig = figure("paired_g/a/over/b", 1.01, None, Origin::Fresh);
        fig.measurement.unit = "×".into();
        fig.measurement.statistic =
            "median of 31 interleaved rounds, with the quartiles".into();
        (fig.measurement.lower, fig.measurement.upper) = (Some(0.95), Some(1.08));
        let html = inline(&fig);
        assert!(
            html.contains("(quartiles of the rounds 0.950–1.08"),
            "{html}"
        );
        assert!(!html.contains("range of the repeats"), "{html}");
    }

    #[test]
    fn table_lists_rows_chart_and_one_provenance() {
        let a = figure("g/a", 31.2, Some((30.9, 31.5)), Origin::Fresh);
        let b = figure("g/b/10", 2_500.0, Some((2_400.0, 2_600.0)), Origin::Fresh);
        let html = table("g", &[&a, &b], Some("<svg>\n</svg>\n"));
        assert!(
            html.starts_with(
                "\n\n<div class=\"bench-table\" data-bench-group=\"g\">"
            )
        );
        assert!(html.ends_with("</div>\n\n"));
        assert!(!html.trim().contains("\n\n"));
        assert!(html.contains("<th>95&nbsp;% CI</th>"));
        assert!(html.contains(
            "<tr><td><code>a</code></td><td><span class=\"bench\" data-bench-id=\"g/a\""
        ));
        assert!(html.contains(
            ">31.2&nbsp;ns</span></td><td>30.9–31.5&nbsp;ns</td><td>slope</td></tr>"
        ));
        assert!(html.contains("<code>b/10</code>"));
        assert!(
            html.contains(">2.50&nbsp;µs</span></td><td>2.40–2.60&nbsp;µs</td>")
        );
        assert!(html.contains("<div class=\"bench-chart\">\n<svg>\n</svg>\n</div>"));
        assert!(html.contains(
            "<p class=\"bench-provenance-line\"><span data-source=\"fresh\">Fresh measurement · Example CPU @ 2.40GHz · 2 cores · 2026-11-25T22:00:00Z · commit abc1234</span></p>"
        ));
        assert!(!html.contains("<sup"), "one provenance: no per-row marks");
    }

    #[test]
    fn mixed_sources_mark_rows_and_merge_dates() {
        let a = figure("g/a", 1.0, None, Origin::Fresh);
        let mut b = figure("g/b", 2.0, None, Origin::Fresh);
        b.provenance.date = "2026-11-25T22:01:40Z".into();
        let c = figure("g/c", 3.0, None, Origin::Baseline);
        let lines = provenance_lines(&[&a, &b, &c]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("Fresh measurement · Example CPU @ 2.40GHz · 2 cores · 2026-11-25T22:00:00Z to 2026-11-25T22:01:40Z"));
        assert!(
            lines[1]
                .starts_with("<span data-source=\"baseline\">Committed baseline")
        );
        let html = table("g", &[&a, &b, &c], None);
        assert_eq!(html.matches("<sup class=\"bench-provenance\"").count(), 3);
        assert!(!html.contains("bench-chart"));
        assert!(html.contains("<td>—</td>"));
        assert!(html.contains("<th>CI</th>"));
    }

    #[test]
    fn text_blocks_show_the_text_escaped_with_provenance() {
        let mut with_text = figure("g/trace", 3.0, None, Origin::Fresh);
        with_text.measurement.unit = "states".into();
        with_text.measurement.text = Some("a -> <b>\n\nc\n".into());
        let html = text_block(&with_text).unwrap();
        assert!(
            html.contains("<code>a -&gt; &lt;b&gt;\n\nc</code></pre>"),
            "{html}"
        );
        assert!(html.starts_with(
            "\n\n<pre class=\"result-text\" data-bench-id=\"g/trace\""
        ));
        assert!(html.contains("Fresh measurement · Example CPU"));
        let without = figure("g/plain", 3.0, None, Origin::Fresh);
        assert!(text_block(&without).unwrap_err().contains("has no text"));
    }

    #[test]
    fn escapes_html() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }
}
