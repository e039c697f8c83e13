//! The group's calendar of duties and the circulation of its documents.

use super::{Action, Actor, Policy, Relation};

pub(super) struct Duties;

impl Policy for Duties {
    fn sees(&self, actor: &Actor<'_>, _: Action, _: &Relation) -> bool {
        actor.is_member() || actor.is_office()
    }

    fn allows(&self, actor: &Actor<'_>, action: Action, _: &Relation) -> bool {
        match action {
            // R-SUPERVISION: 综合科 tracks; the 书记 supervises.
            Action::TrackDuties | Action::ManageCirculation => {
                actor.is_office() || actor.is_group_secretary()
            }
            Action::ReadCirculation => true,
            // R-PUBLICATION: each member signs off.
            Action::SignCirculation => actor.is_member(),
            _ => false,
        }
    }
}
