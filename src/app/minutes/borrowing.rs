//! R-MINUTES-ACCESS: a non-member asks to read the minutes; the 书记 or a 副书记 decides.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::error::AppError;
use crate::app::input::required_text;
use crate::app::organisation::groups_held;
use crate::app::{CurrentUser, Services};
use crate::audit::{self, Change};
use crate::db::meetings::Lock;
use crate::db::records::BorrowRequest;
use crate::db::{self};
use crate::display::datetime_zh;
use crate::domain::authz::{Action, Relation};
use crate::domain::ids::{MeetingId, PartyGroupId, UserId};
use crate::domain::org::Position;
use crate::domain::records::{check_borrow_decider, check_borrow_once};

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct BorrowInput {
    #[serde(default)]
    pub reason: String,
    /// How long the permission lasts once approved: 1 to 90 days.
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedRequest {
    pub id: Uuid,
}

/// The 书记 and 副书记 of a group today.
pub async fn deciders(
    conn: &mut sqlx::PgConnection,
    party_group_id: PartyGroupId,
) -> Result<Vec<UserId>, AppError> {
    Ok(db::party_groups::memberships(conn, party_group_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none())
        .filter(|m| {
            matches!(
                Some(m.position),
                Some(Position::Secretary | Position::Deputy)
            )
        })
        .map(|m| m.user_id)
        .collect())
}

pub async fn ask_borrow(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    input: BorrowInput,
) -> Result<Uuid, AppError> {
    user.can(Action::RequestBorrow)?;
    let mut tx = state.pool.begin().await?;
    let meeting = db::meetings::get(&mut tx, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    let reason = required_text("reason", &input.reason, 2000)
        .map_err(|e| errors.push(e))
        .ok();
    let days = input.days.filter(|d| (1..=90).contains(d));
    if days.is_none() {
        errors.push(AppError::invalid("days", "借阅天数须为 1 到 90 天"));
    }
    let (Some(reason), Some(days)) = (reason, days) else {
        return Err(AppError::Invalid(
            errors
                .into_iter()
                .flat_map(|e| match e {
                    AppError::Invalid(f) => f,
                    _ => Vec::new(),
                })
                .collect(),
        ));
    };
    let request_id =
        db::records::ask_borrow(&mut tx, id, user.user_id, &reason, days as i32).await?;
    let to = deciders(&mut tx, meeting.party_group_id).await?;
    db::notifications::send(
        &mut tx,
        &to,
        &format!("{}申请借阅{}的会议记录", user.name, meeting.title),
        "/borrow-requests",
    )
    .await?;
    let change = Change::new(
        audit::Chain::PartyGroup(meeting.party_group_id),
        "minutes.borrow_request",
        "meeting",
    )
    .entity(id)
    .after(serde_json::json!({ "request_id": request_id, "reason": reason, "days": days }));
    state.commit(tx, user, change).await?;
    Ok(request_id)
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct BorrowDecision {
    pub approved: Option<bool>,
}

pub async fn decide_borrow(
    state: &Services,
    user: &CurrentUser,
    request_id: Uuid,
    input: BorrowDecision,
) -> Result<BorrowRequest, AppError> {
    let mut tx = state.pool.begin().await?;
    let request = db::records::borrow_request(&mut tx, request_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position =
        db::party_groups::current_position(&mut tx, request.party_group_id, user.user_id).await?;
    // The requester may see their own request; a decider is a member of the group.
    if position.is_none() && request.user_id != user.user_id {
        return Err(AppError::NotFound);
    }
    user.can_in(
        Action::DecideBorrow,
        request.party_group_id,
        position,
        &Relation::default(),
    )?;
    check_borrow_decider(position)?;
    let approved = input
        .approved
        .ok_or_else(|| AppError::invalid("approved", "请选择批准或不批准"))?;
    check_borrow_once(request.approved.is_some())?;
    let expires_at =
        db::records::decide_borrow(&mut tx, request_id, approved, user.user_id).await?;
    let text = match expires_at {
        Some(t) => format!(
            "您借阅{}会议记录的申请已批准,有效期至{}",
            request.meeting_title,
            datetime_zh(&t)
        ),
        None => format!("您借阅{}会议记录的申请未获批准", request.meeting_title),
    };
    db::notifications::send(
        &mut tx,
        &[request.user_id],
        &text,
        &format!("/meetings/{}/minutes", request.meeting_id),
    )
    .await?;
    let change = Change::new(
        audit::Chain::PartyGroup(request.party_group_id),
        "minutes.borrow_decision",
        "meeting",
    )
    .entity(request.meeting_id)
    .after(serde_json::json!({
        "request_id": request_id,
        "user_id": request.user_id,
        "approved": approved,
        "expires_at": expires_at.map(|t| datetime_zh(&t)),
    }));
    state.commit(tx, user, change).await?;
    Ok(BorrowRequest {
        approved: Some(approved),
        decided_by: Some(user.user_id),
        expires_at,
        ..request
    })
}

/// My borrow requests, and those I decide.
pub async fn borrow_requests(
    state: &Services,
    user: &CurrentUser,
) -> Result<Vec<BorrowRequest>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let deciding = deciding_groups(&mut conn, user).await?;
    Ok(db::records::borrow_requests_for(&mut conn, user.user_id, &deciding).await?)
}

/// The groups whose borrow requests this person decides: where they are 书记 or 副书记 today.
pub async fn deciding_groups(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
) -> Result<Vec<PartyGroupId>, AppError> {
    groups_held(conn, user, |p| check_borrow_decider(Some(p)).is_ok()).await
}
