//! Meetings and their items: scheduling, the room, opinions and votes.

use super::{Action, Actor, Policy, Relation};

pub(super) struct Meeting;

/// Who may see a meeting at all: its members, attendees, secretary and 综合科. The admin, who
/// manages accounts, sees no meeting content.
pub(super) fn sees_meeting(actor: &Actor<'_>, rel: &Relation) -> bool {
    actor.is_member() || rel.attendee || rel.meeting_secretary || rel.chair || actor.is_office()
}

impl Policy for Meeting {
    fn sees(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool {
        action == Action::CreateMeeting || sees_meeting(actor, rel)
    }

    fn allows(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool {
        use Action::*;
        match action {
            CreateMeeting | IssueNotice => actor.is_group_secretary() || actor.is_office(),
            ReadMeeting => true,
            // R-CHAIR: the 书记 delegates; R-TOPIC-SOURCE: the 书记 sets the agenda.
            DelegateChair | AddAgendaItem => actor.is_group_secretary(),
            // R-ATTENDEE-SCOPE: the chair chooses attendees.
            InviteAttendee | DecideLeave | OpenMeeting | StartItem | OpenVote | CloseVote
            | EndItem | CloseMeeting => rel.chair,
            AskLeave => actor.is_member() || rel.attendee,
            // R-SECRETARY: the meeting secretary records.
            RecordAttendance => rel.meeting_secretary,
            // R-ONE-VOTE: 综合科 counts paper ballots, two people independently.
            RecordPaperCount => actor.is_office(),
            PrintForRoom => actor.is_office() || rel.chair || rel.meeting_secretary,
            DeclareRecusal { for_self: true } => actor.is_member() || rel.attendee,
            DeclareRecusal { for_self: false } => rel.chair,
            WriteOpinion | StateOpinion => actor.is_member(),
            // R-ATTENDEE-VOICE
            Remark => rel.attendee,
            // R-ONE-VOTE: members vote for themselves; the secretary records voice and hands.
            CastBallot { on_behalf: false } => actor.is_member(),
            CastBallot { on_behalf: true } => rel.meeting_secretary,
            _ => false,
        }
    }
}
