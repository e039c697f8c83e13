//! In the room: leave, attendance with the live quorum, opening and closing the meeting
//! (R-LEAVE, R-QUORUM, R-NOTICE).

use serde::Deserialize;

use super::{Ctx, Quorum, advance_topic, commit, item_state};
use crate::app::error::AppError;
use crate::app::input::required_text;
use crate::app::{CurrentUser, Services};
use crate::db::meetings::Lock;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::ids::{MeetingId, UserId};
use crate::domain::meeting::{
    ItemStage, check_attendance, check_leave_request, close_meeting, open_meeting,
};
use crate::domain::topic_status::TopicStatus;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LeaveInput {
    #[serde(default)]
    pub reason: String,
}

/// R-LEAVE: an invited person asks the chair for leave, before the meeting; 综合科 sees it.
pub async fn ask_leave(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LeaveDecision {
    pub approved: bool,
}

pub async fn decide_leave(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    who: UserId,
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AttendanceInput {
    pub present: bool,
}

/// The meeting secretary records an arrival or departure; the quorum follows (R-QUORUM).
pub async fn record_attendance(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    who: UserId,
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

/// The chair opens the meeting: only after the notice and with quorum (R-NOTICE, R-QUORUM).
pub async fn open(state: &Services, user: &CurrentUser, id: MeetingId) -> Result<(), AppError> {
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
    db::meetings::set_status(&mut tx, id, next, None).await?;
    let quorum = Quorum::of(&ctx);
    let change = ctx.change("meeting.open").after(serde_json::json!({
        "present": ctx.present(), "members": quorum.members,
    }));
    commit(state, tx, user, &ctx, change).await
}

/// The chair closes the meeting once no item is open; items never reached go back to the
/// 书记's queue.
pub async fn close(state: &Services, user: &CurrentUser, id: MeetingId) -> Result<(), AppError> {
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
    for item in items.iter().filter(|i| i.state == ItemStage::Pending) {
        advance_topic(&mut tx, item.topic_id, TopicStatus::requeue).await?;
        returned.push(item.topic_id);
    }
    db::meetings::set_status(&mut tx, id, next, None).await?;
    let change = ctx
        .change("meeting.close")
        .after(serde_json::json!({"topics_back_to_queue": returned}));
    commit(state, tx, user, &ctx, change).await
}

/// The meeting notice (会议通知) as a document: the meeting as `user` sees it and the name of
/// its party group, the notice's issuer.
pub async fn notice_document(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<(super::MeetingView, String), AppError> {
    let seen = super::visible_meeting(state, user, id).await?;
    let view = super::view(&seen, user)?;
    let group =
        crate::app::organisation::group_name(state, seen.ctx.meeting.party_group_id).await?;
    Ok((view, group))
}

/// The sign-in sheet (签到表) for the room: the meeting as `user` sees it, for 综合科, the chair
/// or the meeting secretary to print.
pub async fn sign_in_sheet(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<super::MeetingView, AppError> {
    let seen = super::visible_meeting(state, user, id).await?;
    seen.ctx.can(user, Action::PrintForRoom)?;
    super::view(&seen, user)
}
