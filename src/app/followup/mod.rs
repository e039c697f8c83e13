//! Follow-up of decisions (督办), section F of `rules.md`: the task board and each task with its
//! progress (here); tasks with one lead per passed item (R-FOLLOWUP-OWNER), progress reports,
//! reminders (督办通知) and circulars (通报) (`tasks`); reserved opinions (R-RESERVE) and later
//! decisions that change earlier ones (R-DECISION-CHANGE) (`decisions`).

mod decisions;
mod reminders;
mod tasks;

pub use decisions::{Recorded, ReserveInput, SupersedeInput, reserve, supersede};
pub use reminders::send_due_reminders;
pub use tasks::{
    CircularInput, CircularSent, NewTaskInput, ProgressInput, ReminderInput, begin_closing_file,
    circulate, close, create_task, may_close, remind, report,
};

use serde::{Deserialize, Serialize};
use time::Date;

use crate::app::error::AppError;
use crate::app::meeting::Ctx;
use crate::app::{CurrentUser, Services};
use crate::db::followup::{Circular, Progress, Task};
use crate::db::meetings::Lock;
use crate::db::party_groups::PartyGroup;
use crate::db::{self};
use crate::display::{date_zh, today};
use crate::domain::authz::{Action, Relation};
use crate::domain::deliberation::Outcome;
use crate::domain::duties::{TaskDue, overdue_tasks};
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, TaskId, UserId};
use crate::domain::supervision::{Urgency, urgency};
use crate::domain::waiting::Waiting;

/// The meeting of an item, loaded for `action`, and the item as decided.
pub async fn item_ctx(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    item_id: ItemId,
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

pub fn outcome_of(item: &db::meetings::Item) -> Option<Outcome> {
    item.outcome
}

pub fn parse_date(raw: &str) -> Option<Date> {
    Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// A task as its lead or the board sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: Task,
    /// Past its due date and not done (R-SUPERVISION).
    pub overdue: bool,
    /// Blue, yellow or red on the board (`on_track`, `due_soon`, `overdue`), or `closed`.
    #[schema(value_type = String)]
    pub urgency: Urgency,
}

pub fn view(task: Task, today: Date) -> TaskView {
    let due = TaskDue {
        description: &task.description,
        due_on: task.due_on,
        done: task.done_at.is_some(),
    };
    let overdue = !overdue_tasks(&[due], today).is_empty();
    let urgency = urgency(task.due_on, task.done_at.is_some(), today);
    TaskView {
        task,
        overdue,
        urgency,
    }
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
pub async fn board(
    state: &Services,
    user: &CurrentUser,
    q: &BoardQuery,
) -> Result<Vec<TaskView>, AppError> {
    let conn = &mut *state.pool.acquire().await?;
    // 综合科 sees the tasks of the groups its section serves, a 书记 those of their group,
    // everyone else the tasks they lead.
    let chaired = crate::app::organisation::chaired_groups(conn, user).await?;
    let overseen = |group: PartyGroupId| user.is_office_of(group) || chaired.contains(&group);
    let sees_all = user.has(crate::domain::role::Role::Office) || !chaired.is_empty();
    let done = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("open") => Some(false),
        Some("done") => Some(true),
        Some(_) => return Err(AppError::invalid("status", "须为 open 或 done")),
    };
    let lead = match q.lead.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => {
            Some(UserId::parse(raw).map_err(|_| AppError::invalid("lead", "不是有效的用户编号"))?)
        }
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: TaskView,
    pub progress: Vec<Progress>,
}

/// The task loaded for `action` with the actor's relation as its lead.
pub async fn task_ctx(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    task_id: TaskId,
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

pub async fn detail(
    state: &Services,
    user: &CurrentUser,
    id: TaskId,
) -> Result<TaskDetail, AppError> {
    let mut conn = state.pool.acquire().await?;
    let (_, task) = task_ctx(&mut conn, user, id, Action::ReadTask, false).await?;
    let progress = db::followup::progress(&mut conn, id).await?;
    Ok(TaskDetail {
        task: view(task, today()),
        progress,
    })
}

/// The home page's to-dos about the record (ui.md: tasks I lead that are due, decisions to
/// take, documents to sign for).
pub async fn todos(
    state: &Services,
    user: &CurrentUser,
) -> Result<Vec<crate::app::Todo>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let today = today();
    let mut out = Vec::new();
    let deciding = crate::app::minutes::deciding_groups(&mut conn, user).await?;
    let office = crate::app::meeting::office_groups(user);
    for t in db::followup::todos(&mut conn, user.user_id, &deciding, &office).await? {
        let (waiting, subject, href) = match t.kind.as_str() {
            "task" => {
                let Some(due) = t.due_on else { continue };
                let waiting = match urgency(due, false, today) {
                    Urgency::OnTrack => Waiting::TaskOpen,
                    Urgency::DueSoon => Waiting::TaskDueSoon,
                    Urgency::Overdue | Urgency::Closed => Waiting::TaskOverdue,
                };
                let subject = format!("{}({}到期)", t.title, date_zh(&due));
                (waiting, subject, format!("/tasks/{}", t.id))
            }
            "borrow" => (Waiting::BorrowToDecide, t.title, "/borrow-requests".into()),
            "receipt" => (
                Waiting::SummaryReceipt,
                t.title,
                format!("/meetings/{}/summary", t.id),
            ),
            "circulation" => (
                Waiting::CirculationToReview,
                t.title,
                format!("/circulations/{}", t.id),
            ),
            "minutes_draft" => (
                Waiting::MinutesToDraft,
                t.title,
                format!("/meetings/{}/minutes", t.id),
            ),
            "minutes_sign" => (
                Waiting::MinutesToSign,
                t.title,
                format!("/meetings/{}/minutes", t.id),
            ),
            "summary_sign" => (
                Waiting::SummaryToSign,
                t.title,
                format!("/meetings/{}/summary", t.id),
            ),
            "summary_distribute" => (
                Waiting::SummaryToDistribute,
                t.title,
                format!("/meetings/{}/summary", t.id),
            ),
            _ => continue,
        };
        out.push(crate::app::Todo::new(waiting, &subject, href));
    }
    Ok(out)
}

/// The groups this person may send circulars to (综合科 of the group, its 书记), and the
/// circulars sent so far when there are any such groups.
pub async fn circular_desk(
    state: &Services,
    user: &CurrentUser,
) -> Result<(Vec<PartyGroup>, Vec<Circular>), AppError> {
    let mut conn = state.pool.acquire().await?;
    let groups = crate::app::duties::groups_for(&mut conn, user, Action::TrackDuties).await?;
    let circulars = if groups.is_empty() {
        Vec::new()
    } else {
        db::followup::circulars(&mut conn).await?
    };
    Ok((groups, circulars))
}

/// Whether this person may report on, and remind about, an open task.
pub async fn task_steps(
    state: &Services,
    user: &CurrentUser,
    detail: &TaskDetail,
) -> Result<(bool, bool), AppError> {
    if detail.task.task.done_at.is_some() {
        return Ok((false, false));
    }
    let mut conn = state.pool.acquire().await?;
    let id = detail.task.task.task_id;
    let may = async |conn: &mut sqlx::PgConnection, action| {
        task_ctx(conn, user, id, action, false).await.is_ok()
    };
    Ok((
        may(&mut conn, Action::ReportProgress).await,
        may(&mut conn, Action::RemindTask).await,
    ))
}

/// The meeting an item belongs to.
pub async fn meeting_of_item(state: &Services, item_id: ItemId) -> Result<MeetingId, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(db::followup::item_ref(&mut conn, item_id)
        .await?
        .ok_or(AppError::NotFound)?
        .meeting_id)
}
