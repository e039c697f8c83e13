//! Meetings: the meeting row, its agenda, attendees, leave requests and attendance.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use crate::domain::deliberation::{Outcome, VoteMethod};
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, TopicId, UserId};
use crate::domain::meeting::{ItemStage, MeetingState};
use crate::domain::org::Position;
use crate::domain::settings::Settings;
use crate::domain::topic::Classification;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Meeting {
    pub meeting_id: MeetingId,
    pub party_group_id: PartyGroupId,
    pub year: i32,
    pub number: i32,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub place: String,
    pub secretary_id: UserId,
    pub chair_id: UserId,
    pub chair_reason: Option<String>,
    #[schema(value_type = String)]
    pub status: MeetingState,
    pub materials_late_reason: Option<String>,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub noticed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub opened_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// The next number of a group's meetings in a year (2026年第5次).
pub async fn next_number(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    year: i32,
) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"select coalesce(max(number), 0) + 1 as "n!" from meeting
           where party_group_id = $1 and year = $2"#,
        party_group_id as _,
        year
    )
    .fetch_one(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, m: &Meeting) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into meeting (meeting_id, party_group_id, year, number, title, starts_at, place,
             secretary_id, chair_id, status, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        m.meeting_id as _,
        m.party_group_id as _,
        m.year,
        m.number,
        m.title,
        m.starts_at,
        m.place,
        m.secretary_id as _,
        m.chair_id as _,
        m.status.as_str(),
        m.created_by as _,
        m.created_at
    )
    .execute(conn)
    .await
    .map(drop)
}

/// How an action locks the row it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// A plain read (pages, the API's answers).
    None,
    /// Actions that may run side by side (members' opinions and ballots) but not beside an
    /// action that changes what they check.
    Share,
    /// Actions that change the row's state (opening, attendance, starting an item, the vote).
    Update,
}

/// A meeting, locked as the action that follows needs, so that two actions on one meeting see
/// each other's result.
pub async fn get(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    lock: Lock,
) -> sqlx::Result<Option<Meeting>> {
    macro_rules! select {
        ($sql:literal) => {
            sqlx::query_as!(
                Meeting,
                r#"select meeting_id as "meeting_id: _", party_group_id as "party_group_id: _", year, number, title, starts_at, place,
                        secretary_id as "secretary_id: _", chair_id as "chair_id: _", chair_reason, status as "status: MeetingState", materials_late_reason,
                        created_by as "created_by: _", created_at, noticed_at, opened_at, closed_at
                 from meeting where meeting_id = $1"#
                    + $sql,
                meeting_id as _
            )
            .fetch_optional(conn)
            .await
        };
    }
    match lock {
        Lock::None => select!(""),
        Lock::Share => select!(" for share"),
        Lock::Update => select!(" for update"),
    }
}

/// What one person is to a meeting's group (their current position, whether they are invited
/// to one of its items) and the group's settings.
pub struct Standing {
    pub position: Option<Position>,
    pub attendee: bool,
    pub settings: Settings,
}

/// Everything an action on a meeting reads besides the rows it locks, in one round trip: the
/// person's standing, the roster on the meeting date (R-QUORUM) and, for an item, who has
/// recused, spoken and voted on it.
pub struct Context {
    pub standing: Standing,
    /// Every membership of the group, ended or not, with attendance.
    pub memberships: Vec<RosterMembership>,
    pub floor: ItemFloor,
}

/// Who is recused from an item, who has spoken on it and who has voted.
#[derive(Default)]
pub struct ItemFloor {
    pub recused: Vec<UserId>,
    pub spoken: Vec<UserId>,
    pub voted: Vec<UserId>,
}

/// Read after the meeting (and the item) are locked, so that it sees what the last action on
/// them left. Without an item the three lists are empty; without a user, so is the standing.
pub async fn context(
    conn: &mut PgConnection,
    meeting: &Meeting,
    user_id: Option<UserId>,
    item_id: Option<ItemId>,
) -> sqlx::Result<Context> {
    let row = sqlx::query!(
        r#"select (select position from membership where party_group_id = $1 and user_id = $3
                   and ended_on is null) as "position: Position",
                  exists (select 1 from item_attendee a join agenda_item i using (item_id)
                          where i.meeting_id = $2 and a.user_id = $3) as "attendee!",
                  s.quorum_num, s.quorum_den, s.large_spend_fen, s.topic_lead_days,
                  s.materials_lead_days,
                  -- Every membership of the group with attendance; 书记 first, then by pinyin.
                  (select coalesce(json_agg(json_build_object(
                              'user_id', m.user_id, 'name', u.name, 'position', m.position,
                              'present', coalesce(a.present, false),
                              'started_on', m.started_on, 'ended_on', m.ended_on)
                            order by m.position = 'secretary' desc, m.position = 'deputy' desc,
                                     u.name collate "zh-x-icu"), '[]')
                   from membership m join app_user u using (user_id)
                   left join attendance a on a.meeting_id = $2 and a.user_id = m.user_id
                   where m.party_group_id = $1)
                     as "memberships!: sqlx::types::Json<Vec<RosterMembership>>",
                  array(select user_id from recusal where item_id = $4) as "recused!: Vec<UserId>",
                  array(select user_id from opinion where item_id = $4) as "spoken!: Vec<UserId>",
                  array(select user_id from vote_cast where item_id = $4) as "voted!: Vec<UserId>"
           from party_group_setting s where s.party_group_id = $1"#,
        meeting.party_group_id as _,
        meeting.meeting_id as _,
        user_id as _,
        item_id as _
    )
    .fetch_one(conn)
    .await?;
    Ok(Context {
        standing: Standing {
            position: row.position,
            attendee: row.attendee,
            settings: Settings {
                quorum_num: row.quorum_num,
                quorum_den: row.quorum_den,
                large_spend_fen: row.large_spend_fen,
                topic_lead_days: row.topic_lead_days,
                materials_lead_days: row.materials_lead_days,
            },
        },
        memberships: row.memberships.0,
        floor: ItemFloor {
            recused: row.recused,
            spoken: row.spoken,
            voted: row.voted,
        },
    })
}

/// The meetings a person takes part in (member of the group, chair, secretary, attendee) or,
/// for 综合科, every meeting; newest first.
/// A meeting with what one person is to it.
pub struct Related {
    pub meeting: Meeting,
    /// Their current position in the meeting's group, if any.
    pub position: Option<Position>,
    /// Whether they are invited to one of its items.
    pub attendee: bool,
}

/// The meetings a person has any tie to — chair, secretary, member of the group, attendee, or
/// 综合科 serving the group — with the facts who may see them is decided on.
pub async fn related(
    conn: &mut PgConnection,
    user_id: UserId,
    office_groups: &[PartyGroupId],
) -> sqlx::Result<Vec<Related>> {
    let rows = sqlx::query!(
        r#"select meeting_id as "meeting_id: MeetingId", party_group_id as "party_group_id: PartyGroupId", year, number, title, starts_at, place,
                secretary_id as "secretary_id: UserId", chair_id as "chair_id: UserId", chair_reason, status as "status: MeetingState",
                materials_late_reason, created_by as "created_by: UserId", created_at, noticed_at, opened_at, closed_at,
                (select s.position from membership s where s.party_group_id = m.party_group_id
                 and s.user_id = $1 and s.ended_on is null) as "position: Position",
                exists (select 1 from item_attendee a join agenda_item i using (item_id)
                        where i.meeting_id = m.meeting_id and a.user_id = $1) as "attendee!"
         from meeting m
         where m.party_group_id = any($2) or m.chair_id = $1 or m.secretary_id = $1
            or exists (select 1 from membership s where s.party_group_id = m.party_group_id
                       and s.user_id = $1 and s.ended_on is null)
            or exists (select 1 from item_attendee a join agenda_item i using (item_id)
                       where i.meeting_id = m.meeting_id and a.user_id = $1)
         order by starts_at desc, meeting_id"#,
        user_id as _,
        office_groups as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Related {
            position: r.position,
            attendee: r.attendee,
            meeting: Meeting {
                meeting_id: r.meeting_id,
                party_group_id: r.party_group_id,
                year: r.year,
                number: r.number,
                title: r.title,
                starts_at: r.starts_at,
                place: r.place,
                secretary_id: r.secretary_id,
                chair_id: r.chair_id,
                chair_reason: r.chair_reason,
                status: r.status,
                materials_late_reason: r.materials_late_reason,
                created_by: r.created_by,
                created_at: r.created_at,
                noticed_at: r.noticed_at,
                opened_at: r.opened_at,
                closed_at: r.closed_at,
            },
        })
        .collect())
}

pub async fn set_chair(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    chair_id: UserId,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update meeting set chair_id = $2, chair_reason = $3 where meeting_id = $1",
        meeting_id as _,
        chair_id as _,
        reason
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Moves the meeting to `status` and stamps the time of that step.
pub async fn set_status(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    status: MeetingState,
    materials_late_reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update meeting set status = $2,
             materials_late_reason = coalesce($3, materials_late_reason),
             noticed_at = case when $2 = 'noticed' then now() else noticed_at end,
             opened_at = case when $2 = 'open' then now() else opened_at end,
             closed_at = case when $2 = 'closed' then now() else closed_at end
         where meeting_id = $1",
        meeting_id as _,
        status.as_str(),
        materials_late_reason
    )
    .execute(conn)
    .await
    .map(drop)
}

/// One membership of a meeting's group, with whether its member is in the room now.
#[derive(Debug, Clone, Deserialize)]
pub struct RosterMembership {
    pub user_id: UserId,
    pub name: String,
    pub position: Position,
    pub present: bool,
    #[serde(with = "super::iso_date")]
    pub started_on: Date,
    #[serde(with = "super::iso_date::option")]
    pub ended_on: Option<Date>,
}

/// A member of the group on the meeting's date, with whether they are in the room now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RosterEntry {
    pub user_id: UserId,
    pub name: String,
    #[schema(value_type = String)]
    pub position: Position,
    pub present: bool,
}

/// Attendance of people who are not members (attendees), present now.
pub async fn present_others(
    conn: &mut PgConnection,
    meeting: &Meeting,
    members: &[UserId],
) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"select user_id as "user_id: UserId" from attendance where meeting_id = $1 and present
         and not (user_id = any($2))"#,
        meeting.meeting_id as _,
        members as _
    )
    .fetch_all(conn)
    .await
}

pub async fn set_attendance(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
    present: bool,
    recorded_by: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into attendance (meeting_id, user_id, present, recorded_by)
         values ($1, $2, $3, $4)
         on conflict (meeting_id, user_id)
         do update set present = $3, recorded_by = $4, changed_at = now()",
        meeting_id as _,
        user_id as _,
        present,
        recorded_by as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// An agenda item with the facts of its topic the meeting needs.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub item_id: ItemId,
    pub meeting_id: MeetingId,
    pub topic_id: TopicId,
    pub position: i32,
    pub ad_hoc: bool,
    pub urgent: bool,
    pub override_reason: Option<String>,
    #[schema(value_type = String)]
    pub state: ItemStage,
    pub absent_override_reason: Option<String>,
    /// `voice`, `hands`, `secret`, `named`, `paper`.
    #[schema(value_type = Option<String>)]
    pub vote_method: Option<VoteMethod>,
    pub yes: Option<i32>,
    pub no: Option<i32>,
    pub abstain: Option<i32>,
    pub should_attend: Option<i32>,
    pub passed: Option<bool>,
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Outcome>,
    pub outcome_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub title: String,
    pub category: i16,
    #[schema(value_type = String)]
    pub classification: Classification,
    pub responsible_user_id: UserId,
    pub cadre_name: Option<String>,
}

/// The agenda in its order.
pub async fn items(conn: &mut PgConnection, meeting_id: MeetingId) -> sqlx::Result<Vec<Item>> {
    sqlx::query_as!(
        Item,
        r#"select i.item_id as "item_id: _", i.meeting_id as "meeting_id: _", i.topic_id as "topic_id: _", i.position, i.ad_hoc, i.urgent,
                i.override_reason, i.state as "state: ItemStage", i.absent_override_reason, i.vote_method as "vote_method: VoteMethod", i.yes, i.no,
                i.abstain, i.should_attend, i.passed, i.outcome as "outcome: Outcome", i.outcome_reason, i.started_at,
                i.decided_at, t.title, t.category, t.classification as "classification: Classification", t.responsible_user_id as "responsible_user_id: _",
                t.cadre_name
         from agenda_item i join topic t using (topic_id)
         where i.meeting_id = $1 order by i.position"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// One item of the meeting, locked as the action that follows needs. A lock that waited for
/// another action returns the item as that action left it.
pub async fn item(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    item_id: ItemId,
    lock: Lock,
) -> sqlx::Result<Option<Item>> {
    macro_rules! select {
        ($sql:literal) => {
            sqlx::query_as!(
                Item,
                r#"select i.item_id as "item_id: _", i.meeting_id as "meeting_id: _", i.topic_id as "topic_id: _", i.position, i.ad_hoc, i.urgent,
                        i.override_reason, i.state as "state: ItemStage", i.absent_override_reason, i.vote_method as "vote_method: VoteMethod",
                        i.yes, i.no, i.abstain, i.should_attend, i.passed, i.outcome as "outcome: Outcome",
                        i.outcome_reason, i.started_at, i.decided_at, t.title, t.category,
                        t.classification as "classification: Classification", t.responsible_user_id as "responsible_user_id: _", t.cadre_name
                 from agenda_item i join topic t using (topic_id)
                 where i.meeting_id = $1 and i.item_id = $2"#
                    + $sql,
                meeting_id as _,
                item_id as _
            )
            .fetch_optional(conn)
            .await
        };
    }
    match lock {
        Lock::None => select!(""),
        Lock::Share => select!(" for share of i"),
        Lock::Update => select!(" for update of i"),
    }
}

pub struct NewItem<'a> {
    pub item_id: ItemId,
    pub meeting_id: MeetingId,
    pub topic_id: TopicId,
    pub ad_hoc: bool,
    pub urgent: bool,
    pub override_reason: Option<&'a str>,
}

/// Appends an item at the end of the agenda.
pub async fn insert_item(conn: &mut PgConnection, item: &NewItem<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into agenda_item (item_id, meeting_id, topic_id, position, ad_hoc, urgent,
             override_reason)
         values ($1, $2, $3,
                 (select coalesce(max(position), 0) + 1 from agenda_item where meeting_id = $2),
                 $4, $5, $6)",
        item.item_id as _,
        item.meeting_id as _,
        item.topic_id as _,
        item.ad_hoc,
        item.urgent,
        item.override_reason
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Swaps the places of two items of the agenda.
pub async fn swap_positions(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    a: ItemId,
    b: ItemId,
) -> sqlx::Result<()> {
    // One statement: the unique (meeting, position) holds before and after it.
    sqlx::query!(
        "update agenda_item i set position = o.position
         from agenda_item o
         where i.meeting_id = $1 and o.meeting_id = $1
           and ((i.item_id = $2 and o.item_id = $3) or (i.item_id = $3 and o.item_id = $2))",
        meeting_id as _,
        a as _,
        b as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Writes an item's progress: its state, vote and outcome columns.
pub async fn save_item(conn: &mut PgConnection, i: &Item) -> sqlx::Result<()> {
    sqlx::query!(
        "update agenda_item set state = $2, absent_override_reason = $3, vote_method = $4,
             yes = $5, no = $6, abstain = $7, should_attend = $8, passed = $9, outcome = $10,
             outcome_reason = $11,
             started_at = case when $2 = 'discussion' then now() else started_at end,
             vote_opened_at = case when $2 = 'voting' then now() else vote_opened_at end,
             vote_closed_at = case when $2 = 'tallied' then now() else vote_closed_at end,
             decided_at = case when $2 = 'decided' then now() else decided_at end
         where item_id = $1",
        i.item_id as _,
        i.state.as_str(),
        i.absent_override_reason,
        i.vote_method.map(VoteMethod::as_str),
        i.yes,
        i.no,
        i.abstain,
        i.should_attend,
        i.passed,
        i.outcome.map(Outcome::as_str),
        i.outcome_reason
    )
    .execute(conn)
    .await
    .map(drop)
}

/// An attendee (列席) invited to one item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attendee {
    pub item_id: ItemId,
    pub user_id: UserId,
    pub name: String,
}

/// Whether a person is invited as an attendee to an item of this topic.
pub async fn invited_to_topic(
    conn: &mut PgConnection,
    topic_id: TopicId,
    user_id: UserId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from item_attendee a join agenda_item i using (item_id)
                          where i.topic_id = $1 and a.user_id = $2) as "e!""#,
        topic_id as _,
        user_id as _
    )
    .fetch_one(conn)
    .await
}

pub async fn attendees(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Attendee>> {
    sqlx::query_as!(
        Attendee,
        r#"select a.item_id as "item_id: _", a.user_id as "user_id: _", u.name
           from item_attendee a join agenda_item i using (item_id) join app_user u on u.user_id = a.user_id
           where i.meeting_id = $1 order by i.position, u.name collate "zh-x-icu""#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// Invites an attendee; false when they were already invited.
pub async fn invite(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    by: UserId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into item_attendee (item_id, user_id, invited_by) values ($1, $2, $3)
         on conflict do nothing",
        item_id as _,
        user_id as _,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeaveRequest {
    pub user_id: UserId,
    pub name: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Empty until the chair decides.
    pub approved: Option<bool>,
    pub decided_by: Option<UserId>,
}

pub async fn leave_requests(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<LeaveRequest>> {
    sqlx::query_as!(
        LeaveRequest,
        r#"select l.user_id as "user_id: _", u.name, l.reason, l.requested_at, l.approved, l.decided_by as "decided_by: _"
         from leave_request l join app_user u using (user_id)
         where l.meeting_id = $1 order by l.requested_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// Asks for leave; asking again before the decision replaces the reason.
pub async fn ask_leave(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into leave_request (meeting_id, user_id, reason) values ($1, $2, $3)
         on conflict (meeting_id, user_id)
         do update set reason = $3, requested_at = now(), approved = null, decided_by = null,
                       decided_at = null",
        meeting_id as _,
        user_id as _,
        reason
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn decide_leave(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
    approved: bool,
    by: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update leave_request set approved = $3, decided_by = $4, decided_at = now()
         where meeting_id = $1 and user_id = $2",
        meeting_id as _,
        user_id as _,
        approved,
        by as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Records that each recipient received the materials of the agenda's topics with the notice;
/// returns how many handings were logged.
pub async fn distribute_materials(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    recipients: &[UserId],
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "insert into material_distribution (meeting_id, material_id, user_id)
         select $1, m.material_id, r
         from agenda_item i join material m using (topic_id), unnest($2::uuid[]) r
         where i.meeting_id = $1
         on conflict do nothing",
        meeting_id as _,
        recipients as _
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Upload times of the materials of the agenda's topics (R-MATERIALS-DEADLINE).
pub async fn material_uploads(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<(OffsetDateTime, Classification)>> {
    let rows = sqlx::query!(
        r#"select m.uploaded_at, t.classification as "classification: Classification"
           from agenda_item i join material m using (topic_id) join topic t using (topic_id)
           where i.meeting_id = $1"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.uploaded_at, r.classification))
        .collect())
}

/// The live snapshot as a screen reads it on (re)connect.
pub async fn snapshot(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select meeting_snapshot($1, 'sync')", meeting_id as _)
        .fetch_one(conn)
        .await
}

/// A notified or open meeting a person takes part in.
pub struct Coming {
    pub meeting_id: MeetingId,
    /// A leave request waits for a decision.
    pub pending_leave: bool,
}

/// The notified and open meetings a person takes part in: as chair, secretary, member of the
/// group or attendee of an item.
pub async fn coming(conn: &mut PgConnection, user_id: UserId) -> sqlx::Result<Vec<Coming>> {
    sqlx::query_as!(
        Coming,
        r#"select m.meeting_id as "meeting_id: _",
                  exists (select 1 from leave_request l
                          where l.meeting_id = m.meeting_id and l.approved is null) as "pending_leave!"
           from meeting m
           where m.status in ('noticed', 'open')
             and (m.chair_id = $1 or m.secretary_id = $1
                  or exists (select 1 from membership s where s.party_group_id = m.party_group_id
                             and s.user_id = $1 and s.ended_on is null)
                  or exists (select 1 from item_attendee a join agenda_item i using (item_id)
                             where i.meeting_id = m.meeting_id and a.user_id = $1))
           order by m.starts_at"#,
        user_id as _
    )
    .fetch_all(conn)
    .await
}
