//! What the group owes on its calendar and outside its meetings (section G and R-EMERGENCY):
//! the duty dashboard for the 书记 and 综合科 (R-MONTHLY, R-HALF-YEAR, R-REPORT-UP,
//! R-SUPERVISION), reports up, on-the-spot disposals reported to the next meeting, and
//! circulation review of documents in the group's name (R-PUBLICATION).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, FieldError};
use super::extract::{ApiJson, CurrentUser, PageForm, parse_id};
use super::pages::{DISPLAY_OFFSET, Layout, date_zh, datetime_zh};
use crate::app::input::required_text;
use crate::audit::{Chain, Change};
use crate::db::followup::{Circulation, Emergency, ReportUp, Signoff};
use crate::db::party_groups::PartyGroup;
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::category::Category;
use crate::domain::duties::{
    Duty, TaskDue, check_publication, half_yearly_hearings, monthly_meetings, overdue_tasks,
    yearly_reports,
};
use crate::domain::org::Position;
use crate::domain::rule::RuleViolation;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(emergency_api))
        .routes(routes!(duties_api))
        .routes(routes!(report_up_api))
        .routes(routes!(create_circulation_api))
        .routes(routes!(circulation_api))
        .routes(routes!(signoff_api))
        .routes(routes!(publish_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/duties", get(duties_page))
        .route("/emergencies", get(emergencies_page).post(emergency_page))
        .route("/party-groups/{id}/reports-up", post(report_up_page))
        .route(
            "/party-groups/{id}/circulations",
            post(create_circulation_page),
        )
        .route("/circulations", get(circulations_page))
        .route("/circulations/{id}", get(circulation_page))
        .route("/circulations/{id}/signoffs", post(signoff_page))
        .route("/circulations/{id}/publish", post(publish_page))
}

fn today() -> Date {
    OffsetDateTime::now_utc().to_offset(DISPLAY_OFFSET).date()
}

/// The group and the user's position in it today, with `action` checked (404 for an unknown
/// group).
async fn group_for(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    group_id: Uuid,
    action: Action,
) -> Result<(PartyGroup, Option<Position>), AppError> {
    let group = db::party_groups::get(conn, group_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = db::party_groups::current_position(conn, group_id, user.user_id)
        .await?
        .and_then(|p| Position::parse(&p));
    user.can_in(action, group_id, position, &Relation::default())?;
    Ok((group, position))
}

// ---- Emergencies (R-EMERGENCY) ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct EmergencyInput {
    #[serde(default)]
    pub party_group_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub action_taken: String,
    /// RFC 3339 with offset.
    #[serde(default)]
    pub occurred_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EmergencyRecorded {
    pub id: Uuid,
    /// The meeting it will be reported to, when one is scheduled; otherwise the next one.
    pub meeting_id: Option<Uuid>,
}

async fn record_emergency(
    state: &AppState,
    user: &CurrentUser,
    input: EmergencyInput,
) -> Result<EmergencyRecorded, AppError> {
    let mut tx = state.pool.begin().await?;
    let group_id = Uuid::parse_str(input.party_group_id.trim())
        .map_err(|_| AppError::invalid("party_group_id", "党组不存在"))?;
    let (group, _) = match group_for(&mut tx, user, group_id, Action::RecordEmergency).await {
        Err(AppError::NotFound) => return Err(AppError::invalid("party_group_id", "党组不存在")),
        other => other?,
    };
    let mut errors = Vec::new();
    let mut text = |field: &str, raw: &str, max: usize| match required_text(field, raw, max) {
        Ok(t) => Some(t),
        Err(AppError::Invalid(f)) => {
            errors.extend(f);
            None
        }
        Err(_) => None,
    };
    let title = text("title", &input.title, 200);
    let action_taken = text("action_taken", &input.action_taken, 5000);
    let occurred_at = OffsetDateTime::parse(input.occurred_at.trim(), &Rfc3339)
        .ok()
        .filter(|t| *t <= OffsetDateTime::now_utc());
    if occurred_at.is_none() {
        errors.push(FieldError::new(
            "occurred_at",
            "须为已发生的时间,带时区,如 2026-11-28T22:00:00+08:00",
        ));
    }
    let (Some(title), Some(action_taken), Some(occurred_at), true) =
        (title, action_taken, occurred_at, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let (id, meeting_id) = db::followup::record_emergency(
        &mut tx,
        &db::followup::NewEmergency {
            party_group_id: group.party_group_id,
            title: &title,
            action_taken: &action_taken,
            occurred_at,
            recorded_by: user.user_id,
        },
    )
    .await?;
    let change = Change::new(Chain::PartyGroup(group_id), "emergency.record", "emergency")
        .entity(id)
        .after(serde_json::json!({
            "title": title,
            "action_taken": action_taken,
            "occurred_at": occurred_at.format(&Rfc3339).unwrap_or_default(),
            "reported_to_meeting": meeting_id,
        }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(EmergencyRecorded { id, meeting_id })
}

/// Records an on-the-spot disposal (R-EMERGENCY): the 书记, a 副书记 or a member. It becomes a
/// report of the group's next meeting.
#[utoipa::path(post, path = "/api/v1/emergencies", tag = "duties", request_body = EmergencyInput,
    responses((status = 201, body = EmergencyRecorded), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn emergency_api(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<EmergencyInput>,
) -> Result<(StatusCode, Json<EmergencyRecorded>), AppError> {
    let recorded = record_emergency(&state, &user, input).await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

// ---- The duty dashboard ----

#[derive(Serialize, utoipa::ToSchema)]
pub struct DutyView {
    /// The rule code.
    pub rule: String,
    #[serde(with = "crate::db::iso_date")]
    pub due_on: Date,
    pub overdue: bool,
    pub what: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Duties {
    pub party_group_id: Uuid,
    pub name: String,
    /// What is due or overdue, overdue first.
    pub duties: Vec<DutyView>,
    pub reports_up: Vec<ReportUp>,
    /// Disposals not yet reported at a held meeting.
    pub emergencies: Vec<Emergency>,
}

async fn duties(
    conn: &mut sqlx::PgConnection,
    group: PartyGroup,
    today: Date,
) -> Result<Duties, AppError> {
    let id = group.party_group_id;
    let offset = DISPLAY_OFFSET.whole_seconds();
    let since = db::party_groups::created_at(conn, id)
        .await?
        .map_or(today, |t| t.to_offset(DISPLAY_OFFSET).date());
    let held = db::followup::held_meeting_dates(conn, id, offset).await?;
    let heard: Vec<(Category, Date)> = db::followup::heard_categories(conn, id, offset)
        .await?
        .into_iter()
        .filter_map(|(c, d)| Some((Category::new(i64::from(c)).ok()?, d)))
        .collect();
    let reports_up = db::followup::reports_up(conn, id).await?;
    let reported: Vec<Date> = reports_up.iter().map(|r| r.reported_on).collect();
    let tasks = db::followup::open_tasks_of_group(conn, id).await?;
    let task_dues: Vec<TaskDue<'_>> = tasks
        .iter()
        .map(|(description, due_on)| TaskDue {
            description,
            due_on: *due_on,
            done: false,
        })
        .collect();
    let mut all: Vec<Duty> = monthly_meetings(&held, since, today);
    all.extend(half_yearly_hearings(&heard, since, today));
    all.extend(yearly_reports(&reported, since, today));
    all.extend(overdue_tasks(&task_dues, today));
    all.sort_by_key(|d| (!d.overdue, d.due_on));
    Ok(Duties {
        party_group_id: id,
        name: group.name,
        duties: all
            .into_iter()
            .map(|d| DutyView {
                rule: d.rule.code().to_owned(),
                due_on: d.due_on,
                overdue: d.overdue,
                what: d.what_zh,
            })
            .collect(),
        reports_up,
        emergencies: db::followup::emergencies_pending(conn, id).await?,
    })
}

/// The group's calendar duties: the 书记 and 综合科.
#[utoipa::path(get, path = "/api/v1/party-groups/{id}/duties", tag = "duties",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Duties), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem)))]
async fn duties_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Duties>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let (group, _) = group_for(&mut conn, &user, parse_id(&id)?, Action::TrackDuties).await?;
    Ok(Json(duties(&mut conn, group, today()).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ReportUpInput {
    #[serde(default)]
    pub title: String,
    /// `YYYY-MM-DD`, not in the future.
    #[serde(default)]
    pub reported_on: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedId {
    pub id: Uuid,
}

async fn report_up(
    state: &AppState,
    user: &CurrentUser,
    group_id: Uuid,
    input: ReportUpInput,
) -> Result<Uuid, AppError> {
    let mut tx = state.pool.begin().await?;
    let (group, _) = group_for(&mut tx, user, group_id, Action::TrackDuties).await?;
    let reported_on = Date::parse(
        input.reported_on.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
    .filter(|d| *d <= today());
    let title = required_text("title", &input.title, 200)?;
    let reported_on = reported_on
        .ok_or_else(|| AppError::invalid("reported_on", "须为已报送的日期,如 2026-11-20"))?;
    let id = db::followup::record_report_up(
        &mut tx,
        group.party_group_id,
        &title,
        reported_on,
        user.user_id,
    )
    .await?;
    let change = Change::new(Chain::PartyGroup(group_id), "report_up.record", "party_group")
        .entity(group_id)
        .after(serde_json::json!({ "report_id": id, "title": title, "reported_on": reported_on.to_string() }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records the written report to the prefecture party committee (R-REPORT-UP).
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/reports-up", tag = "duties",
    params(("id" = Uuid, Path)), request_body = ReportUpInput,
    responses((status = 201, body = CreatedId), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn report_up_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReportUpInput>,
) -> Result<(StatusCode, Json<CreatedId>), AppError> {
    let id = report_up(&state, &user, parse_id(&id)?, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

// ---- Circulation review (R-PUBLICATION) ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CirculationInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

async fn create_circulation(
    state: &AppState,
    user: &CurrentUser,
    group_id: Uuid,
    input: CirculationInput,
) -> Result<Uuid, AppError> {
    let mut tx = state.pool.begin().await?;
    let (group, _) = group_for(&mut tx, user, group_id, Action::ManageCirculation).await?;
    let title = required_text("title", &input.title, 200)?;
    let body = required_text("body", &input.body, 50000)?;
    let id = db::followup::insert_circulation(
        &mut tx,
        group.party_group_id,
        &title,
        &body,
        user.user_id,
    )
    .await?;
    let members = current_members(&mut tx, group_id).await?;
    db::notifications::send(
        &mut tx,
        &members,
        &format!("请审定:{title}"),
        &format!("/circulations/{id}"),
    )
    .await?;
    let change = Change::new(
        Chain::PartyGroup(group_id),
        "circulation.create",
        "circulation",
    )
    .entity(id)
    .after(serde_json::json!({ "title": title, "body": body }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(id)
}

async fn current_members(
    conn: &mut sqlx::PgConnection,
    group_id: Uuid,
) -> Result<Vec<Uuid>, AppError> {
    Ok(db::party_groups::memberships(conn, group_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none())
        .map(|m| m.user_id)
        .collect())
}

/// Circulates a document in the group's name for review by every member: the 书记 or 综合科.
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/circulations", tag = "duties",
    params(("id" = Uuid, Path)), request_body = CirculationInput,
    responses((status = 201, body = CreatedId), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn create_circulation_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CirculationInput>,
) -> Result<(StatusCode, Json<CreatedId>), AppError> {
    let id = create_circulation(&state, &user, parse_id(&id)?, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CirculationView {
    #[serde(flatten)]
    pub circulation: Circulation,
    pub signoffs: Vec<Signoff>,
    /// Members who have not approved yet.
    pub waiting: Vec<String>,
}

async fn circulation_view(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: Uuid,
    action: Action,
    lock: bool,
) -> Result<(CirculationView, Vec<Uuid>), AppError> {
    let circulation = db::followup::circulation(conn, id, lock)
        .await?
        .ok_or(AppError::NotFound)?;
    group_for(conn, user, circulation.party_group_id, action).await?;
    let signoffs = db::followup::signoffs(conn, id).await?;
    let memberships: Vec<_> = db::party_groups::memberships(conn, circulation.party_group_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none())
        .collect();
    let members: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    let waiting = memberships
        .iter()
        .filter(|m| {
            !signoffs
                .iter()
                .any(|s| s.user_id == m.user_id && s.approved)
        })
        .map(|m| m.name.clone())
        .collect();
    Ok((
        CirculationView {
            circulation,
            signoffs,
            waiting,
        },
        members,
    ))
}

/// A circulated document with each member's sign-off: members and 综合科.
#[utoipa::path(get, path = "/api/v1/circulations/{id}", tag = "duties",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CirculationView), (status = 404, body = super::error::Problem)))]
async fn circulation_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<CirculationView>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let (view, _) = circulation_view(
        &mut conn,
        &user,
        parse_id(&id)?,
        Action::ReadCirculation,
        false,
    )
    .await?;
    Ok(Json(view))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct SignoffInput {
    pub approved: Option<bool>,
    /// Required when not approving.
    #[serde(default)]
    pub comment: String,
}

fn published_refusal() -> RuleViolation {
    RuleViolation::new(
        crate::domain::rule::Rule::Publication,
        "该文件已发布,审定已结束。",
    )
}

async fn sign_off(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: SignoffInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (view, _) = circulation_view(&mut tx, user, id, Action::SignCirculation, true).await?;
    if view.circulation.published_at.is_some() {
        return Err(published_refusal().into());
    }
    let approved = input
        .approved
        .ok_or_else(|| AppError::invalid("approved", "请选择同意或提出修改意见"))?;
    let comment = input.comment.trim().to_owned();
    if !approved && comment.is_empty() {
        return Err(AppError::invalid("comment", "不同意时请写明修改意见"));
    }
    if comment.chars().count() > 5000 {
        return Err(AppError::invalid("comment", "不能超过 5000 个字符"));
    }
    db::followup::sign_circulation(&mut tx, id, user.user_id, approved, &comment).await?;
    let change = Change::new(
        Chain::PartyGroup(view.circulation.party_group_id),
        "circulation.signoff",
        "circulation",
    )
    .entity(id)
    .after(serde_json::json!({ "approved": approved, "comment": comment }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A member's sign-off or comment on a circulated document (R-PUBLICATION).
#[utoipa::path(post, path = "/api/v1/circulations/{id}/signoffs", tag = "duties",
    params(("id" = Uuid, Path)), request_body = SignoffInput,
    responses((status = 200, body = CirculationView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn signoff_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SignoffInput>,
) -> Result<Json<CirculationView>, AppError> {
    let id = parse_id(&id)?;
    sign_off(&state, &user, id, input).await?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        circulation_view(&mut conn, &user, id, Action::ReadCirculation, false)
            .await?
            .0,
    ))
}

async fn publish(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (view, members) =
        circulation_view(&mut tx, user, id, Action::ManageCirculation, true).await?;
    if view.circulation.published_at.is_some() {
        return Err(published_refusal().into());
    }
    let approved: Vec<Uuid> = view
        .signoffs
        .iter()
        .filter(|s| s.approved)
        .map(|s| s.user_id)
        .collect();
    check_publication(&members, &approved)?;
    db::followup::publish_circulation(&mut tx, id, user.user_id).await?;
    let change = Change::new(
        Chain::PartyGroup(view.circulation.party_group_id),
        "circulation.publish",
        "circulation",
    )
    .entity(id)
    .after(serde_json::json!({ "approved_by": approved }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the document once every member has approved it (R-PUBLICATION).
#[utoipa::path(post, path = "/api/v1/circulations/{id}/publish", tag = "duties",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CirculationView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn publish_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<CirculationView>, AppError> {
    let id = parse_id(&id)?;
    publish(&state, &user, id).await?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        circulation_view(&mut conn, &user, id, Action::ReadCirculation, false)
            .await?
            .0,
    ))
}

/// The home page's reminder for the 书记 and 综合科: overdue duties per group.
pub(super) async fn todos(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<crate::app::topic::Todo>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let mut out = Vec::new();
    for g in groups_for(&mut conn, user, Action::TrackDuties).await? {
        let name = g.name.clone();
        let overdue = duties(&mut conn, g, today())
            .await?
            .duties
            .iter()
            .filter(|d| d.overdue)
            .count();
        if overdue > 0 {
            out.push(crate::app::topic::Todo {
                label: format!("工作提醒:{name}有 {overdue} 项逾期"),
                href: "/duties".into(),
            });
        }
    }
    Ok(out)
}

// ---- Pages ----

/// The groups in which this person may take `action` today.
async fn groups_for(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    action: Action,
) -> Result<Vec<PartyGroup>, AppError> {
    let mut out = Vec::new();
    for g in db::party_groups::list_all(conn).await? {
        if group_for(conn, user, g.party_group_id, action)
            .await
            .is_ok()
        {
            out.push(g);
        }
    }
    Ok(out)
}

#[derive(Template, WebTemplate)]
#[template(path = "records/duties.html")]
struct DutiesPage {
    layout: Layout,
    groups: Vec<Duties>,
}

impl DutiesPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn duties_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<DutiesPage, AppError> {
    let mut conn = state.pool.acquire().await?;
    let mut groups = Vec::new();
    for g in groups_for(&mut conn, &user, Action::TrackDuties).await? {
        groups.push(duties(&mut conn, g, today()).await?);
    }
    Ok(DutiesPage {
        layout: Layout::new("工作提醒", Some(&user)),
        groups,
    })
}

#[derive(Deserialize)]
struct DutyForm {
    #[serde(default)]
    party_group_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    action_taken: String,
    /// `2026-11-28T22:00` from a datetime-local control, in the display zone.
    #[serde(default)]
    occurred_at: String,
    #[serde(default)]
    reported_on: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    approved: String,
    #[serde(default)]
    comment: String,
}

async fn report_up_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<DutyForm>,
) -> Result<Redirect, AppError> {
    let input = ReportUpInput {
        title: f.title,
        reported_on: f.reported_on,
    };
    report_up(&state, &user, parse_id(&id)?, input).await?;
    Ok(Redirect::to("/duties"))
}

#[derive(Template, WebTemplate)]
#[template(path = "records/emergencies.html")]
struct EmergenciesPage {
    layout: Layout,
    groups: Vec<PartyGroup>,
    emergencies: Vec<Emergency>,
}

impl EmergenciesPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn emergencies_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<EmergenciesPage, AppError> {
    let mut conn = state.pool.acquire().await?;
    let groups = groups_for(&mut conn, &user, Action::RecordEmergency).await?;
    let mut emergencies = Vec::new();
    for g in &groups {
        emergencies.extend(db::followup::emergencies_pending(&mut conn, g.party_group_id).await?);
    }
    Ok(EmergenciesPage {
        layout: Layout::new("临机处置", Some(&user)),
        groups,
        emergencies,
    })
}

/// A `datetime-local` value in the display zone, as RFC 3339.
fn local_to_rfc3339(raw: &str) -> String {
    let raw = raw.trim();
    match raw.len() {
        16 => format!("{raw}:00+08:00"),
        19 => format!("{raw}+08:00"),
        _ => raw.to_owned(),
    }
}

async fn emergency_page(
    State(state): State<AppState>,
    user: CurrentUser,
    PageForm(f): PageForm<DutyForm>,
) -> Result<Redirect, AppError> {
    let input = EmergencyInput {
        party_group_id: f.party_group_id,
        title: f.title,
        action_taken: f.action_taken,
        occurred_at: local_to_rfc3339(&f.occurred_at),
    };
    record_emergency(&state, &user, input).await?;
    Ok(Redirect::to("/emergencies"))
}

#[derive(Template, WebTemplate)]
#[template(path = "records/circulations.html")]
struct CirculationsPage {
    layout: Layout,
    circulations: Vec<Circulation>,
    /// Groups where this person may start a review.
    manage: Vec<PartyGroup>,
}

impl CirculationsPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn circulations_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<CirculationsPage, AppError> {
    let mut conn = state.pool.acquire().await?;
    let readable: Vec<Uuid> = groups_for(&mut conn, &user, Action::ReadCirculation)
        .await?
        .into_iter()
        .map(|g| g.party_group_id)
        .collect();
    Ok(CirculationsPage {
        layout: Layout::new("传阅审定", Some(&user)),
        circulations: db::followup::circulations(&mut conn, &readable).await?,
        manage: groups_for(&mut conn, &user, Action::ManageCirculation).await?,
    })
}

async fn create_circulation_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<DutyForm>,
) -> Result<Redirect, AppError> {
    let input = CirculationInput {
        title: f.title,
        body: f.body,
    };
    let id = create_circulation(&state, &user, parse_id(&id)?, input).await?;
    Ok(Redirect::to(&format!("/circulations/{id}")))
}

#[derive(Template, WebTemplate)]
#[template(path = "records/circulation.html")]
struct CirculationPage {
    layout: Layout,
    view: CirculationView,
    may_sign: bool,
    may_publish: bool,
    /// Why publishing is not possible yet.
    publish_blocked: Option<String>,
}

impl CirculationPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn circulation_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<CirculationPage, AppError> {
    let id = parse_id(&id)?;
    let mut conn = state.pool.acquire().await?;
    let (view, members) =
        circulation_view(&mut conn, &user, id, Action::ReadCirculation, false).await?;
    let open = view.circulation.published_at.is_none();
    let group = view.circulation.party_group_id;
    let may_sign = open
        && group_for(&mut conn, &user, group, Action::SignCirculation)
            .await
            .is_ok();
    let may_publish = open
        && group_for(&mut conn, &user, group, Action::ManageCirculation)
            .await
            .is_ok();
    let approved: Vec<Uuid> = view
        .signoffs
        .iter()
        .filter(|s| s.approved)
        .map(|s| s.user_id)
        .collect();
    let publish_blocked = check_publication(&members, &approved)
        .err()
        .map(|v| format!("{}:{}", v.rule.code(), v.detail_zh));
    Ok(CirculationPage {
        layout: Layout::new(view.circulation.title.clone(), Some(&user)),
        view,
        may_sign,
        may_publish,
        publish_blocked,
    })
}

async fn signoff_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<DutyForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = SignoffInput {
        approved: match f.approved.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        comment: f.comment,
    };
    sign_off(&state, &user, id, input).await?;
    Ok(Redirect::to(&format!("/circulations/{id}")))
}

async fn publish_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    publish(&state, &user, id).await?;
    Ok(Redirect::to(&format!("/circulations/{id}")))
}
