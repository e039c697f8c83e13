//! The read model of the meetings this server instance shows: everything a meeting's pages,
//! its JSON view and the to-do lists read of it, loaded in one go on first use and shared by
//! every viewer, so that showing a meeting to its eleven screens after a change reads the
//! database once, not eleven times.
//!
//! Each change to a row the model is built from notifies `yishi_meeting_changed` in its
//! transaction (migration `meeting_changed`); the instance's listener forgets the meeting it
//! names, and the next reader loads it again. The model is used only while this instance
//! follows that channel: after a lost listener connection it is emptied. A load that began
//! before a change to its meeting is not kept (each change moves a generation on), so no reader
//! is served a state older than the last change it could have seen.
//!
//! Each viewer's view (recusals withhold items, a secret ballot never shows a choice, who may
//! do what now) is computed from the model by the same functions as before: [`Ctx`] from its
//! memberships, `item_views`, `next_steps`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::Ctx;
use crate::app::CurrentUser;
use crate::app::error::AppError;
use crate::db::audit_log::{AuditEntry, Filter};
use crate::db::deliberation::{Recusal, Remark, Statement, Vote};
use crate::db::followup::{Change, Emergency, Reserved};
use crate::db::meetings::{
    Attendee, Item, LeaveRequest, Lock, Meeting, RosterMembership, Standing,
};
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::ids::{ItemId, MeetingId, UserId};
use crate::domain::settings::Settings;

/// The channel the database names changed meetings on (`*`: any meeting).
pub const CHANGED_CHANNEL: &str = "yishi_meeting_changed";

/// Entries of the meeting change log the meeting page shows.
const HISTORY: i64 = 200;

/// One meeting as the database holds it, every viewer's facts together.
pub struct LiveMeeting {
    pub meeting: Meeting,
    /// Every membership of the group, ended or not, with attendance.
    pub memberships: Vec<RosterMembership>,
    pub settings: Settings,
    pub items: Vec<Item>,
    pub attendees: Vec<Attendee>,
    pub recusals: Vec<Recusal>,
    pub opinions: Vec<Statement>,
    pub written_opinions: Vec<Statement>,
    pub remarks: Vec<Remark>,
    pub votes: Vec<Vote>,
    /// Secret ballots' tracking codes: (item, voter, tracker); each voter sees only theirs.
    pub trackers: Vec<(ItemId, UserId, Vec<u8>)>,
    pub leave_requests: Vec<LeaveRequest>,
    pub emergencies: Vec<Emergency>,
    pub decision_changes: Vec<Change>,
    pub reserved_opinions: Vec<Reserved>,
    pub chair_name: String,
    pub secretary_name: String,
    /// Whether the meeting secretary is on 综合科's staff of the group (R-SECRETARY).
    pub secretary_from_office: bool,
    /// The meeting's change log, newest first.
    pub history: Vec<AuditEntry>,
}

impl LiveMeeting {
    async fn read(
        conn: &mut sqlx::PgConnection,
        id: MeetingId,
    ) -> Result<Option<LiveMeeting>, AppError> {
        let Some(meeting) = db::meetings::get(conn, id, Lock::None).await? else {
            return Ok(None);
        };
        let context = db::meetings::context(conn, &meeting, None, None).await?;
        let name = async |conn: &mut sqlx::PgConnection, who| -> Result<String, AppError> {
            Ok(db::users::get(conn, who)
                .await?
                .map(|u| u.name)
                .unwrap_or_default())
        };
        let history_filter = Filter {
            entity_type: Some("meeting".into()),
            entity_id: Some(id.to_string()),
            ..Filter::default()
        };
        Ok(Some(LiveMeeting {
            memberships: context.memberships,
            settings: context.standing.settings,
            items: db::meetings::items(conn, id).await?,
            attendees: db::meetings::attendees(conn, id).await?,
            recusals: db::deliberation::recusals(conn, id).await?,
            opinions: db::deliberation::opinions(conn, id).await?,
            written_opinions: db::deliberation::written_opinions(conn, id).await?,
            remarks: db::deliberation::remarks(conn, id).await?,
            votes: db::deliberation::votes(conn, id).await?,
            trackers: db::deliberation::trackers(conn, id).await?,
            leave_requests: db::meetings::leave_requests(conn, id).await?,
            emergencies: db::followup::emergencies_of_meeting(conn, id).await?,
            decision_changes: db::followup::changes(conn, id).await?,
            reserved_opinions: db::followup::reserved(conn, id).await?,
            chair_name: name(conn, meeting.chair_id).await?,
            secretary_name: name(conn, meeting.secretary_id).await?,
            secretary_from_office: db::users::is_office_of(
                conn,
                meeting.secretary_id,
                meeting.party_group_id,
            )
            .await?,
            history: db::audit_log::search(conn, &history_filter, HISTORY, 0)
                .await?
                .0,
            meeting,
        }))
    }

    /// The meeting as `user` stands to it, if they may see it (R-CONFIDENTIAL: 404 otherwise).
    pub fn ctx(&self, user: &CurrentUser) -> Result<Ctx, AppError> {
        let standing = Standing {
            position: self
                .memberships
                .iter()
                .find(|m| m.user_id == user.user_id && m.ended_on.is_none())
                .map(|m| m.position),
            attendee: self.attendees.iter().any(|a| a.user_id == user.user_id),
            settings: self.settings,
        };
        Ctx::assemble(
            user,
            self.meeting.clone(),
            &self.memberships,
            &standing,
            Action::ReadMeeting,
            Relation::default(),
        )
    }
}

/// The read models of this instance, by meeting.
#[derive(Default)]
pub struct LiveMeetings {
    inner: Mutex<Inner>,
    /// Whether the listener follows [`CHANGED_CHANNEL`] now; until it does, every read goes to
    /// the database.
    following: AtomicBool,
}

#[derive(Default)]
struct Inner {
    models: HashMap<MeetingId, (Generation, Arc<LiveMeeting>)>,
    /// One load of a meeting at a time: its screens all ask at once after each change, and
    /// those waiting behind a load take what it kept.
    loads: HashMap<MeetingId, Arc<tokio::sync::Mutex<()>>>,
    /// Moves on with every change to any meeting (`*`) …
    all: u64,
    /// … and with every change to one.
    each: HashMap<MeetingId, u64>,
}

type Generation = (u64, u64);

impl Inner {
    fn generation(&self, id: MeetingId) -> Generation {
        (self.all, self.each.get(&id).copied().unwrap_or(0))
    }
}

impl LiveMeetings {
    /// The meeting's model, loaded now if this instance does not hold a current one.
    pub async fn get(
        &self,
        pool: &sqlx::PgPool,
        id: MeetingId,
    ) -> Result<Arc<LiveMeeting>, AppError> {
        let following = self.following.load(Ordering::Acquire);
        if let Some(model) = self.current(id, following) {
            return Ok(model);
        }
        let load = self.inner().loads.entry(id).or_default().clone();
        let _turn = load.lock().await;
        if let Some(model) = self.current(id, following) {
            return Ok(model);
        }
        let generation = self.inner().generation(id);
        let mut conn = pool.acquire().await?;
        let model = Arc::new(
            LiveMeeting::read(&mut conn, id)
                .await?
                .ok_or(AppError::NotFound)?,
        );
        let mut inner = self.inner();
        if following && inner.generation(id) == generation {
            inner.models.insert(id, (generation, model.clone()));
        }
        Ok(model)
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("live meetings lock")
    }

    /// The model of `id` held now, if it is current.
    fn current(&self, id: MeetingId, following: bool) -> Option<Arc<LiveMeeting>> {
        let inner = self.inner();
        let (held, model) = inner.models.get(&id)?;
        (following && *held == inner.generation(id)).then(|| model.clone())
    }

    /// Forgets what a [`CHANGED_CHANNEL`] payload names: one meeting by its id, or all (`*`).
    pub fn forget(&self, payload: &str) {
        let mut inner = self.inner();
        match MeetingId::parse(payload) {
            Ok(id) => {
                *inner.each.entry(id).or_default() += 1;
                inner.models.remove(&id);
            }
            Err(_) => {
                inner.all += 1;
                inner.models.clear();
                // The per-meeting counters only need to move on, not to be kept.
                inner.each.clear();
            }
        }
    }

    /// A change this instance committed to a meeting, read at once here; the other instances
    /// forget it as its notification arrives.
    pub fn changed(&self, meeting: MeetingId) {
        self.forget(&meeting.to_string());
    }

    /// [`LiveMeetings::changed`] for a change to what any meeting shows (people, memberships,
    /// a group's settings, a section's reach).
    pub fn changed_all(&self) {
        self.forget("*");
    }

    /// The listener follows the channel from now on (`true`, having emptied the models), or
    /// lost it (`false`).
    pub fn set_following(&self, on: bool) {
        if on {
            self.forget("*");
        }
        self.following.store(on, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_moves_the_generation_of_its_meeting_and_a_star_of_every_one() {
        let live = LiveMeetings::default();
        let (a, b) = (MeetingId::new(), MeetingId::new());
        let generation = |id| live.inner.lock().unwrap().generation(id);
        let (a0, b0) = (generation(a), generation(b));
        live.forget(&a.to_string());
        assert_ne!(generation(a), a0);
        assert_eq!(generation(b), b0);
        let (a1, b1) = (generation(a), generation(b));
        live.forget("*");
        assert_ne!(generation(a), a1);
        assert_ne!(generation(b), b1);
    }
}
