//! `{{#series GROUP/NAME}}`: the samples a run recorded as `GROUP/NAME/tK`
//! (K seconds after the load began), drawn as one line, with the run's
//! provenance under it. The soak of chapter 19 draws its memory this way.

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
