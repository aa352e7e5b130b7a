//! `{{#flamegraph GROUP/NAME}}`: the stacks a profiled run recorded, in the
//! folded format (`outer;inner;leaf COUNT`, one line per distinct stack),
//! drawn as a flame graph by inferno. The SVG carries inferno's script
//! (click a frame to zoom, search by name), so it goes into the page as the
//! document of an iframe: inline, the script would take the page's first
//! `<svg>` (a diagram, an icon) for its own.

use crate::catalogue::Catalogue;
use crate::render::escape;

/// The HTML block for the stacks `id`, or why they cannot be drawn.
pub fn block(id: &str, catalogue: &Catalogue) -> Result<String, String> {
    let figure = catalogue.figure(id)?;
    let m = &figure.measurement;
    let folded = m
        .text
        .as_deref()
        .ok_or_else(|| format!("`{id}` has no recorded stacks to draw"))?;
    let total = samples(folded).map_err(|e| format!("`{id}`: {e}"))?;
    if total as f64 != m.value {
        return Err(format!(
            "`{id}`: the stacks hold {total} samples, the result says {}",
            m.value
        ));
    }
    let svg = draw(folded, id).map_err(|e| format!("`{id}`: {e}"))?;
    let height = svg_height(&svg).unwrap_or(600);
    let provenance = crate::render::provenance_lines(&[figure]).join("<br>");
    Ok(format!(
        "\n\n<div class=\"bench-flamegraph\" data-bench-id=\"{}\" \
         data-samples=\"{total}\">\n<iframe title=\"flame graph of {}\" \
         style=\"width:100%;height:{height}px;border:0\" srcdoc=\"{}\"></iframe>\n\
         <p class=\"bench-provenance-line\">{total} samples. {provenance}</p>\n\
         </div>\n\n",
        escape(id),
        escape(id),
        escape(&svg).replace('\n', "&#10;"),
    ))
}

/// The number of samples in folded stacks, or the first line that is not
/// `STACK COUNT`.
pub fn samples(folded: &str) -> Result<u64, String> {
    let mut total = 0u64;
    for (i, line) in folded.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let count: u64 = line
            .rsplit_once(' ')
            .filter(|(stack, _)| !stack.is_empty())
            .and_then(|(_, n)| n.parse().ok())
            .ok_or_else(|| {
                format!("line {} is not `STACK COUNT`: {line:?}", i + 1)
            })?;
        total += count;
    }
    if total == 0 {
        return Err("no samples".into());
    }
    Ok(total)
}

/// The SVG document inferno draws, the same bytes for the same stacks.
fn draw(folded: &str, id: &str) -> Result<String, String> {
    let mut options = inferno::flamegraph::Options::default();
    options.title = id.to_owned();
    options.count_name = "samples".to_owned();
    options.deterministic = true;
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut svg)
        .map_err(|e| format!("drawing the flame graph: {e}"))?;
    String::from_utf8(svg).map_err(|e| format!("the drawing is not UTF-8: {e}"))
}

/// The `height` the SVG asks for, in pixels.
fn svg_height(svg: &str) -> Option<u32> {
    let start = svg.find("<svg")?;
    let tag = &svg[start..start + svg[start..].find('>')?];
    let value = tag.split("height=\"").nth(1)?.split('"').next()?;
    value.trim_end_matches("px").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACKS: &str = "main;work;encode 7\nmain;work;send 3\nmain;idle 2";

    #[test]
    fn counts_samples_and_refuses_what_is_not_folded() {
        assert_eq!(samples(STACKS), Ok(12));
        assert!(samples("main;work seven").unwrap_err().contains("line 1"));
        assert!(samples("").is_err());
        assert!(samples(" 4").is_err());
    }

    #[test]
    fn draws_every_frame_and_says_how_tall_it_is() {
        let svg = draw(STACKS, "g/stacks").unwrap();
        for frame in ["encode", "send", "idle", "work"] {
            assert!(svg.contains(frame), "{frame} missing");
        }
        assert!(svg_height(&svg).is_some_and(|h| h > 50));
        assert_eq!(svg, draw(STACKS, "g/stacks").unwrap(), "deterministic");
    }
}
