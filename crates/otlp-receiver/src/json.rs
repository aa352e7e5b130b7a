//! OTLP/JSON rendering of what a receiver got, for printing in the book.
//!
//! OTLP/JSON is the proto3 JSON mapping with the changes the OTLP
//! specification makes ("JSON Protobuf Encoding"): trace and span ids are
//! hex strings, field names are lowerCamelCase, enums are integers and
//! 64-bit integers are decimal strings.

use serde::Serialize;
use serde_json::Value;

/// The placeholder [`masked`] puts in place of every timestamp.
pub const TIME_MASK: &str = "<time>";

/// `message` as pretty-printed OTLP/JSON.
pub fn pretty<T: Serialize>(message: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(message)
}

/// `message` as pretty-printed OTLP/JSON with the value of every timestamp
/// field (`startTimeUnixNano`, `timeUnixNano`, `observedTimeUnixNano`, ...)
/// other than `"0"` (unset) replaced by [`TIME_MASK`], so that two runs
/// print the same text. Fields keep the order of the proto definition,
/// which is the order the exporters write them in.
pub fn masked<T: Serialize>(message: &T) -> serde_json::Result<String> {
    let text = serde_json::to_string_pretty(message)?;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&mask_line(line));
        out.push('\n');
    }
    out.pop();
    Ok(out)
}

fn is_time_key(key: &str) -> bool {
    key == "timeUnixNano" || key.ends_with("TimeUnixNano")
}

/// Masks `"xTimeUnixNano": "123",` on one line of pretty-printed JSON.
fn mask_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let Some(rest) = trimmed.strip_prefix('"') else {
        return line.to_owned();
    };
    let Some((key, value)) = rest.split_once("\": ") else {
        return line.to_owned();
    };
    let comma = if value.ends_with(',') { "," } else { "" };
    let bare = value.trim_end_matches(',');
    if !is_time_key(key) || bare == "\"0\"" || !bare.starts_with('"') {
        return line.to_owned();
    }
    let indent = &line[..line.len() - trimmed.len()];
    format!("{indent}\"{key}\": \"{TIME_MASK}\"{comma}")
}

/// Replaces the value of every timestamp key (see [`masked`]) in a JSON
/// value with [`TIME_MASK`], leaving unset (`"0"`) ones.
pub fn mask_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_time_key(key) && v.as_str().is_some_and(|s| s != "0") {
                    *v = Value::String(TIME_MASK.into());
                } else {
                    mask_times(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_times),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_set_times_and_keeps_unset_ones() {
        let value = json!({
            "startTimeUnixNano": "1544712660000000000",
            "events": [{"timeUnixNano": "1544712660500000000", "name": "e"}],
            "observedTimeUnixNano": "0",
            "timeUnixNanoSuffix": "7",
        });
        let text = masked(&value).expect("json");
        assert!(text.contains("\"startTimeUnixNano\": \"<time>\""), "{text}");
        assert!(text.contains("\"timeUnixNano\": \"<time>\""), "{text}");
        assert!(text.contains("\"observedTimeUnixNano\": \"0\""), "{text}");
        assert!(text.contains("\"timeUnixNanoSuffix\": \"7\""), "{text}");
        assert!(!text.contains("1544712660"), "{text}");

        let mut value = value;
        mask_times(&mut value);
        assert_eq!(value["startTimeUnixNano"], TIME_MASK);
        assert_eq!(value["events"][0]["timeUnixNano"], TIME_MASK);
        assert_eq!(value["observedTimeUnixNano"], "0");
    }
}
