//! What a person may do now in a meeting, asked of `domain::meeting::next_steps` with the facts
//! of the meeting as they see it; and the meeting lines of their to-do list, from the same
//! answer.

use super::{Ctx, ItemView, Seen, item_state, item_views, visible_meeting};
use crate::app::Todo;
use crate::app::error::AppError;
use crate::app::{CurrentUser, Services};
use crate::db::{self};
use crate::display::datetime_zh;
use crate::domain::authz::Action;
use crate::domain::ids::{ItemId, UserId};
use crate::domain::meeting::{
    Awaited, ItemFacts, MeetingFacts, MeetingState, Steps, current_item, next_steps,
};
use crate::domain::waiting::Waiting;

/// The facts `next_steps` reads, from the meeting and its agenda as `who` sees it.
pub fn facts(
    ctx: &Ctx,
    agenda: &[ItemView],
    secretary_from_office: bool,
    who: UserId,
) -> Result<MeetingFacts<UserId>, AppError> {
    let items = agenda
        .iter()
        .map(|i| {
            Ok(ItemFacts {
                state: item_state(&i.item)?,
                responsible: i.item.responsible_user_id,
                method: i.item.vote_method,
                // A withheld item is one `who` recused from; its lists are not theirs to read.
                recused: if i.withheld {
                    vec![who]
                } else {
                    i.recusals.iter().map(|r| r.user_id).collect()
                },
                spoken: i.opinions.iter().map(|o| o.user_id).collect(),
                voted: i.votes.iter().map(|v| v.user_id).collect(),
                attendees: i.attendees.iter().map(|a| a.user_id).collect(),
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(MeetingFacts {
        state: ctx.state,
        chair: ctx.meeting.chair_id,
        members: ctx.roster.iter().map(|m| m.user_id).collect(),
        present: ctx.present(),
        quorum: ctx.quorum,
        secretary_from_office,
        items,
    })
}

/// What `user` may do now in the meeting, and why not.
pub fn steps(seen: &Seen, user: &CurrentUser, agenda: &[ItemView]) -> Result<Steps, AppError> {
    let facts = facts(
        &seen.ctx,
        agenda,
        seen.live.secretary_from_office,
        user.user_id,
    )?;
    Ok(next_steps(&facts, user.user_id))
}

/// The item being dealt with now, by its id.
pub fn current(agenda: &[ItemView]) -> Result<Option<ItemId>, AppError> {
    let states = agenda
        .iter()
        .map(|i| item_state(&i.item))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(current_item(states).map(|index| agenda[index].item.item_id))
}

/// What waits for this person in the meetings they take part in (ui.md: the home page is a
/// to-do list): the item waiting for their opinion or vote, the notice of a coming meeting,
/// leave requests to decide.
pub async fn todos(state: &Services, user: &CurrentUser) -> Result<Vec<Todo>, AppError> {
    let coming = db::meetings::coming(&mut *state.pool.acquire().await?, user.user_id).await?;
    let mut todos = Vec::new();
    for m in coming {
        let seen = visible_meeting(state, user, m.meeting_id).await?;
        let ctx = &seen.ctx;
        let href = format!("/meetings/{}", m.meeting_id);
        let mut add =
            |waiting: Waiting, subject: &str| todos.push(Todo::new(waiting, subject, href.clone()));
        let title = &ctx.meeting.title;
        if ctx.state == MeetingState::Open {
            let agenda = item_views(&seen.live, user);
            let steps = steps(&seen, user, &agenda)?;
            match steps.current.and_then(|c| c.awaits()) {
                Some(Awaited::Opinion) => add(Waiting::Opinion, title),
                Some(Awaited::Vote) => add(Waiting::Ballot, title),
                None => add(Waiting::MeetingInSession, title),
            }
        } else {
            let when = datetime_zh(&ctx.meeting.starts_at);
            add(Waiting::MeetingNotice, &format!("{title},{when}"));
        }
        if m.pending_leave && ctx.can(user, Action::DecideLeave).is_ok() {
            add(Waiting::LeaveToDecide, title);
        }
    }
    Ok(todos)
}
