//! After a decision: a dissenting member's reserved opinion (R-RESERVE), and a later item that
//! changes an earlier decision (R-DECISION-CHANGE).

use serde::{Deserialize, Serialize};

use super::{item_ctx, outcome_of};
use crate::app::error::AppError;
use crate::app::input::required_text;
use crate::app::{CurrentUser, Services};
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::ids::ItemId;
use crate::domain::records::{
    check_change_once, check_reserve, check_reserve_once, check_supersede,
};

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ReserveInput {
    #[serde(default)]
    pub text: String,
}

pub async fn reserve(
    state: &Services,
    user: &CurrentUser,
    item_id: ItemId,
    input: ReserveInput,
) -> Result<ItemId, AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, item) = item_ctx(&mut tx, user, item_id, Action::ReserveOpinion).await?;
    let stance = db::deliberation::opinions(&mut tx, ctx.id())
        .await?
        .into_iter()
        .find(|o| o.item_id == item_id && o.user_id == user.user_id)
        .map(|o| o.stance);
    check_reserve(outcome_of(&item).is_some(), stance)?;
    let text = required_text("text", &input.text, 5000)?;
    let recorded = db::followup::reserve(&mut tx, item_id, user.user_id, &text).await?;
    check_reserve_once(!recorded)?;
    let change = ctx
        .change("item.reserve")
        .after(serde_json::json!({ "item_id": item_id, "text": text }));
    state.commit(tx, user, change).await?;
    state.live.changed(ctx.id());
    Ok(item_id)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub item_id: ItemId,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct SupersedeInput {
    /// The earlier decision this item changes.
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub reason: String,
}

pub async fn supersede(
    state: &Services,
    user: &CurrentUser,
    new_item_id: ItemId,
    input: SupersedeInput,
) -> Result<ItemId, AppError> {
    let mut tx = state.pool.begin().await?;
    let (ctx, new_item) = item_ctx(&mut tx, user, new_item_id, Action::LinkDecision).await?;
    let old = match ItemId::parse(&input.item_id) {
        Ok(id) => db::followup::item_ref(&mut tx, id).await?,
        Err(_) => None,
    }
    .filter(|o| o.party_group_id == ctx.meeting.party_group_id && o.item_id != new_item_id)
    .ok_or_else(|| AppError::invalid("item_id", "须为本党组此前会议的一项决定"))?;
    if old.outcome.is_none() {
        return Err(AppError::invalid("item_id", "该事项尚未作出决定"));
    }
    check_supersede(outcome_of(&new_item), old.starts_at < ctx.meeting.starts_at)?;
    let reason = required_text("reason", &input.reason, 2000)?;
    let linked =
        db::followup::link_change(&mut tx, old.item_id, new_item_id, &reason, user.user_id).await?;
    check_change_once(!linked)?;
    let change = ctx.change("item.supersede").after(serde_json::json!({
        "new_item_id": new_item_id,
        "old_item_id": old.item_id,
        "old_meeting_id": old.meeting_id,
        "reason": reason,
    }));
    state.commit(tx, user, change).await?;
    state.live.changed(ctx.id());
    state.live.changed(old.meeting_id);
    Ok(old.item_id)
}
