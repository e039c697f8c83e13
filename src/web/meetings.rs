//! The meeting (党组会议), section C of `rules.md`: scheduling, the agenda, the notice, leave,
//! attendance and the quorum, opening and closing. Items are dealt with in `deliberation`.

use std::collections::BTreeSet;

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
use super::error::AppError;
use super::extract::{ApiJson, CurrentUser, PageForm, parse_id};
use super::pages::{DISPLAY_OFFSET, datetime_zh};
use crate::audit::{Chain, Change};
use crate::db::meetings::{Item, Lock, Meeting, RosterEntry};
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::category::Category;
use crate::domain::counting::{Fraction, check_quorum};
use crate::domain::meeting::{
    ItemState, MeetingState, check_agenda_open, check_agenda_order, check_attendance,
    check_delegate_chair, check_leave_request, check_materials_deadline, check_secretary,
    close_meeting, issue_notice, open_meeting,
};
use crate::domain::org::Position;
use crate::domain::role::Role;
use crate::domain::rule::{Rule, RuleViolation, override_given};
use crate::domain::topic::{Classification, check_ad_hoc, check_lead_time};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_meetings_api, create_meeting_api))
        .routes(routes!(get_meeting_api))
        .routes(routes!(delegate_chair_api))
        .routes(routes!(add_item_api))
        .routes(routes!(move_item_api))
        .routes(routes!(invite_attendee_api))
        .routes(routes!(notice_api))
        .routes(routes!(ask_leave_api))
        .routes(routes!(decide_leave_api))
        .routes(routes!(attendance_api))
        .routes(routes!(open_api))
        .routes(routes!(close_api))
        .routes(routes!(super::events::events_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route("/meetings/{id}/chair", post(delegate_chair_page))
        .route("/meetings/{id}/agenda", post(add_item_page))
        .route("/meetings/{id}/agenda/{item_id}/move", post(move_item_page))
        .route("/meetings/{id}/attendees", post(invite_attendee_page))
        .route("/meetings/{id}/notice", post(notice_page))
        .route("/meetings/{id}/leave", post(ask_leave_page))
        .route(
            "/meetings/{id}/leave/{user_id}/decision",
            post(decide_leave_page),
        )
        .route("/meetings/{id}/attendance/{user_id}", post(attendance_page))
        .route("/meetings/{id}/open", post(open_page))
        .route("/meetings/{id}/close", post(close_page))
}

// ---- The meeting as one person stands to it ----

/// A meeting loaded for one user: their position in its group and relation to it, the
/// group's members on the meeting date with their attendance, and the group's quorum.
pub(super) struct Ctx {
    pub meeting: Meeting,
    pub state: MeetingState,
    pub position: Option<Position>,
    pub relation: Relation,
    pub roster: Vec<RosterEntry>,
    pub quorum: Fraction,
    pub settings: crate::domain::settings::Settings,
}

impl Ctx {
    /// Loads the meeting (locked for the action that follows when `lock`) and checks that the
    /// user may see it at all (R-CONFIDENTIAL: 404 otherwise).
    pub async fn load(
        conn: &mut sqlx::PgConnection,
        user: &CurrentUser,
        id: Uuid,
        lock: Lock,
    ) -> Result<Ctx, AppError> {
        Self::load_as(
            conn,
            user,
            id,
            lock,
            Action::ReadMeeting,
            Relation::default(),
        )
        .await
    }

    /// Like [`Ctx::load`], checking `action` instead of reading the meeting; `found` carries
    /// the relations that come from outside the meeting (a borrow grant, a delivered summary).
    pub async fn load_as(
        conn: &mut sqlx::PgConnection,
        user: &CurrentUser,
        id: Uuid,
        lock: Lock,
        action: Action,
        found: Relation,
    ) -> Result<Ctx, AppError> {
        let meeting = db::meetings::get(conn, id, lock)
            .await?
            .ok_or(AppError::NotFound)?;
        let (ctx, _) = Ctx::read(conn, user, meeting, action, found, None).await?;
        Ok(ctx)
    }

    /// Reads the rest of what an action needs once the meeting (and `item_id`, when given) is
    /// locked, and checks `action`.
    pub async fn read(
        conn: &mut sqlx::PgConnection,
        user: &CurrentUser,
        meeting: Meeting,
        action: Action,
        found: Relation,
        item_id: Option<Uuid>,
    ) -> Result<(Ctx, db::meetings::ItemFloor), AppError> {
        let context = db::meetings::context(
            conn,
            &meeting,
            user.user_id,
            meeting_date(&meeting),
            item_id,
        )
        .await?;
        let standing = &context.standing;
        let position = standing.position.as_deref().and_then(Position::parse);
        let relation = Relation {
            chair: meeting.chair_id == user.user_id,
            meeting_secretary: meeting.secretary_id == user.user_id,
            attendee: standing.attendee,
            ..found
        };
        user.can_in(action, meeting.party_group_id, position, &relation)?;
        let settings = standing.settings;
        let state = MeetingState::parse(&meeting.status)
            .ok_or_else(|| anyhow::anyhow!("unknown meeting status {}", meeting.status))?;
        let ctx = Ctx {
            quorum: Fraction {
                num: i64::from(settings.quorum_num),
                den: i64::from(settings.quorum_den),
            },
            settings,
            meeting,
            state,
            position,
            relation,
            roster: context.roster,
        };
        Ok((ctx, context.floor))
    }

    pub fn can(&self, user: &CurrentUser, action: Action) -> Result<(), AppError> {
        user.can_in(
            action,
            self.meeting.party_group_id,
            self.position,
            &self.relation,
        )
    }

    pub fn chain(&self) -> Chain {
        Chain::PartyGroup(self.meeting.party_group_id)
    }

    pub fn id(&self) -> Uuid {
        self.meeting.meeting_id
    }

    pub fn is_member(&self, user_id: Uuid) -> bool {
        self.roster.iter().any(|m| m.user_id == user_id)
    }

    /// Members in the room now.
    pub fn present(&self) -> Vec<Uuid> {
        self.roster
            .iter()
            .filter(|m| m.present)
            .map(|m| m.user_id)
            .collect()
    }

    pub fn members(&self) -> i64 {
        self.roster.len() as i64
    }

    pub fn date(&self) -> Date {
        meeting_date(&self.meeting)
    }

    /// The meeting's change, audited on its group's chain with the meeting as the entity.
    pub fn change(&self, action: &'static str) -> Change {
        Change::new(self.chain(), action, "meeting").entity(self.id())
    }
}

/// The meeting's date in the display zone: the date membership and lead times count from.
pub fn meeting_date(m: &Meeting) -> Date {
    m.starts_at.to_offset(DISPLAY_OFFSET).date()
}

pub(super) fn item_state(item: &Item) -> Result<ItemState, AppError> {
    ItemState::from_stored(&item.state, item.passed, item.outcome.as_deref())
        .ok_or_else(|| anyhow::anyhow!("unknown item state {}", item.state).into())
}

/// Appends the audit entry and the live notification of a meeting change, then commits.
pub(super) async fn commit(
    state: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    user: &CurrentUser,
    ctx: &Ctx,
    change: Change,
) -> Result<(), AppError> {
    let kind = change.action;
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    publish_and_commit(tx, ctx, kind).await
}

/// The last two steps of every meeting action. They come after the audit append, which locks
/// the group's chain head until commit: so snapshots are sent in the order the changes commit,
/// and each one sees every change committed before it.
pub(super) async fn publish_and_commit(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    ctx: &Ctx,
    kind: &str,
) -> Result<(), AppError> {
    db::meetings::publish(&mut tx, ctx.id(), kind).await?;
    tx.commit().await?;
    Ok(())
}

/// The groups whose meetings the user sees as 综合科: those their section serves.
pub(super) fn office_groups(user: &CurrentUser) -> Vec<Uuid> {
    if user.has(Role::Office) {
        user.served_groups.clone()
    } else {
        Vec::new()
    }
}

/// Loads a meeting the user may see, else 404.
pub(super) async fn visible_meeting(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<Ctx, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ctx::load(&mut conn, user, id, Lock::None).await
}

// ---- What a participant sees ----

#[derive(Serialize, utoipa::ToSchema)]
pub struct Quorum {
    pub present: i64,
    pub members: i64,
    pub needed: i64,
    pub met: bool,
}

impl Quorum {
    pub(super) fn of(ctx: &Ctx) -> Quorum {
        let present = ctx.present().len() as i64;
        let members = ctx.members();
        Quorum {
            present,
            members,
            needed: ctx.quorum.needed(members).max(1),
            met: check_quorum(present, members, ctx.quorum).is_ok(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    #[serde(flatten)]
    pub meeting: Meeting,
    pub chair_name: String,
    pub secretary_name: String,
    pub quorum: Quorum,
    /// The group's members on the meeting date, with attendance.
    pub roster: Vec<RosterEntry>,
    pub agenda: Vec<super::deliberation::ItemView>,
    pub attendees: Vec<db::meetings::Attendee>,
    pub leave_requests: Vec<db::meetings::LeaveRequest>,
    /// The item being dealt with now.
    pub current_item: Option<Uuid>,
    /// On-the-spot disposals reported to this meeting (R-EMERGENCY).
    pub emergencies: Vec<db::followup::Emergency>,
    /// Decisions of this meeting changed later, or changing earlier ones (R-DECISION-CHANGE).
    pub decision_changes: Vec<db::followup::Change>,
    /// Reserved opinions of dissenting members (R-RESERVE).
    pub reserved_opinions: Vec<db::followup::Reserved>,
}

async fn name_of(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<String, AppError> {
    Ok(db::users::get(conn, id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default())
}

pub(super) async fn view(
    state: &AppState,
    user: &CurrentUser,
    ctx: Ctx,
) -> Result<MeetingView, AppError> {
    let mut conn = state.pool.acquire().await?;
    let ctx_id = ctx.id();
    let agenda = super::deliberation::item_views(&mut conn, user, &ctx).await?;
    let attendees = db::meetings::attendees(&mut conn, ctx.id()).await?;
    let leave_requests = db::meetings::leave_requests(&mut conn, ctx.id()).await?;
    // R-RECUSAL: nothing about a withheld item reaches its reader.
    let withheld: Vec<Uuid> = agenda
        .iter()
        .filter(|i| i.withheld)
        .map(|i| i.item.item_id)
        .collect();
    let mut decision_changes = db::followup::changes(&mut conn, ctx_id).await?;
    decision_changes
        .retain(|c| !withheld.contains(&c.old_item_id) && !withheld.contains(&c.new_item_id));
    let mut reserved_opinions = db::followup::reserved(&mut conn, ctx_id).await?;
    reserved_opinions.retain(|r| !withheld.contains(&r.item_id));
    let current_item = agenda
        .iter()
        .find(|i| matches!(i.item.state.as_str(), "discussion" | "voting" | "tallied"))
        .map(|i| i.item.item_id);
    Ok(MeetingView {
        chair_name: name_of(&mut conn, ctx.meeting.chair_id).await?,
        secretary_name: name_of(&mut conn, ctx.meeting.secretary_id).await?,
        quorum: Quorum::of(&ctx),
        roster: ctx.roster,
        meeting: ctx.meeting,
        agenda,
        attendees,
        leave_requests,
        current_item,
        emergencies: db::followup::emergencies_of_meeting(&mut conn, ctx_id).await?,
        decision_changes,
        reserved_opinions,
    })
}

async fn answer(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<Json<MeetingView>, AppError> {
    let ctx = visible_meeting(state, user, id).await?;
    Ok(Json(view(state, user, ctx).await?))
}

/// My meetings (综合科: all of them).
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings",
    responses((status = 200, body = Vec<Meeting>), (status = 401, body = super::error::Problem)))]
async fn list_meetings_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Meeting>>, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        db::meetings::list_for_user(&mut conn, user.user_id, &office_groups(&user)).await?,
    ))
}

/// Status, chair, agenda, attendance, quorum and the current item.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 404, body = super::error::Problem)))]
async fn get_meeting_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, AppError> {
    answer(&state, &user, parse_id(&id)?).await
}

// ---- Scheduling ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NewMeeting {
    #[serde(default)]
    pub party_group_id: String,
    /// Left empty, the meeting is named by its number: 2026年第5次党组会议.
    #[serde(default)]
    pub title: String,
    /// RFC 3339 with offset.
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub place: String,
    /// The meeting secretary, from 综合科 (R-SECRETARY).
    #[serde(default)]
    pub secretary_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: Uuid,
    pub status: String,
    pub title: String,
}

pub(super) async fn create_meeting(
    state: &AppState,
    user: &CurrentUser,
    input: NewMeeting,
) -> Result<Meeting, AppError> {
    let mut tx = state.pool.begin().await?;
    let group = match Uuid::parse_str(input.party_group_id.trim()) {
        Ok(id) => db::party_groups::get(&mut tx, id).await?,
        Err(_) => None,
    };
    let position = match &group {
        Some(g) => db::party_groups::current_position(&mut tx, g.party_group_id, user.user_id)
            .await?
            .and_then(|p| Position::parse(&p)),
        None => None,
    };
    match &group {
        Some(g) => user.can_in(
            Action::CreateMeeting,
            g.party_group_id,
            position,
            &Relation::default(),
        )?,
        // No such group: a 422 below, for whoever may schedule at all.
        None => user.can(Action::CreateMeeting)?,
    }
    let mut errors = Vec::new();
    let starts_at = OffsetDateTime::parse(input.starts_at.trim(), &Rfc3339).map_err(|_| {
        errors.push(super::error::FieldError::new(
            "starts_at",
            "须为带时区的时间,如 2026-12-03T09:00:00+08:00",
        ))
    });
    let place = crate::domain::account::parse_name(&input.place, 200)
        .map_err(|m| errors.push(super::error::FieldError::new("place", m)));
    let title = input.title.trim().to_owned();
    if title.chars().count() > 200 {
        errors.push(super::error::FieldError::new(
            "title",
            "不能超过 200 个字符",
        ));
    }
    let secretary = match Uuid::parse_str(input.secretary_id.trim()) {
        Ok(id) => db::users::get(&mut tx, id).await?.filter(|u| u.active),
        Err(_) => None,
    };
    if secretary.is_none() {
        errors.push(super::error::FieldError::new(
            "secretary_id",
            "用户不存在或已停用",
        ));
    }
    if group.is_none() {
        errors.push(super::error::FieldError::new(
            "party_group_id",
            "党组不存在",
        ));
    }
    let (Some(group), Some(secretary), Ok(starts_at), Ok(place), true) =
        (group, secretary, starts_at, place, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    // R-SECRETARY: from 综合科 of this group.
    check_secretary(
        db::users::is_office_of(&mut tx, secretary.user_id, group.party_group_id).await?,
    )?;
    let chair = db::party_groups::memberships(&mut tx, group.party_group_id)
        .await?
        .into_iter()
        .find(|m| m.ended_on.is_none() && m.position == Position::Secretary.as_str())
        .ok_or_else(|| {
            RuleViolation::new(
                Rule::Chair,
                "党组尚未设书记,无法确定会议主持人。依据:第十九条",
            )
        })?;
    let year = starts_at.to_offset(DISPLAY_OFFSET).year();
    db::party_groups::lock(&mut tx, group.party_group_id).await?;
    let number = db::meetings::next_number(&mut tx, group.party_group_id, year).await?;
    let meeting = Meeting {
        meeting_id: Uuid::now_v7(),
        party_group_id: group.party_group_id,
        year,
        number,
        title: if title.is_empty() {
            format!("{year}年第{number}次党组会议")
        } else {
            title
        },
        starts_at,
        place,
        secretary_id: secretary.user_id,
        chair_id: chair.user_id,
        chair_reason: None,
        status: MeetingState::Draft.as_str().to_owned(),
        materials_late_reason: None,
        created_by: user.user_id,
        created_at: OffsetDateTime::now_utc(),
        noticed_at: None,
        opened_at: None,
        closed_at: None,
    };
    db::meetings::insert(&mut tx, &meeting).await?;
    // R-EMERGENCY: disposals not yet reported go on this meeting.
    db::followup::adopt_emergencies(&mut tx, group.party_group_id, meeting.meeting_id).await?;
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(
                Chain::PartyGroup(group.party_group_id),
                "meeting.create",
                "meeting",
            )
            .entity(meeting.meeting_id)
            .after(&meeting),
        )
        .await?;
    tx.commit().await?;
    Ok(meeting)
}

/// Schedule a meeting (书记, 综合科); the 书记 chairs unless they delegate.
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", request_body = NewMeeting,
    responses((status = 201, body = Created), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn create_meeting_api(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<NewMeeting>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let m = create_meeting(&state, &user, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: m.meeting_id,
            status: m.status,
            title: m.title,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DelegateChair {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub reason: String,
}

/// R-CHAIR: the 书记 delegates the chair to another member, with a reason.
async fn delegate_chair(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: DelegateChair,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::DelegateChair)?;
    if !matches!(ctx.state, MeetingState::Draft | MeetingState::Noticed) {
        return Err(AppError::Conflict("会议已经开始,不能更换主持人。".into()));
    }
    let delegate = Uuid::parse_str(input.user_id.trim())
        .map_err(|_| AppError::invalid("user_id", "请选择党组成员"))?;
    let reason = required_text("reason", &input.reason, 500)?;
    check_delegate_chair(
        ctx.position == Some(Position::Secretary),
        ctx.is_member(delegate),
    )?;
    db::meetings::set_chair(&mut tx, id, delegate, &reason).await?;
    let change = ctx
        .change("meeting.delegate_chair")
        .before(serde_json::json!({"chair_id": ctx.meeting.chair_id}))
        .after(serde_json::json!({"chair_id": delegate, "reason": reason}));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/chair", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = DelegateChair,
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn delegate_chair_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DelegateChair>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    delegate_chair(&state, &user, id, input).await?;
    answer(&state, &user, id).await
}

/// A trimmed, non-empty text of at most `max` characters, else 422 naming the field.
pub(super) fn required_text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AppError::invalid(field, "必填"));
    }
    if text.chars().count() > max {
        return Err(AppError::invalid(field, format!("不能超过 {max} 个字符")));
    }
    Ok(text.to_owned())
}

// ---- The agenda ----

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewAgendaItem {
    #[serde(default)]
    pub topic_id: String,
    /// After the notice: the item is urgent (R-AD-HOC).
    #[serde(default)]
    pub urgent: bool,
    /// The 书记's reason for a lead-time shortfall or an ad-hoc item.
    pub override_reason: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedItem {
    pub item_id: Uuid,
}

/// The 书记 places a complete topic on the agenda (R-TOPIC-SOURCE, R-TOPIC-LEAD-TIME); after
/// the notice only as an urgent ad-hoc item, never a personnel one (R-AD-HOC).
async fn add_item(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: NewAgendaItem,
) -> Result<Uuid, AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::AddAgendaItem)?;
    check_agenda_open(ctx.state)?;
    let topic = match Uuid::parse_str(input.topic_id.trim()) {
        Ok(t) => db::topics::get(&mut tx, t, true).await?,
        Err(_) => None,
    }
    .filter(|t| t.party_group_id == ctx.meeting.party_group_id)
    .ok_or_else(|| AppError::invalid("topic_id", "本党组没有这个议题"))?;
    if topic.status != "submitted" {
        return Err(super::topics::wrong_status(&topic));
    }
    let reason = input.override_reason.as_deref().map(str::trim);
    let category = Category::new(i64::from(topic.category)).map_err(anyhow::Error::msg)?;
    let noticed = ctx.state == MeetingState::Noticed;
    check_ad_hoc(noticed, category, input.urgent, reason)?;
    let submitted_on = topic
        .submitted_at
        .unwrap_or_else(OffsetDateTime::now_utc)
        .to_offset(DISPLAY_OFFSET)
        .date();
    check_lead_time(
        submitted_on,
        ctx.date(),
        i64::from(ctx.settings.topic_lead_days),
        reason,
    )?;
    let item_id = Uuid::now_v7();
    let kept_reason = reason.filter(|r| override_given(Some(r)));
    db::meetings::insert_item(
        &mut tx,
        &db::meetings::NewItem {
            item_id,
            meeting_id: id,
            topic_id: topic.topic_id,
            ad_hoc: noticed,
            urgent: input.urgent,
            override_reason: kept_reason,
        },
    )
    .await?;
    db::topics::set_status(&mut tx, topic.topic_id, "scheduled", None).await?;
    if noticed {
        // An ad-hoc item reaches everyone the notice reached.
        let recipients = recipients(&mut tx, &ctx).await?;
        db::meetings::distribute_materials(&mut tx, id, &recipients).await?;
        db::notifications::send(
            &mut tx,
            &recipients,
            &format!("{}临时增加议题:{}", ctx.meeting.title, topic.title),
            &format!("/meetings/{id}"),
        )
        .await?;
    }
    let change = ctx.change("meeting.agenda_add").after(serde_json::json!({
        "item_id": item_id, "topic_id": topic.topic_id, "title": topic.title,
        "ad_hoc": noticed, "urgent": input.urgent, "override_reason": kept_reason,
    }));
    commit(state, tx, user, &ctx, change).await?;
    Ok(item_id)
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = NewAgendaItem,
    responses((status = 201, body = CreatedItem), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn add_item_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewAgendaItem>,
) -> Result<(StatusCode, Json<CreatedItem>), AppError> {
    let item_id = add_item(&state, &user, parse_id(&id)?, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedItem { item_id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    /// `up` (earlier) or `down` (later).
    #[serde(default)]
    pub direction: String,
}

/// The 书记 orders the agenda until the notice fixes it (R-NOTICE; R-ONE-AT-A-TIME: items
/// follow the notified order).
async fn move_item(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    item_id: Uuid,
    input: MoveInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::AddAgendaItem)?;
    check_agenda_order(ctx.state)?;
    let items = db::meetings::items(&mut tx, id).await?;
    let at = items
        .iter()
        .position(|i| i.item_id == item_id)
        .ok_or(AppError::NotFound)?;
    let other = match input.direction.trim() {
        "up" => at.checked_sub(1),
        "down" => Some(at + 1).filter(|n| *n < items.len()),
        _ => return Err(AppError::invalid("direction", "须为 up 或 down")),
    }
    .ok_or_else(|| AppError::Conflict("该议题已在议程的首位或末位。".into()))?;
    let other = items[other].item_id;
    db::meetings::swap_positions(&mut tx, id, item_id, other).await?;
    let change = ctx.change("meeting.agenda_move").after(serde_json::json!({
        "item_id": item_id, "direction": input.direction.trim(), "swapped_with": other,
    }));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda/{item_id}/move", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = MoveInput,
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn move_item_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<MoveInput>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    move_item(&state, &user, id, parse_id(&item_id)?, input).await?;
    answer(&state, &user, id).await
}

/// Everyone the notice goes to: the members on the meeting date, the invited attendees and
/// the meeting secretary.
async fn recipients(conn: &mut sqlx::PgConnection, ctx: &Ctx) -> Result<Vec<Uuid>, AppError> {
    let mut all: BTreeSet<Uuid> = ctx.roster.iter().map(|m| m.user_id).collect();
    all.extend(
        db::meetings::attendees(conn, ctx.id())
            .await?
            .into_iter()
            .map(|a| a.user_id),
    );
    all.insert(ctx.meeting.secretary_id);
    all.insert(ctx.meeting.chair_id);
    Ok(all.into_iter().collect())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewAttendee {
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub user_id: String,
}

/// R-ATTENDEE-SCOPE: the chair invites a non-member to the one item that concerns them.
async fn invite_attendee(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: NewAttendee,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::InviteAttendee)?;
    if ctx.state == MeetingState::Closed {
        return Err(AppError::Conflict("会议已结束。".into()));
    }
    let item = match Uuid::parse_str(input.item_id.trim()) {
        Ok(i) => db::meetings::item(&mut tx, id, i, Lock::None).await?,
        Err(_) => None,
    }
    .ok_or_else(|| AppError::invalid("item_id", "本次会议没有这个议题"))?;
    let invitee = match Uuid::parse_str(input.user_id.trim()) {
        Ok(u) => db::users::get(&mut tx, u).await?.filter(|u| u.active),
        Err(_) => None,
    }
    .ok_or_else(|| AppError::invalid("user_id", "用户不存在或已停用"))?;
    if ctx.is_member(invitee.user_id) {
        return Err(AppError::invalid("user_id", "党组成员出席会议,无须列席"));
    }
    if !db::meetings::invite(&mut tx, item.item_id, invitee.user_id, user.user_id).await? {
        return Err(AppError::Conflict(format!(
            "{} 已受邀列席该议题。",
            invitee.name
        )));
    }
    if ctx.state != MeetingState::Draft {
        db::meetings::distribute_materials(&mut tx, id, &[invitee.user_id]).await?;
        db::notifications::send(
            &mut tx,
            &[invitee.user_id],
            &format!("请列席{}议题“{}”", ctx.meeting.title, item.title),
            &format!("/meetings/{id}"),
        )
        .await?;
    }
    let change = ctx
        .change("meeting.invite_attendee")
        .after(serde_json::json!({
            "item_id": item.item_id, "user_id": invitee.user_id, "name": invitee.name,
        }));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/attendees", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = NewAttendee,
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn invite_attendee_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewAttendee>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    invite_attendee(&state, &user, id, input).await?;
    answer(&state, &user, id).await
}

// ---- The notice ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NoticeInput {
    /// The chair's reason for materials that reached 综合科 late (R-MATERIALS-DEADLINE).
    pub override_reason: Option<String>,
}

/// R-NOTICE: issuing the notice fixes the agenda, notifies every participant and hands them the
/// materials, each handing logged (R-MATERIALS-DEADLINE).
async fn issue(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: NoticeInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::IssueNotice)?;
    let items = db::meetings::items(&mut tx, id).await?;
    let secretary_from_office = db::users::is_office_of(
        &mut tx,
        ctx.meeting.secretary_id,
        ctx.meeting.party_group_id,
    )
    .await?;
    let next = issue_notice(ctx.state, secretary_from_office, items.len())?;
    // Materials: late ones need the chair's own reason.
    let reason = input
        .override_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let lead = i64::from(ctx.settings.materials_lead_days);
    for (uploaded_at, classification) in db::meetings::material_uploads(&mut tx, id).await? {
        let classified = classification == Classification::Secret.as_str();
        let delivered_on = uploaded_at.to_offset(DISPLAY_OFFSET).date();
        check_materials_deadline(classified, delivered_on, ctx.date(), lead, None).or_else(
            |late| {
                if ctx.relation.chair {
                    check_materials_deadline(classified, delivered_on, ctx.date(), lead, reason)
                } else {
                    Err(RuleViolation::new(
                        late.rule,
                        format!("{} 本次通知须由会议主持人发出并说明理由。", late.detail_zh),
                    ))
                }
            },
        )?;
    }
    let recipients = recipients(&mut tx, &ctx).await?;
    let handed = db::meetings::distribute_materials(&mut tx, id, &recipients).await?;
    db::meetings::set_status(&mut tx, id, next.as_str(), reason).await?;
    db::notifications::send(
        &mut tx,
        &recipients,
        &format!(
            "会议通知:{},{},{}。议题 {} 项。",
            ctx.meeting.title,
            datetime_zh(&ctx.meeting.starts_at),
            ctx.meeting.place,
            items.len()
        ),
        &format!("/meetings/{id}"),
    )
    .await?;
    let agenda: Vec<_> = items
        .iter()
        .map(
            |i| serde_json::json!({"item_id": i.item_id, "position": i.position, "title": i.title}),
        )
        .collect();
    let change = ctx.change("meeting.notice").after(serde_json::json!({
        "agenda": agenda, "recipients": recipients, "materials_handed": handed,
        "materials_late_reason": reason,
    }));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/notice", tag = "meetings", params(("id" = Uuid, Path)),
    request_body(content = NoticeInput, description = "optional"),
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn notice_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    input: Option<ApiJson<NoticeInput>>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    issue(&state, &user, id, input.map(|j| j.0).unwrap_or_default()).await?;
    answer(&state, &user, id).await
}

// ---- Leave ----

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LeaveInput {
    #[serde(default)]
    pub reason: String,
}

/// R-LEAVE: an invited person asks the chair for leave, before the meeting; 综合科 sees it.
async fn ask_leave(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: LeaveInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::AskLeave)?;
    check_leave_request(ctx.state)?;
    let reason = required_text("reason", &input.reason, 2000)?;
    db::meetings::ask_leave(&mut tx, id, user.user_id, &reason).await?;
    db::notifications::send(
        &mut tx,
        &[ctx.meeting.chair_id, ctx.meeting.secretary_id],
        &format!("{} 请假:{}({})", user.name, ctx.meeting.title, reason),
        &format!("/meetings/{id}"),
    )
    .await?;
    let change = ctx
        .change("meeting.leave_ask")
        .after(serde_json::json!({"user_id": user.user_id, "reason": reason}));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/leave", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = LeaveInput,
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn ask_leave_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LeaveInput>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    ask_leave(&state, &user, id, input).await?;
    answer(&state, &user, id).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LeaveDecision {
    pub approved: bool,
}

async fn decide_leave(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    who: Uuid,
    input: LeaveDecision,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::DecideLeave)?;
    let request = db::meetings::leave_requests(&mut tx, id)
        .await?
        .into_iter()
        .find(|l| l.user_id == who)
        .ok_or(AppError::NotFound)?;
    db::meetings::decide_leave(&mut tx, id, who, input.approved, user.user_id).await?;
    let verdict = if input.approved {
        "已批准"
    } else {
        "未批准"
    };
    db::notifications::send(
        &mut tx,
        &[who, ctx.meeting.secretary_id],
        &format!("{} 的请假({}){}", request.name, ctx.meeting.title, verdict),
        &format!("/meetings/{id}"),
    )
    .await?;
    let change = ctx.change("meeting.leave_decide").after(serde_json::json!({
        "user_id": who, "approved": input.approved,
    }));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/leave/{user_id}/decision", tag = "meetings",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = LeaveDecision,
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem)))]
async fn decide_leave_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, who)): Path<(String, String)>,
    ApiJson(input): ApiJson<LeaveDecision>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    decide_leave(&state, &user, id, parse_id(&who)?, input).await?;
    answer(&state, &user, id).await
}

// ---- In the room ----

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AttendanceInput {
    pub present: bool,
}

/// The meeting secretary records an arrival or departure; the quorum follows (R-QUORUM).
async fn record_attendance(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    who: Uuid,
    present: bool,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::RecordAttendance)?;
    check_attendance(ctx.state)?;
    let invited = ctx.is_member(who)
        || db::meetings::attendees(&mut tx, id)
            .await?
            .iter()
            .any(|a| a.user_id == who);
    if !invited {
        return Err(AppError::invalid(
            "user_id",
            "该人员不是本次会议的成员或列席人员",
        ));
    }
    db::meetings::set_attendance(&mut tx, id, who, present, user.user_id).await?;
    let after = Ctx::load(&mut tx, user, id, Lock::None).await?;
    let quorum = Quorum::of(&after);
    let change = ctx.change("meeting.attendance").after(serde_json::json!({
        "user_id": who, "present": present,
        "quorum": {"present": quorum.present, "members": quorum.members, "met": quorum.met},
    }));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(put, path = "/api/v1/meetings/{id}/attendance/{user_id}", tag = "meetings",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = AttendanceInput,
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn attendance_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, who)): Path<(String, String)>,
    ApiJson(input): ApiJson<AttendanceInput>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    record_attendance(&state, &user, id, parse_id(&who)?, input.present).await?;
    answer(&state, &user, id).await
}

/// The chair opens the meeting: only after the notice and with quorum (R-NOTICE, R-QUORUM).
async fn open(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::OpenMeeting)?;
    let next = open_meeting(
        ctx.state,
        ctx.relation.chair,
        ctx.present().len() as i64,
        ctx.members(),
        ctx.quorum,
    )?;
    db::meetings::set_status(&mut tx, id, next.as_str(), None).await?;
    let quorum = Quorum::of(&ctx);
    let change = ctx.change("meeting.open").after(serde_json::json!({
        "present": ctx.present(), "members": quorum.members,
    }));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/open", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn open_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    open(&state, &user, id).await?;
    answer(&state, &user, id).await
}

/// The chair closes the meeting once no item is open; items never reached go back to the
/// 书记's queue.
async fn close(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::CloseMeeting)?;
    let items = db::meetings::items(&mut tx, id).await?;
    let states = items
        .iter()
        .map(item_state)
        .collect::<Result<Vec<_>, _>>()?;
    let next = close_meeting(ctx.state, &states, ctx.relation.chair)?;
    let mut returned = Vec::new();
    for item in items.iter().filter(|i| i.state == "pending") {
        db::topics::set_status(&mut tx, item.topic_id, "submitted", None).await?;
        returned.push(item.topic_id);
    }
    db::meetings::set_status(&mut tx, id, next.as_str(), None).await?;
    let change = ctx
        .change("meeting.close")
        .after(serde_json::json!({"topics_back_to_queue": returned}));
    commit(state, tx, user, &ctx, change).await
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/close", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn close_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, AppError> {
    let id = parse_id(&id)?;
    close(&state, &user, id).await?;
    answer(&state, &user, id).await
}

// ---- Page forms: the same actions, then back to the meeting ----

pub(super) fn back(id: Uuid) -> Redirect {
    Redirect::to(&format!("/meetings/{id}"))
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    topic_id: String,
    #[serde(default)]
    item_id: String,
    urgent: Option<String>,
    #[serde(default)]
    override_reason: String,
    #[serde(default)]
    approved: String,
    #[serde(default)]
    present: String,
    #[serde(default)]
    direction: String,
}

/// A form field left blank is absent.
pub(super) fn optional(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

async fn delegate_chair_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = DelegateChair {
        user_id: f.user_id,
        reason: f.reason,
    };
    delegate_chair(&state, &user, id, input).await?;
    Ok(back(id))
}

async fn add_item_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = NewAgendaItem {
        topic_id: f.topic_id,
        urgent: f.urgent.is_some(),
        override_reason: optional(f.override_reason),
    };
    add_item(&state, &user, id, input).await?;
    Ok(back(id))
}

async fn move_item_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item_id)): Path<(String, String)>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = MoveInput {
        direction: f.direction,
    };
    move_item(&state, &user, id, parse_id(&item_id)?, input).await?;
    Ok(back(id))
}

async fn invite_attendee_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = NewAttendee {
        item_id: f.item_id,
        user_id: f.user_id,
    };
    invite_attendee(&state, &user, id, input).await?;
    Ok(back(id))
}

async fn notice_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = NoticeInput {
        override_reason: optional(f.override_reason),
    };
    issue(&state, &user, id, input).await?;
    Ok(back(id))
}

async fn ask_leave_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    ask_leave(&state, &user, id, LeaveInput { reason: f.reason }).await?;
    Ok(back(id))
}

async fn decide_leave_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, who)): Path<(String, String)>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = LeaveDecision {
        approved: f.approved == "true",
    };
    decide_leave(&state, &user, id, parse_id(&who)?, input).await?;
    Ok(back(id))
}

async fn attendance_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, who)): Path<(String, String)>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    record_attendance(&state, &user, id, parse_id(&who)?, f.present == "true").await?;
    Ok(back(id))
}

async fn open_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    open(&state, &user, id).await?;
    Ok(back(id))
}

async fn close_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    close(&state, &user, id).await?;
    Ok(back(id))
}
