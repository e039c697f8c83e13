//! A secret vote held on paper: the ballots to print, the two counters' entries of the totals
//! (R-ONE-VOTE), and what the room sees of the count as it goes — who has entered, never the
//! numbers of an entry still waiting for its second, so that each counter counts on their own.

use serde::{Deserialize, Serialize};

use super::deliberation::{CHAIR, ItemCtx, TallyView, record_tally};
use super::error::{AppError, FieldError};
use super::meeting::commit;
use super::{CurrentUser, Services};
use crate::db::deliberation::PaperCount;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::deliberation::Tally;
use crate::domain::ids::{ItemId, MeetingId};
use crate::domain::paper_vote::{self, CountEntry, Counted, difference_zh};

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct PaperCountInput {
    /// 赞成 ballots counted.
    #[serde(default)]
    pub yes: Option<i64>,
    /// 反对 ballots counted.
    #[serde(default)]
    pub no: Option<i64>,
    /// 弃权 ballots counted (blank and spoilt ballots are not entered).
    #[serde(default)]
    pub abstain: Option<i64>,
}

/// What an entry led to: `waiting` for the second counter, `differ` (the count is repeated)
/// or `agreed` (the vote is counted).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PaperCountAnswer {
    pub round: i32,
    pub status: &'static str,
    /// For `differ`: each total the two entries disagree on.
    pub difference: Option<String>,
    /// For `agreed`: the vote's totals and result.
    pub tally: Option<TallyView>,
}

impl PaperCountInput {
    fn tally(&self) -> Result<Tally, AppError> {
        let mut errors = Vec::new();
        let mut take = |field: &str, v: Option<i64>| match v {
            Some(n) if (0..=1000).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(field, "须填写不小于 0 的整数"));
                0
            }
        };
        let tally = Tally {
            yes: take("yes", self.yes),
            no: take("no", self.no),
            abstain: take("abstain", self.abstain),
        };
        if errors.is_empty() {
            Ok(tally)
        } else {
            Err(AppError::Invalid(errors))
        }
    }
}

fn tally_of(e: &PaperCount) -> Tally {
    Tally {
        yes: e.yes.into(),
        no: e.no.into(),
        abstain: e.abstain.into(),
    }
}

/// The round an entry goes into, and its first entry if it has one.
fn current_round(entries: &[&PaperCount]) -> (i32, Option<CountEntry<crate::domain::ids::UserId>>) {
    let last = entries.last().map_or(0, |e| e.round);
    let in_last: Vec<_> = entries.iter().filter(|e| e.round == last).collect();
    match in_last[..] {
        [first] => (
            last,
            Some(CountEntry {
                counter: first.counter_id,
                tally: tally_of(first),
            }),
        ),
        _ => (last + 1, None),
    }
}

/// R-ONE-VOTE: one counter's entry of the totals of the open paper vote.
pub async fn enter_count(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
    input: PaperCountInput,
) -> Result<PaperCountAnswer, AppError> {
    let (mut tx, mut c) =
        ItemCtx::begin(state, user, id, item_id, CHAIR, Action::RecordPaperCount).await?;
    paper_vote::check_open(c.state, c.item.vote_method)?;
    let tally = input.tally()?;
    let all = db::deliberation::paper_counts(&mut tx, id).await?;
    let entries: Vec<&PaperCount> = all.iter().filter(|e| e.item_id == item_id).collect();
    let (round, pending) = current_round(&entries);
    let (_, voters) = c.voters();
    let entry = CountEntry {
        counter: user.user_id,
        tally,
    };
    let counted = paper_vote::enter(pending, entry, voters)?;
    let to_i32 = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    db::deliberation::enter_paper_count(
        &mut tx,
        item_id,
        round,
        user.user_id,
        [to_i32(tally.yes), to_i32(tally.no), to_i32(tally.abstain)],
    )
    .await?;
    let totals = |t: Tally| serde_json::json!({"yes": t.yes, "no": t.no, "abstain": t.abstain});
    let (answer, after) = match counted {
        Counted::Waiting => (
            PaperCountAnswer {
                round,
                status: "waiting",
                difference: None,
                tally: None,
            },
            serde_json::json!({"round": round, "entry": 1, "totals": totals(tally)}),
        ),
        Counted::Differ { first, second } => (
            PaperCountAnswer {
                round,
                status: "differ",
                difference: Some(difference_zh(first, second)),
                tally: None,
            },
            serde_json::json!({"round": round, "entry": 2, "agreed": false,
                               "first": totals(first), "second": totals(second)}),
        ),
        Counted::Agreed { tally, counters } => {
            let view = record_tally(&mut tx, &mut c, tally).await?;
            let after = serde_json::json!({"round": round, "entry": 2, "agreed": true,
                                           "counters": counters, "tally": &view});
            (
                PaperCountAnswer {
                    round,
                    status: "agreed",
                    difference: None,
                    tally: Some(view),
                },
                after,
            )
        }
    };
    let change = c.change("item.paper_count", after);
    commit(state, tx, user, &c.ctx, change).await?;
    Ok(answer)
}

/// What the room sees of a paper count.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, Default)]
pub struct PaperState {
    /// The counters who entered the count under way (their numbers stay hidden).
    pub entered_by: Vec<String>,
    /// The two counters of the agreed count.
    pub counters: Vec<String>,
    /// The differences of the last round that did not agree, while no count has agreed.
    pub last_difference: Option<String>,
}

/// The paper count of one item from its entries, in order.
pub fn state_of(entries: &[&PaperCount]) -> PaperState {
    let mut state = PaperState::default();
    let mut rounds: Vec<i32> = entries.iter().map(|e| e.round).collect();
    rounds.dedup();
    for round in rounds {
        let of: Vec<&&PaperCount> = entries.iter().filter(|e| e.round == round).collect();
        match of[..] {
            [one] => state.entered_by = vec![one.counter_name.clone()],
            [a, b] if tally_of(a) == tally_of(b) => {
                state.counters = vec![a.counter_name.clone(), b.counter_name.clone()];
                state.entered_by.clear();
                state.last_difference = None;
            }
            [a, b] => {
                state.entered_by.clear();
                state.last_difference = Some(difference_zh(tally_of(a), tally_of(b)));
            }
            _ => {}
        }
    }
    state
}

/// The paper ballots of one item: its title and the serial numbers, one per member who may vote.
pub struct PaperBallots {
    pub meeting_title: String,
    pub meeting_date: time::Date,
    pub item_title: String,
    pub serials: Vec<String>,
}

/// The ballots to print for an item (综合科, the chair, the meeting secretary): one per member
/// present and not recused once the room has filled, before that one per member not recused.
pub async fn ballots(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
    item_id: ItemId,
) -> Result<PaperBallots, AppError> {
    use crate::db::meetings::Lock;
    let (tx, c) = ItemCtx::begin(
        state,
        user,
        id,
        item_id,
        (Lock::None, Lock::None),
        Action::PrintForRoom,
    )
    .await?;
    drop(tx);
    let (eligible, present) = c.voters();
    let date = super::meeting::meeting_date(&c.ctx.meeting);
    Ok(PaperBallots {
        meeting_title: c.ctx.meeting.title.clone(),
        meeting_date: date,
        item_title: c.item.title.clone(),
        serials: paper_vote::serials(
            date,
            c.item.position,
            if present > 0 { present } else { eligible },
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::UserId;

    fn entry(round: i32, who: &str, yes: i32) -> PaperCount {
        PaperCount {
            item_id: ItemId::new(),
            round,
            counter_id: UserId::new(),
            counter_name: who.into(),
            yes,
            no: 1,
            abstain: 0,
            entered_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_room_sees_who_counted_never_a_waiting_entrys_numbers() {
        let (a1, b1, a2) = (entry(1, "甲", 4), entry(1, "乙", 3), entry(2, "甲", 4));
        let s = state_of(&[&a1]);
        assert_eq!(s.entered_by, ["甲"]);
        assert_eq!(s.last_difference, None);
        let s = state_of(&[&a1, &b1]);
        assert!(s.entered_by.is_empty());
        assert_eq!(
            s.last_difference.as_deref(),
            Some("赞成:第一次 4 票,第二次 3 票")
        );
        let s = state_of(&[&a1, &b1, &a2]);
        assert_eq!(s.entered_by, ["甲"]);
        let b2 = entry(2, "乙", 4);
        let s = state_of(&[&a1, &b1, &a2, &b2]);
        assert_eq!(s.counters, ["甲", "乙"]);
        assert_eq!(s.last_difference, None);
        assert_eq!(current_round(&[&a1, &b1]).0, 2);
        assert_eq!(current_round(&[&a1, &b1, &a2]).0, 2);
        assert!(current_round(&[]).1.is_none());
    }
}
