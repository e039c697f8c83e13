//! A secret vote's ballot box (R-SECRET-BALLOT): what every participant may check once the vote
//! is closed, and what `yishi verify-vote` checks from the database alone.

use serde::Serialize;
use sqlx::PgConnection;

use super::meeting::visible_meeting;
use super::{AppError, CurrentUser, Services};
use crate::db;
use crate::db::deliberation::SecretVote;
use crate::db::meetings::Item;
use crate::db::meetings::Lock;
use crate::domain::deliberation::Tally;
use crate::domain::ids::{ItemId, MeetingId};
use crate::domain::secret_ballot::{BallotBox, BoxProblem, PublicVoteKey, StoredBallot, Tracker};

#[derive(Serialize, utoipa::ToSchema)]
pub struct BoxBallot {
    /// sha256 of the ballot's three ciphertexts (hex).
    pub tracker: String,
    /// The tracking code as the voter's screen shows it.
    pub tracker_short: String,
    /// The ciphertexts and their proofs (elastic-elgamal's JSON form).
    #[schema(value_type = Object)]
    pub ballot: serde_json::Value,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub yes: i64,
    pub no: i64,
    pub abstain: i64,
}

/// The ballot box of one item. Before closing it holds the key and how many have voted; after
/// closing every ballot (no voter named), the count with its proofs, the totals, the digest the
/// minutes carry, and what an independent check of all of it found wrong.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BoxReport {
    pub item_id: ItemId,
    pub meeting_id: MeetingId,
    /// The vote's public key (hex): ballots are encrypted under it.
    pub public_key: String,
    /// Members recorded as having voted.
    pub voters: i64,
    /// Ciphertexts in the box (equal to `voters` when all is well).
    pub ballot_count: usize,
    /// The count is done: ballots, proofs and totals are public.
    pub closed: bool,
    /// In the order of their tracking codes.
    pub ballots: Vec<BoxBallot>,
    /// Per option the sum of the ciphertexts, its decryption and the proof of it.
    #[schema(value_type = Option<Object>)]
    pub count: Option<serde_json::Value>,
    pub totals: Option<Totals>,
    /// sha256 over the item, the key, every ballot, the count and the totals (hex).
    pub digest: Option<String>,
    /// Empty when every proof, the sums and the totals hold.
    pub problems: Vec<BoxProblem>,
}

impl BoxReport {
    pub fn includes(&self, tracker: &str) -> bool {
        self.ballots.iter().any(|b| b.tracker_short == tracker)
    }
}

/// The digest of a closed vote's ballot box, as the minutes carry it; `None` when the item had
/// no secret vote or it was not counted.
pub async fn digest(conn: &mut PgConnection, item: &Item) -> anyhow::Result<Option<String>> {
    let Some(stored) = db::deliberation::secret_vote(conn, item.item_id).await? else {
        return Ok(None);
    };
    let Some(totals) = totals(item, &stored) else {
        return Ok(None);
    };
    Ok(Some(boxed(item, &stored, Some(totals)).digest()))
}

/// The recorded totals, once the count is stored.
fn totals(item: &Item, stored: &SecretVote) -> Option<Tally> {
    match (item.yes, item.no, item.abstain, &stored.count_proof) {
        (Some(yes), Some(no), Some(abstain), Some(_)) => Some(Tally {
            yes: yes.into(),
            no: no.into(),
            abstain: abstain.into(),
        }),
        _ => None,
    }
}

fn boxed<'a>(item: &Item, stored: &'a SecretVote, totals: Option<Tally>) -> BallotBox<'a> {
    BallotBox {
        item_id: item.item_id,
        public_key: &stored.public_key,
        ballots: stored
            .ballots
            .iter()
            .map(|(tracker, bytes)| StoredBallot { tracker, bytes })
            .collect(),
        voters: usize::try_from(stored.voters).unwrap_or(usize::MAX),
        count: stored.count_proof.as_deref(),
        totals,
    }
}

/// The ballot box as one participant sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BallotBoxView {
    pub title: String,
    #[serde(flatten)]
    pub report: BoxReport,
    /// The viewer's own tracking code, when they cast a secret ballot on this item.
    pub my_tracker: Option<String>,
    /// Whether the viewer's ballot is in the box (known once the box is public).
    pub my_ballot_included: Option<bool>,
}

/// Loads the box for a participant of the item: the meeting must be visible to them and the
/// item not withheld from them (R-RECUSAL); 404 otherwise, and when the item had no secret vote.
pub async fn participant_view(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
) -> Result<BallotBoxView, AppError> {
    visible_meeting(state, user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let item = db::meetings::item(&mut conn, id, item_id, Lock::None)
        .await?
        .ok_or(AppError::NotFound)?;
    let recused = db::deliberation::recusals(&mut conn, id)
        .await?
        .iter()
        .any(|r| r.item_id == item_id && r.user_id == user.user_id);
    if recused {
        return Err(AppError::NotFound);
    }
    let expected = state.ballot.vote_key(item_id).public();
    let report = read(&mut conn, &item, Some(&expected))
        .await?
        .ok_or(AppError::NotFound)?;
    let my_tracker = db::deliberation::trackers(&mut conn, id)
        .await?
        .into_iter()
        .find(|(i, voter, _)| *i == item_id && *voter == user.user_id)
        .and_then(|(_, _, t)| Tracker::from_bytes(&t))
        .map(|t| t.short());
    let my_ballot_included = my_tracker
        .as_deref()
        .filter(|_| report.closed)
        .map(|t| report.includes(t));
    Ok(BallotBoxView {
        title: item.title,
        report,
        my_tracker,
        my_ballot_included,
    })
}

/// Reads and checks the ballot box of `item` (before closing: each ballot's proofs and their
/// number); `None` when the item had no secret vote. With `expected` (the key derived from the
/// server's ballot key) the stored key is checked too.
pub async fn read(
    conn: &mut PgConnection,
    item: &Item,
    expected: Option<&PublicVoteKey>,
) -> anyhow::Result<Option<BoxReport>> {
    let Some(stored) = db::deliberation::secret_vote(conn, item.item_id).await? else {
        return Ok(None);
    };
    let totals = totals(item, &stored);
    let closed = totals.is_some();
    let ballot_box = boxed(item, &stored, totals);
    let problems = ballot_box.audit(expected);
    let digest = closed.then(|| ballot_box.digest());
    let ballots = if closed {
        stored
            .ballots
            .iter()
            .map(|(tracker, bytes)| BoxBallot {
                tracker: hex::encode(tracker),
                tracker_short: Tracker::from_bytes(tracker)
                    .map(|t| t.short())
                    .unwrap_or_default(),
                ballot: serde_json::from_slice(bytes).unwrap_or(serde_json::Value::Null),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(BoxReport {
        item_id: item.item_id,
        meeting_id: item.meeting_id,
        public_key: hex::encode(&stored.public_key),
        voters: stored.voters,
        ballot_count: stored.ballots.len(),
        closed,
        ballots,
        count: stored
            .count_proof
            .as_deref()
            .and_then(|c| serde_json::from_slice(c).ok()),
        totals: totals.map(|t| Totals {
            yes: t.yes,
            no: t.no,
            abstain: t.abstain,
        }),
        digest,
        problems,
    }))
}

/// `yishi verify-vote ITEM_ID`: the item's ballot box checked from the database alone.
pub async fn verify(
    conn: &mut PgConnection,
    item_id: ItemId,
    expected: Option<&PublicVoteKey>,
) -> anyhow::Result<Option<BoxReport>> {
    let Some(meeting_id) = db::deliberation::meeting_of_item(conn, item_id).await? else {
        return Ok(None);
    };
    let Some(item) =
        db::meetings::item(conn, meeting_id, item_id, db::meetings::Lock::None).await?
    else {
        return Ok(None);
    };
    read(conn, &item, expected).await
}
