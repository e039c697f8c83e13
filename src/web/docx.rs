//! Word documents as downloads: the copy number (份号) a request asks for, and the answer with
//! its type and a file name in Chinese.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use super::pages::url_encode;

#[derive(serde::Deserialize, Default)]
pub struct CopyQuery {
    /// 份号 of a classified document's copy (1–999999), 1 when not given.
    copy: Option<String>,
}

impl CopyQuery {
    pub fn number(&self) -> Result<u32, AppError> {
        match self.copy.as_deref().map(str::trim) {
            None | Some("") => Ok(1),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=999_999).contains(n))
                .ok_or_else(|| AppError::invalid("copy", "须为 1 至 999999 的整数")),
        }
    }
}

/// A .docx to save as `file_name` (`fallback` for clients without RFC 5987 names).
pub fn attachment(fallback: &str, file_name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
                    url_encode(file_name).replace('/', "%2F")
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}
