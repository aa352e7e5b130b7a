//! `{{#series GROUP/NAME}}`: the samples a run recorded as `GROUP/NAME/tK`
//! (K seconds after the load began), drawn as one line, with the run's
//! provenance under it. The soak of chapter 19 draws its memory this way.
//!
//! Or several lines against another x axis: samples `GROUP/NAME/LINE/xK`
//! (line LINE, at x = K), with the axis named by the text of the result
//! `GROUP/NAME/x`. Chapter 21 draws latency against offered load this way.

use crate::catalogue::{Catalogue, Figure};
use crate::chart::{BAR, FONT, FONT_SIZE, themed, tick_label};
use anyhow::{Result, anyhow};
use plotters::prelude::*;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 280;

/// The HTML block for the series `id`, or why it cannot be drawn.
pub fn block(id: &str, catalogue: &Catalogue) -> Result<String, String> {
    let (group, _) = id
        .split_once('/')
        .ok_or_else(|| format!("`{id}`: expected `{{{{#series GROUP/NAME}}}}`"))?;
    let figures = catalogue.group(group)?;
    if figures
        .iter()
        .any(|f| line_point(id, &f.measurement.id).is_some())
    {
        return lines_block(id, &figures);
    }
    let prefix = format!("{id}/t");
    let mut samples: Vec<(u32, &Figure)> = figures
        .iter()
        .filter_map(|f| {
            let k = f.measurement.id.strip_prefix(&prefix)?.parse().ok()?;
            Some((k, *f))
        })
        .collect();
    samples.sort_by_key(|(k, _)| *k);
    if samples.len() < 2 {
        return Err(format!(
            "`{id}`: a series needs at least two samples `{prefix}0`, `{prefix}1`, \
             ...; found {}",
            samples.len()
        ));
    }
    let unit = &samples[0].1.measurement.unit;
    if let Some((k, odd)) = samples.iter().find(|(_, f)| &f.measurement.unit != unit)
    {
        return Err(format!(
            "`{id}`: sample {k} is in {}, the first in {unit}",
            odd.measurement.unit
        ));
    }
    let points: Vec<(f64, f64)> = samples
        .iter()
        .map(|(k, f)| (f64::from(*k), f.measurement.value))
        .collect();
    let description =
        format!("{id}: {} samples, one a second, in {unit}", points.len());
    let svg = draw(&points, unit, &description).map_err(|e| format!("{e:#}"))?;
    let figures: Vec<&Figure> = samples.iter().map(|(_, f)| *f).collect();
    let provenance = crate::render::provenance_lines(&figures).join("<br>");
    Ok(format!(
        "\n\n<div class=\"bench-series\" data-bench-series=\"{}\">\n\
         <div class=\"bench-chart\">\n{}\n</div>\n\
         <p class=\"bench-provenance-line\">{provenance}</p>\n</div>\n\n",
        crate::render::escape(id),
        svg.trim()
    ))
}

/// `(LINE, K)` when `sample` is `ID/LINE/xK`.
fn line_point<'a>(id: &str, sample: &'a str) -> Option<(&'a str, u32)> {
    let rest = sample.strip_prefix(id)?.strip_prefix('/')?;
    let (line, x) = rest.split_once('/')?;
    let k = x.strip_prefix('x')?.parse().ok()?;
    (!line.is_empty()).then_some((line, k))
}

/// Several lines, `ID/LINE/xK`, against the x axis named by `ID/x`'s text.
fn lines_block(id: &str, figures: &[&Figure]) -> Result<String, String> {
    let mut lines: Vec<(&str, Vec<(u32, &Figure)>)> = Vec::new();
    for f in figures {
        let Some((line, k)) = line_point(id, &f.measurement.id) else {
            continue;
        };
        match lines.iter_mut().find(|(name, _)| *name == line) {
            Some((_, points)) => points.push((k, *f)),
            None => lines.push((line, vec![(k, *f)])),
        }
    }
    let Some(unit) = lines.first().map(|(_, p)| &p[0].1.measurement.unit) else {
        return Err(format!("`{id}`: no samples `{id}/LINE/xK`"));
    };
    for (line, points) in &mut lines {
        points.sort_by_key(|(k, _)| *k);
        if points.len() < 2 {
            return Err(format!("`{id}`: line `{line}` has fewer than two points"));
        }
        if let Some((k, odd)) =
            points.iter().find(|(_, f)| &f.measurement.unit != unit)
        {
            return Err(format!(
                "`{id}`: `{line}` at x{k} is in {}, the first line in {unit}",
                odd.measurement.unit
            ));
        }
    }
    let axis = figures
        .iter()
        .find(|f| f.measurement.id == format!("{id}/x"))
        .and_then(|f| f.measurement.text.as_deref())
        .ok_or_else(|| {
            format!("`{id}`: lines need the x axis' name, the text of `{id}/x`")
        })?;
    let drawn: Vec<(&str, Vec<(f64, f64)>)> = lines
        .iter()
        .map(|(line, points)| {
            let xy = points
                .iter()
                .map(|(k, f)| (f64::from(*k), f.measurement.value))
                .collect();
            (*line, xy)
        })
        .collect();
    let description =
        format!("{id}: {} lines against {axis}, in {unit}", drawn.len());
    let svg = draw_lines(&drawn, axis, unit, &description)
        .map_err(|e| format!("{e:#}"))?;
    let all: Vec<&Figure> = lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|(_, f)| *f))
        .collect();
    let provenance = crate::render::provenance_lines(&all).join("<br>");
    Ok(format!(
        "\n\n<div class=\"bench-series\" data-bench-series=\"{}\">\n\
         <div class=\"bench-chart\">\n{}\n</div>\n\
         <p class=\"bench-provenance-line\">{provenance}</p>\n</div>\n\n",
        crate::render::escape(id),
        svg.trim()
    ))
}

/// Line colours (Tableau 10), readable on the light and the dark themes.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xB0, 0x7A, 0xA1),
];

/// Each line in a colour of its own, with a legend, on axes from zero.
fn draw_lines(
    lines: &[(&str, Vec<(f64, f64)>)],
    axis: &str,
    unit: &str,
    description: &str,
) -> Result<String> {
    let all = || lines.iter().flat_map(|(_, points)| points.iter());
    let x_max = all().map(|p| p.0).fold(0.0, f64::max).max(1.0);
    let y_max = all().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.15;
    let ink = BLACK;
    let style = TextStyle::from((FONT, FONT_SIZE).into_font()).color(&ink);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT + 80))
            .into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| anyhow!("laying out the lines: {e}"))?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&|v| tick_label(v.round()))
            .y_label_formatter(&|v| tick_label((v * 100.0).round() / 100.0))
            .x_desc(axis)
            .y_desc(unit)
            .axis_style(ink)
            .bold_line_style(ink.mix(0.15))
            .light_line_style(ink.mix(0.0))
            .label_style(style.clone())
            .axis_desc_style(style.clone())
            .draw()
            .map_err(|e| anyhow!("drawing the axes: {e}"))?;
        for (i, (name, points)) in lines.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| anyhow!("drawing line {name}: {e}"))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(style)
            .background_style(ink.mix(0.0))
            .border_style(ink.mix(0.3))
            .draw()
            .map_err(|e| anyhow!("drawing the legend: {e}"))?;
        root.present()
            .map_err(|e| anyhow!("finishing the SVG: {e}"))?;
    }
    Ok(themed(&out, description))
}

/// The line, on axes that start at zero: a flat line then looks flat, and a
/// small rise is not blown up to fill the height.
fn draw(points: &[(f64, f64)], unit: &str, description: &str) -> Result<String> {
    let x_max = points.last().map_or(1.0, |p| p.0).max(1.0);
    let y_max = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.15;
    let ink = BLACK;
    let style = TextStyle::from((FONT, FONT_SIZE).into_font()).color(&ink);
    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| anyhow!("laying out the series: {e}"))?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&|v| tick_label(v.round()))
            .y_label_formatter(&|v| tick_label((v * 10.0).round() / 10.0))
            .x_desc("seconds since the load began")
            .y_desc(unit)
            .axis_style(ink)
            .bold_line_style(ink.mix(0.15))
            .light_line_style(ink.mix(0.0))
            .label_style(style.clone())
            .axis_desc_style(style)
            .draw()
            .map_err(|e| anyhow!("drawing the axes: {e}"))?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BAR.stroke_width(2),
            ))
            .map_err(|e| anyhow!("drawing the line: {e}"))?;
        root.present()
            .map_err(|e| anyhow!("finishing the SVG: {e}"))?;
    }
    Ok(themed(&out, description))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::Origin;
    use crate::results::Measurement;
    use crate::testutil::example_provenance;
    use std::path::PathBuf;

    fn catalogue(samples: &[(&str, f64, &str)]) -> Catalogue {
        let figures = samples
            .iter()
            .map(|(id, value, unit)| Figure {
                measurement: Measurement::count(*id, *value, *unit),
                origin: Origin::Fresh,
                provenance: example_provenance(),
            })
            .collect();
        Catalogue::new(
            figures,
            None,
            PathBuf::from("target/criterion"),
            PathBuf::from(crate::baseline::DEFAULT_PATH),
        )
    }

    #[test]
    fn draws_the_samples_in_time_order() {
        let c = catalogue(&[
            ("soak/rss/t0002", 60.0, "MiB"),
            ("soak/rss/t0000", 50.0, "MiB"),
            ("soak/rss/t0001", 55.0, "MiB"),
            ("soak/fds/t0000", 40.0, "descriptors"),
        ]);
        let html = block("soak/rss", &c).unwrap();
        assert!(html.contains("data-bench-series=\"soak/rss\""), "{html}");
        assert!(html.contains("3 samples, one a second, in MiB"));
        assert!(html.contains("<polyline") || html.contains("<path"));
        assert!(html.contains("commit abc1234"));
        assert!(!html.contains("\n\n<svg"));
    }

    #[test]
    fn draws_several_lines_against_a_named_axis() {
        let mut c = vec![
            ("g/lat/a_p99/x50", 2.0, "ms"),
            ("g/lat/a_p99/x10", 1.0, "ms"),
            ("g/lat/b_p99/x10", 1.5, "ms"),
            ("g/lat/b_p99/x90", 9.0, "ms"),
            ("g/other", 3.0, "ms"),
        ];
        let without_axis = catalogue(&c);
        assert!(
            block("g/lat", &without_axis)
                .unwrap_err()
                .contains("the text of `g/lat/x`")
        );
        c.push(("g/lat/x", 2.0, "points"));
        let plain = catalogue(&c);
        let mut owned: Vec<Figure> =
            plain.group("g").unwrap().into_iter().cloned().collect();
        for f in &mut owned {
            if f.measurement.id == "g/lat/x" {
                f.measurement.text = Some("% of saturation".into());
            }
        }
        let with_axis = Catalogue::new(
            owned,
            None,
            PathBuf::from("target/criterion"),
            PathBuf::from(crate::baseline::DEFAULT_PATH),
        );
        let html = block("g/lat", &with_axis).unwrap();
        assert!(
            html.contains("2 lines against % of saturation, in ms"),
            "{html}"
        );
        assert!(html.contains("a_p99") && html.contains("b_p99"), "{html}");
        assert!(html.contains("#F28E2B"), "second line in the second colour");
        let one_point = catalogue(&[
            ("g/lat/a_p99/x10", 1.0, "ms"),
            ("g/lat/b_p99/x10", 1.0, "ms"),
            ("g/lat/b_p99/x20", 1.0, "ms"),
        ]);
        assert!(block("g/lat", &one_point).unwrap_err().contains("`a_p99`"));
    }

    #[test]
    fn refuses_what_is_not_a_series() {
        let one = catalogue(&[("soak/rss/t0000", 50.0, "MiB")]);
        assert!(block("soak/rss", &one).unwrap_err().contains("found 1"));
        let mixed = catalogue(&[
            ("soak/rss/t0000", 50.0, "MiB"),
            ("soak/rss/t0001", 50.0, "KiB"),
        ]);
        assert!(block("soak/rss", &mixed).unwrap_err().contains("sample 1"));
        assert!(block("soak", &one).is_err());
        assert!(block("other/rss", &one).is_err());
    }
}
