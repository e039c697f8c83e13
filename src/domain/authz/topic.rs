//! Topics (议题) and their materials and prerequisites.

use super::{Action, Actor, Policy, Relation};
use crate::domain::role::Role;

pub(super) struct Topic;

impl Policy for Topic {
    fn sees(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool {
        match action {
            Action::CreateTopic => true,
            // An attendee (列席) invited to the item of a topic reads it and its materials
            // (R-MATERIALS-DEADLINE: materials go to members and attendees).
            _ => {
                actor.is_member()
                    || actor.is_office()
                    || rel.proposer
                    || rel.responsible_leader
                    || rel.reviewer
                    || rel.attendee
            }
        }
    }

    fn allows(&self, actor: &Actor<'_>, action: Action, rel: &Relation) -> bool {
        match action {
            // R-TOPIC-SOURCE: topics come from the 书记, bureau leaders and sections.
            Action::CreateTopic => {
                actor.is_group_secretary()
                    || actor.has(Role::Leader)
                    || actor.has(Role::Director)
                    || actor.in_section()
            }
            Action::ReadTopic | Action::ReadMaterial { secret: false } => true,
            // Secret materials: members, 综合科, the proposer and the 分管 leader; not reviewers.
            Action::ReadMaterial { secret: true } => {
                actor.is_member() || actor.is_office() || rel.proposer || rel.responsible_leader
            }
            Action::RecordPrerequisite => rel.reviewer,
            Action::SignOffTopic => rel.responsible_leader,
            Action::EditTopic | Action::SubmitTopic | Action::WithdrawTopic => rel.proposer,
            Action::ReturnTopic => actor.is_office(),
            // R-PREREQ-POLICY: the 书记 assigns the sections that carry out the assessments.
            Action::AssignReviewSection => actor.is_group_secretary(),
            _ => false,
        }
    }
}
