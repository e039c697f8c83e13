//! Reading the audit log, for the discipline group: search with filters, verify the chains
//! (against a checkpoint they kept, too), sign a checkpoint on request, and the history of
//! permission changes.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};
use uuid::Uuid;

use crate::app::error::{AppError, FieldError};
use crate::app::{CurrentUser, Services};
use crate::audit::Verification;
use crate::audit::checkpoint::{self, Signed, Stored};
use crate::audit::keeper::CheckpointError;
use crate::db::audit_log::{AuditEntry, Filter};
use crate::display::DISPLAY_OFFSET;
use crate::domain::authz::Action;
use crate::domain::records::refuse_checkpoint;

pub const PER_PAGE_MAX: i64 = 200;

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
    /// What the ids in these entries name (people, meetings, topics, groups, sections).
    pub names: std::collections::BTreeMap<String, String>,
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
        // A bare id finds its entity, whatever its type.
        Some(e) if Uuid::parse_str(&e).is_ok() => (None, Some(e.to_ascii_lowercase())),
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

/// The ids a recorded value holds, at any depth.
fn ids_in(v: &serde_json::Value, out: &mut Vec<Uuid>) {
    match v {
        serde_json::Value::String(s) => out.extend(Uuid::parse_str(s).ok()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| ids_in(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| ids_in(v, out)),
        _ => {}
    }
}

/// The meetings and topics whose whole timeline the discipline group may pick.
pub async fn timelines(
    state: &Services,
    user: &CurrentUser,
) -> Result<Vec<(String, String)>, AppError> {
    user.can(Action::ReadAudit)?;
    Ok(crate::db::audit_log::timelines(&mut *state.pool.acquire().await?).await?)
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

pub async fn search(
    state: &Services,
    user: &CurrentUser,
    q: &AuditQuery,
) -> Result<AuditPage, AppError> {
    user.can(Action::ReadAudit)?;
    let p = parse_query(q)?;
    let mut conn = state.pool.acquire().await?;
    let (entries, total) =
        crate::db::audit_log::search(&mut conn, &p.filter, p.per_page, (p.page - 1) * p.per_page)
            .await?;
    let mut ids = Vec::new();
    for e in &entries {
        ids.extend(
            e.entity_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok()),
        );
        for v in [&e.before, &e.after].into_iter().flatten() {
            ids_in(v, &mut ids);
        }
    }
    ids.sort();
    ids.dedup();
    let names = crate::db::audit_log::names_of(&mut conn, &ids)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    Ok(AuditPage {
        entries,
        page: p.page,
        per_page: p.per_page,
        total,
        names,
    })
}

/// Verifies every chain and the log against the kept checkpoint and `given`.
pub async fn verify(
    state: &Services,
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

pub async fn take_checkpoint(state: &Services, user: &CurrentUser) -> Result<Signed, AppError> {
    user.can(Action::ReadAudit)?;
    let mut conn = state.pool.acquire().await?;
    match state.audit.checkpoint(&mut conn, "requested").await {
        Ok(Some(signed)) => Ok(signed),
        Ok(None) => Err(anyhow::anyhow!("a requested checkpoint is always signed").into()),
        Err(CheckpointError::Broken(b)) => Err(refuse_checkpoint(&format!(
            "链 {} 第 {} 条,{}",
            b.chain, b.seq, b.problem_zh
        ))
        .into()),
        Err(CheckpointError::Kept(problem)) => {
            Err(refuse_checkpoint(&format!("本机保存的检查点:{problem}")).into())
        }
        Err(e) => Err(anyhow::Error::from(e).into()),
    }
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

pub fn roles_zh(v: Option<&serde_json::Value>) -> String {
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
pub fn permission_change(e: &AuditEntry) -> Option<PermissionChange> {
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

pub async fn permission_changes(
    state: &Services,
    user: &CurrentUser,
) -> Result<Vec<PermissionChange>, AppError> {
    user.can(Action::ReadAudit)?;
    let mut conn = state.pool.acquire().await?;
    let entries = crate::db::audit_log::permission_entries(&mut conn, 500).await?;
    Ok(entries.iter().filter_map(permission_change).collect())
}

/// The newest `limit` signed checkpoints.
pub async fn checkpoints(
    state: &Services,
    user: &CurrentUser,
    limit: i64,
) -> Result<Vec<Stored>, AppError> {
    user.can(Action::ReadAudit)?;
    let mut conn = state.pool.acquire().await?;
    Ok(checkpoint::list(&mut conn, limit).await?)
}

/// One stored checkpoint.
pub async fn stored_checkpoint(
    state: &Services,
    user: &CurrentUser,
    id: Uuid,
) -> Result<Signed, AppError> {
    user.can(Action::ReadAudit)?;
    let mut conn = state.pool.acquire().await?;
    checkpoint::get(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)
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
