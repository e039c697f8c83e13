//! What one person may do now in a meeting, and why not: the one answer the meeting page, the
//! chair's console and the to-do lists ask. Whether their role allows a step at all is the
//! policy's question (`authz`); this is the rules' — the state of the meeting and its items,
//! the quorum, who has spoken and voted.

use super::{ItemState, MeetingState, check_attendee_remark, check_ballot, check_opinion_phase};
use super::{issue_notice, open_meeting, start_item};
use crate::domain::counting::Fraction;
use crate::domain::deliberation::{Floor, VoteMethod};
use crate::domain::rule::RuleViolation;

/// The facts of a meeting the steps depend on.
#[derive(Debug, Clone)]
pub struct MeetingFacts<Id> {
    pub state: MeetingState,
    pub chair: Id,
    /// The group's members on the meeting date.
    pub members: Vec<Id>,
    /// Members in the room now.
    pub present: Vec<Id>,
    pub quorum: Fraction,
    /// Whether the meeting secretary is on 综合科's staff (R-SECRETARY).
    pub secretary_from_office: bool,
    /// The agenda in order.
    pub items: Vec<ItemFacts<Id>>,
}

/// The facts of one agenda item.
#[derive(Debug, Clone)]
pub struct ItemFacts<Id> {
    pub state: ItemState,
    /// The member whose area the item is in (R-ABSENT-RESPONSIBLE).
    pub responsible: Id,
    pub method: Option<VoteMethod>,
    pub recused: Vec<Id>,
    /// Members who have stated their opinion.
    pub spoken: Vec<Id>,
    /// Members who have voted.
    pub voted: Vec<Id>,
    /// Non-members invited to attend the item (列席).
    pub attendees: Vec<Id>,
}

/// What `who` may do now, each step with the refusal that stands in its way.
#[derive(Debug, Clone)]
pub struct Steps {
    /// Issue the notice (R-NOTICE, R-SECRETARY).
    pub issue_notice: Result<(), RuleViolation>,
    /// Open the meeting (R-CHAIR, R-QUORUM).
    pub open: Result<(), RuleViolation>,
    /// For each agenda item, whether it may be started now (R-ONE-AT-A-TIME; an
    /// R-ABSENT-RESPONSIBLE refusal is an override: the chair may start it with a reason).
    pub start: Vec<Result<(), RuleViolation>>,
    /// The item being dealt with, if any.
    pub current: Option<CurrentSteps>,
}

/// What `who` may do with the item being dealt with.
#[derive(Debug, Clone)]
pub struct CurrentSteps {
    /// Its place on the agenda.
    pub index: usize,
    /// State an opinion (R-OPINION, R-RECUSAL, R-CHAIR-LAST).
    pub state_opinion: Result<(), RuleViolation>,
    /// Cast a ballot (R-ONE-VOTE, R-RECUSAL).
    pub vote: Result<(), RuleViolation>,
    /// Open the vote (R-VOTE-OPEN: the chair, once every other member has spoken).
    pub open_vote: Result<(), RuleViolation>,
    /// Remark on it as an invited attendee (R-ATTENDEE-SCOPE, R-ATTENDEE-VOICE).
    pub remark: Result<(), RuleViolation>,
    /// Present, non-recused members other than the chair who have not spoken yet.
    pub waiting: usize,
}

impl CurrentSteps {
    /// What the item waits for from this person, for their to-do list.
    pub fn awaits(&self) -> Option<Awaited> {
        if self.state_opinion.is_ok() {
            Some(Awaited::Opinion)
        } else if self.vote.is_ok() {
            Some(Awaited::Vote)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited {
    Opinion,
    Vote,
}

/// The item being dealt with now: the first one started and not yet decided.
pub fn current_item(states: impl IntoIterator<Item = ItemState>) -> Option<usize> {
    states.into_iter().position(ItemState::is_open)
}

pub fn next_steps<Id: Copy + PartialEq>(m: &MeetingFacts<Id>, who: Id) -> Steps {
    let is_chair = who == m.chair;
    let states: Vec<ItemState> = m.items.iter().map(|i| i.state).collect();
    let members = m.members.len() as i64;
    let start = m
        .items
        .iter()
        .map(|i| {
            let absent = !m.present.contains(&i.responsible);
            start_item(m.state, i.state, &states, is_chair, absent, None).map(drop)
        })
        .collect();
    let current = current_item(states.iter().copied()).map(|index| {
        let item = &m.items[index];
        let floor = Floor {
            chair: m.chair,
            present: m.present.clone(),
            recused: item.recused.clone(),
            spoken: item.spoken.clone(),
        };
        let method = item.method.unwrap_or(VoteMethod::Secret);
        let phase = check_opinion_phase(item.state);
        CurrentSteps {
            index,
            state_opinion: phase.clone().and_then(|()| floor.may_state_opinion(who)),
            vote: check_ballot(item.state, method, false)
                .and_then(|()| floor.may_vote(who, item.voted.contains(&who))),
            open_vote: phase.and_then(|()| floor.may_open_vote(who)),
            remark: check_attendee_remark(
                item.attendees.contains(&who),
                item.recused.contains(&who),
                item.state,
            ),
            waiting: floor.others_waiting().len(),
        }
    });
    Steps {
        issue_notice: issue_notice(m.state, m.secretary_from_office, m.items.len()).map(drop),
        open: open_meeting(m.state, is_chair, m.present.len() as i64, members, m.quorum).map(drop),
        start,
        current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rule::Rule;

    const CHAIR: u8 = 1;

    fn item(state: ItemState) -> ItemFacts<u8> {
        ItemFacts {
            state,
            responsible: 2,
            method: Some(VoteMethod::Secret),
            recused: vec![],
            spoken: vec![],
            voted: vec![],
            attendees: vec![9],
        }
    }

    fn meeting(state: MeetingState, present: &[u8], items: Vec<ItemFacts<u8>>) -> MeetingFacts<u8> {
        MeetingFacts {
            state,
            chair: CHAIR,
            members: vec![1, 2, 3, 4, 5, 6],
            present: present.to_vec(),
            quorum: Fraction::TWO_THIRDS,
            secretary_from_office: true,
            items,
        }
    }

    fn rule(r: &Result<(), RuleViolation>) -> Option<Rule> {
        r.as_ref().err().map(|v| v.rule)
    }

    #[test]
    fn r_quorum_and_r_notice_before_the_meeting() {
        let m = meeting(
            MeetingState::Noticed,
            &[1, 2, 3],
            vec![item(ItemState::Pending)],
        );
        assert_eq!(rule(&next_steps(&m, CHAIR).open), Some(Rule::Quorum));
        assert_eq!(rule(&next_steps(&m, 2).open), Some(Rule::Chair));
        assert_eq!(
            rule(&next_steps(&m, CHAIR).issue_notice),
            Some(Rule::Notice)
        );
        let m = meeting(
            MeetingState::Noticed,
            &[1, 2, 3, 4],
            vec![item(ItemState::Pending)],
        );
        assert!(next_steps(&m, CHAIR).open.is_ok());
        let m = meeting(MeetingState::Draft, &[], vec![item(ItemState::Pending)]);
        assert!(next_steps(&m, CHAIR).issue_notice.is_ok());
        let mut m = meeting(MeetingState::Draft, &[], vec![]);
        assert_eq!(
            rule(&next_steps(&m, CHAIR).issue_notice),
            Some(Rule::Notice)
        );
        m.items.push(item(ItemState::Pending));
        m.secretary_from_office = false;
        assert_eq!(
            rule(&next_steps(&m, CHAIR).issue_notice),
            Some(Rule::Secretary)
        );
    }

    #[test]
    fn r_one_at_a_time_only_when_nothing_else_is_open() {
        let m = meeting(
            MeetingState::Open,
            &[1, 2, 3, 4, 5],
            vec![item(ItemState::InDiscussion), item(ItemState::Pending)],
        );
        let steps = next_steps(&m, CHAIR);
        assert_eq!(rule(&steps.start[1]), Some(Rule::OneAtATime));
        assert_eq!(steps.current.as_ref().map(|c| c.index), Some(0));
        let m = meeting(
            MeetingState::Open,
            &[1, 3, 4, 5],
            vec![item(ItemState::Pending)],
        );
        // The responsible member is absent: the chair may start it only with a reason.
        assert_eq!(
            rule(&next_steps(&m, CHAIR).start[0]),
            Some(Rule::AbsentResponsible)
        );
        assert_eq!(rule(&next_steps(&m, 3).start[0]), Some(Rule::Chair));
    }

    #[test]
    fn r_chair_last_the_chair_waits_for_every_other_member() {
        let mut discussed = item(ItemState::InDiscussion);
        discussed.recused = vec![5];
        let m = meeting(MeetingState::Open, &[1, 2, 3, 5], vec![discussed.clone()]);
        let chair = next_steps(&m, CHAIR).current.unwrap();
        assert_eq!(rule(&chair.state_opinion), Some(Rule::ChairLast));
        assert_eq!(rule(&chair.open_vote), Some(Rule::Opinion));
        assert_eq!(
            rule(&next_steps(&m, 2).current.unwrap().open_vote),
            Some(Rule::VoteOpen)
        );
        assert_eq!(chair.waiting, 2);
        let member = next_steps(&m, 2).current.unwrap();
        assert!(member.state_opinion.is_ok());
        assert_eq!(member.awaits(), Some(Awaited::Opinion));
        // R-RECUSAL: a recused member is asked nothing.
        let recused = next_steps(&m, 5).current.unwrap();
        assert_eq!(rule(&recused.state_opinion), Some(Rule::Recusal));
        assert_eq!(recused.awaits(), None);

        discussed.spoken = vec![2, 3];
        let m = meeting(MeetingState::Open, &[1, 2, 3, 5], vec![discussed]);
        let chair = next_steps(&m, CHAIR).current.unwrap();
        assert!(chair.state_opinion.is_ok());
        assert_eq!(chair.waiting, 0);
        assert_eq!(
            rule(&next_steps(&m, 2).current.unwrap().state_opinion),
            Some(Rule::Opinion)
        );
    }

    #[test]
    fn r_one_vote_each_present_member_once() {
        let mut voting = item(ItemState::Voting);
        voting.voted = vec![2];
        voting.recused = vec![4];
        let m = meeting(MeetingState::Open, &[1, 2, 3, 4], vec![voting]);
        assert_eq!(
            rule(&next_steps(&m, 2).current.unwrap().vote),
            Some(Rule::OneVote)
        );
        let three = next_steps(&m, 3).current.unwrap();
        assert!(three.vote.is_ok());
        assert_eq!(three.awaits(), Some(Awaited::Vote));
        assert_eq!(rule(&three.state_opinion), Some(Rule::Opinion));
        assert_eq!(
            rule(&next_steps(&m, 4).current.unwrap().vote),
            Some(Rule::Recusal)
        );
        // R-ATTENDEE-VOICE: an attendee remarks in discussion, never votes.
        let attendee = next_steps(&m, 9).current.unwrap();
        assert_eq!(rule(&attendee.remark), Some(Rule::AttendeeVoice));
        assert!(attendee.vote.is_err());
    }

    #[test]
    fn r_one_at_a_time_the_current_item_is_the_open_one() {
        use crate::domain::deliberation::Outcome;
        let states = [
            ItemState::Decided(Outcome::Passed),
            ItemState::Tallied { passed: true },
            ItemState::Pending,
        ];
        assert_eq!(current_item(states), Some(1));
        assert_eq!(current_item([ItemState::Pending]), None);
    }
}
