//! What the group owes on its calendar and outside its meetings (section G and R-EMERGENCY):
//! the duty dashboard for the 书记 and 综合科 (R-MONTHLY, R-HALF-YEAR, R-REPORT-UP,
//! R-SUPERVISION), reports up and on-the-spot disposals reported to the next meeting (here);
//! circulation review of documents in the group's name (R-PUBLICATION, `circulation`).

mod circulation;

pub use circulation::{
    CirculationInput, CirculationSteps, CirculationView, SignoffInput, circulation,
    circulation_steps, circulation_view, circulations, create_circulation, current_members,
    publish, sign_off,
};

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::app::error::{AppError, FieldError};
use crate::app::input::required_text;
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::emergencies::Emergency;
use crate::db::followup::ReportUp;
use crate::db::party_groups::PartyGroup;
use crate::db::{self};
use crate::display::{DISPLAY_OFFSET, parse_datetime, today};
use crate::domain::authz::{Action, Relation};
use crate::domain::category::Category;
use crate::domain::duties::{
    Duty, TaskDue, half_yearly_hearings, monthly_meetings, overdue_tasks, yearly_reports,
};
use crate::domain::ids::{MeetingId, PartyGroupId};
use crate::domain::org::Position;

/// The group and the user's position in it today, with `action` checked (404 for an unknown
/// group).
pub async fn group_for(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    group_id: PartyGroupId,
    action: Action,
) -> Result<(PartyGroup, Option<Position>), AppError> {
    let group = db::party_groups::get(conn, group_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = db::party_groups::current_position(conn, group_id, user.user_id).await?;
    user.can_in(action, group_id, position, &Relation::default())?;
    Ok((group, position))
}

/// The groups in which this person may take `action` today.
pub async fn groups_for(
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
    pub party_group_id: PartyGroupId,
    pub name: String,
    /// What is due or overdue, overdue first.
    pub duties: Vec<DutyView>,
    pub reports_up: Vec<ReportUp>,
    /// Disposals not yet reported at a held meeting.
    pub emergencies: Vec<Emergency>,
}

pub async fn duties(
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
        emergencies: db::emergencies::emergencies_pending(conn, id).await?,
    })
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

pub async fn report_up(
    state: &Services,
    user: &CurrentUser,
    group_id: PartyGroupId,
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
    state.commit(tx, user, change).await?;
    Ok(id)
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct EmergencyInput {
    #[serde(default)]
    pub party_group_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub action_taken: String,
    /// RFC 3339 with offset; from a page's form, `2026-11-28T22:00` in the display zone.
    #[serde(default)]
    pub occurred_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EmergencyRecorded {
    pub id: Uuid,
    /// The meeting it will be reported to, when one is scheduled; otherwise the next one.
    pub meeting_id: Option<MeetingId>,
}

pub async fn record_emergency(
    state: &Services,
    user: &CurrentUser,
    input: EmergencyInput,
) -> Result<EmergencyRecorded, AppError> {
    let mut tx = state.pool.begin().await?;
    let group_id = PartyGroupId::parse(&input.party_group_id)
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
    let occurred_at =
        parse_datetime(&input.occurred_at).filter(|t| *t <= OffsetDateTime::now_utc());
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
    let (id, meeting_id) = db::emergencies::record_emergency(
        &mut tx,
        &db::emergencies::NewEmergency {
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
            "occurred_at": occurred_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "reported_to_meeting": meeting_id,
        }));
    state.commit(tx, user, change).await?;
    if let Some(meeting) = meeting_id {
        state.live.changed(meeting);
    }
    Ok(EmergencyRecorded { id, meeting_id })
}

/// The home page's reminder for the 书记 and 综合科: overdue duties per group.
pub async fn todos(
    state: &Services,
    user: &CurrentUser,
) -> Result<Vec<crate::app::Todo>, AppError> {
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
            out.push(crate::app::Todo::new(
                crate::domain::waiting::Waiting::DutiesOverdue,
                &format!("{name}有 {overdue} 项逾期"),
                "/duties",
            ));
        }
    }
    Ok(out)
}

/// The duty dashboard of one group (the 书记, 综合科).
pub async fn dashboard(
    state: &Services,
    user: &CurrentUser,
    group_id: PartyGroupId,
) -> Result<Duties, AppError> {
    let mut conn = state.pool.acquire().await?;
    let (group, _) = group_for(&mut conn, user, group_id, Action::TrackDuties).await?;
    duties(&mut conn, group, today()).await
}

/// The dashboards of every group this person tracks.
pub async fn dashboards(state: &Services, user: &CurrentUser) -> Result<Vec<Duties>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let mut all = Vec::new();
    for g in groups_for(&mut conn, user, Action::TrackDuties).await? {
        all.push(duties(&mut conn, g, today()).await?);
    }
    Ok(all)
}

/// The groups where this person records disposals, with those not yet reported to a meeting.
pub async fn pending_emergencies(
    state: &Services,
    user: &CurrentUser,
) -> Result<(Vec<PartyGroup>, Vec<Emergency>), AppError> {
    let mut conn = state.pool.acquire().await?;
    let groups = groups_for(&mut conn, user, Action::RecordEmergency).await?;
    let mut emergencies = Vec::new();
    for g in &groups {
        emergencies
            .extend(db::emergencies::emergencies_pending(&mut conn, g.party_group_id).await?);
    }
    Ok((groups, emergencies))
}
