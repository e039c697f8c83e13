//! Follow-up of decisions (督办), section F of `rules.md`: tasks with one lead per passed item
//! (R-FOLLOWUP-OWNER), progress reports, the board with overdue tasks (R-SUPERVISION),
//! reminders (督办通知) and circulars (通报), reserved opinions (R-RESERVE) and later decisions
//! that change earlier ones (R-DECISION-CHANGE). The task board also exports as CSV.

use super::extract::Query;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, FieldError};
use super::extract::{ApiJson, CurrentUser, PageForm, parse_id};
use super::pages::{DISPLAY_OFFSET, Layout, date_zh, datetime_zh};
use crate::app::input::required_text;
use crate::app::meeting::Ctx;
use crate::audit::{Chain, Change};
use crate::db::followup::{Circular, Progress, Task};
use crate::db::meetings::Lock;
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::deliberation::{Outcome, Stance};
use crate::domain::duties::{TaskDue, overdue_tasks};
use crate::domain::org::Position;
use crate::domain::records::{check_reserve, check_supersede};
use crate::domain::rule::{Rule, RuleViolation};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task_api))
        .routes(routes!(tasks_api))
        .routes(routes!(task_api))
        .routes(routes!(progress_api))
        .routes(routes!(remind_api))
        .routes(routes!(circular_api))
        .routes(routes!(reserve_api))
        .routes(routes!(supersede_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/tasks", get(board_page))
        .route("/tasks.csv", get(board_csv))
        .route("/tasks/{id}", get(task_page))
        .route("/tasks/{id}/progress", post(progress_page))
        .route("/tasks/{id}/reminders", post(remind_page))
        .route("/items/{item_id}/tasks", post(create_task_page))
        .route("/items/{item_id}/reserved-opinions", post(reserve_page))
        .route("/items/{item_id}/supersedes", post(supersede_page))
        .route("/party-groups/{id}/circulars", post(circular_page))
}

fn today() -> Date {
    OffsetDateTime::now_utc().to_offset(DISPLAY_OFFSET).date()
}

/// The meeting of an item, loaded for `action`, and the item as decided.
async fn item_ctx(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    item_id: Uuid,
    action: Action,
) -> Result<(Ctx, db::meetings::Item), AppError> {
    let found = db::followup::item_ref(conn, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ctx = Ctx::load_as(
        conn,
        user,
        found.meeting_id,
        Lock::Share,
        action,
        Relation::default(),
    )
    .await?;
    let item = db::meetings::item(conn, found.meeting_id, item_id, Lock::None)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((ctx, item))
}

fn outcome_of(item: &db::meetings::Item) -> Option<Outcome> {
    item.outcome.as_deref().and_then(Outcome::parse)
}

// ---- Tasks ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NewTaskInput {
    /// The one lead person (R-FOLLOWUP-OWNER).
    #[serde(default)]
    pub lead_user_id: String,
    #[serde(default)]
    pub section_ids: Vec<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub description: String,
}

fn parse_date(raw: &str) -> Option<Date> {
    Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

async fn create_task(
    state: &AppState,
    user: &CurrentUser,
    item_id: Uuid,
    input: NewTaskInput,
) -> Result<Task, AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, item) = item_ctx(&mut tx, user, item_id, Action::CreateTask).await?;
    if outcome_of(&item) != Some(Outcome::Passed) {
        return Err(RuleViolation::new(
            Rule::FollowupOwner,
            "只有会议通过的决定才列入督办;该事项尚未通过。",
        )
        .into());
    }
    let mut errors = Vec::new();
    let lead = match Uuid::parse_str(input.lead_user_id.trim()) {
        Ok(id) => db::users::get(&mut tx, id).await?.filter(|u| u.active),
        Err(_) => None,
    };
    if lead.is_none() {
        errors.push(FieldError::new(
            "lead_user_id",
            "须指定一名在职人员为牵头人",
        ));
    }
    let sections = db::sections::list(&mut tx).await?;
    let mut section_ids = Vec::new();
    for (n, raw) in input.section_ids.iter().enumerate() {
        match Uuid::parse_str(raw.trim())
            .ok()
            .filter(|id| sections.iter().any(|s| s.section_id == *id))
        {
            Some(id) if !section_ids.contains(&id) => section_ids.push(id),
            Some(_) => {}
            None => errors.push(FieldError::new(format!("section_ids[{n}]"), "科室不存在")),
        }
    }
    let due_on = parse_date(&input.due_on);
    match due_on {
        None => errors.push(FieldError::new("due_on", "须为日期,如 2026-12-31")),
        Some(d) if d < ctx.date() => errors.push(FieldError::new(
            "due_on",
            "完成时限不能早于作出决定的会议日期",
        )),
        Some(_) => {}
    }
    let description = required_text("description", &input.description, 2000)
        .map_err(|e| {
            if let AppError::Invalid(f) = e {
                errors.extend(f);
            }
        })
        .ok();
    let (Some(lead), Some(due_on), Some(description), true) =
        (lead, due_on, description, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let task_id = db::followup::insert_task(
        &mut tx,
        &db::followup::NewTask {
            item_id,
            lead_user_id: lead.user_id,
            section_ids: &section_ids,
            due_on,
            description: &description,
            created_by: user.user_id,
        },
    )
    .await?;
    db::notifications::send(
        &mut tx,
        &[lead.user_id],
        &format!("您被指定为督办事项牵头人:{}", item.title),
        &format!("/tasks/{task_id}"),
    )
    .await?;
    let change = ctx.change("task.create").after(serde_json::json!({
        "task_id": task_id,
        "item_id": item_id,
        "lead_user_id": lead.user_id,
        "section_ids": section_ids,
        "due_on": due_on.to_string(),
        "description": description,
    }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    let task = db::followup::task(&mut tx, task_id, false)
        .await?
        .ok_or_else(|| anyhow::anyhow!("task just created is missing"))?;
    tx.commit().await?;
    Ok(task)
}

/// A follow-up task of a passed item, with exactly one lead (the chair or 综合科).
#[utoipa::path(post, path = "/api/v1/items/{item_id}/tasks", tag = "follow-up",
    params(("item_id" = Uuid, Path)), request_body = NewTaskInput,
    responses((status = 201, body = Task), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn create_task_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(item_id): Path<String>,
    ApiJson(input): ApiJson<NewTaskInput>,
) -> Result<(StatusCode, Json<Task>), AppError> {
    let task = create_task(&state, &user, parse_id(&item_id)?, input).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// A task as its lead or the board sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: Task,
    /// Past its due date and not done (R-SUPERVISION).
    pub overdue: bool,
}

fn view(task: Task, today: Date) -> TaskView {
    let due = TaskDue {
        description: &task.description,
        due_on: task.due_on,
        done: task.done_at.is_some(),
    };
    let overdue = !overdue_tasks(&[due], today).is_empty();
    TaskView { task, overdue }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct BoardQuery {
    /// `open` or `done`.
    pub status: Option<String>,
    /// `true`: only overdue tasks.
    pub overdue: Option<String>,
    /// Only tasks led by this person.
    pub lead: Option<String>,
}

/// 综合科 and the 书记 see every task; anyone else the tasks they lead.
async fn board(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    q: &BoardQuery,
) -> Result<Vec<TaskView>, AppError> {
    // 综合科 sees the tasks of the groups its section serves, a 书记 those of their group,
    // everyone else the tasks they lead.
    let chaired = chaired_groups(conn, user).await?;
    let overseen = |group: Uuid| user.is_office_of(group) || chaired.contains(&group);
    let sees_all = user.has(crate::domain::role::Role::Office) || !chaired.is_empty();
    let done = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("open") => Some(false),
        Some("done") => Some(true),
        Some(_) => return Err(AppError::invalid("status", "须为 open 或 done")),
    };
    let lead = match q.lead.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            Uuid::parse_str(raw).map_err(|_| AppError::invalid("lead", "不是有效的用户编号"))?,
        ),
    };
    let lead = if sees_all { lead } else { Some(user.user_id) };
    let only_overdue = matches!(q.overdue.as_deref(), Some("true" | "1" | "on"));
    let today = today();
    Ok(db::followup::board(conn, lead, done)
        .await?
        .into_iter()
        .filter(|t| t.lead_user_id == user.user_id || overseen(t.party_group_id))
        .map(|t| view(t, today))
        .filter(|t| !only_overdue || t.overdue)
        .collect())
}

/// The groups whose 书记 the user is now.
async fn chaired_groups(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
) -> Result<Vec<Uuid>, AppError> {
    Ok(db::party_groups::memberships_of_user(conn, user.user_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none() && m.position == Position::Secretary.as_str())
        .map(|m| m.party_group_id)
        .collect())
}

/// The follow-up board: 综合科 sees the tasks of the groups its section serves, a 书记 those of
/// their group, others the tasks they lead.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "follow-up", params(BoardQuery),
    responses((status = 200, body = Vec<TaskView>), (status = 422, body = super::error::Problem)))]
async fn tasks_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BoardQuery>,
) -> Result<Json<Vec<TaskView>>, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(board(&mut conn, &user, &q).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: TaskView,
    pub progress: Vec<Progress>,
}

/// The task loaded for `action` with the actor's relation as its lead.
async fn task_ctx(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    task_id: Uuid,
    action: Action,
    lock: bool,
) -> Result<(Ctx, Task), AppError> {
    let task = db::followup::task(conn, task_id, lock)
        .await?
        .ok_or(AppError::NotFound)?;
    let found = Relation {
        task_lead: task.lead_user_id == user.user_id,
        ..Relation::default()
    };
    let ctx = Ctx::load_as(conn, user, task.meeting_id, Lock::None, action, found).await?;
    Ok((ctx, task))
}

async fn detail(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<TaskDetail, AppError> {
    let mut conn = state.pool.acquire().await?;
    let (_, task) = task_ctx(&mut conn, user, id, Action::ReadTask, false).await?;
    let progress = db::followup::progress(&mut conn, id).await?;
    Ok(TaskDetail {
        task: view(task, today()),
        progress,
    })
}

/// One task with its progress reports: its lead, 综合科 and the 书记.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "follow-up", params(("id" = Uuid, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = super::error::Problem)))]
async fn task_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TaskDetail>, AppError> {
    Ok(Json(detail(&state, &user, parse_id(&id)?).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ProgressInput {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub done: bool,
}

async fn report(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: ProgressInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, task) = task_ctx(&mut tx, user, id, Action::ReportProgress, true).await?;
    if task.done_at.is_some() {
        return Err(
            RuleViolation::new(Rule::Supervision, "该督办事项已办结,不能再报告进展。").into(),
        );
    }
    let note = required_text("note", &input.note, 5000)?;
    db::followup::report_progress(&mut tx, id, &note, input.done, user.user_id).await?;
    let change = ctx
        .change("task.progress")
        .after(serde_json::json!({ "task_id": id, "note": note, "done": input.done }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A progress report; `done` completes the task (the lead or 综合科).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/progress", tag = "follow-up",
    params(("id" = Uuid, Path)), request_body = ProgressInput,
    responses((status = 200, body = TaskDetail), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn progress_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProgressInput>,
) -> Result<Json<TaskDetail>, AppError> {
    let id = parse_id(&id)?;
    report(&state, &user, id, input).await?;
    Ok(Json(detail(&state, &user, id).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ReminderInput {
    /// Left empty, the reminder names the task and its due date.
    #[serde(default)]
    pub text: String,
}

async fn remind(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: ReminderInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, task) = task_ctx(&mut tx, user, id, Action::RemindTask, true).await?;
    if task.done_at.is_some() {
        return Err(RuleViolation::new(Rule::Supervision, "该督办事项已办结。").into());
    }
    let text = match input.text.trim() {
        "" => format!(
            "督办通知:请于{}前完成“{}”并报告进展",
            date_zh(&task.due_on),
            task.description
        ),
        t => required_text("text", t, 2000)?,
    };
    db::followup::remind(&mut tx, id, &text, user.user_id).await?;
    db::notifications::send(
        &mut tx,
        &[task.lead_user_id],
        &text,
        &format!("/tasks/{id}"),
    )
    .await?;
    let change = ctx
        .change("task.remind")
        .after(serde_json::json!({ "task_id": id, "text": text }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sends a reminder (督办通知) to the task's lead: 综合科 or the 书记.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reminders", tag = "follow-up",
    params(("id" = Uuid, Path)), request_body = ReminderInput,
    responses((status = 201, body = TaskDetail), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn remind_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReminderInput>,
) -> Result<(StatusCode, Json<TaskDetail>), AppError> {
    let id = parse_id(&id)?;
    remind(&state, &user, id, input).await?;
    Ok((StatusCode::CREATED, Json(detail(&state, &user, id).await?)))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CircularInput {
    #[serde(default)]
    pub text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CircularSent {
    pub id: Uuid,
    pub recipients: usize,
}

async fn circulate(
    state: &AppState,
    user: &CurrentUser,
    group_id: Uuid,
    input: CircularInput,
) -> Result<CircularSent, AppError> {
    let mut tx = state.pool.begin().await?;
    db::party_groups::get(&mut tx, group_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = db::party_groups::current_position(&mut tx, group_id, user.user_id)
        .await?
        .and_then(|p| Position::parse(&p));
    user.can_in(
        Action::TrackDuties,
        group_id,
        position,
        &Relation::default(),
    )?;
    let text = required_text("text", &input.text, 5000)?;
    let id = db::followup::send_circular(&mut tx, group_id, &text, user.user_id).await?;
    let mut to: Vec<Uuid> = db::party_groups::memberships(&mut tx, group_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none())
        .map(|m| m.user_id)
        .collect();
    for lead in db::followup::open_task_leads(&mut tx, group_id).await? {
        if !to.contains(&lead) {
            to.push(lead);
        }
    }
    db::notifications::send(&mut tx, &to, &format!("通报:{text}"), "/tasks").await?;
    let change = Change::new(Chain::PartyGroup(group_id), "task.circular", "party_group")
        .entity(group_id)
        .after(serde_json::json!({ "circular_id": id, "text": text, "recipients": to }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(CircularSent {
        id,
        recipients: to.len(),
    })
}

/// Issues a circular (通报) on follow-up progress to the group's members and every open
/// task's lead: 综合科 or the 书记.
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/circulars", tag = "follow-up",
    params(("id" = Uuid, Path)), request_body = CircularInput,
    responses((status = 201, body = CircularSent), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn circular_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CircularInput>,
) -> Result<(StatusCode, Json<CircularSent>), AppError> {
    let sent = circulate(&state, &user, parse_id(&id)?, input).await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

// ---- Reserved opinions and changed decisions ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ReserveInput {
    #[serde(default)]
    pub text: String,
}

async fn reserve(
    state: &AppState,
    user: &CurrentUser,
    item_id: Uuid,
    input: ReserveInput,
) -> Result<Uuid, AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, item) = item_ctx(&mut tx, user, item_id, Action::ReserveOpinion).await?;
    if outcome_of(&item).is_none() {
        return Err(RuleViolation::new(
            Rule::Reserve,
            "保留意见针对会议已作出的决定;该事项尚未作出决定。",
        )
        .into());
    }
    let stance = db::deliberation::opinions(&mut tx, ctx.id())
        .await?
        .into_iter()
        .find(|o| o.item_id == item_id && o.user_id == user.user_id)
        .and_then(|o| Stance::parse(&o.stance));
    check_reserve(stance)?;
    let text = required_text("text", &input.text, 5000)?;
    if !db::followup::reserve(&mut tx, item_id, user.user_id, &text).await? {
        return Err(RuleViolation::new(Rule::Reserve, "您已对该决定记录保留意见。").into());
    }
    let change = ctx
        .change("item.reserve")
        .after(serde_json::json!({ "item_id": item_id, "text": text }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(item_id)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub item_id: Uuid,
}

/// A dissenting member's reserved opinion on a decision (R-RESERVE); the decision stands.
#[utoipa::path(post, path = "/api/v1/items/{item_id}/reserved-opinions", tag = "follow-up",
    params(("item_id" = Uuid, Path)), request_body = ReserveInput,
    responses((status = 201, body = Recorded), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn reserve_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(item_id): Path<String>,
    ApiJson(input): ApiJson<ReserveInput>,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    let item_id = reserve(&state, &user, parse_id(&item_id)?, input).await?;
    Ok((StatusCode::CREATED, Json(Recorded { item_id })))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct SupersedeInput {
    /// The earlier decision this item changes.
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub reason: String,
}

async fn supersede(
    state: &AppState,
    user: &CurrentUser,
    new_item_id: Uuid,
    input: SupersedeInput,
) -> Result<Uuid, AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, new_item) = item_ctx(&mut tx, user, new_item_id, Action::LinkDecision).await?;
    let old = match Uuid::parse_str(input.item_id.trim()) {
        Ok(id) => db::followup::item_ref(&mut tx, id).await?,
        Err(_) => None,
    }
    .filter(|o| o.party_group_id == ctx.meeting.party_group_id && o.item_id != new_item_id)
    .ok_or_else(|| AppError::invalid("item_id", "须为本党组此前会议的一项决定"))?;
    if old.outcome.is_none() {
        return Err(AppError::invalid("item_id", "该事项尚未作出决定"));
    }
    check_supersede(outcome_of(&new_item), old.starts_at < ctx.meeting.starts_at)?;
    let reason = required_text("reason", &input.reason, 2000)?;
    if !db::followup::link_change(&mut tx, old.item_id, new_item_id, &reason, user.user_id).await? {
        return Err(RuleViolation::new(
            Rule::DecisionChange,
            "该决定已被此后的决定变更,不能重复变更;请变更最新的决定。",
        )
        .into());
    }
    let change = ctx.change("item.supersede").after(serde_json::json!({
        "new_item_id": new_item_id,
        "old_item_id": old.item_id,
        "old_meeting_id": old.meeting_id,
        "reason": reason,
    }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(old.item_id)
}

/// Records that this passed item changes an earlier decision (R-DECISION-CHANGE): the chair
/// of its meeting or 综合科; both decisions then link to each other.
#[utoipa::path(post, path = "/api/v1/items/{item_id}/supersedes", tag = "follow-up",
    params(("item_id" = Uuid, Path)), request_body = SupersedeInput,
    responses((status = 201, body = Recorded), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn supersede_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(item_id): Path<String>,
    ApiJson(input): ApiJson<SupersedeInput>,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    let old = supersede(&state, &user, parse_id(&item_id)?, input).await?;
    Ok((StatusCode::CREATED, Json(Recorded { item_id: old })))
}

/// The home page's to-dos about the record (ui.md: tasks I lead that are due, decisions to
/// take, documents to sign for).
pub(super) async fn todos(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<crate::app::topic::Todo>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let today = today();
    let soon = today + time::Duration::days(7);
    let mut out = Vec::new();
    for t in db::followup::todos(&mut conn, user.user_id).await? {
        let (label, href) = match t.kind.as_str() {
            "task" => match t.due_on {
                Some(d) if d < today => (
                    format!("督办事项逾期:{}", t.title),
                    format!("/tasks/{}", t.id),
                ),
                Some(d) if d <= soon => (
                    format!("督办事项{}到期:{}", date_zh(&d), t.title),
                    format!("/tasks/{}", t.id),
                ),
                _ => continue,
            },
            "borrow" => (
                format!("待我审批借阅:{}", t.title),
                "/borrow-requests".into(),
            ),
            "receipt" => (
                format!("请签收会议纪要:{}", t.title),
                format!("/meetings/{}/summary", t.id),
            ),
            "circulation" => (
                format!("待我审定:{}", t.title),
                format!("/circulations/{}", t.id),
            ),
            "minutes_draft" => (
                format!("待起草会议记录:{}", t.title),
                format!("/meetings/{}/minutes", t.id),
            ),
            "minutes_sign" => (
                format!("待签署会议记录:{}", t.title),
                format!("/meetings/{}/minutes", t.id),
            ),
            _ => continue,
        };
        out.push(crate::app::topic::Todo { label, href });
    }
    Ok(out)
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "records/tasks.html")]
struct BoardPage {
    layout: Layout,
    tasks: Vec<TaskView>,
    status: String,
    overdue_only: bool,
    circulars: Vec<Circular>,
    /// Groups this person may issue circulars for.
    groups: Vec<db::party_groups::PartyGroup>,
}

impl BoardPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn board_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BoardQuery>,
) -> Result<BoardPage, AppError> {
    let mut conn = state.pool.acquire().await?;
    let tasks = board(&mut conn, &user, &q).await?;
    let mut groups = Vec::new();
    for g in db::party_groups::list_all(&mut conn).await? {
        let position =
            db::party_groups::current_position(&mut conn, g.party_group_id, user.user_id)
                .await?
                .and_then(|p| Position::parse(&p));
        if user
            .can_in(
                Action::TrackDuties,
                g.party_group_id,
                position,
                &Relation::default(),
            )
            .is_ok()
        {
            groups.push(g);
        }
    }
    let circulars = if groups.is_empty() {
        Vec::new()
    } else {
        db::followup::circulars(&mut conn).await?
    };
    Ok(BoardPage {
        layout: Layout::new("督办事项", Some(&user)),
        tasks,
        status: q.status.unwrap_or_default(),
        overdue_only: matches!(q.overdue.as_deref(), Some("true" | "1" | "on")),
        circulars,
        groups,
    })
}

/// One CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180); a
/// leading formula character is neutralised so spreadsheets do not evaluate it.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn tasks_csv(tasks: &[TaskView]) -> String {
    // A byte-order mark so that spreadsheet programs read the Chinese text as UTF-8.
    let mut out =
        String::from("\u{feff}会议,决定事项,牵头人,配合科室,完成时限,工作要求,状态,最新进展\r\n");
    for t in tasks {
        let status = if t.task.done_at.is_some() {
            "已办结"
        } else if t.overdue {
            "逾期"
        } else {
            "办理中"
        };
        let row = [
            t.task.meeting_title.as_str(),
            t.task.title.as_str(),
            t.task.lead_name.as_str(),
            &t.task.section_names.join("、"),
            &t.task.due_on.to_string(),
            t.task.description.as_str(),
            status,
            t.task.last_note.as_deref().unwrap_or(""),
        ]
        .map(csv_field)
        .join(",");
        out.push_str(&row);
        out.push_str("\r\n");
    }
    out
}

async fn board_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let mut conn = state.pool.acquire().await?;
    let tasks = board(&mut conn, &user, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tasks.csv\"",
            ),
        ],
        tasks_csv(&tasks),
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "records/task.html")]
struct TaskPage {
    layout: Layout,
    detail: TaskDetail,
    may_report: bool,
    may_remind: bool,
}

impl TaskPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn task_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<TaskPage, AppError> {
    let id = parse_id(&id)?;
    let detail = detail(&state, &user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let open = detail.task.task.done_at.is_none();
    let may_report = open
        && task_ctx(&mut conn, &user, id, Action::ReportProgress, false)
            .await
            .is_ok();
    let may_remind = open
        && task_ctx(&mut conn, &user, id, Action::RemindTask, false)
            .await
            .is_ok();
    Ok(TaskPage {
        layout: Layout::new("督办事项", Some(&user)),
        may_report,
        may_remind,
        detail,
    })
}

#[derive(Deserialize)]
struct FollowupForm {
    #[serde(default)]
    note: String,
    done: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    lead_user_id: String,
    #[serde(default)]
    section_ids: Vec<String>,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    item_id: String,
    #[serde(default)]
    reason: String,
}

async fn progress_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<FollowupForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = ProgressInput {
        note: f.note,
        done: f.done.is_some(),
    };
    report(&state, &user, id, input).await?;
    Ok(Redirect::to(&format!("/tasks/{id}")))
}

async fn remind_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<FollowupForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    remind(&state, &user, id, ReminderInput { text: f.text }).await?;
    Ok(Redirect::to(&format!("/tasks/{id}")))
}

async fn create_task_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(item_id): Path<String>,
    PageForm(f): PageForm<FollowupForm>,
) -> Result<Redirect, AppError> {
    let input = NewTaskInput {
        lead_user_id: f.lead_user_id,
        section_ids: f.section_ids,
        due_on: f.due_on,
        description: f.description,
    };
    let task = create_task(&state, &user, parse_id(&item_id)?, input).await?;
    Ok(Redirect::to(&format!(
        "/meetings/{}/summary",
        task.meeting_id
    )))
}

async fn reserve_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(item_id): Path<String>,
    PageForm(f): PageForm<FollowupForm>,
) -> Result<Redirect, AppError> {
    let item_id = parse_id(&item_id)?;
    reserve(&state, &user, item_id, ReserveInput { text: f.text }).await?;
    let mut conn = state.pool.acquire().await?;
    let found = db::followup::item_ref(&mut conn, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&super::meetings::page_of(found.meeting_id)))
}

async fn supersede_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(item_id): Path<String>,
    PageForm(f): PageForm<FollowupForm>,
) -> Result<Redirect, AppError> {
    let item_id = parse_id(&item_id)?;
    let input = SupersedeInput {
        item_id: f.item_id,
        reason: f.reason,
    };
    supersede(&state, &user, item_id, input).await?;
    let mut conn = state.pool.acquire().await?;
    let found = db::followup::item_ref(&mut conn, item_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&super::meetings::page_of(found.meeting_id)))
}

async fn circular_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<FollowupForm>,
) -> Result<Redirect, AppError> {
    circulate(
        &state,
        &user,
        parse_id(&id)?,
        CircularInput { text: f.text },
    )
    .await?;
    Ok(Redirect::to("/tasks"))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("修订协议"), "修订协议");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("他说\"好\""), "\"他说\"\"好\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("第一行\n第二行"), "\"第一行\n第二行\"");
    }
}
