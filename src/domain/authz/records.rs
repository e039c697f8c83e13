//! What outlives the meeting: the minutes and borrowing them, the summary, follow-up tasks,
//! reserved opinions, later changes of a decision and on-the-spot disposals.

use super::meeting::sees_meeting;
use super::{Action, Actor, Policy, Relation};
use crate::domain::org::Position;

pub(super) struct Records;

impl Policy for Records {
    fn sees(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool {
        use Action::*;
        match action {
            RequestBorrow | RecordEmergency => true,
            ReadMinutes => sees_meeting(actor, rel) || rel.borrow_grant,
            ReadSummary => sees_meeting(actor, rel) || rel.summary_distributed,
            CreateTask | ReportProgress | RemindTask | ReadTask => {
                sees_meeting(actor, rel) || rel.task_lead
            }
            _ => sees_meeting(actor, rel),
        }
    }

    fn allows(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool {
        use Action::*;
        match action {
            RequestBorrow | ReadSummary => true,
            // R-MINUTES-ACCESS: members, the secretary who drafts them, or a borrower.
            ReadMinutes => actor.is_member() || rel.meeting_secretary || rel.borrow_grant,
            // R-SECRETARY: the meeting secretary drafts and amends.
            DraftMinutes | AmendMinutes => rel.meeting_secretary,
            // R-SUMMARY
            SignMinutes | SignSummary => rel.chair || actor.is_group_secretary(),
            DecideBorrow => matches!(actor.position, Some(Position::Secretary | Position::Deputy)),
            DistributeSummary => actor.is_office(),
            // R-FOLLOWUP-OWNER, R-SUPERVISION
            CreateTask => rel.chair || actor.is_office(),
            ReportProgress => rel.task_lead || actor.is_office(),
            ReadTask => actor.is_office() || actor.is_group_secretary() || rel.task_lead,
            // R-SUPERVISION: 综合科 tracks and reminds; the 书记 supervises.
            RemindTask => actor.is_office() || actor.is_group_secretary(),
            // R-EMERGENCY: the 书记, a 副书记 or a member.
            RecordEmergency => actor.is_member(),
            // R-RESERVE: members (whether they dissented is a rule, checked later).
            ReserveOpinion => actor.is_member(),
            // R-DECISION-CHANGE: recorded by the chair of the later meeting or by 综合科.
            LinkDecision => rel.chair || actor.is_office(),
            _ => false,
        }
    }
}
