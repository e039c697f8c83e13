//! Preparing a meeting: scheduling it, delegating the chair, the agenda and its attendees, and
//! the notice that fixes it (R-CHAIR, R-SECRETARY, R-TOPIC-LEAD-TIME, R-AD-HOC, R-NOTICE,
//! R-MATERIALS-DEADLINE).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Ctx, commit};
use crate::app::error::{AppError, FieldError};
use crate::app::input::{blank_as_none, checkbox, required_text};
use crate::app::organisation::named_group;
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::meetings::{Lock, Meeting};
use crate::db::{self};
use crate::display::{DISPLAY_OFFSET, datetime_zh, parse_datetime};
use crate::domain::authz::Action;
use crate::domain::category::Category;
use crate::domain::ids::{ItemId, MeetingId, TopicId, UserId};
use crate::domain::meeting::{
    MeetingState, chair_of, check_agenda_open, check_agenda_order, check_delegate_chair,
    check_invite_attendee, check_notice_materials, check_secretary, issue_notice,
};
use crate::domain::org::Position;
use crate::domain::rule::override_given;
use crate::domain::topic::{Classification, check_ad_hoc, check_lead_time};

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NewMeeting {
    #[serde(default)]
    pub party_group_id: String,
    /// Left empty, the meeting is named by its number: 2026年第5次党组会议.
    #[serde(default)]
    pub title: String,
    /// RFC 3339 with offset; from a page's form, `2026-12-03T09:00` in the display zone.
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
    pub id: MeetingId,
    #[schema(value_type = String)]
    pub status: MeetingState,
    pub title: String,
}

pub async fn create_meeting(
    state: &Services,
    user: &CurrentUser,
    input: NewMeeting,
) -> Result<Meeting, AppError> {
    let mut tx = state.pool.begin().await?;
    let group = named_group(&mut tx, user, &input.party_group_id, Action::CreateMeeting).await?;
    let mut errors = Vec::new();
    let starts_at = parse_datetime(&input.starts_at).ok_or_else(|| {
        errors.push(FieldError::new(
            "starts_at",
            "须为带时区的时间,如 2026-12-03T09:00:00+08:00",
        ))
    });
    let place = crate::domain::account::parse_name(&input.place, 200)
        .map_err(|m| errors.push(FieldError::new("place", m)));
    let title = input.title.trim().to_owned();
    if title.chars().count() > 200 {
        errors.push(FieldError::new("title", "不能超过 200 个字符"));
    }
    let secretary = match UserId::parse(&input.secretary_id) {
        Ok(id) => db::users::get(&mut tx, id).await?.filter(|u| u.active),
        Err(_) => None,
    };
    if secretary.is_none() {
        errors.push(FieldError::new("secretary_id", "用户不存在或已停用"));
    }
    if group.is_none() {
        errors.push(FieldError::new("party_group_id", "党组不存在"));
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
        .find(|m| m.ended_on.is_none() && m.position == Position::Secretary);
    let chair = chair_of(chair)?;
    let year = starts_at.to_offset(DISPLAY_OFFSET).year();
    db::party_groups::lock(&mut tx, group.party_group_id).await?;
    let number = db::meetings::next_number(&mut tx, group.party_group_id, year).await?;
    let meeting = Meeting {
        meeting_id: MeetingId::new(),
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
        status: MeetingState::Draft,
        materials_late_reason: None,
        created_by: user.user_id,
        created_at: OffsetDateTime::now_utc(),
        noticed_at: None,
        opened_at: None,
        closed_at: None,
    };
    db::meetings::insert(&mut tx, &meeting).await?;
    // R-EMERGENCY: disposals not yet reported go on this meeting.
    db::emergencies::adopt_emergencies(&mut tx, group.party_group_id, meeting.meeting_id).await?;
    // R-SUPERVISION: the last meeting's decisions are reported on, as an item of their own.
    let candidates = db::followup::report_candidates(&mut tx, group.party_group_id).await?;
    if let Some(on) = crate::domain::supervision::report_on(&candidates) {
        db::followup::set_report(&mut tx, meeting.meeting_id, on).await?;
    }
    state
        .commit(
            tx,
            user,
            Change::new(
                Chain::PartyGroup(group.party_group_id),
                "meeting.create",
                "meeting",
            )
            .entity(meeting.meeting_id)
            .after(&meeting),
        )
        .await?;
    Ok(meeting)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DelegateChair {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub reason: String,
}

/// R-CHAIR: the 书记 delegates the chair to another member, with a reason.
pub async fn delegate_chair(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    input: DelegateChair,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::DelegateChair)?;
    let delegate = UserId::parse(&input.user_id)
        .map_err(|_| AppError::invalid("user_id", "请选择党组成员"))?;
    let reason = required_text("reason", &input.reason, 500)?;
    check_delegate_chair(
        ctx.state,
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewAgendaItem {
    #[serde(default)]
    pub topic_id: String,
    /// After the notice: the item is urgent (R-AD-HOC).
    #[serde(default, deserialize_with = "checkbox")]
    pub urgent: bool,
    /// The 书记's reason for a lead-time shortfall or an ad-hoc item.
    #[serde(default, deserialize_with = "blank_as_none")]
    pub override_reason: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedItem {
    pub item_id: ItemId,
}

/// The 书记 places a complete topic on the agenda (R-TOPIC-SOURCE, R-TOPIC-LEAD-TIME); after
/// the notice only as an urgent ad-hoc item, never a personnel one (R-AD-HOC).
pub async fn add_item(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    input: NewAgendaItem,
) -> Result<ItemId, AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::AddAgendaItem)?;
    check_agenda_open(ctx.state)?;
    let topic = match TopicId::parse(&input.topic_id) {
        Ok(t) => db::topics::get(&mut tx, t, true).await?,
        Err(_) => None,
    }
    .filter(|t| t.party_group_id == ctx.meeting.party_group_id)
    .ok_or_else(|| AppError::invalid("topic_id", "本党组没有这个议题"))?;
    let scheduled = topic.status.schedule()?;
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
    let item_id = ItemId::new();
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
    db::topics::set_status(&mut tx, topic.topic_id, scheduled, None).await?;
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    /// `up` (earlier) or `down` (later).
    #[serde(default)]
    pub direction: String,
}

/// The 书记 orders the agenda until the notice fixes it (R-NOTICE; R-ONE-AT-A-TIME: items
/// follow the notified order).
pub async fn move_item(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
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
    // Not a rule's refusal: the agenda is as asked already.
    .ok_or_else(|| AppError::Conflict("该议题已在议程的首位或末位。".into()))?;
    let other = items[other].item_id;
    db::meetings::swap_positions(&mut tx, id, item_id, other).await?;
    let change = ctx.change("meeting.agenda_move").after(serde_json::json!({
        "item_id": item_id, "direction": input.direction.trim(), "swapped_with": other,
    }));
    commit(state, tx, user, &ctx, change).await
}

/// Everyone the notice goes to: the members on the meeting date, the invited attendees and
/// the meeting secretary.
async fn recipients(conn: &mut sqlx::PgConnection, ctx: &Ctx) -> Result<Vec<UserId>, AppError> {
    let mut all: BTreeSet<UserId> = ctx.roster.iter().map(|m| m.user_id).collect();
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
pub async fn invite_attendee(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    input: NewAttendee,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = Ctx::load(&mut tx, user, id, Lock::Update).await?;
    ctx.can(user, Action::InviteAttendee)?;
    check_invite_attendee(ctx.state, false)?;
    let item = match ItemId::parse(&input.item_id) {
        Ok(i) => db::meetings::item(&mut tx, id, i, Lock::None).await?,
        Err(_) => None,
    }
    .ok_or_else(|| AppError::invalid("item_id", "本次会议没有这个议题"))?;
    let invitee = match UserId::parse(&input.user_id) {
        Ok(u) => db::users::get(&mut tx, u).await?.filter(|u| u.active),
        Err(_) => None,
    }
    .ok_or_else(|| AppError::invalid("user_id", "用户不存在或已停用"))?;
    if ctx.is_member(invitee.user_id) {
        return Err(AppError::invalid("user_id", "党组成员出席会议,无须列席"));
    }
    let invited =
        db::meetings::invite(&mut tx, item.item_id, invitee.user_id, user.user_id).await?;
    check_invite_attendee(ctx.state, !invited)?;
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

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NoticeInput {
    /// The chair's reason for materials that reached 综合科 late (R-MATERIALS-DEADLINE).
    #[serde(default, deserialize_with = "blank_as_none")]
    pub override_reason: Option<String>,
}

/// R-NOTICE: issuing the notice fixes the agenda, notifies every participant and hands them the
/// materials, each handing logged (R-MATERIALS-DEADLINE).
pub async fn issue(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
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
        let classified = classification == Classification::Secret;
        let delivered_on = uploaded_at.to_offset(DISPLAY_OFFSET).date();
        check_notice_materials(
            classified,
            delivered_on,
            ctx.date(),
            lead,
            ctx.relation.chair,
            reason,
        )?;
    }
    let recipients = recipients(&mut tx, &ctx).await?;
    let handed = db::meetings::distribute_materials(&mut tx, id, &recipients).await?;
    db::meetings::set_status(&mut tx, id, next, reason).await?;
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
