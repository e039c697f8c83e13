//! The read model of the meetings this server instance shows: everything a meeting's pages,
//! its JSON view and the to-do lists read of it, loaded in one go on first use and shared by
//! every viewer, so that showing a meeting to its eleven screens after a change reads the
//! database once, not eleven times.
//!
//! Each change to a row the model is built from notifies `yishi_meeting_changed` in its
//! transaction, naming the meeting and the table (migrations `meeting_changed`,
//! `meeting_changed_parts`); the instance's listener marks what it names stale, and the next
//! reader loads it again: the one list an opinion, a ballot or a remark changed (and the change
//! log), or else the whole meeting. The model is used only while this instance
//! follows that channel: after a lost listener connection it is emptied. A load that began
//! before a change to its meeting is not kept (each change moves a generation on), so no reader
//! is served a state older than the last change it could have seen.
//!
//! Each viewer's view (recusals withhold items, a secret ballot never shows a choice, who may
//! do what now) is computed from the model by the same functions as before: [`Ctx`] from its
//! memberships, `item_views`, `next_steps`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::Ctx;
use crate::app::CurrentUser;
use crate::app::error::AppError;
use crate::db::audit_log::Line;
use crate::db::deliberation::{Recusal, Remark, Statement, Vote};
use crate::db::emergencies::Emergency;
use crate::db::followup::{Change, Reserved};
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
#[derive(Clone)]
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
    /// The counters' entries of paper votes (shown only as `app::paper_vote::state_of`).
    pub paper_counts: Vec<db::deliberation::PaperCount>,
    pub emergencies: Vec<Emergency>,
    /// The report item on the last meeting's decisions (R-SUPERVISION).
    pub followup_report: Option<db::followup::FollowupReport>,
    pub decision_changes: Vec<Change>,
    pub reserved_opinions: Vec<Reserved>,
    pub chair_name: String,
    pub secretary_name: String,
    /// Whether the meeting secretary is on 综合科's staff of the group (R-SECRETARY).
    pub secretary_from_office: bool,
    /// The meeting's change log, newest first (shared: each refresh and each page reads it).
    pub history: Arc<[Line]>,
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
            paper_counts: db::deliberation::paper_counts(conn, id).await?,
            emergencies: db::emergencies::emergencies_of_meeting(conn, id).await?,
            followup_report: db::followup::report_of(conn, id).await?,
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
            history: history(conn, id, &[]).await?.into(),
            meeting,
        }))
    }

    /// This model with the lists `stale` names read again (the rest it shares with this one).
    async fn refresh(
        &self,
        conn: &mut sqlx::PgConnection,
        stale: Stale,
    ) -> Result<LiveMeeting, AppError> {
        let id = self.meeting.meeting_id;
        let mut next = self.clone();
        if stale.has(Stale::OPINIONS) {
            next.opinions = db::deliberation::opinions(conn, id).await?;
        }
        if stale.has(Stale::VOTES) {
            next.votes = db::deliberation::votes(conn, id).await?;
            next.trackers = db::deliberation::trackers(conn, id).await?;
        }
        if stale.has(Stale::REMARKS) {
            next.remarks = db::deliberation::remarks(conn, id).await?;
        }
        if stale.has(Stale::HISTORY) {
            next.history = history(conn, id, &self.history).await?.into();
        }
        Ok(next)
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

/// The meeting's change log, newest first: `held` (the log as last read) with the entries
/// appended since.
async fn history(
    conn: &mut sqlx::PgConnection,
    id: MeetingId,
    held: &[Line],
) -> Result<Vec<Line>, AppError> {
    let known = held.first().map(|newest| {
        let chain = newest.chain.as_str();
        let seq = held
            .iter()
            .filter(|e| e.chain == chain)
            .map(|e| e.seq)
            .max();
        (chain, seq.unwrap_or(newest.seq))
    });
    let id = id.to_string();
    let mut log = db::audit_log::history(conn, "meeting", &id, known, HISTORY).await?;
    let read: HashSet<Uuid> = log.iter().map(|e| e.audit_entry_id).collect();
    log.extend(
        held.iter()
            .filter(|e| !read.contains(&e.audit_entry_id))
            .cloned(),
    );
    // Newest first, as the log is read.
    log.sort_by_key(|e| std::cmp::Reverse((e.occurred_at, e.audit_entry_id)));
    log.truncate(HISTORY as usize);
    Ok(log)
}

/// What changes since a model was read have made stale in it, by the tables they touched:
/// opinions, ballots and remarks (each with its audit entry) change one list each, which is
/// read again alone; a change to any other table, the whole model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stale(u8);

impl Stale {
    const OPINIONS: Stale = Stale(1);
    const VOTES: Stale = Stale(2);
    const REMARKS: Stale = Stale(4);
    const HISTORY: Stale = Stale(8);
    const ALL: Stale = Stale(0x80);

    /// A notification's table.
    fn of_table(table: &str) -> Stale {
        match table {
            "opinion" => Stale::OPINIONS,
            "vote_cast" => Stale::VOTES,
            "remark" => Stale::REMARKS,
            "audit_entry" => Stale::HISTORY,
            _ => Stale::ALL,
        }
    }

    /// What an action of this instance changed, marked at once so that the actor reads it
    /// back; the notifications that follow mark what its transaction really touched.
    fn of_action(action: &str) -> Stale {
        match action {
            "item.opinion" => Stale(Stale::OPINIONS.0 | Stale::HISTORY.0),
            "item.ballot" => Stale(Stale::VOTES.0 | Stale::HISTORY.0),
            "item.remark" => Stale(Stale::REMARKS.0 | Stale::HISTORY.0),
            _ => Stale::ALL,
        }
    }

    fn has(self, part: Stale) -> bool {
        self.0 & part.0 != 0
    }

    /// Whether reading some lists again brings the model up to date.
    fn partial(self) -> bool {
        !self.has(Stale::ALL)
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
    /// What has gone stale in each model since it was read.
    stale: HashMap<MeetingId, Stale>,
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
        let (generation, held) = {
            let inner = self.inner();
            let stale = inner.stale.get(&id).copied().unwrap_or_default();
            let held = inner.models.get(&id).filter(|_| following);
            (inner.generation(id), held.map(|(_, m)| (m.clone(), stale)))
        };
        let mut conn = pool.acquire().await?;
        let model = Arc::new(match held {
            Some((model, stale)) if stale.partial() => model.refresh(&mut conn, stale).await?,
            _ => LiveMeeting::read(&mut conn, id)
                .await?
                .ok_or(AppError::NotFound)?,
        });
        let mut inner = self.inner();
        if following && inner.generation(id) == generation {
            inner.models.insert(id, (generation, model.clone()));
            inner.stale.remove(&id);
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

    /// Marks stale what a [`CHANGED_CHANNEL`] payload names: `<meeting id>:<table>`, or every
    /// meeting (`*`).
    pub fn forget(&self, payload: &str) {
        let (id, table) = payload.split_once(':').unwrap_or((payload, ""));
        match MeetingId::parse(id) {
            Ok(id) => self.mark(id, Stale::of_table(table)),
            Err(_) => {
                let mut inner = self.inner();
                inner.all += 1;
                inner.models.clear();
                // The per-meeting counters only need to move on, not to be kept.
                inner.each.clear();
                inner.stale.clear();
            }
        }
    }

    fn mark(&self, id: MeetingId, stale: Stale) {
        let mut inner = self.inner();
        *inner.each.entry(id).or_default() += 1;
        let held = inner.stale.entry(id).or_default();
        *held = Stale(held.0 | stale.0);
    }

    /// A change this instance committed to a meeting, read at once here; the other instances
    /// mark it as its notifications arrive.
    pub fn changed(&self, meeting: MeetingId) {
        self.mark(meeting, Stale::ALL);
    }

    /// [`LiveMeetings::changed`] for a change made by a meeting action's audit entry.
    pub fn changed_by(&self, meeting: MeetingId, action: &str) {
        self.mark(meeting, Stale::of_action(action));
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

    #[test]
    fn an_opinion_or_a_ballot_makes_its_list_stale_and_any_other_table_the_whole_model() {
        let live = LiveMeetings::default();
        let id = MeetingId::new();
        let stale = || live.inner.lock().unwrap().stale.get(&id).copied();
        live.forget(&format!("{id}:vote_cast"));
        live.forget(&format!("{id}:audit_entry"));
        let ballot = stale().unwrap();
        assert!(ballot.partial() && ballot.has(Stale::VOTES) && ballot.has(Stale::HISTORY));
        assert!(!ballot.has(Stale::OPINIONS));
        // What the acting instance marks at once is what the notifications mark.
        assert_eq!(Stale::of_action("item.ballot"), ballot);
        live.forget(&format!("{id}:opinion"));
        assert!(stale().unwrap().has(Stale::OPINIONS));
        // The item's state, an attendance, a name: read the whole meeting again.
        live.forget(&format!("{id}:agenda_item"));
        assert!(!stale().unwrap().partial());
        live.changed_by(id, "item.vote_open");
        assert!(!stale().unwrap().partial());
        live.forget("*");
        assert_eq!(stale(), None);
    }
}
