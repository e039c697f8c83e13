//! The audit log for the discipline group: search with filters, and verify the chains.

use super::extract::Query;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, FieldError};
use super::extract::{ApiJson, CurrentUser};
use super::pages::{DISPLAY_OFFSET, Layout, datetime_zh};
use crate::audit::Verification;
use crate::audit::checkpoint::{self, CheckpointError, Signed, Stored};
use crate::db::audit_log::{AuditEntry, Filter};
use crate::domain::authz::Action;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_api))
        .routes(routes!(verify_api, verify_given_api))
        .routes(routes!(list_checkpoints_api, take_checkpoint_api))
        .routes(routes!(checkpoint_api))
        .routes(routes!(permission_changes_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/audit", get(search_page))
        .route("/audit/verify", get(verify_page).post(verify_upload_page))
        .route("/audit/checkpoints", post(take_checkpoint_page))
        .route("/audit/permissions", get(permissions_page))
}

const PER_PAGE_MAX: i64 = 200;

/// Search parameters; every one is optional.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// The actor's login.
    pub actor: Option<String>,
    /// An entity type (`user`) or type and id (`user:0190…`).
    pub entity: Option<String>,
    /// An action, or its start (`user.` matches every user action).
    pub action: Option<String>,
    /// From this time (RFC 3339) or date (`YYYY-MM-DD`, display zone), inclusive.
    pub from: Option<String>,
    /// Until this time (exclusive) or date (inclusive).
    pub to: Option<String>,
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Entries per page, 1–200 (default 50).
    pub per_page: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

struct Parsed {
    filter: Filter,
    page: i64,
    per_page: i64,
}

fn parse_query(q: &AuditQuery) -> Result<Parsed, AppError> {
    let mut errors = Vec::new();
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (entity_type, entity_id) = match text(&q.entity) {
        None => (None, None),
        Some(e) => match e.split_once(':') {
            Some((t, id)) => (Some(t.to_owned()), Some(id.to_owned())),
            None => (Some(e), None),
        },
    };
    let mut time = |field: &'static str, raw: Option<String>, end: bool| {
        raw.and_then(|raw| match parse_instant(&raw, end) {
            Some(t) => Some(t),
            None => {
                errors.push(FieldError::new(field, "须为 YYYY-MM-DD 或 RFC 3339 时间"));
                None
            }
        })
    };
    let from = time("from", text(&q.from), false);
    let to = time("to", text(&q.to), true);
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=1_000_000).contains(&page) {
        errors.push(FieldError::new("page", "页码须为正整数"));
    }
    if !(1..=PER_PAGE_MAX).contains(&per_page) {
        errors.push(FieldError::new("per_page", "每页条数须在 1–200 之间"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Parsed {
        filter: Filter {
            actor: text(&q.actor).map(|a| a.to_ascii_lowercase()),
            entity_type,
            entity_id,
            action: text(&q.action),
            from,
            to,
        },
        page,
        per_page,
    })
}

/// A time from RFC 3339, or a date taken in the display zone: its start, or for the end of a
/// range the start of the next day, so `to=2026-11-29` includes that whole day.
fn parse_instant(raw: &str, end: bool) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    let date = Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    let date = if end { date.next_day()? } else { date };
    Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(DISPLAY_OFFSET))
}

async fn search(
    state: &AppState,
    user: &CurrentUser,
    q: &AuditQuery,
) -> Result<AuditPage, AppError> {
    user.can(Action::ReadAudit)?;
    let p = parse_query(q)?;
    let (entries, total) = crate::db::audit_log::search(
        &mut *state.pool.acquire().await?,
        &p.filter,
        p.per_page,
        (p.page - 1) * p.per_page,
    )
    .await?;
    Ok(AuditPage {
        entries,
        page: p.page,
        per_page: p.per_page,
        total,
    })
}

/// Verifies every chain and the log against the kept checkpoint and `given`.
async fn verify(
    state: &AppState,
    user: &CurrentUser,
    given: Option<Result<Signed, String>>,
) -> Result<Verification, AppError> {
    user.can(Action::ReadAudit)?;
    // A consistent snapshot: entries appended while verifying are not half-seen.
    let mut tx = state.pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read read only")
        .execute(&mut *tx)
        .await?;
    let v = state.audit.verify(&mut tx, given).await?;
    tx.commit().await?;
    Ok(v)
}

/// Search the audit log, newest first (discipline group only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn search_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, AppError> {
    Ok(Json(search(&state, &user, &q).await?))
}

/// Verify every chain of the audit log with its keyed hashes, and the log against the
/// checkpoint the server keeps outside the database (discipline group only).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification), (status = 403, body = super::error::Problem)))]
async fn verify_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Verification>, AppError> {
    Ok(Json(verify(&state, &user, None).await?))
}

/// The same, and the log against a checkpoint the discipline group kept (the downloaded file
/// as the body): does the log still hold everything up to it?
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", request_body = Signed,
    responses((status = 200, body = Verification), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn verify_given_api(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(given): ApiJson<Signed>,
) -> Result<Json<Verification>, AppError> {
    Ok(Json(verify(&state, &user, Some(Ok(given))).await?))
}

/// The newest signed checkpoints (the discipline group downloads them).
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, body = Vec<Stored>), (status = 403, body = super::error::Problem)))]
async fn list_checkpoints_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Stored>>, AppError> {
    user.can(Action::ReadAudit)?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(checkpoint::list(&mut conn, 100).await?))
}

/// Signs a checkpoint of every chain now (after verifying what was written since the last)
/// and answers it as a file to keep.
#[utoipa::path(post, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 201, body = Signed), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn take_checkpoint_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let signed = take_checkpoint(&state, &user).await?;
    Ok((StatusCode::CREATED, checkpoint_file(&signed)).into_response())
}

async fn take_checkpoint(state: &AppState, user: &CurrentUser) -> Result<Signed, AppError> {
    user.can(Action::ReadAudit)?;
    let mut conn = state.pool.acquire().await?;
    match state.audit.checkpoint(&mut conn, "requested").await {
        Ok(Some(signed)) => Ok(signed),
        Ok(None) => Err(anyhow::anyhow!("a requested checkpoint is always signed").into()),
        Err(CheckpointError::Broken(b)) => Err(AppError::Conflict(format!(
            "审计日志校验未通过,不能签署检查点:链 {} 第 {} 条,{}",
            b.chain, b.seq, b.problem_zh
        ))),
        Err(CheckpointError::Kept(problem)) => Err(AppError::Conflict(format!(
            "本机保存的检查点有问题,不能签署新的检查点:{problem}"
        ))),
        Err(e) => Err(anyhow::Error::from(e).into()),
    }
}

/// A stored checkpoint as a file to keep.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints/{id}", tag = "audit",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Signed), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem)))]
async fn checkpoint_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    user.can(Action::ReadAudit)?;
    let id = super::extract::parse_id(&id)?;
    let mut conn = state.pool.acquire().await?;
    let signed = checkpoint::get(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
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

/// One change of who may do what (权限变更).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionChange {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who made it (the admin, normally).
    pub actor: Option<String>,
    /// Whose rights changed.
    pub subject: String,
    /// What changed, in Chinese.
    pub change_zh: String,
    pub audit_entry_id: uuid::Uuid,
}

fn roles_zh(v: Option<&serde_json::Value>) -> String {
    let roles: Vec<&str> = v
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|r| r.as_str()).collect())
        .unwrap_or_default();
    let labels: Vec<&str> = roles
        .iter()
        .map(|r| crate::domain::role::Role::parse(r).map_or(*r, |r| r.label_zh()))
        .collect();
    if labels.is_empty() {
        "无".into()
    } else {
        labels.join("、")
    }
}

/// What an account or membership entry changed about rights; `None` when it changed none (a
/// new name, say).
fn permission_change(e: &AuditEntry) -> Option<PermissionChange> {
    let after = e.after.as_ref()?;
    // A password reset wraps the account as `{user, password_reset}`.
    let account = after.get("user").unwrap_or(after);
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    let position_zh = |v: &serde_json::Value| {
        crate::domain::org::Position::parse(&text(v, "position")).map_or("", |p| p.label_zh())
    };
    let (subject, change_zh) = match e.action.as_str() {
        "user.create" => (
            format!("{}({})", text(account, "name"), text(account, "login")),
            format!("新建账号,角色:{}", roles_zh(account.get("roles"))),
        ),
        "user.update" => {
            let before = e.before.as_ref()?;
            let mut parts = Vec::new();
            if before.get("roles") != account.get("roles") {
                parts.push(format!(
                    "角色:{} → {}",
                    roles_zh(before.get("roles")),
                    roles_zh(account.get("roles"))
                ));
            }
            if before.get("active") != account.get("active") {
                let active = account.get("active").and_then(|a| a.as_bool()) == Some(true);
                parts.push(if active {
                    "启用账号".into()
                } else {
                    "停用账号".into()
                });
            }
            if after.get("password_reset").and_then(|p| p.as_bool()) == Some(true) {
                parts.push("重置密码(其登录已全部退出,下次登录须改密码)".into());
            }
            if parts.is_empty() {
                return None;
            }
            (
                format!("{}({})", text(account, "name"), text(account, "login")),
                parts.join(";"),
            )
        }
        "membership.add" | "membership.change" => (
            format!("{}({})", text(after, "name"), text(after, "login")),
            {
                let areas: Vec<&str> = after
                    .get("areas")
                    .and_then(|a| a.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str())
                            .map(|x| crate::domain::org::Area::parse(x).map_or(x, |a| a.label_zh()))
                            .collect()
                    })
                    .unwrap_or_default();
                let areas = if areas.is_empty() {
                    String::new()
                } else {
                    format!(",分管{}", areas.join("、"))
                };
                format!(
                    "{}:任{}{areas}",
                    text(after, "party_group_name"),
                    position_zh(after)
                )
            },
        ),
        "membership.end" => (
            format!("{}({})", text(after, "name"), text(after, "login")),
            format!(
                "{}:不再担任{}",
                text(after, "party_group_name"),
                position_zh(after)
            ),
        ),
        _ => return None,
    };
    Some(PermissionChange {
        at: e.occurred_at,
        actor: e.actor_name.clone().or_else(|| e.actor_login.clone()),
        subject,
        change_zh,
        audit_entry_id: e.audit_entry_id,
    })
}

async fn permission_changes(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<PermissionChange>, AppError> {
    user.can(Action::ReadAudit)?;
    let mut conn = state.pool.acquire().await?;
    let entries = crate::db::audit_log::permission_entries(&mut conn, 500).await?;
    Ok(entries.iter().filter_map(permission_change).collect())
}

/// 权限变更: accounts created, roles, activation and password resets, memberships — who may do
/// what, and who changed it (discipline group only).
#[utoipa::path(get, path = "/api/v1/audit/permission-changes", tag = "audit",
    responses((status = 200, body = Vec<PermissionChange>), (status = 403, body = super::error::Problem)))]
async fn permission_changes_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<PermissionChange>>, AppError> {
    Ok(Json(permission_changes(&state, &user).await?))
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
    let changes = permission_changes(&state, &user).await?;
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
}

impl SearchPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }

    fn json(&self, v: &Option<serde_json::Value>) -> String {
        v.as_ref().map(|v| v.to_string()).unwrap_or_default()
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
    let result = search(&state, &user, &q).await?;
    let pages = (result.total + result.per_page - 1) / result.per_page;
    Ok(SearchPage {
        layout: Layout::new("审计日志", Some(&user)),
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
    let v = verify(state, user, given).await?;
    let checkpoints = checkpoint::list(&mut *state.pool.acquire().await?, 20).await?;
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

async fn take_checkpoint_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let signed = take_checkpoint(&state, &user).await?;
    Ok(checkpoint_file(&signed).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_are_whole_days_in_the_display_zone() {
        assert_eq!(
            parse_instant("2026-11-29", false),
            Some(datetime!(2026-11-29 00:00 +8))
        );
        assert_eq!(
            parse_instant("2026-11-29", true),
            Some(datetime!(2026-11-30 00:00 +8))
        );
        assert_eq!(
            parse_instant("2026-11-29T10:00:00Z", true),
            Some(datetime!(2026-11-29 10:00 UTC))
        );
        assert_eq!(parse_instant("yesterday", false), None);
    }

    #[test]
    fn bad_paging_is_named() {
        let q = AuditQuery {
            page: Some(0),
            per_page: Some(500),
            from: Some("x".into()),
            ..AuditQuery::default()
        };
        let Err(AppError::Invalid(errors)) = parse_query(&q) else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["from", "page", "per_page"]);
    }
}
