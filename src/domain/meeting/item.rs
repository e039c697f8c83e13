//! An agenda item as a state machine (section D of `rules.md`): started one at a time, its
//! recusals and opinions, the vote, the tally and the outcome.

use super::MeetingState;
use super::refuse;
use crate::domain::counting::{Fraction, check_item_quorum, passes};
use crate::domain::deliberation::{Outcome, Tally, VoteMethod};
use crate::domain::rule::{Rule, RuleViolation, override_given};

/// pending → in discussion → voting → tallied → decided; or straight to decided when the
/// chair defers or refers the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Pending,
    InDiscussion,
    Voting,
    Tallied { passed: bool },
    Decided(Outcome),
}

vocabulary! {
    /// The stage an item's state is stored as; with the tally's result and the outcome it
    /// makes the [`ItemState`].
    ItemStage ("议题阶段") {
        Pending => ("pending", "待审议"),
        InDiscussion => ("discussion", "讨论中"),
        Voting => ("voting", "表决中"),
        Tallied => ("tallied", "已计票,待宣布"),
        Decided => ("decided", "已决定"),
    }
}

impl ItemState {
    /// An item being dealt with now (R-ONE-AT-A-TIME).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ItemState::InDiscussion | ItemState::Voting | ItemState::Tallied { .. }
        )
    }
}

/// Starting an item. R-ONE-AT-A-TIME: the meeting is open and no other item is open.
/// R-ABSENT-RESPONSIBLE (override): when the member in charge of the item's area is absent,
/// the chair must record why the item is decided anyway.
pub fn start_item(
    meeting: MeetingState,
    item: ItemState,
    others: &[ItemState],
    actor_is_chair: bool,
    responsible_absent: bool,
    override_reason: Option<&str>,
) -> Result<ItemState, RuleViolation> {
    if !actor_is_chair {
        return Err(refuse(
            Rule::Chair,
            "只有会议主持人可以开始议题。依据:第十九条",
        ));
    }
    if meeting != MeetingState::Open {
        return Err(refuse(
            Rule::OneAtATime,
            "会议尚未开始或已结束。依据:第二十一条(四)",
        ));
    }
    if item != ItemState::Pending {
        return Err(refuse(
            Rule::OneAtATime,
            "该议题已经审议。依据:第二十一条(四)",
        ));
    }
    if others.iter().any(|s| s.is_open()) {
        return Err(refuse(
            Rule::OneAtATime,
            "一事一议:上一个议题尚未结束。依据:第二十一条(四)",
        ));
    }
    if responsible_absent && !override_given(override_reason) {
        return Err(refuse(
            Rule::AbsentResponsible,
            "分管该领域的党组成员缺席,一般不作决定;如确需审议,请主持人说明理由。依据:第二十一条(四)",
        ));
    }
    Ok(ItemState::InDiscussion)
}

/// Opening the vote (R-VOTE-OPEN; the opinions themselves are checked by
/// [`super::deliberation::Floor::may_open_vote`]) with the item's quorum (R-ITEM-QUORUM).
pub fn open_vote(
    item: ItemState,
    present_not_recused: i64,
    members_not_recused: i64,
    q: Fraction,
) -> Result<ItemState, RuleViolation> {
    if item != ItemState::InDiscussion {
        return Err(refuse(
            Rule::VoteOpen,
            "该议题不在讨论阶段,不能表决。依据:第二十一条(四)",
        ));
    }
    check_item_quorum(present_not_recused, members_not_recused, q)?;
    Ok(ItemState::Voting)
}

/// Closing the vote computes the result (R-PASS); it is announced next.
pub fn close_vote(
    item: ItemState,
    tally: Tally,
    should_attend: i64,
) -> Result<ItemState, RuleViolation> {
    if item != ItemState::Voting {
        return Err(refuse(Rule::VoteOpen, "该议题没有进行中的表决。"));
    }
    Ok(ItemState::Tallied {
        passed: passes(tally.yes, should_attend),
    })
}

/// R-ANNOUNCE: the chair announces the tallied result — passed or rejected is computed, never
/// chosen. R-DISAGREEMENT: at any point before that the chair may instead end the item as
/// deferred or referred, with a reason. An announced outcome is final.
pub fn end_item(
    item: ItemState,
    requested: Outcome,
    reason: Option<&str>,
) -> Result<ItemState, RuleViolation> {
    match (item, requested) {
        (ItemState::Decided(_), _) | (ItemState::Pending, _) => Err(refuse(
            Rule::Announce,
            "该议题没有可宣布的结果(尚未审议或已宣布)。依据:第二十一条(四)",
        )),
        (ItemState::Tallied { passed }, Outcome::Passed | Outcome::Rejected) => {
            let computed = if passed {
                Outcome::Passed
            } else {
                Outcome::Rejected
            };
            if computed != requested {
                return Err(refuse(
                    Rule::Announce,
                    format!(
                        "表决结果为“{}”,不能宣布为“{}”。依据:第二十一条(四)",
                        computed.label_zh(),
                        requested.label_zh()
                    ),
                ));
            }
            Ok(ItemState::Decided(computed))
        }
        (_, Outcome::Passed | Outcome::Rejected) => Err(refuse(
            Rule::Announce,
            "须先完成表决并计票,才能宣布结果。依据:第二十一条(四)",
        )),
        (_, Outcome::Deferred | Outcome::Referred) => {
            if override_given(reason) {
                Ok(ItemState::Decided(requested))
            } else {
                Err(refuse(
                    Rule::Disagreement,
                    format!("{}须说明理由。依据:第二十一条(四)", requested.label_zh()),
                ))
            }
        }
    }
}

/// R-ATTENDEE-SCOPE (第十九条): an attendee (列席) takes part only in the items they are
/// invited to; R-ATTENDEE-VOICE: there they may remark while the item is discussed, never vote.
pub fn check_attendee_remark(
    invited_to_item: bool,
    recused: bool,
    item: ItemState,
) -> Result<(), RuleViolation> {
    if !invited_to_item {
        return Err(refuse(
            Rule::AttendeeScope,
            "列席人员只参加与本职工作相关的议题。依据:第十九条",
        ));
    }
    if item != ItemState::InDiscussion {
        return Err(refuse(
            Rule::AttendeeVoice,
            "列席人员只能在议题讨论阶段发表意见,不参加表决。依据:第二十一条(四)",
        ));
    }
    if recused {
        return Err(refuse(
            Rule::Recusal,
            "您已回避本议题,不能发表意见。依据:第二十一条(四)",
        ));
    }
    Ok(())
}

impl ItemState {
    /// The state as stored: the state column, the tallied result and the outcome.
    /// The state from its stored parts; `None` when they do not fit together (a tallied item
    /// without its result, a decided one without its outcome).
    pub fn from_stored(
        stage: ItemStage,
        passed: Option<bool>,
        outcome: Option<Outcome>,
    ) -> Option<Self> {
        Some(match stage {
            ItemStage::Pending => ItemState::Pending,
            ItemStage::InDiscussion => ItemState::InDiscussion,
            ItemStage::Voting => ItemState::Voting,
            ItemStage::Tallied => ItemState::Tallied { passed: passed? },
            ItemStage::Decided => ItemState::Decided(outcome?),
        })
    }

    pub fn stage(self) -> ItemStage {
        match self {
            ItemState::Pending => ItemStage::Pending,
            ItemState::InDiscussion => ItemStage::InDiscussion,
            ItemState::Voting => ItemStage::Voting,
            ItemState::Tallied { .. } => ItemStage::Tallied,
            ItemState::Decided(_) => ItemStage::Decided,
        }
    }
}

/// R-RECUSAL: a recusal is declared before the item is voted on.
pub fn check_recusal_phase(item: ItemState) -> Result<(), RuleViolation> {
    match item {
        ItemState::Pending | ItemState::InDiscussion => Ok(()),
        _ => Err(refuse(
            Rule::Recusal,
            "回避须在表决前提出,该议题已进入表决或已结束。依据:第二十一条(四)",
        )),
    }
}

/// R-RECUSAL: a person's recusal from an item is recorded once.
pub fn check_recusal_once(recused_before: bool) -> Result<(), RuleViolation> {
    if recused_before {
        return Err(refuse(
            Rule::Recusal,
            "该人员已申报回避本议题。依据:第二十一条(四)",
        ));
    }
    Ok(())
}

/// R-OPINION: opinions are stated while the item is discussed.
pub fn check_opinion_phase(item: ItemState) -> Result<(), RuleViolation> {
    if item == ItemState::InDiscussion {
        return Ok(());
    }
    Err(refuse(
        Rule::Opinion,
        "该议题不在讨论阶段,不能表态。依据:第二十一条(四)",
    ))
}

/// R-WRITTEN-OPINION: only a member who is not in the room writes an opinion, before the item
/// is decided; a recused member does not (R-RECUSAL).
pub fn check_written_opinion(
    present: bool,
    recused: bool,
    item: ItemState,
) -> Result<(), RuleViolation> {
    if recused {
        return Err(refuse(
            Rule::Recusal,
            "您已回避本议题,不能发表意见。依据:第二十一条(四)",
        ));
    }
    if present {
        return Err(refuse(
            Rule::WrittenOpinion,
            "到会成员当场表态;书面意见只适用于未到会的成员。依据:第二十一条(四)",
        ));
    }
    if matches!(item, ItemState::Decided(_)) {
        return Err(refuse(
            Rule::WrittenOpinion,
            "该议题已经宣布结果,不能再提交书面意见。依据:第二十一条(四)",
        ));
    }
    Ok(())
}

/// R-ONE-VOTE: ballots are cast while the vote is open; the meeting secretary records a
/// member's vote only for voice and hands votes, which the room sees (R-SECRET-BALLOT: a
/// secret ballot is cast by the member alone).
pub fn check_ballot(
    item: ItemState,
    method: VoteMethod,
    on_behalf: bool,
) -> Result<(), RuleViolation> {
    if item != ItemState::Voting {
        return Err(refuse(
            Rule::OneVote,
            "该议题没有进行中的表决。依据:第二十一条(四)",
        ));
    }
    if method == VoteMethod::Paper {
        return Err(refuse(
            Rule::SecretBallot,
            "纸质投票在会场填写表决票,由综合科两位计票人分别录入清点结果。依据:第二十一条(四)",
        ));
    }
    if on_behalf && !method.may_be_recorded_by_secretary() {
        let rule = if method.is_secret() {
            Rule::SecretBallot
        } else {
            Rule::OneVote
        };
        return Err(refuse(
            rule,
            format!(
                "{}须由成员本人投票,会议秘书只能代为登记口头或举手表决。依据:第二十一条(四)",
                method.label_zh()
            ),
        ));
    }
    Ok(())
}

/// What the room and the record may show of a vote (R-SECRET-BALLOT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reveal {
    /// Who has already voted.
    pub who_voted: bool,
    /// The totals.
    pub totals: bool,
    /// Each voter's choice.
    pub choices: bool,
}

/// A secret ballot shows only who has voted until it closes, then the totals; never who chose
/// what. Other methods are open votes: choices are shown as cast.
pub fn reveal(method: VoteMethod, closed: bool) -> Reveal {
    if method.is_secret() {
        Reveal {
            who_voted: true,
            totals: closed,
            choices: false,
        }
    } else {
        Reveal {
            who_voted: true,
            totals: true,
            choices: true,
        }
    }
}
