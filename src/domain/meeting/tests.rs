//! The meeting's and its items' transitions, rule by rule.

use super::*;
use crate::domain::counting::Fraction;
use crate::domain::deliberation::{Outcome, Tally, VoteMethod};
use time::macros::date;

const Q: Fraction = Fraction::TWO_THIRDS;

#[test]
fn r_chair_only_the_secretary_delegates_to_a_member() {
    let noticed = MeetingState::Noticed;
    assert_eq!(
        check_delegate_chair(noticed, false, true).unwrap_err().rule,
        Rule::Chair
    );
    assert_eq!(
        check_delegate_chair(noticed, true, false).unwrap_err().rule,
        Rule::Chair
    );
    assert_eq!(check_delegate_chair(noticed, true, true), Ok(()));
    assert_eq!(
        check_delegate_chair(MeetingState::Draft, true, true),
        Ok(())
    );
    // Once the meeting is open the chair stays who opened it.
    assert_eq!(
        check_delegate_chair(MeetingState::Open, true, true)
            .unwrap_err()
            .rule,
        Rule::Chair
    );
    assert_eq!(chair_of(Some(7)), Ok(7));
    assert_eq!(chair_of::<u8>(None).unwrap_err().rule, Rule::Chair);
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
        check_attendee_remark(false, false, ItemState::InDiscussion)
            .unwrap_err()
            .rule,
        Rule::AttendeeScope
    );
    assert_eq!(
        check_attendee_remark(true, false, ItemState::InDiscussion),
        Ok(())
    );
    let closed = MeetingState::Closed;
    assert_eq!(
        check_invite_attendee(closed, false).unwrap_err().rule,
        Rule::AttendeeScope
    );
    assert_eq!(
        check_invite_attendee(MeetingState::Noticed, true)
            .unwrap_err()
            .rule,
        Rule::AttendeeScope
    );
    assert_eq!(check_invite_attendee(MeetingState::Open, false), Ok(()));
}

#[test]
fn r_attendee_voice_remarks_during_discussion_never_in_the_vote() {
    assert_eq!(
        check_attendee_remark(true, false, ItemState::Voting)
            .unwrap_err()
            .rule,
        Rule::AttendeeVoice
    );
    assert_eq!(
        check_attendee_remark(true, false, ItemState::InDiscussion),
        Ok(())
    );
    // R-RECUSAL: an attendee recused from the item says nothing on it.
    assert_eq!(
        check_attendee_remark(true, true, ItemState::InDiscussion)
            .unwrap_err()
            .rule,
        Rule::Recusal
    );
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
    // At the notice a late material needs the chair, with a reason.
    let late = date!(2026 - 12 - 10);
    let reason = Some("数据当日更新");
    assert_eq!(
        check_notice_materials(false, late, meeting, 1, false, reason)
            .unwrap_err()
            .rule,
        Rule::MaterialsDeadline
    );
    assert_eq!(
        check_notice_materials(false, late, meeting, 1, true, None)
            .unwrap_err()
            .rule,
        Rule::MaterialsDeadline
    );
    assert_eq!(
        check_notice_materials(false, late, meeting, 1, true, reason),
        Ok(())
    );
    assert_eq!(
        check_notice_materials(false, date!(2026 - 12 - 09), meeting, 1, false, None),
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
            ItemState::Decided(o) => (None, Some(o)),
            _ => (None, None),
        };
        assert_eq!(
            ItemState::from_stored(st.stage(), passed, outcome),
            Some(st)
        );
    }
    assert_eq!(ItemState::from_stored(ItemStage::Tallied, None, None), None);
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
    assert_eq!(check_recusal_once(true).unwrap_err().rule, Rule::Recusal);
    assert_eq!(check_recusal_once(false), Ok(()));
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
