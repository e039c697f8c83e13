//! Who may do what: one pure function for every action of the routes built so far. The web
//! layer asks [`can`] and turns [`Denied`] into 403 or 404; the table test below is the matrix.

use super::role::Role;

/// What the actor is, as far as authorization needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub roles: &'a [Role],
}

impl Actor<'_> {
    fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// An action on a resource; `member_of_group` says whether the actor is a current member of the
/// party group the resource belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Sections, users, party groups, memberships and settings (write).
    ManageOrganisation,
    /// A party group's settings (read).
    ReadGroupSettings { member_of_group: bool },
    /// Search and read the audit log, and verify its chain (R-AUDIT).
    ReadAudit,
    /// Change one's own password, sign out, read one's own account.
    ManageOwnAccount,
}

/// Why an action is refused: `Forbidden` (403) when the actor may know the resource exists,
/// `Hidden` (404) when even its existence is not theirs to know (R-CONFIDENTIAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Forbidden,
    Hidden,
}

pub fn can(actor: Actor<'_>, action: Action) -> Result<(), Denied> {
    let allowed = match action {
        Action::ManageOrganisation => actor.has(Role::Admin),
        Action::ReadGroupSettings { member_of_group } => {
            if !(member_of_group || actor.has(Role::Admin)) {
                return Err(Denied::Hidden);
            }
            true
        }
        // R-AUDIT: the discipline group reviews the log; the admin, who manages accounts, must
        // not be the one who can read what was done with them.
        Action::ReadAudit => actor.has(Role::Discipline),
        Action::ManageOwnAccount => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix: every role alone × every action × member/non-member resource.
    #[test]
    fn authorization_matrix() {
        use Denied::*;
        let ok = Ok(());
        for role in Role::ALL {
            let actor = Actor {
                roles: std::slice::from_ref(role),
            };
            let admin = *role == Role::Admin;
            let discipline = *role == Role::Discipline;
            let expect = |yes: bool, no: Denied| if yes { ok } else { Err(no) };
            let table = [
                (Action::ManageOrganisation, expect(admin, Forbidden)),
                (
                    Action::ReadGroupSettings {
                        member_of_group: true,
                    },
                    ok,
                ),
                (
                    Action::ReadGroupSettings {
                        member_of_group: false,
                    },
                    expect(admin, Hidden),
                ),
                (Action::ReadAudit, expect(discipline, Forbidden)),
                (Action::ManageOwnAccount, ok),
            ];
            for (action, expected) in table {
                assert_eq!(can(actor, action), expected, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn r_audit_admin_does_not_read_the_audit_log() {
        let roles = [Role::Admin, Role::Office];
        assert_eq!(
            can(Actor { roles: &roles }, Action::ReadAudit),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn no_roles_means_own_account_only() {
        let actor = Actor { roles: &[] };
        assert_eq!(can(actor, Action::ManageOwnAccount), Ok(()));
        assert_eq!(
            can(actor, Action::ManageOrganisation),
            Err(Denied::Forbidden)
        );
    }
}
