//! Each agenda item in turn, section D of `rules.md`: starting it, recusals, opinions with the
//! chair last, attendees' remarks, the vote (secret ballots encrypted, counted by their sum),
//! the tally and the announced outcome. One function per action.

use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::input::{blank_as_none, required_text};
use super::meeting::{Ctx, advance_topic, commit, item_state};
use super::{CurrentUser, Services};
use crate::db::meetings::{Item, Lock};
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::counting::should_attend;
use crate::domain::deliberation::{
    Choice, Floor, Opinion, Outcome, Relation as Kinship, Stance, Tally, VoteMethod, tally,
};
use crate::domain::ids::{ItemId, MeetingId, UserId};
use crate::domain::meeting::{
    self, ItemState, check_attendee_remark, check_ballot, check_opinion_phase, check_recusal_once,
    check_recusal_phase, check_written_opinion,
};
use crate::domain::secret_ballot::{self, Ballot, PublicVoteKey, replayed_ballot};
use crate::domain::topic_status::TopicStatus;

/// The meeting and one of its items, locked for an action on the item: `Share` for actions
/// members take side by side (opinions, ballots), `Update` for the chair's steps that change
/// what those check.
pub(super) struct ItemCtx {
    pub(super) ctx: Ctx,
    pub(super) item: Item,
    pub(super) state: ItemState,
    recused: Vec<UserId>,
    spoken: Vec<UserId>,
    voted: Vec<UserId>,
}

impl ItemCtx {
    /// Begins an action on the item: its transaction, the item loaded with `locks`, and the
    /// check that the user may take `action`.
    pub(super) async fn begin(
        state: &Services,
        user: &CurrentUser,
        id: MeetingId,
        item_id: ItemId,
        locks: (Lock, Lock),
        action: Action,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, ItemCtx), AppError> {
        let mut tx = state.pool.begin().await?;
        let c = ItemCtx::load(&mut tx, user, id, item_id, locks).await?;
        c.ctx.can(user, action)?;
        Ok((tx, c))
    }

    async fn load(
        tx: &mut sqlx::PgConnection,
        user: &CurrentUser,
        id: MeetingId,
        item_id: ItemId,
        (meeting_lock, item_lock): (Lock, Lock),
    ) -> Result<ItemCtx, AppError> {
        // Lock first (the meeting, then the item), then read the rest in one statement: it
        // sees what every action that held those locks before this one left.
        let meeting = db::meetings::get(tx, id, meeting_lock)
            .await?
            .ok_or(AppError::NotFound)?;
        let item = db::meetings::item(tx, id, item_id, item_lock)
            .await?
            .ok_or(AppError::NotFound)?;
        let (ctx, floor) = Ctx::read(
            tx,
            user,
            meeting,
            Action::ReadMeeting,
            Relation::default(),
            Some(item_id),
        )
        .await?;
        let state = item_state(&item)?;
        Ok(ItemCtx {
            ctx,
            item,
            state,
            recused: floor.recused,
            spoken: floor.spoken,
            voted: floor.voted,
        })
    }

    /// Who is in the room for this item and who has spoken.
    fn floor(&self) -> Floor<UserId> {
        Floor {
            chair: self.ctx.meeting.chair_id,
            present: self.ctx.present(),
            recused: self.recused.clone(),
            spoken: self.spoken.clone(),
        }
    }

    /// Members on the meeting date who are not recused from this item, and those of them in
    /// the room.
    /// Members on the roster not recused from the item, and how many of them are present.
    pub(super) fn voters(&self) -> (i64, i64) {
        let eligible = self
            .ctx
            .roster
            .iter()
            .filter(|m| !self.recused.contains(&m.user_id));
        let (all, present): (Vec<_>, Vec<_>) = eligible.map(|m| ((), m.present)).unzip();
        (
            all.len() as i64,
            present.into_iter().filter(|p| *p).count() as i64,
        )
    }

    pub(super) fn change(
        &self,
        action: &'static str,
        mut after: serde_json::Value,
    ) -> crate::audit::Change {
        after["item_id"] = serde_json::json!(self.item.item_id);
        self.ctx.change(action).after(after)
    }
}

/// The person a `user_id` field names, or the user acting when it is left blank.
fn named_or_self(user: &CurrentUser, raw: Option<&str>) -> Result<UserId, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(user.user_id),
        Some(raw) => UserId::parse(raw).map_err(|_| AppError::invalid("user_id", "人员不存在")),
    }
}

/// Members act side by side on an item (opinions, ballots, recusals, remarks).
const SIDE: (Lock, Lock) = (Lock::Share, Lock::Share);
/// The chair's steps on an item exclude the members' actions on it while they run.
pub(super) const CHAIR: (Lock, Lock) = (Lock::Share, Lock::Update);

/// Saves the item's new state.
async fn save(
    tx: &mut sqlx::PgConnection,
    item: &mut Item,
    next: ItemState,
) -> Result<(), AppError> {
    item.state = next.stage();
    match next {
        ItemState::Tallied { passed } => item.passed = Some(passed),
        ItemState::Decided(o) => item.outcome = Some(o),
        _ => {}
    }
    db::meetings::save_item(tx, item).await?;
    Ok(())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct StartInput {
    /// The chair's reason to decide although the responsible member is absent
    /// (R-ABSENT-RESPONSIBLE).
    #[serde(default, deserialize_with = "blank_as_none")]
    pub override_reason: Option<String>,
}

/// R-ONE-AT-A-TIME, R-ABSENT-RESPONSIBLE: the chair starts an item.
pub async fn start_item(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: StartInput,
) -> Result<(), AppError> {
    let (mut tx, mut c) = ItemCtx::begin(
        state,
        user,
        id,
        item_id,
        (Lock::Update, Lock::Update),
        Action::StartItem,
    )
    .await?;
    let others = db::meetings::items(&mut tx, id)
        .await?
        .iter()
        .filter(|i| i.item_id != item_id)
        .map(item_state)
        .collect::<Result<Vec<_>, _>>()?;
    let responsible = c.item.responsible_user_id;
    let responsible_absent = c
        .ctx
        .roster
        .iter()
        .any(|m| m.user_id == responsible && !m.present);
    let reason = input.override_reason.as_deref().map(str::trim);
    let next = meeting::start_item(
        c.ctx.state,
        c.state,
        &others,
        c.ctx.relation.chair,
        responsible_absent,
        reason,
    )?;
    c.item.absent_override_reason = reason
        .filter(|r| responsible_absent && !r.is_empty())
        .map(str::to_owned);
    save(&mut tx, &mut c.item, next).await?;
    let change = c.change(
        "item.start",
        serde_json::json!({"absent_override_reason": c.item.absent_override_reason}),
    );
    commit(state, tx, user, &c.ctx, change).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RecusalInput {
    #[serde(default)]
    pub user_id: String,
    /// `self`, `spouse`, `lineal`, `collateral_3`, `in_law`.
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub note: String,
}

/// R-RECUSAL: declared by the person concerned or raised by the chair, before the vote.
pub async fn recuse(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: RecusalInput,
) -> Result<(), AppError> {
    let who = named_or_self(user, Some(&input.user_id))?;
    let for_self = who == user.user_id;
    let (mut tx, c) = ItemCtx::begin(
        state,
        user,
        id,
        item_id,
        SIDE,
        Action::DeclareRecusal { for_self },
    )
    .await?;
    check_recusal_phase(c.state)?;
    let relation = Kinship::parse(input.relation.trim()).ok_or_else(|| {
        AppError::invalid(
            "relation",
            "须为 self、spouse、lineal、collateral_3 或 in_law",
        )
    })?;
    let attends = c.ctx.roster.iter().any(|m| m.user_id == who)
        || db::meetings::attendees(&mut tx, id)
            .await?
            .iter()
            .any(|a| a.item_id == item_id && a.user_id == who);
    if !attends {
        return Err(AppError::invalid("user_id", "该人员不参加此议题"));
    }
    let note = input.note.trim();
    if note.chars().count() > 1000 {
        return Err(AppError::invalid("note", "不能超过 1000 个字符"));
    }
    let recorded =
        db::deliberation::recuse(&mut tx, item_id, who, relation.as_str(), note, user.user_id)
            .await?;
    check_recusal_once(!recorded)?;
    let change = c.change(
        "item.recusal",
        serde_json::json!({"user_id": who, "relation": relation.as_str(), "note": note,
                           "declared_by": user.user_id}),
    );
    commit(state, tx, user, &c.ctx, change).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StanceInput {
    /// `agree` (同意), `disagree` (不同意), `defer` (暂缓决议).
    #[serde(default)]
    pub stance: String,
    /// Required unless agreeing (R-OPINION).
    #[serde(default)]
    pub reason: String,
}

fn opinion_of(input: &StanceInput) -> Result<Opinion, AppError> {
    let stance = Stance::parse(input.stance.trim())
        .ok_or_else(|| AppError::invalid("stance", "须为 agree、disagree 或 defer"))?;
    if input.reason.chars().count() > 5000 {
        return Err(AppError::invalid("reason", "不能超过 5000 个字符"));
    }
    Ok(Opinion::new(stance, &input.reason)?)
}

/// R-WRITTEN-OPINION: an absent member's written opinion, presented and never counted.
pub async fn write_opinion(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: StanceInput,
) -> Result<(), AppError> {
    let (mut tx, c) = ItemCtx::begin(state, user, id, item_id, SIDE, Action::WriteOpinion).await?;
    let present = c.ctx.present().contains(&user.user_id);
    check_written_opinion(present, c.recused.contains(&user.user_id), c.state)?;
    let opinion = opinion_of(&input)?;
    db::deliberation::write_opinion(
        &mut tx,
        item_id,
        user.user_id,
        opinion.stance().as_str(),
        opinion.reason(),
    )
    .await?;
    let change = c.change(
        "item.written_opinion",
        serde_json::json!({"stance": opinion.stance().as_str(), "reason": opinion.reason()}),
    );
    commit(state, tx, user, &c.ctx, change).await
}

/// R-OPINION, R-CHAIR-LAST, R-RECUSAL: a present member states their opinion, the chair last.
pub async fn state_opinion(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: StanceInput,
) -> Result<(), AppError> {
    let (mut tx, c) = ItemCtx::begin(state, user, id, item_id, SIDE, Action::StateOpinion).await?;
    check_opinion_phase(c.state)?;
    c.floor().may_state_opinion(user.user_id)?;
    let opinion = opinion_of(&input)?;
    db::deliberation::state_opinion(
        &mut tx,
        item_id,
        user.user_id,
        opinion.stance().as_str(),
        opinion.reason(),
    )
    .await
    .map_err(|e| match db::violated_constraint(&e) {
        // A simultaneous opinion of the same member got in first.
        Some("opinion_pkey") => {
            let mut floor = c.floor();
            floor.spoken.push(user.user_id);
            floor
                .may_state_opinion(user.user_id)
                .err()
                .map_or_else(|| AppError::from(e), AppError::from)
        }
        _ => AppError::from(e),
    })?;
    let change = c.change(
        "item.opinion",
        serde_json::json!({"stance": opinion.stance().as_str(), "reason": opinion.reason()}),
    );
    commit(state, tx, user, &c.ctx, change).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RemarkInput {
    #[serde(default)]
    pub text: String,
}

/// R-ATTENDEE-VOICE, R-ATTENDEE-SCOPE: an attendee of this item remarks while it is discussed.
pub async fn remark(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: RemarkInput,
) -> Result<(), AppError> {
    let (mut tx, c) = ItemCtx::begin(state, user, id, item_id, SIDE, Action::Remark).await?;
    let invited = db::meetings::attendees(&mut tx, id)
        .await?
        .iter()
        .any(|a| a.item_id == item_id && a.user_id == user.user_id);
    check_attendee_remark(invited, c.recused.contains(&user.user_id), c.state)?;
    let text = required_text("text", &input.text, 5000)?;
    db::deliberation::remark(&mut tx, item_id, user.user_id, &text).await?;
    let change = c.change("item.remark", serde_json::json!({"text": text}));
    commit(state, tx, user, &c.ctx, change).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VoteInput {
    /// `voice`, `hands`, `secret`, `named`.
    #[serde(default)]
    pub method: String,
}

/// R-VOTE-OPEN, R-OPINION, R-CHAIR-LAST, R-ITEM-QUORUM: the chair opens the vote.
pub async fn open_vote(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: VoteInput,
) -> Result<(), AppError> {
    let (mut tx, mut c) = ItemCtx::begin(state, user, id, item_id, CHAIR, Action::OpenVote).await?;
    let method = VoteMethod::parse(input.method.trim())
        .ok_or_else(|| AppError::invalid("method", "须为 voice、hands、secret、named 或 paper"))?;
    if c.state == ItemState::InDiscussion {
        c.floor().may_open_vote(user.user_id)?;
    }
    let (eligible, present) = c.voters();
    let next = meeting::open_vote(c.state, present, eligible, c.ctx.quorum)?;
    c.item.vote_method = Some(method);
    save(&mut tx, &mut c.item, next).await?;
    if method.is_secret() {
        let key = state.ballot.vote_key(item_id).public();
        db::deliberation::open_secret_vote(&mut tx, item_id, &key.to_bytes()).await?;
    }
    let change = c.change(
        "item.vote_open",
        serde_json::json!({"method": method.as_str(), "present": present, "eligible": eligible}),
    );
    commit(state, tx, user, &c.ctx, change).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BallotInput {
    /// `yes` (赞成), `no` (反对), `abstain` (弃权). For a secret vote the server encrypts it
    /// (pages without script); or send `ballot` instead.
    #[serde(default)]
    pub choice: String,
    /// For a secret vote: the ballot encrypted by the voter's device under the vote's public key
    /// (`GET …/ballot-box` gives it), with its proofs, in elastic-elgamal's JSON form.
    #[schema(value_type = Option<Object>)]
    pub ballot: Option<serde_json::Value>,
    /// For voice and hands votes: the member the meeting secretary records.
    #[serde(default, deserialize_with = "blank_as_none")]
    pub user_id: Option<String>,
}

/// R-ONE-VOTE, R-RECUSAL, R-SECRET-BALLOT: one vote per present, non-recused member. A secret
/// ballot is a ciphertext whose proofs are checked here; it leaves "voted" (with the tracking
/// code) beside the voter and the ciphertext in the ballot box, and its audit entry says who
/// voted, never how. The choice of a ballot encrypted here lives in memory for this call only.
pub async fn cast_ballot(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: BallotInput,
) -> Result<(), AppError> {
    let voter = named_or_self(user, input.user_id.as_deref())?;
    let on_behalf = voter != user.user_id;
    let (mut tx, c) = ItemCtx::begin(
        state,
        user,
        id,
        item_id,
        SIDE,
        Action::CastBallot { on_behalf },
    )
    .await?;
    let method = c.item.vote_method;
    check_ballot(c.state, method.unwrap_or(VoteMethod::Secret), on_behalf)?;
    let method = method.ok_or_else(|| anyhow::anyhow!("voting item without a method"))?;
    let choice = match (input.choice.trim(), &input.ballot) {
        ("", Some(_)) if method.is_secret() => None,
        (_, Some(_)) if method.is_secret() => {
            return Err(AppError::invalid(
                "ballot",
                "加密选票与明文选择只能提交其一",
            ));
        }
        (_, Some(_)) => return Err(AppError::invalid("ballot", "只有无记名投票提交加密选票")),
        (raw, None) => Some(
            Choice::parse(raw)
                .ok_or_else(|| AppError::invalid("choice", "须为 yes、no 或 abstain"))?,
        ),
    };
    c.floor().may_vote(voter, c.voted.contains(&voter))?;
    let (written, after) = if method.is_secret() {
        let key = state.ballot.vote_key(item_id).public();
        let ballot = match (choice, input.ballot) {
            // Made here, so its proofs hold by construction (closing checks them again).
            (Some(choice), _) => Ballot::encrypt(&key, choice),
            (None, Some(json)) => {
                let ballot = Ballot::from_json(json)
                    .ok_or_else(|| AppError::invalid("ballot", "不是有效的加密选票"))?;
                ballot.check(&key)?;
                ballot
            }
            (None, None) => unreachable!("a choice or a ballot was given"),
        };
        let tracker = ballot.tracker();
        let written = db::deliberation::cast_secret(
            &mut tx,
            item_id,
            voter,
            tracker.as_bytes(),
            &ballot.to_bytes(),
        )
        .await;
        (written, serde_json::json!({"method": method.as_str()}))
    } else {
        let choice = choice.expect("open votes take a choice");
        let written =
            db::deliberation::cast_open(&mut tx, item_id, voter, choice.as_str(), user.user_id)
                .await;
        let after = serde_json::json!({"method": method.as_str(), "voter": voter, "choice": choice.as_str()});
        (written, after)
    };
    written.map_err(|e| match db::violated_constraint(&e) {
        // A simultaneous ballot of the same member got in first (the database's R-ONE-VOTE).
        Some("vote_cast_pkey") => c
            .floor()
            .may_vote(voter, true)
            .err()
            .map_or_else(|| AppError::from(e), AppError::from),
        // The same ciphertext is already in the box.
        Some("secret_ballot_pkey") => AppError::from(replayed_ballot()),
        _ => AppError::from(e),
    })?;
    let change = c.change("item.ballot", after);
    commit(state, tx, user, &c.ctx, change).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TallyView {
    pub yes: i64,
    pub no: i64,
    pub abstain: i64,
    /// Members on the meeting date minus those recused (R-PASS).
    pub should_attend: i64,
    pub passed: bool,
}

/// R-PASS: the chair closes the vote; yes × 2 > should attend.
pub async fn close_vote(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
) -> Result<TallyView, AppError> {
    let (mut tx, mut c) =
        ItemCtx::begin(state, user, id, item_id, CHAIR, Action::CloseVote).await?;
    let method = c.item.vote_method;
    crate::domain::paper_vote::check_closed_by_chair(method)?;
    let counted: Tally = match method {
        Some(VoteMethod::Secret) => count_secret(state, &mut tx, item_id).await?,
        _ => tally(
            db::deliberation::open_choices(&mut tx, item_id)
                .await?
                .iter()
                .filter_map(|c| Choice::parse(c)),
        ),
    };
    let view = record_tally(&mut tx, &mut c, counted).await?;
    let change = c.change(
        "item.vote_close",
        serde_json::to_value(&view).map_err(anyhow::Error::from)?,
    );
    commit(state, tx, user, &c.ctx, change).await?;
    Ok(view)
}

/// R-PASS: stores the counted totals on the item, tallied: passed when yes × 2 > the members who
/// should attend (members on the meeting date minus those recused).
pub(super) async fn record_tally(
    tx: &mut sqlx::PgConnection,
    c: &mut ItemCtx,
    counted: Tally,
) -> Result<TallyView, AppError> {
    let recused_members = c
        .ctx
        .roster
        .iter()
        .filter(|m| c.recused.contains(&m.user_id))
        .count() as i64;
    let should = should_attend(c.ctx.members(), recused_members);
    let next = meeting::close_vote(c.state, counted, should)?;
    let to_i32 = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    c.item.yes = Some(to_i32(counted.yes));
    c.item.no = Some(to_i32(counted.no));
    c.item.abstain = Some(to_i32(counted.abstain));
    c.item.should_attend = Some(to_i32(should));
    save(tx, &mut c.item, next).await?;
    Ok(TallyView {
        yes: counted.yes,
        no: counted.no,
        abstain: counted.abstain,
        should_attend: should,
        passed: c.item.passed == Some(true),
    })
}

/// R-SECRET-BALLOT: counts a secret vote by decrypting only the sums of its ballots, after
/// checking every ballot's proofs again under the key derived now (so a ballot or key placed in
/// the database by other means is not counted), and stores the count with its proofs.
async fn count_secret(
    state: &Services,
    tx: &mut sqlx::PgConnection,
    item_id: ItemId,
) -> Result<Tally, AppError> {
    let stored = db::deliberation::secret_vote(tx, item_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("secret vote without a ballot box"))?;
    let key = state.ballot.vote_key(item_id);
    let public = key.public();
    if PublicVoteKey::from_bytes(&stored.public_key).as_ref() != Some(&public) {
        return Err(
            anyhow::anyhow!("the stored key of vote {item_id} is not the derived one").into(),
        );
    }
    let ballots = stored
        .ballots
        .iter()
        .map(|(_, bytes)| {
            Ballot::from_bytes(bytes)
                .filter(|b| b.check(&public).is_ok())
                .ok_or_else(|| anyhow::anyhow!("an invalid ballot is stored for vote {item_id}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ballots.len() as i64 != stored.voters {
        return Err(anyhow::anyhow!(
            "vote {item_id}: {} ballots for {} voters",
            ballots.len(),
            stored.voters
        )
        .into());
    }
    let (totals, proof) = secret_ballot::count(item_id, &key, &ballots);
    db::deliberation::record_count(tx, item_id, &proof.to_bytes()).await?;
    Ok(totals)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct OutcomeInput {
    /// `announce` the tallied result, or end the item as `deferred` or `referred`.
    #[serde(default)]
    pub outcome: String,
    /// Required for `deferred` and `referred` (R-DISAGREEMENT).
    #[serde(default, deserialize_with = "blank_as_none")]
    pub reason: Option<String>,
}

/// R-ANNOUNCE, R-DISAGREEMENT: the chair announces the computed result, or defers or refers the
/// item with a reason. A deferred topic goes back to the 书记's queue.
pub async fn end_item(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: OutcomeInput,
) -> Result<(), AppError> {
    let (mut tx, mut c) = ItemCtx::begin(state, user, id, item_id, CHAIR, Action::EndItem).await?;
    let requested = match input.outcome.trim() {
        "announce" => match c.state {
            ItemState::Tallied { passed: false } => Outcome::Rejected,
            _ => Outcome::Passed,
        },
        other => Outcome::parse(other)
            .ok_or_else(|| AppError::invalid("outcome", "须为 announce、deferred 或 referred"))?,
    };
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::invalid("reason", "不能超过 2000 个字符"));
    }
    let next = meeting::end_item(c.state, requested, reason)?;
    if matches!(requested, Outcome::Deferred | Outcome::Referred) {
        c.item.outcome_reason = reason.map(str::to_owned);
    }
    save(&mut tx, &mut c.item, next).await?;
    let step = if requested == Outcome::Deferred {
        TopicStatus::requeue
    } else {
        TopicStatus::decide
    };
    advance_topic(&mut tx, c.item.topic_id, step).await?;
    let change = c.change(
        "item.outcome",
        serde_json::json!({"outcome": requested.as_str(), "reason": c.item.outcome_reason}),
    );
    commit(state, tx, user, &c.ctx, change).await
}
