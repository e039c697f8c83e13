//! The audit log for the discipline group: search with filters, and verify the chains.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, FieldError};
use super::extract::CurrentUser;
use super::pages::{DISPLAY_OFFSET, Layout, datetime_zh};
use crate::audit::{self, Verification};
use crate::db::audit_log::{AuditEntry, Filter};
use crate::domain::authz::Action;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_api))
        .routes(routes!(verify_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/audit", get(search_page))
        .route("/audit/verify", get(verify_page))
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

async fn verify(state: &AppState, user: &CurrentUser) -> Result<Verification, AppError> {
    user.can(Action::ReadAudit)?;
    // A consistent snapshot: entries appended while verifying are not half-seen.
    let mut tx = state.pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read read only")
        .execute(&mut *tx)
        .await?;
    let v = audit::verify(&mut tx).await?;
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

/// Verify every hash chain of the audit log (discipline group only).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification), (status = 403, body = super::error::Problem)))]
async fn verify_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Verification>, AppError> {
    Ok(Json(verify(&state, &user).await?))
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
}

async fn verify_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<VerifyPage, AppError> {
    let v = verify(&state, &user).await?;
    Ok(VerifyPage {
        layout: Layout::new("审计链校验", Some(&user)),
        v,
    })
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
