//! The organisation, accounts and the audit log.

use super::{Action, Actor, Policy, Relation};
use crate::domain::role::Role;

pub(super) struct Organisation;

impl Policy for Organisation {
    fn sees(&self, actor: &Actor<'_>, action: Action, _: &Relation) -> bool {
        match action {
            Action::ReadGroupSettings => actor.is_member() || actor.has(Role::Admin),
            _ => true,
        }
    }

    fn allows(&self, actor: &Actor<'_>, action: Action, _: &Relation) -> bool {
        match action {
            Action::ManageOrganisation => actor.has(Role::Admin),
            // R-AUDIT: the discipline group reviews the log; not the admin who manages accounts.
            Action::ReadAudit => actor.has(Role::Discipline),
            _ => true,
        }
    }
}
