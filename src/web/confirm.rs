//! Irreversible steps are confirmed before they are taken, with JavaScript or without (issue
//! 17): a form for such a step carries its question in a hidden `confirm` field. The page
//! script asks it in a dialog and adds `confirmed=yes`; a form posted without that answer is
//! not acted on, but answered with a page that asks the question, shows what was chosen and
//! posts the same fields again with the answer.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::input::field_label;
use crate::domain::deliberation::{Choice, Outcome, Stance, VoteMethod};

/// The largest form read here; larger ones (and every file upload, which is multipart) go on
/// untouched.
const FORM_LIMIT: usize = 64 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    question: String,
    action: String,
    /// What the person chose, in words: (label, value).
    chosen: Vec<(&'static str, String)>,
    /// Every field of the form, posted again with the answer.
    fields: Vec<(String, String)>,
    /// The page the form was on.
    back: String,
}

pub async fn confirm_first(req: Request, next: Next) -> Response {
    let form = req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return next.run(req).await;
    }
    let back = super::refusal::came_from(&req).unwrap_or_else(|| "/".to_owned());
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "表单内容过大").into_response();
    };
    let fields: Vec<(String, String)> = serde_html_form::from_bytes(&bytes).unwrap_or_default();
    let question = fields.iter().find(|(k, _)| k == "confirm").map(|(_, v)| v);
    let answered = fields.iter().any(|(k, v)| k == "confirmed" && v == "yes");
    match question {
        Some(question) if !answered => ConfirmPage {
            question: question.clone(),
            action: parts.uri.path().to_owned(),
            chosen: fields
                .iter()
                .filter_map(|(k, v)| Some((field_label(k), in_words(k, v)?)))
                .collect(),
            fields,
            back,
        }
        .into_response(),
        _ => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

/// A chosen value the page shows in words: a ballot, a stance, a vote method, an outcome.
fn in_words(field: &str, value: &str) -> Option<String> {
    let label = match field {
        "choice" => Choice::parse(value)?.label_zh(),
        "stance" => Stance::parse(value)?.label_zh(),
        "method" => VoteMethod::parse(value)?.label_zh(),
        "outcome" => Outcome::parse(value).map_or("宣布表决结果", Outcome::label_zh),
        "reason" if !value.trim().is_empty() => return Some(value.to_owned()),
        _ => return None,
    };
    Some(label.to_owned())
}
