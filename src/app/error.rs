//! The one application error type: what went wrong, in terms of the request, never of HTTP
//! (`web::error` decides the status and the answer).

use serde::Serialize;

use crate::domain::authz::Denied;
use crate::domain::rule::RuleViolation;

/// A field that failed validation, named as in the request, with its Chinese label.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    /// The field's Chinese label (`app::input::field_label`).
    pub label: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        FieldError {
            label: super::input::field_label(&field),
            field,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("refused by {}", .0.rule)]
    Rule(RuleViolation),
    #[error("conflict")]
    Conflict(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: i64 },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("CSRF check failed")]
    Csrf,
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<RuleViolation> for AppError {
    fn from(v: RuleViolation) -> Self {
        AppError::Rule(v)
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Forbidden => AppError::Forbidden,
            Denied::Hidden => AppError::NotFound,
        }
    }
}
