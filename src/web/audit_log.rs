//! Routes and pages of the audit log for the discipline group (`app::audit_reading`): search
//! with filters, verify the chains, checkpoints, permission changes.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{ApiJson, CurrentUser, Face, Path, Query};
use super::pages::{Layout, datetime_zh};
use crate::app::audit_reading::{self as audit, AuditPage, AuditQuery, PermissionChange};
use crate::audit::Verification;
use crate::audit::checkpoint::{Signed, Stored};
use crate::domain::authz::Action;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(verify, verify_given))
        .routes(routes!(list_checkpoints, take_checkpoint))
        .routes(routes!(stored_checkpoint))
        .routes(routes!(permission_changes))
}

/// The pages, and the checkpoint action under its form.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/audit", get(search_page))
        .route("/audit/verify", get(verify_page).post(verify_upload_page))
        .route("/audit/checkpoints", post(take_checkpoint))
        .route("/audit/permissions", get(permissions_page))
}

/// Search the audit log, newest first (discipline group only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, AppError> {
    Ok(Json(audit::search(&state, &user, &q).await?))
}

/// Verify every chain of the audit log with its keyed hashes, and the log against the
/// checkpoint the server keeps outside the database (discipline group only).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification), (status = 403, body = Problem)))]
async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Verification>, AppError> {
    Ok(Json(audit::verify(&state, &user, None).await?))
}

/// The same, and the log against a checkpoint the discipline group kept (the downloaded file
/// as the body): does the log still hold everything up to it?
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", request_body = Signed,
    responses((status = 200, body = Verification), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn verify_given(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(given): ApiJson<Signed>,
) -> Result<Json<Verification>, AppError> {
    Ok(Json(audit::verify(&state, &user, Some(Ok(given))).await?))
}

/// The newest signed checkpoints (the discipline group downloads them).
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, body = Vec<Stored>), (status = 403, body = Problem)))]
async fn list_checkpoints(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Stored>>, AppError> {
    Ok(Json(audit::checkpoints(&state, &user, 100).await?))
}

/// Signs a checkpoint of every chain now (after verifying what was written since the last)
/// and answers it as a file to keep (the page's button downloads it).
#[utoipa::path(post, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 201, body = Signed), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn take_checkpoint(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let signed = audit::take_checkpoint(&state, &user).await?;
    let status = match face {
        Face::Api => StatusCode::CREATED,
        Face::Page => StatusCode::OK,
    };
    Ok((status, checkpoint_file(&signed)).into_response())
}

/// A stored checkpoint as a file to keep.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints/{id}", tag = "audit",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Signed), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn stored_checkpoint(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let signed = audit::stored_checkpoint(&state, &user, id).await?;
    Ok(checkpoint_file(&signed).into_response())
}

/// A checkpoint as a download named after its time: `yishi-checkpoint-20261201T220000Z.json`.
fn checkpoint_file(signed: &Signed) -> impl IntoResponse + use<> {
    let stamp: String = signed
        .body
        .at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"yishi-checkpoint-{stamp}Z.json\""),
            ),
        ],
        signed.to_pretty(),
    )
}

/// 权限变更: accounts created, roles, activation and password resets, memberships — who may do
/// what, and who changed it (discipline group only).
#[utoipa::path(get, path = "/api/v1/audit/permission-changes", tag = "audit",
    responses((status = 200, body = Vec<PermissionChange>), (status = 403, body = Problem)))]
async fn permission_changes(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<PermissionChange>>, AppError> {
    Ok(Json(audit::permission_changes(&state, &user).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/permissions.html")]
struct PermissionsPage {
    layout: Layout,
    changes: Vec<PermissionChange>,
}

impl PermissionsPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn permissions_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<PermissionsPage, AppError> {
    let changes = audit::permission_changes(&state, &user).await?;
    Ok(PermissionsPage {
        layout: Layout::new("权限变更", Some(&user)),
        changes,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/search.html")]
struct SearchPage {
    layout: Layout,
    q: AuditQuery,
    result: AuditPage,
    pages: i64,
    /// Meetings and topics to pick a timeline from: (filter, title).
    timelines: Vec<(String, String)>,
}

impl SearchPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }

    fn actions(&self) -> &'static [(&'static str, &'static str)] {
        crate::audit::actions::ACTIONS
    }

    fn action_zh(&self, action: &str) -> &'static str {
        crate::audit::actions::label_zh(action)
    }

    fn entity_zh(&self, entity_type: &str) -> &'static str {
        crate::audit::actions::entity_zh(entity_type)
    }

    fn entity_href(&self, entity_type: &str, id: &str) -> Option<String> {
        crate::audit::actions::entity_href(entity_type, id)
    }

    /// What an id names, or the id.
    fn named<'a>(&'a self, id: &'a str) -> &'a str {
        self.result.names.get(id).map_or(id, String::as_str)
    }

    /// A recorded value as lines of "field: value", ids replaced by what they name.
    fn lines(&self, v: &Option<serde_json::Value>) -> Vec<(String, String)> {
        let Some(v) = v else {
            return Vec::new();
        };
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => self.named(s).to_owned(),
            serde_json::Value::Bool(true) => "是".to_owned(),
            serde_json::Value::Bool(false) => "否".to_owned(),
            serde_json::Value::Null => "(空)".to_owned(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => self.named(s).to_owned(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("、"),
            other => other.to_string(),
        };
        match v {
            serde_json::Value::Object(o) => o.iter().map(|(k, v)| (label_of(k), text(v))).collect(),
            other => vec![(String::new(), text(other))],
        }
    }

    fn field<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    /// The query string for another page with the same filters.
    fn page_link(&self, page: i64) -> String {
        let q = &self.q;
        let pairs = [
            ("actor", &q.actor),
            ("entity", &q.entity),
            ("action", &q.action),
            ("from", &q.from),
            ("to", &q.to),
        ];
        let mut link = format!("/audit?page={page}");
        for (k, v) in pairs {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                link.push_str(&format!("&{k}={}", super::pages::url_encode(v)));
            }
        }
        link
    }
}

async fn search_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<SearchPage, AppError> {
    let result = audit::search(&state, &user, &q).await?;
    let pages = (result.total + result.per_page - 1) / result.per_page;
    Ok(SearchPage {
        layout: Layout::new("审计日志", Some(&user)),
        timelines: audit::timelines(&state, &user).await?,
        q,
        pages: pages.max(1),
        result,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/verify.html")]
struct VerifyPage {
    layout: Layout,
    v: Verification,
    checkpoints: Vec<Stored>,
}

impl VerifyPage {
    fn source_zh(&self, source: &str) -> &'static str {
        match source {
            "local" => "服务器保存的最新检查点",
            "given" => "上传的检查点",
            "database" => "数据库中最近的检查点",
            _ => "检查点",
        }
    }

    fn kind_zh(&self, kind: &str) -> &'static str {
        match kind {
            "start" => "服务启动时",
            "periodic" => "定时",
            "requested" => "纪检组签署",
            "seal" => "记录或纪要签署时",
            _ => "",
        }
    }
}

async fn verify_page_with(
    state: &AppState,
    user: &CurrentUser,
    given: Option<Result<Signed, String>>,
) -> Result<VerifyPage, AppError> {
    let v = audit::verify(state, user, given).await?;
    let checkpoints = audit::checkpoints(state, user, 20).await?;
    Ok(VerifyPage {
        layout: Layout::new("审计链校验", Some(user)),
        v,
        checkpoints,
    })
}

async fn verify_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<VerifyPage, AppError> {
    verify_page_with(&state, &user, None).await
}

/// The verify page with a checkpoint file uploaded.
async fn verify_upload_page(
    State(state): State<AppState>,
    user: CurrentUser,
    mut form: axum::extract::Multipart,
) -> Result<VerifyPage, AppError> {
    user.can(Action::ReadAudit)?;
    let mut given = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::invalid("file", "上传的内容无法读取"))?
    {
        if field.name() == Some("file") {
            let bytes = field
                .bytes()
                .await
                .map_err(|_| AppError::invalid("file", "上传的内容无法读取"))?;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| AppError::invalid("file", "不是检查点文件(应为下载的 JSON)"))?;
            given = Some(Signed::parse(&text));
        }
    }
    let given = given.ok_or_else(|| AppError::invalid("file", "请选择检查点文件"))?;
    if let Err(problem) = &given {
        return Err(AppError::invalid("file", problem.clone()));
    }
    verify_page_with(&state, &user, Some(given)).await
}

/// A recorded field's Chinese label: the request field's, else the field's own name.
fn label_of(key: &str) -> String {
    let label = crate::app::input::field_label(key);
    if label == crate::app::input::field_label("") {
        key.to_owned()
    } else {
        label.to_owned()
    }
}
