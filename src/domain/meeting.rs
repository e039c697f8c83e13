//! The meeting and its items as state machines (sections C and D of `rules.md`). Each
//! transition takes the current state and what the rule needs to know, and returns the next
//! state or the refusal.

use time::Date;

use super::counting::{Fraction, check_item_quorum, check_quorum, passes};
use super::deliberation::{Outcome, Tally, VoteMethod};
use super::rule::{Rule, RuleViolation, override_given};

/// draft → noticed → open → closed → minutes sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingState {
    Draft,
    Noticed,
    Open,
    Closed,
    MinutesSealed,
}

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

impl ItemState {
    /// An item being dealt with now (R-ONE-AT-A-TIME).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ItemState::InDiscussion | ItemState::Voting | ItemState::Tallied { .. }
        )
    }
}

fn refuse(rule: Rule, detail: impl Into<String>) -> RuleViolation {
    RuleViolation::new(rule, detail)
}

/// R-CHAIR (第十九条): only the 书记 delegates the chair, and only to a current member.
pub fn check_delegate_chair(
    actor_is_group_secretary: bool,
    delegate_is_current_member: bool,
) -> Result<(), RuleViolation> {
    if !actor_is_group_secretary {
        return Err(refuse(
            Rule::Chair,
            "只有党组书记可以委托他人主持会议。依据:第十九条",
        ));
    }
    if !delegate_is_current_member {
        return Err(refuse(
            Rule::Chair,
            "只能委托副书记或其他党组成员主持。依据:第十九条",
        ));
    }
    Ok(())
}

/// Issuing the notice fixes the agenda. R-SECRETARY (第二十条): a meeting secretary from
/// 综合科 must be named first; R-NOTICE: the notice lists at least one topic.
pub fn issue_notice(
    state: MeetingState,
    secretary_from_office: bool,
    agenda_items: usize,
) -> Result<MeetingState, RuleViolation> {
    if state != MeetingState::Draft {
        return Err(refuse(
            Rule::Notice,
            "会议通知已发出,议程已固定。依据:第二十一条(三)",
        ));
    }
    if !secretary_from_office {
        return Err(refuse(
            Rule::Secretary,
            "须先指定综合科工作人员担任会议秘书。依据:第二十条",
        ));
    }
    if agenda_items == 0 {
        return Err(refuse(
            Rule::Notice,
            "会议通知须列明议题,议程为空。依据:第二十一条(三)",
        ));
    }
    Ok(MeetingState::Noticed)
}

/// Opening the meeting: only by its chair (R-CHAIR), only after the notice (R-NOTICE), only
/// with quorum (R-QUORUM).
pub fn open_meeting(
    state: MeetingState,
    actor_is_chair: bool,
    present: i64,
    members: i64,
    q: Fraction,
) -> Result<MeetingState, RuleViolation> {
    if !actor_is_chair {
        return Err(refuse(
            Rule::Chair,
            "只有会议主持人可以宣布开会。依据:第十九条",
        ));
    }
    match state {
        MeetingState::Draft => Err(refuse(
            Rule::Notice,
            "会议通知尚未发出,不能开会。依据:第二十一条(三)",
        )),
        MeetingState::Noticed => check_quorum(present, members, q).map(|()| MeetingState::Open),
        _ => Err(refuse(Rule::Notice, "会议已经开始或已结束。")),
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

/// Closing the meeting: by the chair, with no item left open (R-ONE-AT-A-TIME).
pub fn close_meeting(
    state: MeetingState,
    items: &[ItemState],
    actor_is_chair: bool,
) -> Result<MeetingState, RuleViolation> {
    if !actor_is_chair {
        return Err(refuse(
            Rule::Chair,
            "只有会议主持人可以宣布散会。依据:第十九条",
        ));
    }
    if state != MeetingState::Open {
        return Err(refuse(Rule::Notice, "会议未在进行中。"));
    }
    if items.iter().any(|s| s.is_open()) {
        return Err(refuse(
            Rule::OneAtATime,
            "还有议题尚未结束,请先宣布结果或暂缓。依据:第二十一条(四)",
        ));
    }
    Ok(MeetingState::Closed)
}

/// R-ATTENDEE-SCOPE (第十九条): an attendee (列席) takes part only in the items they are
/// invited to; R-ATTENDEE-VOICE: there they may remark while the item is discussed, never vote.
pub fn check_attendee_remark(invited_to_item: bool, item: ItemState) -> Result<(), RuleViolation> {
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
    Ok(())
}

/// R-MATERIALS-DEADLINE (第二十一条(二), override): except classified matters, materials reach
/// 综合科 at least `lead_days` days before the meeting, or the chair records why not.
pub fn check_materials_deadline(
    classified: bool,
    delivered_on: Date,
    meeting_on: Date,
    lead_days: i64,
    override_reason: Option<&str>,
) -> Result<(), RuleViolation> {
    let days = (meeting_on - delivered_on).whole_days();
    if classified || days >= lead_days || override_given(override_reason) {
        return Ok(());
    }
    Err(refuse(
        Rule::MaterialsDeadline,
        format!(
            "材料须至少于会前 {lead_days} 天送综合科,现为会前 {days} 天;如确需使用,请主持人说明理由。依据:第二十一条(二)"
        ),
    ))
}

/// How an absent member appears in the minutes (R-LEAVE): on approved leave, or absent without
/// it.
pub fn absence_label(leave_approved: bool) -> &'static str {
    if leave_approved {
        "请假"
    } else {
        "缺席(未经批准请假)"
    }
}

impl MeetingState {
    /// The state as stored (`draft`, `noticed`, `open`, `closed`).
    pub fn parse(s: &str) -> Option<MeetingState> {
        Some(match s {
            "draft" => MeetingState::Draft,
            "noticed" => MeetingState::Noticed,
            "open" => MeetingState::Open,
            "closed" => MeetingState::Closed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MeetingState::Draft => "draft",
            MeetingState::Noticed => "noticed",
            MeetingState::Open => "open",
            MeetingState::Closed | MeetingState::MinutesSealed => "closed",
        }
    }
}

impl ItemState {
    /// The state as stored: the state column, the tallied result and the outcome.
    pub fn from_stored(state: &str, passed: Option<bool>, outcome: Option<&str>) -> Option<Self> {
        Some(match state {
            "pending" => ItemState::Pending,
            "discussion" => ItemState::InDiscussion,
            "voting" => ItemState::Voting,
            "tallied" => ItemState::Tallied { passed: passed? },
            "decided" => ItemState::Decided(Outcome::parse(outcome?)?),
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::InDiscussion => "discussion",
            ItemState::Voting => "voting",
            ItemState::Tallied { .. } => "tallied",
            ItemState::Decided(_) => "decided",
        }
    }
}

/// R-SECRETARY (第二十条): the meeting secretary is a member of 综合科's staff.
pub fn check_secretary(from_office: bool) -> Result<(), RuleViolation> {
    if from_office {
        return Ok(());
    }
    Err(refuse(
        Rule::Secretary,
        "会议秘书须由综合科工作人员担任。依据:第二十条",
    ))
}

/// R-AD-HOC, R-NOTICE: the agenda is built before the meeting opens; after the notice only
/// the ad-hoc rule lets an item in (see `topic::check_ad_hoc`).
pub fn check_agenda_open(state: MeetingState) -> Result<(), RuleViolation> {
    match state {
        MeetingState::Draft | MeetingState::Noticed => Ok(()),
        _ => Err(refuse(
            Rule::AdHoc,
            "会议已经开始或已结束,不能再增加议题。依据:第二十一条(一)",
        )),
    }
}

/// R-NOTICE: the agenda is put in order before the notice, which fixes it.
pub fn check_agenda_order(state: MeetingState) -> Result<(), RuleViolation> {
    if state == MeetingState::Draft {
        return Ok(());
    }
    Err(refuse(
        Rule::Notice,
        "会议通知已发出,议程顺序已固定。依据:第二十一条(三)",
    ))
}

/// R-LEAVE (第二十一条(三)): leave is asked before the meeting.
pub fn check_leave_request(state: MeetingState) -> Result<(), RuleViolation> {
    match state {
        MeetingState::Draft | MeetingState::Noticed => Ok(()),
        _ => Err(refuse(
            Rule::Leave,
            "请假须在会前提出;会议已经开始或已结束。依据:第二十一条(三)",
        )),
    }
}

/// R-QUORUM: attendance is recorded once the meeting is notified and until it closes; the
/// quorum is re-computed from it at every change.
pub fn check_attendance(state: MeetingState) -> Result<(), RuleViolation> {
    match state {
        MeetingState::Noticed | MeetingState::Open => Ok(()),
        MeetingState::Draft => Err(refuse(
            Rule::Notice,
            "会议通知尚未发出,不能登记到会情况。依据:第二十一条(三)",
        )),
        _ => Err(refuse(Rule::Quorum, "会议已结束,不能再登记到会情况。")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const Q: Fraction = Fraction::TWO_THIRDS;

    #[test]
    fn r_chair_only_the_secretary_delegates_to_a_member() {
        assert_eq!(
            check_delegate_chair(false, true).unwrap_err().rule,
            Rule::Chair
        );
        assert_eq!(
            check_delegate_chair(true, false).unwrap_err().rule,
            Rule::Chair
        );
        assert_eq!(check_delegate_chair(true, true), Ok(()));
        assert_eq!(
            open_meeting(MeetingState::Noticed, false, 9, 9, Q)
                .unwrap_err()
                .rule,
            Rule::Chair
        );
    }

    #[test]
    fn r_secretary_the_notice_needs_a_secretary_from_the_office() {
        assert_eq!(
            issue_notice(MeetingState::Draft, false, 3)
                .unwrap_err()
                .rule,
            Rule::Secretary
        );
        assert_eq!(
            issue_notice(MeetingState::Draft, true, 3),
            Ok(MeetingState::Noticed)
        );
    }

    #[test]
    fn r_notice_no_opening_before_the_notice_and_no_empty_notice() {
        assert_eq!(
            issue_notice(MeetingState::Draft, true, 0).unwrap_err().rule,
            Rule::Notice
        );
        assert_eq!(
            issue_notice(MeetingState::Noticed, true, 2)
                .unwrap_err()
                .rule,
            Rule::Notice
        );
        assert_eq!(
            open_meeting(MeetingState::Draft, true, 9, 9, Q)
                .unwrap_err()
                .rule,
            Rule::Notice
        );
        assert_eq!(
            open_meeting(MeetingState::Noticed, true, 6, 9, Q),
            Ok(MeetingState::Open)
        );
    }

    #[test]
    fn r_quorum_opening_needs_two_thirds() {
        assert_eq!(
            open_meeting(MeetingState::Noticed, true, 5, 8, Q)
                .unwrap_err()
                .rule,
            Rule::Quorum
        );
    }

    #[test]
    fn r_one_at_a_time_a_second_item_waits() {
        let open = MeetingState::Open;
        assert_eq!(
            start_item(
                open,
                ItemState::Pending,
                &[ItemState::Voting],
                true,
                false,
                None
            )
            .unwrap_err()
            .rule,
            Rule::OneAtATime
        );
        assert_eq!(
            start_item(
                open,
                ItemState::Pending,
                &[ItemState::Decided(Outcome::Passed)],
                true,
                false,
                None
            ),
            Ok(ItemState::InDiscussion)
        );
        assert_eq!(
            start_item(
                MeetingState::Noticed,
                ItemState::Pending,
                &[],
                true,
                false,
                None
            )
            .unwrap_err()
            .rule,
            Rule::OneAtATime
        );
        assert_eq!(
            close_meeting(open, &[ItemState::InDiscussion], true)
                .unwrap_err()
                .rule,
            Rule::OneAtATime
        );
        assert_eq!(
            close_meeting(open, &[ItemState::Decided(Outcome::Deferred)], true),
            Ok(MeetingState::Closed)
        );
    }

    #[test]
    fn r_absent_responsible_needs_the_chairs_reason() {
        let open = MeetingState::Open;
        assert_eq!(
            start_item(open, ItemState::Pending, &[], true, true, Some(" "))
                .unwrap_err()
                .rule,
            Rule::AbsentResponsible
        );
        assert_eq!(
            start_item(
                open,
                ItemState::Pending,
                &[],
                true,
                true,
                Some("上级要求本周内报送")
            ),
            Ok(ItemState::InDiscussion)
        );
    }

    #[test]
    fn r_item_quorum_blocks_the_vote() {
        assert_eq!(
            open_vote(ItemState::InDiscussion, 4, 7, Q)
                .unwrap_err()
                .rule,
            Rule::ItemQuorum
        );
        assert_eq!(
            open_vote(ItemState::InDiscussion, 5, 7, Q),
            Ok(ItemState::Voting)
        );
        assert_eq!(
            open_vote(ItemState::Pending, 7, 7, Q).unwrap_err().rule,
            Rule::VoteOpen
        );
    }

    #[test]
    fn r_pass_close_vote_computes_the_result() {
        let t = |yes| Tally {
            yes,
            no: 0,
            abstain: 0,
        };
        assert_eq!(
            close_vote(ItemState::Voting, t(4), 7),
            Ok(ItemState::Tallied { passed: true })
        );
        assert_eq!(
            close_vote(ItemState::Voting, t(3), 6),
            Ok(ItemState::Tallied { passed: false })
        );
    }

    #[test]
    fn r_announce_the_result_is_computed_and_final() {
        let passed = ItemState::Tallied { passed: true };
        assert_eq!(
            end_item(passed, Outcome::Passed, None),
            Ok(ItemState::Decided(Outcome::Passed))
        );
        assert_eq!(
            end_item(passed, Outcome::Rejected, None).unwrap_err().rule,
            Rule::Announce
        );
        assert_eq!(
            end_item(ItemState::Voting, Outcome::Passed, None)
                .unwrap_err()
                .rule,
            Rule::Announce
        );
        let decided = ItemState::Decided(Outcome::Passed);
        assert_eq!(
            end_item(decided, Outcome::Deferred, Some("再议"))
                .unwrap_err()
                .rule,
            Rule::Announce
        );
    }

    #[test]
    fn r_disagreement_defer_or_refer_with_a_reason_at_any_point() {
        for state in [
            ItemState::InDiscussion,
            ItemState::Voting,
            ItemState::Tallied { passed: true },
        ] {
            assert_eq!(
                end_item(state, Outcome::Deferred, None).unwrap_err().rule,
                Rule::Disagreement
            );
            assert_eq!(
                end_item(state, Outcome::Referred, Some("意见分歧较大,报请州委")),
                Ok(ItemState::Decided(Outcome::Referred))
            );
        }
    }

    #[test]
    fn r_attendee_scope_only_invited_items() {
        assert_eq!(
            check_attendee_remark(false, ItemState::InDiscussion)
                .unwrap_err()
                .rule,
            Rule::AttendeeScope
        );
        assert_eq!(check_attendee_remark(true, ItemState::InDiscussion), Ok(()));
    }

    #[test]
    fn r_attendee_voice_remarks_during_discussion_never_in_the_vote() {
        assert_eq!(
            check_attendee_remark(true, ItemState::Voting)
                .unwrap_err()
                .rule,
            Rule::AttendeeVoice
        );
        assert_eq!(check_attendee_remark(true, ItemState::InDiscussion), Ok(()));
    }

    #[test]
    fn r_materials_deadline_one_day_ahead_or_a_reason_except_classified() {
        let meeting = date!(2026 - 12 - 10);
        assert_eq!(
            check_materials_deadline(false, date!(2026 - 12 - 09), meeting, 1, None),
            Ok(())
        );
        assert_eq!(
            check_materials_deadline(false, date!(2026 - 12 - 10), meeting, 1, None)
                .unwrap_err()
                .rule,
            Rule::MaterialsDeadline
        );
        assert_eq!(
            check_materials_deadline(
                false,
                date!(2026 - 12 - 10),
                meeting,
                1,
                Some("数据当日更新")
            ),
            Ok(())
        );
        assert_eq!(
            check_materials_deadline(true, date!(2026 - 12 - 10), meeting, 1, None),
            Ok(())
        );
    }

    #[test]
    fn r_leave_absence_is_shown_with_or_without_approval() {
        assert_eq!(absence_label(true), "请假");
        assert!(absence_label(false).contains("未经批准"));
    }

    #[test]
    fn r_secret_ballot_reveals_only_who_voted_until_closed_and_never_choices() {
        assert_eq!(
            reveal(VoteMethod::Secret, false),
            Reveal {
                who_voted: true,
                totals: false,
                choices: false
            }
        );
        assert_eq!(
            reveal(VoteMethod::Secret, true),
            Reveal {
                who_voted: true,
                totals: true,
                choices: false
            }
        );
        assert!(reveal(VoteMethod::Named, false).choices);
    }

    #[test]
    fn stored_states_read_back() {
        for st in [
            ItemState::Pending,
            ItemState::InDiscussion,
            ItemState::Voting,
            ItemState::Tallied { passed: true },
            ItemState::Decided(Outcome::Deferred),
        ] {
            let (passed, outcome) = match st {
                ItemState::Tallied { passed } => (Some(passed), None),
                ItemState::Decided(o) => (None, Some(o.as_str())),
                _ => (None, None),
            };
            assert_eq!(
                ItemState::from_stored(st.as_str(), passed, outcome),
                Some(st)
            );
        }
        assert_eq!(ItemState::from_stored("tallied", None, None), None);
        for st in [
            MeetingState::Draft,
            MeetingState::Noticed,
            MeetingState::Open,
            MeetingState::Closed,
        ] {
            assert_eq!(MeetingState::parse(st.as_str()), Some(st));
        }
    }

    #[test]
    fn r_secretary_must_come_from_the_office() {
        assert_eq!(check_secretary(false).unwrap_err().rule, Rule::Secretary);
        assert_eq!(check_secretary(true), Ok(()));
    }

    #[test]
    fn r_ad_hoc_no_agenda_change_once_the_meeting_opened() {
        assert_eq!(check_agenda_open(MeetingState::Noticed), Ok(()));
        assert_eq!(
            check_agenda_open(MeetingState::Open).unwrap_err().rule,
            Rule::AdHoc
        );
    }

    #[test]
    fn r_notice_fixes_the_order_of_the_agenda() {
        assert_eq!(check_agenda_order(MeetingState::Draft), Ok(()));
        assert_eq!(
            check_agenda_order(MeetingState::Noticed).unwrap_err().rule,
            Rule::Notice
        );
    }

    #[test]
    fn r_leave_is_asked_before_the_meeting() {
        assert_eq!(check_leave_request(MeetingState::Noticed), Ok(()));
        assert_eq!(
            check_leave_request(MeetingState::Open).unwrap_err().rule,
            Rule::Leave
        );
    }

    #[test]
    fn r_quorum_attendance_only_between_notice_and_close() {
        assert_eq!(
            check_attendance(MeetingState::Draft).unwrap_err().rule,
            Rule::Notice
        );
        assert_eq!(check_attendance(MeetingState::Open), Ok(()));
        assert_eq!(
            check_attendance(MeetingState::Closed).unwrap_err().rule,
            Rule::Quorum
        );
    }

    #[test]
    fn r_recusal_before_the_vote_and_no_written_opinion_when_recused() {
        assert_eq!(check_recusal_phase(ItemState::InDiscussion), Ok(()));
        assert_eq!(
            check_recusal_phase(ItemState::Voting).unwrap_err().rule,
            Rule::Recusal
        );
        assert_eq!(
            check_written_opinion(false, true, ItemState::Pending)
                .unwrap_err()
                .rule,
            Rule::Recusal
        );
    }

    #[test]
    fn r_written_opinion_only_from_the_absent_before_the_decision() {
        assert_eq!(
            check_written_opinion(false, false, ItemState::Pending),
            Ok(())
        );
        assert_eq!(
            check_written_opinion(true, false, ItemState::Pending)
                .unwrap_err()
                .rule,
            Rule::WrittenOpinion
        );
        assert_eq!(
            check_written_opinion(false, false, ItemState::Decided(Outcome::Passed))
                .unwrap_err()
                .rule,
            Rule::WrittenOpinion
        );
    }

    #[test]
    fn r_opinion_only_while_discussed() {
        assert_eq!(check_opinion_phase(ItemState::InDiscussion), Ok(()));
        assert_eq!(
            check_opinion_phase(ItemState::Voting).unwrap_err().rule,
            Rule::Opinion
        );
    }

    #[test]
    fn r_secret_ballot_cannot_be_recorded_on_behalf() {
        assert_eq!(
            check_ballot(ItemState::Voting, VoteMethod::Secret, true)
                .unwrap_err()
                .rule,
            Rule::SecretBallot
        );
        assert_eq!(
            check_ballot(ItemState::Voting, VoteMethod::Named, true)
                .unwrap_err()
                .rule,
            Rule::OneVote
        );
        assert_eq!(
            check_ballot(ItemState::Voting, VoteMethod::Hands, true),
            Ok(())
        );
        assert_eq!(
            check_ballot(ItemState::Voting, VoteMethod::Secret, false),
            Ok(())
        );
        assert_eq!(
            check_ballot(
                ItemState::Tallied { passed: true },
                VoteMethod::Hands,
                false
            )
            .unwrap_err()
            .rule,
            Rule::OneVote
        );
    }
}
