//! The meeting (党组会议), section C of `rules.md`: the meeting as one person stands to it,
//! what a participant sees of it, and the steps that change it — scheduling and the notice
//! (`schedule`), leave, attendance, opening and closing (`room`). Its items are dealt with in
//! `deliberation`.

mod agenda;
pub mod live;
mod room;
mod schedule;
mod steps;

pub use agenda::{ItemView, item_views};
pub use live::{LiveMeeting, LiveMeetings};
pub use room::{
    AttendanceInput, LeaveDecision, LeaveInput, ask_leave, close, decide_leave, notice_document,
    open, record_attendance, sign_in_sheet,
};
pub use schedule::{
    Created, CreatedItem, DelegateChair, MoveInput, NewAgendaItem, NewAttendee, NewMeeting,
    NoticeInput, add_item, create_meeting, delegate_chair, invite_attendee, issue, move_item,
};
pub use steps::{current, facts, steps, todos};

use std::sync::Arc;

use serde::Serialize;
use time::Date;

use super::error::AppError;
use super::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::meetings::{Item, Lock, Meeting, RosterEntry};
use crate::db::{self};
use crate::display::DISPLAY_OFFSET;
use crate::domain::authz::{Action, Relation};
use crate::domain::counting::{Fraction, check_quorum};
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, TopicId, UserId};
use crate::domain::meeting::{ItemState, MeetingState};
use crate::domain::org::{Position, member_on};
use crate::domain::role::Role;
use crate::domain::rule::RuleViolation;
use crate::domain::topic_status::TopicStatus;

/// A meeting loaded for one user: their position in its group and relation to it, the
/// group's members on the meeting date with their attendance, and the group's quorum.
pub struct Ctx {
    pub meeting: Meeting,
    pub state: MeetingState,
    pub position: Option<Position>,
    pub relation: Relation,
    pub roster: Vec<RosterEntry>,
    pub quorum: Fraction,
    pub settings: crate::domain::settings::Settings,
}

impl Ctx {
    /// Loads the meeting (locked for the action that follows when `lock`) and checks that the
    /// user may see it at all (R-CONFIDENTIAL: 404 otherwise).
    pub async fn load(
        conn: &mut sqlx::PgConnection,
        user: &CurrentUser,
        id: MeetingId,
        lock: Lock,
    ) -> Result<Ctx, AppError> {
        Self::load_as(
            conn,
            user,
            id,
            lock,
            Action::ReadMeeting,
            Relation::default(),
        )
        .await
    }

    /// Like [`Ctx::load`], checking `action` instead of reading the meeting; `found` carries
    /// the relations that come from outside the meeting (a borrow grant, a delivered summary).
    pub async fn load_as(
        conn: &mut sqlx::PgConnection,
        user: &CurrentUser,
        id: MeetingId,
        lock: Lock,
        action: Action,
        found: Relation,
    ) -> Result<Ctx, AppError> {
        let meeting = db::meetings::get(conn, id, lock)
            .await?
            .ok_or(AppError::NotFound)?;
        let (ctx, _) = Ctx::read(conn, user, meeting, action, found, None).await?;
        Ok(ctx)
    }

    /// Reads the rest of what an action needs once the meeting (and `item_id`, when given) is
    /// locked, and checks `action`.
    pub async fn read(
        conn: &mut sqlx::PgConnection,
        user: &CurrentUser,
        meeting: Meeting,
        action: Action,
        found: Relation,
        item_id: Option<ItemId>,
    ) -> Result<(Ctx, db::meetings::ItemFloor), AppError> {
        let context = db::meetings::context(conn, &meeting, Some(user.user_id), item_id).await?;
        let ctx = Ctx::assemble(
            user,
            meeting,
            &context.memberships,
            &context.standing,
            action,
            found,
        )?;
        Ok((ctx, context.floor))
    }

    /// The meeting as `user` stands to it — their position, relation, the roster on the
    /// meeting date — once `action` is checked.
    pub fn assemble(
        user: &CurrentUser,
        meeting: Meeting,
        memberships: &[db::meetings::RosterMembership],
        standing: &db::meetings::Standing,
        action: Action,
        found: Relation,
    ) -> Result<Ctx, AppError> {
        let date = meeting_date(&meeting);
        let roster = memberships
            .iter()
            .filter(|m| member_on(m.started_on, m.ended_on, date))
            .map(|m| RosterEntry {
                user_id: m.user_id,
                name: m.name.clone(),
                position: m.position,
                present: m.present,
            })
            .collect();
        let position = standing.position;
        let relation = Relation {
            chair: meeting.chair_id == user.user_id,
            meeting_secretary: meeting.secretary_id == user.user_id,
            attendee: standing.attendee,
            ..found
        };
        user.can_in(action, meeting.party_group_id, position, &relation)?;
        let settings = standing.settings;
        let state = meeting.status;
        Ok(Ctx {
            quorum: Fraction {
                num: i64::from(settings.quorum_num),
                den: i64::from(settings.quorum_den),
            },
            settings,
            meeting,
            state,
            position,
            relation,
            roster,
        })
    }

    pub fn can(&self, user: &CurrentUser, action: Action) -> Result<(), AppError> {
        user.can_in(
            action,
            self.meeting.party_group_id,
            self.position,
            &self.relation,
        )
    }

    pub fn chain(&self) -> Chain {
        Chain::PartyGroup(self.meeting.party_group_id)
    }

    pub fn id(&self) -> MeetingId {
        self.meeting.meeting_id
    }

    pub fn is_member(&self, user_id: UserId) -> bool {
        self.roster.iter().any(|m| m.user_id == user_id)
    }

    /// Members in the room now.
    pub fn present(&self) -> Vec<UserId> {
        self.roster
            .iter()
            .filter(|m| m.present)
            .map(|m| m.user_id)
            .collect()
    }

    pub fn members(&self) -> i64 {
        self.roster.len() as i64
    }

    pub fn date(&self) -> Date {
        meeting_date(&self.meeting)
    }

    /// The meeting's change, audited on its group's chain with the meeting as the entity.
    pub fn change(&self, action: &'static str) -> Change {
        Change::new(self.chain(), action, "meeting").entity(self.id())
    }
}

/// The meeting's date in the display zone: the date membership and lead times count from.
pub fn meeting_date(m: &Meeting) -> Date {
    m.starts_at.to_offset(DISPLAY_OFFSET).date()
}

pub fn item_state(item: &Item) -> Result<ItemState, AppError> {
    ItemState::from_stored(item.state, item.passed, item.outcome)
        .ok_or_else(|| anyhow::anyhow!("item state {:?} without its result", item.state).into())
}

/// Appends the audit entry of a meeting change (which notifies its screens), then commits.
pub async fn commit(
    state: &Services,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    user: &CurrentUser,
    ctx: &Ctx,
    change: Change,
) -> Result<(), AppError> {
    let action = change.action;
    // The entry sends the meeting's live snapshot to its screens (migration
    // `meeting_changed_parts`).
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    // This instance reads its own change at once; the others as its notification arrives.
    state.live.changed_by(ctx.id(), action);
    Ok(())
}

/// The groups whose meetings the user sees as 综合科: those their section serves.
pub fn office_groups(user: &CurrentUser) -> Vec<PartyGroupId> {
    if user.has(Role::Office) {
        user.served_groups.clone()
    } else {
        Vec::new()
    }
}

/// Moves the topic of an agenda item one step on its course (`TopicStatus::requeue`, …).
pub async fn advance_topic(
    conn: &mut sqlx::PgConnection,
    topic_id: TopicId,
    step: fn(TopicStatus) -> Result<TopicStatus, RuleViolation>,
) -> Result<(), AppError> {
    let topic = db::topics::get(conn, topic_id, true)
        .await?
        .ok_or_else(|| anyhow::anyhow!("agenda item without topic {topic_id}"))?;
    let next = step(topic.status)?;
    db::topics::set_status(conn, topic_id, next, None).await?;
    Ok(())
}

/// My meetings (综合科: those of the groups its section serves): each meeting I have a tie to
/// that the policy lets me read.
pub async fn list(state: &Services, user: &CurrentUser) -> Result<Vec<Meeting>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let related = db::meetings::related(&mut conn, user.user_id, &office_groups(user)).await?;
    Ok(related
        .into_iter()
        .filter(|r| {
            let relation = Relation {
                chair: r.meeting.chair_id == user.user_id,
                meeting_secretary: r.meeting.secretary_id == user.user_id,
                attendee: r.attendee,
                ..Relation::default()
            };
            user.can_in(
                Action::ReadMeeting,
                r.meeting.party_group_id,
                r.position,
                &relation,
            )
            .is_ok()
        })
        .map(|r| r.meeting)
        .collect())
}

/// A meeting as one user may see it: this instance's read model of it and their standing.
pub struct Seen {
    pub live: Arc<LiveMeeting>,
    pub ctx: Ctx,
}

/// A meeting the user may see, else 404; from this instance's read model.
pub async fn visible_meeting(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<Seen, AppError> {
    let live = state.live.get(&state.pool, id).await?;
    let ctx = live.ctx(user)?;
    Ok(Seen { live, ctx })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Quorum {
    pub present: i64,
    pub members: i64,
    pub needed: i64,
    pub met: bool,
}

impl Quorum {
    pub fn of(ctx: &Ctx) -> Quorum {
        let present = ctx.present().len() as i64;
        let members = ctx.members();
        Quorum {
            present,
            members,
            needed: ctx.quorum.needed(members).max(1),
            met: check_quorum(present, members, ctx.quorum).is_ok(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    #[serde(flatten)]
    pub meeting: Meeting,
    pub chair_name: String,
    pub secretary_name: String,
    pub quorum: Quorum,
    /// The group's members on the meeting date, with attendance.
    pub roster: Vec<RosterEntry>,
    pub agenda: Vec<ItemView>,
    pub attendees: Vec<db::meetings::Attendee>,
    pub leave_requests: Vec<db::meetings::LeaveRequest>,
    /// The item being dealt with now.
    pub current_item: Option<ItemId>,
    /// On-the-spot disposals reported to this meeting (R-EMERGENCY).
    pub emergencies: Vec<db::emergencies::Emergency>,
    /// The automatic report item 上次会议决定事项落实情况 (R-SUPERVISION).
    pub followup_report: Option<FollowupReportView>,
    /// Decisions of this meeting changed later, or changing earlier ones (R-DECISION-CHANGE).
    pub decision_changes: Vec<db::followup::Change>,
    /// Reserved opinions of dissenting members (R-RESERVE).
    pub reserved_opinions: Vec<db::followup::Reserved>,
}

/// The tasks of the meeting reported on, each with its colour today.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowupReportView {
    pub reports_on: MeetingId,
    pub title: String,
    pub tasks: Vec<crate::app::followup::TaskView>,
}

/// The meeting as `user` sees it (R-RECUSAL: nothing about a withheld item reaches them).
pub fn view(seen: &Seen, user: &CurrentUser) -> Result<MeetingView, AppError> {
    let (live, ctx) = (&seen.live, &seen.ctx);
    let agenda = item_views(live, user);
    let withheld: Vec<ItemId> = agenda
        .iter()
        .filter(|i| i.withheld)
        .map(|i| i.item.item_id)
        .collect();
    let visible = |item: &ItemId| !withheld.contains(item);
    let current_item = current(&agenda)?;
    Ok(MeetingView {
        chair_name: live.chair_name.clone(),
        secretary_name: live.secretary_name.clone(),
        quorum: Quorum::of(ctx),
        roster: ctx.roster.clone(),
        meeting: ctx.meeting.clone(),
        agenda,
        attendees: live.attendees.clone(),
        leave_requests: live.leave_requests.clone(),
        current_item,
        emergencies: live.emergencies.clone(),
        followup_report: live.followup_report.as_ref().map(|r| {
            let today = crate::display::today();
            FollowupReportView {
                reports_on: r.reports_on,
                title: r.title.clone(),
                tasks: r
                    .tasks
                    .iter()
                    .map(|t| crate::app::followup::view(t.clone(), today))
                    .collect(),
            }
        }),
        decision_changes: live
            .decision_changes
            .iter()
            .filter(|c| visible(&c.old_item_id) && visible(&c.new_item_id))
            .cloned()
            .collect(),
        reserved_opinions: live
            .reserved_opinions
            .iter()
            .filter(|r| visible(&r.item_id))
            .cloned()
            .collect(),
    })
}
