//! The reminders of 督办 that nobody sends (R-SUPERVISION): three days before a task's due date
//! and on the day itself, to its lead. Every server instance looks now and then; the database
//! records each reminder once, so two instances never send it twice.

use time::Date;

use crate::app::Services;
use crate::app::error::AppError;
use crate::audit::{Actor, Chain, Change};
use crate::db::{self};
use crate::display::date_zh;
use crate::domain::supervision::{DUE_SOON_DAYS, reminder_owed, reminder_text};

/// Sends the reminders owed on `today`, each in its own transaction with its audit entry (the
/// system is the actor); how many went out.
pub async fn send_due_reminders(state: &Services, today: Date) -> Result<usize, AppError> {
    let due = {
        let mut conn = state.pool.acquire().await?;
        db::followup::open_tasks_due(
            &mut conn,
            today,
            today + time::Duration::days(DUE_SOON_DAYS),
        )
        .await?
    };
    let mut sent = 0;
    for task in due {
        let Some(reminder) = reminder_owed(task.due_on, false, today) else {
            continue;
        };
        let mut tx = state.pool.begin().await?;
        if !db::followup::claim_auto_reminder(&mut tx, task.task_id, reminder.as_str(), task.due_on)
            .await?
        {
            continue;
        }
        let text = reminder_text(reminder, &task.description, &date_zh(&task.due_on));
        db::notifications::send(
            &mut tx,
            &[task.lead_user_id],
            &text,
            &format!("/tasks/{}", task.task_id),
        )
        .await?;
        let change = Change::new(
            Chain::PartyGroup(task.party_group_id),
            "task.auto_remind",
            "task",
        )
        .entity(task.task_id)
        .after(serde_json::json!({
            "task_id": task.task_id,
            "kind": reminder.as_str(),
            "due_on": task.due_on.to_string(),
            "lead": task.lead_user_id,
        }));
        let system = Actor {
            user_id: None,
            client_addr: None,
        };
        state.audit.append(&mut tx, &system, change).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
