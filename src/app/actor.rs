//! Who acts: the signed-in user of a request, as the guard found them, and what the domain says
//! they may do.

use super::error::AppError;
use crate::audit;
use crate::db::sessions::LiveSession;
use crate::domain::authz::{self, Action, Actor, Relation};
use crate::domain::ids::{PartyGroupId, UserId};
use crate::domain::org::Position;
use crate::domain::role::Role;

/// The signed-in user of a request, found by `web::guard` from its session (extracting it
/// there answers 401 when nobody is signed in).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: UserId,
    pub login: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub csrf_token: String,
    pub session_hash: Vec<u8>,
    pub client_addr: Option<String>,
    pub unread: i64,
    /// 三员分立: signed in with a password the admin set; only changing it is open.
    pub must_change_password: bool,
    /// When the session expires, idle or absolute (an event stream ends then).
    pub session_expires: tokio::time::Instant,
    /// The party groups this user's section serves: where the 综合科 role reaches.
    pub served_groups: Vec<PartyGroupId>,
}

impl CurrentUser {
    /// The user of a live session found by its token's hash.
    pub fn from_session(
        live: LiveSession,
        session_hash: Vec<u8>,
        client_addr: Option<String>,
    ) -> CurrentUser {
        CurrentUser {
            user_id: live.user_id,
            login: live.login,
            name: live.name,
            roles: live.roles,
            csrf_token: live.csrf_token,
            session_hash,
            client_addr,
            unread: live.unread,
            must_change_password: live.must_change_password,
            session_expires: tokio::time::Instant::now()
                + std::time::Duration::from_secs(live.expires_in_secs.max(0) as u64),
            served_groups: live.served_groups,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Asks the domain whether this user may take an organisation-level `action`.
    pub fn can(&self, action: Action) -> Result<(), AppError> {
        let actor = Actor {
            roles: &self.roles,
            position: None,
            office: self.has(Role::Office),
        };
        authz::can(actor, action, &Relation::default()).map_err(AppError::from)
    }

    /// Asks the domain whether this user, with `position` in the resource's party `group` and
    /// in `relation` to the resource, may take `action`. The 综合科 role counts only in the
    /// groups the user's section serves.
    pub fn can_in(
        &self,
        action: Action,
        group: PartyGroupId,
        position: Option<Position>,
        relation: &Relation,
    ) -> Result<(), AppError> {
        let actor = Actor {
            roles: &self.roles,
            position,
            office: self.is_office_of(group),
        };
        authz::can(actor, action, relation).map_err(AppError::from)
    }

    /// 综合科 of this party group: the role, and a section that serves the group.
    pub fn is_office_of(&self, group: PartyGroupId) -> bool {
        self.has(Role::Office) && self.served_groups.contains(&group)
    }

    pub fn audit_actor(&self) -> audit::Actor {
        audit::Actor {
            user_id: Some(self.user_id),
            client_addr: self.client_addr.clone(),
        }
    }
}

/// Where a request comes from, as far as the server can tell: the client's address (for the
/// sign-in limits and the audit log) and whether its connection is TLS. The web layer resolves
/// it from the request.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub addr: Option<String>,
    pub https: bool,
}
