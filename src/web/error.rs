//! How the application's one error type is answered: the API with RFC 9457
//! `application/problem+json`, page routes with a friendly Chinese page (`refusal::html_errors`).
//! Details of internal failures go to the log only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use crate::app::error::{AppError, FieldError};

/// The RFC 9457 body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The rule code from `rules.md` for a 409 governance refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The article of the working rules, with `rule`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The problem type of [`AppError::PasswordChangeRequired`]; pages then go to the form.
pub(super) const PASSWORD_CHANGE_REQUIRED: &str = "urn:yishi:password-change-required";

impl AppError {
    pub fn problem(&self) -> Problem {
        let (status, title, detail) = match self {
            AppError::Unauthorized => (401, "未登录", "请先登录。".to_owned()),
            AppError::Forbidden => (403, "无权操作", "您的角色无权进行此操作。".to_owned()),
            AppError::NotFound => (404, "未找到", "所请求的内容不存在或您无权查看。".to_owned()),
            AppError::Invalid(errors) => (
                422,
                "输入有误",
                errors
                    .iter()
                    .map(|e| format!("{}:{}", e.label, e.message))
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            AppError::Rule(v) => (409, v.rule.title_zh(), v.detail_zh.clone()),
            AppError::Conflict(detail) => (409, "操作冲突", detail.clone()),
            AppError::TooManyRequests { retry_after_secs } => (
                429,
                "尝试次数过多",
                format!(
                    "登录失败次数过多,请 {} 分钟后再试。",
                    (retry_after_secs + 59) / 60
                ),
            ),
            AppError::UnsupportedMediaType => (
                415,
                "请求格式不支持",
                "请以 application/json 提交。".to_owned(),
            ),
            AppError::Csrf => (
                403,
                "请求校验失败",
                "页面已过期或请求来源不明,请刷新页面后重试。".to_owned(),
            ),
            AppError::PasswordChangeRequired => (
                403,
                "须先修改密码",
                "您的密码是系统管理员设置的(初始密码或重置),请先设置自己的新密码。".to_owned(),
            ),
            AppError::Internal(_) => (
                500,
                "系统错误",
                "系统暂时无法完成操作,请稍后再试。".to_owned(),
            ),
        };
        let rule = match self {
            AppError::Rule(v) => Some(v),
            _ => None,
        };
        Problem {
            kind: match (rule, self) {
                (Some(v), _) => format!("urn:yishi:rule:{}", v.rule.code()),
                (None, AppError::PasswordChangeRequired) => PASSWORD_CHANGE_REQUIRED.to_owned(),
                (None, _) => "about:blank".to_owned(),
            },
            title: title.to_owned(),
            status,
            detail,
            rule: rule.map(|v| v.rule.code().to_owned()),
            article: rule.map(|v| v.rule.article().to_owned()),
            errors: match self {
                AppError::Invalid(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "request failed");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let AppError::TooManyRequests { retry_after_secs } = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        res.extensions_mut().insert(problem);
        res
    }
}
