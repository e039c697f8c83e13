//! A passed item's tasks: created with one lead, reported on, reminded; and circulars to a
//! group's members.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{item_ctx, outcome_of, parse_date, task_ctx};
use crate::app::error::{AppError, FieldError};
use crate::app::input::required_text;
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::followup::Task;
use crate::db::{self};
use crate::display::date_zh;
use crate::domain::authz::{Action, Relation};
use crate::domain::ids::{ItemId, PartyGroupId, SectionId, TaskId, UserId};
use crate::domain::records::{check_task_for, check_task_open};

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

pub async fn create_task(
    state: &Services,
    user: &CurrentUser,
    item_id: ItemId,
    input: NewTaskInput,
) -> Result<Task, AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, item) = item_ctx(&mut tx, user, item_id, Action::CreateTask).await?;
    check_task_for(outcome_of(&item))?;
    let mut errors = Vec::new();
    let lead = match UserId::parse(&input.lead_user_id) {
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
        match SectionId::parse(raw)
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

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ProgressInput {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub done: bool,
}

pub async fn report(
    state: &Services,
    user: &CurrentUser,
    id: TaskId,
    input: ProgressInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, task) = task_ctx(&mut tx, user, id, Action::ReportProgress, true).await?;
    check_task_open(task.done_at.is_some())?;
    let note = required_text("note", &input.note, 5000)?;
    db::followup::report_progress(&mut tx, id, &note, input.done, user.user_id, None).await?;
    let change = ctx
        .change("task.progress")
        .after(serde_json::json!({ "task_id": id, "note": note, "done": input.done }));
    state.commit(tx, user, change).await?;
    Ok(())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ReminderInput {
    /// Left empty, the reminder names the task and its due date.
    #[serde(default)]
    pub text: String,
}

pub async fn remind(
    state: &Services,
    user: &CurrentUser,
    id: TaskId,
    input: ReminderInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, task) = task_ctx(&mut tx, user, id, Action::RemindTask, true).await?;
    check_task_open(task.done_at.is_some())?;
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
    state.commit(tx, user, change).await?;
    Ok(())
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

pub async fn circulate(
    state: &Services,
    user: &CurrentUser,
    group_id: PartyGroupId,
    input: CircularInput,
) -> Result<CircularSent, AppError> {
    let mut tx = state.pool.begin().await?;
    db::party_groups::get(&mut tx, group_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = db::party_groups::current_position(&mut tx, group_id, user.user_id).await?;
    user.can_in(
        Action::TrackDuties,
        group_id,
        position,
        &Relation::default(),
    )?;
    let text = required_text("text", &input.text, 5000)?;
    let id = db::followup::send_circular(&mut tx, group_id, &text, user.user_id).await?;
    let mut to: Vec<UserId> = db::party_groups::memberships(&mut tx, group_id)
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
    state.commit(tx, user, change).await?;
    Ok(CircularSent {
        id,
        recipients: to.len(),
    })
}

/// Whether `user` may close the task now (before its form is read).
pub async fn may_close(state: &Services, user: &CurrentUser, id: TaskId) -> Result<(), AppError> {
    let mut conn = state.pool.acquire().await?;
    let (_, task) = task_ctx(&mut conn, user, id, Action::ReportProgress, false).await?;
    check_task_open(task.done_at.is_some())?;
    Ok(())
}

/// Starts the upload of the file that closes a task: a material of the decision's topic.
pub async fn begin_closing_file<'a>(
    state: &'a Services,
    user: &'a CurrentUser,
    id: TaskId,
) -> Result<crate::app::topic::Upload<'a>, AppError> {
    let topic = db::followup::topic_of_task(&mut *state.pool.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::app::topic::Upload::begin(state, user, topic, crate::app::topic::Purpose::Closing(id))
        .await
}

/// R-SUPERVISION: closing a task (销号) takes a closing note and may carry a file; the file,
/// the closing and both audit entries land together or not at all.
pub async fn close(
    state: &Services,
    user: &CurrentUser,
    id: TaskId,
    note: &str,
    file: Option<(crate::app::topic::Upload<'_>, String)>,
) -> Result<(), AppError> {
    let note = required_text("note", note, 5000)?;
    let (mut tx, material) = match file {
        Some((upload, name)) => {
            let (tx, info, change) = upload.finish_into(&name, None).await?;
            (tx, Some((info.material_id, change)))
        }
        None => (state.pool.begin().await?, None),
    };
    let (ctx, task) = task_ctx(&mut tx, user, id, Action::ReportProgress, true).await?;
    check_task_open(task.done_at.is_some())?;
    let material_id = material.as_ref().map(|(m, _)| *m);
    db::followup::report_progress(&mut tx, id, &note, true, user.user_id, material_id).await?;
    if let Some((_, change)) = material {
        state
            .audit
            .append(&mut tx, &user.audit_actor(), change)
            .await?;
    }
    let change = ctx
        .change("task.close")
        .after(serde_json::json!({ "task_id": id, "note": note, "material_id": material_id }));
    state.commit(tx, user, change).await?;
    Ok(())
}
