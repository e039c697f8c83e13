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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Form {
        #[serde(default, deserialize_with = "blank_as_none")]
        reason: Option<String>,
        #[serde(default, deserialize_with = "checkbox")]
        urgent: bool,
    }

    #[test]
    fn json_and_forms_read_alike() {
        let f: Form = serde_html_form::from_str("reason=+&urgent=on").unwrap();
        assert_eq!((f.reason, f.urgent), (None, true));
        let f: Form = serde_html_form::from_str("reason=%E7%90%86%E7%94%B1").unwrap();
        assert_eq!((f.reason.as_deref(), f.urgent), (Some("理由"), false));
        let j: Form = serde_json::from_str(r#"{"reason": null, "urgent": true}"#).unwrap();
        assert_eq!((j.reason, j.urgent), (None, true));
        let j: Form = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!((j.reason, j.urgent), (None, false));
    }
}
