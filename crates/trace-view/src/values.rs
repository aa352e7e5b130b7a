//! Attribute values (OTLP `AnyValue`) as the text the details panel shows.
//!
//! The drawing only displays values, so this reader is lenient: a value it
//! does not understand is shown as its JSON rather than failing the capture.

use crate::capture::Problem;
use crate::fields::{array, wrong};
use crate::model::Attribute;
use serde_json::Value;

/// The `attributes` array of `v` (`[{key, value}]`), values as text.
pub(crate) fn attributes(v: &Value, path: &str) -> Result<Vec<Attribute>, Problem> {
    array(v, "attributes", path)?
        .iter()
        .enumerate()
        .map(|(i, kv)| key_value(kv, &format!("{path}.attributes[{i}]")))
        .collect()
}

fn key_value(kv: &Value, path: &str) -> Result<Attribute, Problem> {
    let key = match kv.get("key") {
        Some(Value::String(k)) => k.clone(),
        _ => return Err(wrong(path, "an attribute without a string key")),
    };
    let value = kv.get("value").map(any_value).unwrap_or_default();
    Ok(Attribute { key, value })
}

/// An `AnyValue` (`{"stringValue": "x"}`, `{"intValue": "3"}`, ...) as text.
pub(crate) fn any_value(v: &Value) -> String {
    let Some((kind, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
        return String::new();
    };
    match (kind.as_str(), inner) {
        ("stringValue" | "intValue" | "bytesValue", Value::String(s)) => s.clone(),
        ("arrayValue", _) => {
            let items: Vec<String> = values(inner).iter().map(any_value).collect();
            format!("[{}]", items.join(", "))
        }
        ("kvlistValue", _) => {
            let items: Vec<String> = values(inner).iter().map(kv_text).collect();
            format!("{{{}}}", items.join(", "))
        }
        (_, other) => other.to_string(),
    }
}

fn values(v: &Value) -> &[Value] {
    v.get("values")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn kv_text(kv: &Value) -> String {
    let key = kv.get("key").and_then(Value::as_str).unwrap_or("");
    let value = kv.get("value").map(any_value).unwrap_or_default();
    format!("{key}: {value}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_value_becomes_text() {
        let v = json!({"attributes": [
            {"key": "s", "value": {"stringValue": "x"}},
            {"key": "i", "value": {"intValue": "42"}},
            {"key": "n", "value": {"intValue": 43}},
            {"key": "b", "value": {"boolValue": true}},
            {"key": "d", "value": {"doubleValue": 0.5}},
            {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "p"}, {"intValue": "1"}]}}},
            {"key": "k", "value": {"kvlistValue": {"values": [{"key": "q", "value": {"boolValue": false}}]}}},
            {"key": "e", "value": {}},
            {"key": "m"},
        ]});
        let got: Vec<String> = attributes(&v, "span")
            .unwrap()
            .into_iter()
            .map(|a| format!("{}={}", a.key, a.value))
            .collect();
        let want = [
            "s=x",
            "i=42",
            "n=43",
            "b=true",
            "d=0.5",
            "a=[p, 1]",
            "k={q: false}",
            "e=",
            "m=",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn an_attribute_needs_a_key() {
        let err =
            attributes(&json!({"attributes": [{"value": {}}]}), "span").unwrap_err();
        assert!(err.to_string().contains("span.attributes[0]"), "{err}");
    }
}
