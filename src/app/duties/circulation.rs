//! R-PUBLICATION: a document in the group's name goes round every member, then is published.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{group_for, groups_for};
use crate::app::error::AppError;
use crate::app::input::required_text;
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::circulations::{Circulation, Signoff};
use crate::db::party_groups::PartyGroup;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::duties::check_in_review;
use crate::domain::duties::check_publication;
use crate::domain::ids::{PartyGroupId, UserId};
use crate::domain::rule::RuleViolation;

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CirculationInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

pub async fn create_circulation(
    state: &Services,
    user: &CurrentUser,
    group_id: PartyGroupId,
    input: CirculationInput,
) -> Result<Uuid, AppError> {
    let mut tx = state.pool.begin().await?;
    let (group, _) = group_for(&mut tx, user, group_id, Action::ManageCirculation).await?;
    let title = required_text("title", &input.title, 200)?;
    let body = required_text("body", &input.body, 50000)?;
    let id = db::circulations::insert_circulation(
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
    state.commit(tx, user, change).await?;
    Ok(id)
}

pub async fn current_members(
    conn: &mut sqlx::PgConnection,
    group_id: PartyGroupId,
) -> Result<Vec<UserId>, AppError> {
    Ok(db::party_groups::memberships(conn, group_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none())
        .map(|m| m.user_id)
        .collect())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CirculationView {
    #[serde(flatten)]
    pub circulation: Circulation,
    pub signoffs: Vec<Signoff>,
    /// Members who have not approved yet.
    pub waiting: Vec<String>,
}

impl CirculationView {
    /// The members who have approved the document (R-PUBLICATION).
    pub fn approved(&self) -> Vec<UserId> {
        self.signoffs
            .iter()
            .filter(|s| s.approved)
            .map(|s| s.user_id)
            .collect()
    }
}

pub async fn circulation_view(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: Uuid,
    action: Action,
    lock: bool,
) -> Result<(CirculationView, Vec<UserId>), AppError> {
    let circulation = db::circulations::circulation(conn, id, lock)
        .await?
        .ok_or(AppError::NotFound)?;
    group_for(conn, user, circulation.party_group_id, action).await?;
    let signoffs = db::circulations::signoffs(conn, id).await?;
    let memberships: Vec<_> = db::party_groups::memberships(conn, circulation.party_group_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none())
        .collect();
    let members: Vec<UserId> = memberships.iter().map(|m| m.user_id).collect();
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

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct SignoffInput {
    pub approved: Option<bool>,
    /// Required when not approving.
    #[serde(default)]
    pub comment: String,
}

pub async fn sign_off(
    state: &Services,
    user: &CurrentUser,
    id: Uuid,
    input: SignoffInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (view, _) = circulation_view(&mut tx, user, id, Action::SignCirculation, true).await?;
    check_in_review(view.circulation.published_at.is_some())?;
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
    db::circulations::sign_circulation(&mut tx, id, user.user_id, approved, &comment).await?;
    let change = Change::new(
        Chain::PartyGroup(view.circulation.party_group_id),
        "circulation.signoff",
        "circulation",
    )
    .entity(id)
    .after(serde_json::json!({ "approved": approved, "comment": comment }));
    state.commit(tx, user, change).await?;
    Ok(())
}

pub async fn publish(state: &Services, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (view, members) =
        circulation_view(&mut tx, user, id, Action::ManageCirculation, true).await?;
    check_in_review(view.circulation.published_at.is_some())?;
    let approved = view.approved();
    check_publication(&members, &approved)?;
    db::circulations::publish_circulation(&mut tx, id, user.user_id).await?;
    let change = Change::new(
        Chain::PartyGroup(view.circulation.party_group_id),
        "circulation.publish",
        "circulation",
    )
    .entity(id)
    .after(serde_json::json!({ "approved_by": approved }));
    state.commit(tx, user, change).await?;
    Ok(())
}

/// The reviews this person may read, and the groups where they may start one.
pub async fn circulations(
    state: &Services,
    user: &CurrentUser,
) -> Result<(Vec<Circulation>, Vec<PartyGroup>), AppError> {
    let mut conn = state.pool.acquire().await?;
    let readable: Vec<PartyGroupId> = groups_for(&mut conn, user, Action::ReadCirculation)
        .await?
        .into_iter()
        .map(|g| g.party_group_id)
        .collect();
    Ok((
        db::circulations::circulations(&mut conn, &readable).await?,
        groups_for(&mut conn, user, Action::ManageCirculation).await?,
    ))
}

/// One review as this person may read it.
pub async fn circulation(
    state: &Services,
    user: &CurrentUser,
    id: Uuid,
) -> Result<CirculationView, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(
        circulation_view(&mut conn, user, id, Action::ReadCirculation, false)
            .await?
            .0,
    )
}

/// What this person may do with a review now, and why it cannot be published yet.
pub struct CirculationSteps {
    pub may_sign: bool,
    pub may_publish: bool,
    pub publish_blocked: Option<RuleViolation>,
}

pub async fn circulation_steps(
    state: &Services,
    user: &CurrentUser,
    id: Uuid,
) -> Result<(CirculationView, CirculationSteps), AppError> {
    let mut conn = state.pool.acquire().await?;
    let (view, members) =
        circulation_view(&mut conn, user, id, Action::ReadCirculation, false).await?;
    let open = check_in_review(view.circulation.published_at.is_some()).is_ok();
    let group = view.circulation.party_group_id;
    let may_sign = open
        && group_for(&mut conn, user, group, Action::SignCirculation)
            .await
            .is_ok();
    let may_publish = open
        && group_for(&mut conn, user, group, Action::ManageCirculation)
            .await
            .is_ok();
    let approved = view.approved();
    let steps = CirculationSteps {
        may_sign,
        may_publish,
        publish_blocked: check_publication(&members, &approved).err(),
    };
    Ok((view, steps))
}
