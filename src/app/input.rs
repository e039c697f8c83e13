//! Reading what people submit: required texts, and the helpers that let one input type read
//! both the API's JSON and a page's form (where a blank field is sent as "" and a checked box
//! as `on`).

use serde::{Deserialize, Deserializer};

use super::error::AppError;

/// A trimmed, non-empty text of at most `max` characters, else 422 naming the field.
pub fn required_text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AppError::invalid(field, "必填"));
    }
    if text.chars().count() > max {
        return Err(AppError::invalid(field, format!("不能超过 {max} 个字符")));
    }
    Ok(text.to_owned())
}

/// A field left blank is absent.
pub fn optional(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// `#[serde(default, deserialize_with = "blank_as_none")]`: an optional text, absent when
/// missing, `null` or blank.
pub fn blank_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.and_then(optional))
}

/// `#[serde(default, deserialize_with = "checkbox")]`: `true`/`false` from JSON, or a form's
/// checkbox (`on` when checked, absent when not).
pub fn checkbox<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Checked {
        Bool(bool),
        Text(String),
    }
    Ok(match Checked::deserialize(d)? {
        Checked::Bool(b) => b,
        Checked::Text(t) => matches!(t.trim(), "on" | "true" | "1" | "yes"),
    })
}

/// `#[serde(default, deserialize_with = "number")]`: a whole number from JSON, or from a form's
/// text field (left blank, or not a number: 0, which the field's own check then refuses).
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(i64),
        Text(String),
    }
    Ok(match Number::deserialize(d)? {
        Number::Int(n) => n,
        Number::Text(t) => t.trim().parse().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Form {
        #[serde(default, deserialize_with = "blank_as_none")]
        reason: Option<String>,
        #[serde(default, deserialize_with = "checkbox")]
        urgent: bool,
        #[serde(default, deserialize_with = "number")]
        category: i64,
    }

    #[test]
    fn json_and_forms_read_alike() {
        let f: Form = serde_html_form::from_str("reason=+&urgent=on&category=33").unwrap();
        assert_eq!((f.reason, f.urgent, f.category), (None, true, 33));
        let f: Form = serde_html_form::from_str("category=&urgent=false").unwrap();
        assert_eq!((f.urgent, f.category), (false, 0));
        let f: Form = serde_html_form::from_str("reason=%E7%90%86%E7%94%B1").unwrap();
        assert_eq!((f.reason.as_deref(), f.urgent), (Some("理由"), false));
        let j: Form =
            serde_json::from_str(r#"{"reason": null, "urgent": true, "category": 7}"#).unwrap();
        assert_eq!((j.reason, j.urgent, j.category), (None, true, 7));
        let j: Form = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!((j.reason, j.urgent), (None, false));
    }
}
