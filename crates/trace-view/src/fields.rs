//! Reading one field of an OTLP/JSON object, with the error a reader can act on.
//!
//! OTLP/JSON is the proto3 JSON mapping with the OTLP specification's changes
//! ("JSON Protobuf Encoding"): lowerCamelCase names, trace and span ids as
//! hex (not base64), enums as integers, 64-bit integers as decimal strings.
//! Receivers must also accept enum names and 64-bit integers as numbers, and
//! a field left out means its default: so does this reader.

use crate::capture::Problem;
use serde_json::Value;

/// `problem` at `path`.
pub(crate) fn wrong(path: &str, what: impl Into<String>) -> Problem {
    Problem::Field {
        path: path.to_owned(),
        what: what.into(),
    }
}

/// The array at `key` (empty if left out or null).
pub(crate) fn array<'a>(
    v: &'a Value,
    key: &str,
    path: &str,
) -> Result<&'a [Value], Problem> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => {
            Err(wrong(&format!("{path}.{key}"), expected("an array", other)))
        }
    }
}

/// The string at `key` (empty if left out or null).
pub(crate) fn string(v: &Value, key: &str, path: &str) -> Result<String, Problem> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => {
            Err(wrong(&format!("{path}.{key}"), expected("a string", other)))
        }
    }
}

/// The id at `key`: `bytes` bytes as hex, lowercased. Empty (or all zeros)
/// is allowed only when not `required`, and then gives "".
pub(crate) fn hex_id(
    v: &Value,
    key: &str,
    path: &str,
    bytes: usize,
    required: bool,
) -> Result<String, Problem> {
    let text = string(v, key, path)?;
    let at = format!("{path}.{key}");
    let empty = text.is_empty() || text.bytes().all(|b| b == b'0');
    if empty && !required {
        return Ok(String::new());
    }
    if text.is_empty() {
        return Err(wrong(&at, "missing id"));
    }
    if text.len() != bytes * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let hint = if looks_base64(&text, bytes) {
            " (this looks like base64: OTLP/JSON writes ids as hex)"
        } else {
            ""
        };
        return Err(wrong(
            &at,
            format!("{text:?} is not {} hex digits{hint}", bytes * 2),
        ));
    }
    Ok(text.to_ascii_lowercase())
}

fn looks_base64(text: &str, bytes: usize) -> bool {
    text.len() == bytes.div_ceil(3) * 4
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
}

/// Unix nanoseconds at `key`, a decimal string or a number (0 if left out).
pub(crate) fn nanos(v: &Value, key: &str, path: &str) -> Result<u64, Problem> {
    let parsed = match v.get(key) {
        None | Some(Value::Null) => Some(0),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    };
    parsed.ok_or_else(|| {
        let shown = v.get(key).map(Value::to_string).unwrap_or_default();
        wrong(
            &format!("{path}.{key}"),
            format!("{shown} is not a whole number of nanoseconds"),
        )
    })
}

/// The enum at `key` as its number: an integer, or one of `names`
/// (which are in number order). 0 if left out.
pub(crate) fn enumeration(
    v: &Value,
    key: &str,
    path: &str,
    names: &[&str],
) -> Result<usize, Problem> {
    let found = match v.get(key) {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(n)) => n.as_u64().map(|n| n as usize),
        Some(Value::String(s)) => names.iter().position(|name| name == s),
        Some(_) => None,
    };
    match found {
        Some(n) if n < names.len() => Ok(n),
        _ => {
            let shown = v.get(key).map(Value::to_string).unwrap_or_default();
            let what = format!("{shown} is not one of {}", names.join(", "));
            Err(wrong(&format!("{path}.{key}"), what))
        }
    }
}

/// "expected X, found a Y".
pub(crate) fn expected(what: &str, found: &Value) -> String {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("expected {what}, found {kind}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_hex_of_the_right_length() {
        let v = json!({"id": "5B8EFFF798038103D269B633813FC60C", "b64": "W47/95gDgQPSabYzgT/GDA=="});
        let id = hex_id(&v, "id", "s", 16, true).unwrap();
        assert_eq!(id, "5b8efff798038103d269b633813fc60c");
        let err = hex_id(&v, "b64", "s", 16, true).unwrap_err().to_string();
        assert!(err.contains("s.b64") && err.contains("base64"), "{err}");
        assert!(hex_id(&v, "id", "s", 8, true).is_err());
        assert_eq!(hex_id(&json!({}), "p", "s", 8, false).unwrap(), "");
        assert_eq!(
            hex_id(&json!({"p": "0000000000000000"}), "p", "s", 8, false).unwrap(),
            ""
        );
        assert!(hex_id(&json!({}), "p", "s", 8, true).is_err());
        assert!(hex_id(&json!({"p": 7}), "p", "s", 8, true).is_err());
    }

    #[test]
    fn times_are_strings_or_numbers() {
        let v = json!({"a": "1700000000000000000", "b": 17, "c": -1, "d": "1e9", "e": 1.5});
        assert_eq!(nanos(&v, "a", "s").unwrap(), 1_700_000_000_000_000_000);
        assert_eq!(nanos(&v, "b", "s").unwrap(), 17);
        assert_eq!(nanos(&v, "missing", "s").unwrap(), 0);
        for key in ["c", "d", "e"] {
            assert!(nanos(&v, key, "s").is_err(), "{key}");
        }
    }

    #[test]
    fn enums_are_numbers_or_names() {
        let names = ["A", "B", "C"];
        let v = json!({"n": 2, "s": "B", "bad": 3, "worse": "D"});
        assert_eq!(enumeration(&v, "n", "s", &names).unwrap(), 2);
        assert_eq!(enumeration(&v, "s", "s", &names).unwrap(), 1);
        assert_eq!(enumeration(&v, "none", "s", &names).unwrap(), 0);
        assert!(enumeration(&v, "bad", "s", &names).is_err());
        assert!(enumeration(&v, "worse", "s", &names).is_err());
    }
}
