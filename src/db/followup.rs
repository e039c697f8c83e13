//! Follow-up of decisions (督办): tasks, progress, reminders and circulars, the next meeting's
//! report on them, reserved opinions, decisions changed by later ones; and what the group owes
//! on its calendar (reports up). Emergencies and circulation review have modules of their own.

use serde::Serialize;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::domain::deliberation::Outcome;
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, SectionId, TaskId, TopicId, UserId};

// ---- Tasks ----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub task_id: TaskId,
    pub item_id: ItemId,
    pub meeting_id: MeetingId,
    pub meeting_title: String,
    pub party_group_id: PartyGroupId,
    /// The decision's topic title.
    pub title: String,
    pub classification: String,
    pub lead_user_id: UserId,
    pub lead_name: String,
    pub description: String,
    #[serde(with = "super::iso_date")]
    pub due_on: Date,
    #[serde(with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
    pub section_names: Vec<String>,
    /// The latest progress note.
    pub last_note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

macro_rules! task_select {
    ($rest:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            Task,
            r#"select k.task_id as "task_id: _", k.item_id as "item_id: _", i.meeting_id as "meeting_id: _", m.title as meeting_title, m.party_group_id as "party_group_id: _",
                      t.title, t.classification, k.lead_user_id as "lead_user_id: _", u.name as lead_name,
                      k.description, k.due_on, k.done_at,
                      array(select s.name from task_section ts join section s using (section_id)
                            where ts.task_id = k.task_id order by s.name collate "zh-x-icu")
                          as "section_names!",
                      (select p.note from task_progress p where p.task_id = k.task_id
                       order by p.reported_at desc, p.progress_id desc limit 1) as last_note,
                      k.created_at
               from task k join agenda_item i using (item_id) join meeting m using (meeting_id)
               join topic t on t.topic_id = i.topic_id
               join app_user u on u.user_id = k.lead_user_id "# + $rest
            $(, $arg)*
        )
    };
}

pub struct NewTask<'a> {
    pub item_id: ItemId,
    pub lead_user_id: UserId,
    pub section_ids: &'a [SectionId],
    pub due_on: Date,
    pub description: &'a str,
    pub created_by: UserId,
}

pub async fn insert_task(conn: &mut PgConnection, t: &NewTask<'_>) -> sqlx::Result<TaskId> {
    let id = TaskId::new();
    sqlx::query!(
        "insert into task (task_id, item_id, lead_user_id, description, due_on, created_by)
         values ($1, $2, $3, $4, $5, $6)",
        id as _,
        t.item_id as _,
        t.lead_user_id as _,
        t.description,
        t.due_on,
        t.created_by as _
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into task_section (task_id, section_id) select $1, unnest($2::uuid[])",
        id as _,
        t.section_ids as _
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// One task, locked for an action on it when `lock`.
pub async fn task(
    conn: &mut PgConnection,
    task_id: TaskId,
    lock: bool,
) -> sqlx::Result<Option<Task>> {
    if lock {
        task_select!("where k.task_id = $1 for update of k", task_id as _)
            .fetch_optional(conn)
            .await
    } else {
        task_select!("where k.task_id = $1", task_id as _)
            .fetch_optional(conn)
            .await
    }
}

/// Tasks of a meeting's decisions.
pub async fn tasks_of_meeting(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Task>> {
    task_select!(
        "where i.meeting_id = $1 order by i.position, k.created_at",
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// The board: every task, or only those led by `lead` (for a lead who is neither 综合科 nor
/// 书记), optionally only open or done ones, oldest due first.
pub async fn board(
    conn: &mut PgConnection,
    lead: Option<UserId>,
    done: Option<bool>,
) -> sqlx::Result<Vec<Task>> {
    task_select!(
        "where ($1::uuid is null or k.lead_user_id = $1)
           and ($2::bool is null or (k.done_at is not null) = $2)
         order by (k.done_at is not null), k.due_on, k.created_at limit 1000",
        lead as _,
        done
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub note: String,
    pub done: bool,
    pub reported_by: UserId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub reported_at: OffsetDateTime,
    /// The file a closing carries: a material of the decision's topic.
    pub material_id: Option<Uuid>,
    pub file_name: Option<String>,
    pub topic_id: TopicId,
}

pub async fn progress(conn: &mut PgConnection, task_id: TaskId) -> sqlx::Result<Vec<Progress>> {
    sqlx::query_as!(
        Progress,
        r#"select p.note, p.done, p.reported_by as "reported_by: _", u.name, p.reported_at,
                  p.material_id, f.file_name as "file_name?", i.topic_id as "topic_id: _"
         from task_progress p join app_user u on u.user_id = p.reported_by
         join task k on k.task_id = p.task_id join agenda_item i on i.item_id = k.item_id
         left join material f on f.material_id = p.material_id
         where p.task_id = $1 order by p.reported_at, p.progress_id"#,
        task_id as _
    )
    .fetch_all(conn)
    .await
}

/// A progress report; `done` closes the task (销号), with `material` the file it carries.
pub async fn report_progress(
    conn: &mut PgConnection,
    task_id: TaskId,
    note: &str,
    done: bool,
    by: UserId,
    material: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into task_progress (progress_id, task_id, note, done, reported_by, material_id)
         values ($1, $2, $3, $4, $5, $6)",
        Uuid::now_v7(),
        task_id as _,
        note,
        done,
        by as _,
        material
    )
    .execute(&mut *conn)
    .await?;
    if done {
        sqlx::query!(
            "update task set done_at = now() where task_id = $1 and done_at is null",
            task_id as _
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub async fn remind(
    conn: &mut PgConnection,
    task_id: TaskId,
    text: &str,
    by: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into task_reminder (reminder_id, task_id, text, sent_by) values ($1, $2, $3, $4)",
        Uuid::now_v7(),
        task_id as _,
        text,
        by as _
    )
    .execute(conn)
    .await
    .map(drop)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Circular {
    pub circular_id: Uuid,
    pub party_group_id: PartyGroupId,
    pub text: String,
    pub sent_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

pub async fn send_circular(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    text: &str,
    by: UserId,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "insert into circular (circular_id, party_group_id, text, sent_by) values ($1, $2, $3, $4)",
        id,
        party_group_id as _,
        text,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn circulars(conn: &mut PgConnection) -> sqlx::Result<Vec<Circular>> {
    sqlx::query_as!(
        Circular,
        r#"select c.circular_id, c.party_group_id as "party_group_id: _", c.text, u.name as sent_by_name, c.sent_at
         from circular c join app_user u on u.user_id = c.sent_by
         order by c.sent_at desc limit 50"#
    )
    .fetch_all(conn)
    .await
}

/// The leads of open tasks of a group's decisions: who a circular goes to besides members.
pub async fn open_task_leads(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"select distinct k.lead_user_id as "lead_user_id: UserId" from task k join agenda_item i using (item_id)
         join meeting m using (meeting_id) where m.party_group_id = $1 and k.done_at is null"#,
        party_group_id as _
    )
    .fetch_all(conn)
    .await
}

// ---- Reserved opinions and changed decisions ----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reserved {
    pub item_id: ItemId,
    pub user_id: UserId,
    pub name: String,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

pub async fn reserve(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    text: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into reserved_opinion (item_id, user_id, text) values ($1, $2, $3)
         on conflict do nothing",
        item_id as _,
        user_id as _,
        text
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn reserved(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Reserved>> {
    sqlx::query_as!(
        Reserved,
        r#"select r.item_id as "item_id: _", r.user_id as "user_id: _", u.name, r.text, r.recorded_at
         from reserved_opinion r join agenda_item i using (item_id)
         join app_user u on u.user_id = r.user_id
         where i.meeting_id = $1 order by r.recorded_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// A decision changed by a later one; both items' meetings and titles for the links.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub old_item_id: ItemId,
    pub old_meeting_id: MeetingId,
    pub old_title: String,
    pub new_item_id: ItemId,
    pub new_meeting_id: MeetingId,
    pub new_title: String,
    pub reason: String,
}

pub async fn link_change(
    conn: &mut PgConnection,
    old_item_id: ItemId,
    new_item_id: ItemId,
    reason: &str,
    by: UserId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into decision_change (old_item_id, new_item_id, reason, linked_by)
         values ($1, $2, $3, $4) on conflict do nothing",
        old_item_id as _,
        new_item_id as _,
        reason,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes that involve an item of this meeting, in either direction.
pub async fn changes(conn: &mut PgConnection, meeting_id: MeetingId) -> sqlx::Result<Vec<Change>> {
    sqlx::query_as!(
        Change,
        r#"select c.old_item_id as "old_item_id: _", o.meeting_id as "old_meeting_id: _",
                (select title from topic where topic_id = o.topic_id) as "old_title!",
                c.new_item_id as "new_item_id: _", n.meeting_id as "new_meeting_id: _",
                (select title from topic where topic_id = n.topic_id) as "new_title!",
                c.reason
         from decision_change c join agenda_item o on o.item_id = c.old_item_id
         join agenda_item n on n.item_id = c.new_item_id
         where o.meeting_id = $1 or n.meeting_id = $1 order by c.linked_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// An item anywhere with its meeting's group, start time and state, for linking decisions.
pub struct ItemRef {
    pub item_id: ItemId,
    pub meeting_id: MeetingId,
    pub party_group_id: PartyGroupId,
    pub starts_at: OffsetDateTime,
    pub outcome: Option<Outcome>,
}

pub async fn item_ref(conn: &mut PgConnection, item_id: ItemId) -> sqlx::Result<Option<ItemRef>> {
    sqlx::query_as!(
        ItemRef,
        r#"select i.item_id as "item_id: _", i.meeting_id as "meeting_id: _", m.party_group_id as "party_group_id: _", m.starts_at,
                i.outcome as "outcome: Outcome"
         from agenda_item i join meeting m using (meeting_id) where i.item_id = $1
         for share of i"#,
        item_id as _
    )
    .fetch_optional(conn)
    .await
}

// ---- Calendar duties ----

/// Dates of the group's held (closed) meetings, in the display zone's calendar.
pub async fn held_meeting_dates(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    offset_seconds: i32,
) -> sqlx::Result<Vec<Date>> {
    sqlx::query_scalar!(
        r#"select (starts_at at time zone 'UTC' + make_interval(secs => $2))::date as "d!"
           from meeting where party_group_id = $1 and status = 'closed'"#,
        party_group_id as _,
        f64::from(offset_seconds)
    )
    .fetch_all(conn)
    .await
}

/// Categories heard at held meetings and their dates: decided items (R-HALF-YEAR).
pub async fn heard_categories(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    offset_seconds: i32,
) -> sqlx::Result<Vec<(i16, Date)>> {
    let rows = sqlx::query!(
        r#"select t.category, (m.starts_at at time zone 'UTC' + make_interval(secs => $2))::date as "d!"
           from agenda_item i join meeting m using (meeting_id) join topic t using (topic_id)
           where m.party_group_id = $1 and m.status = 'closed' and i.state = 'decided'"#,
        party_group_id as _,
        f64::from(offset_seconds)
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.category, r.d)).collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportUp {
    pub report_id: Uuid,
    pub title: String,
    #[serde(with = "super::iso_date")]
    pub reported_on: Date,
    pub recorded_by_name: String,
}

pub async fn reports_up(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Vec<ReportUp>> {
    sqlx::query_as!(
        ReportUp,
        "select r.report_id, r.title, r.reported_on, u.name as recorded_by_name
         from report_up r join app_user u on u.user_id = r.recorded_by
         where r.party_group_id = $1 order by r.reported_on desc",
        party_group_id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn record_report_up(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    title: &str,
    reported_on: Date,
    by: UserId,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "insert into report_up (report_id, party_group_id, title, reported_on, recorded_by)
         values ($1, $2, $3, $4, $5)",
        id,
        party_group_id as _,
        title,
        reported_on,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// Open tasks of a group's decisions with their due dates (R-SUPERVISION).
pub async fn open_tasks_of_group(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Vec<(String, Date)>> {
    let rows = sqlx::query!(
        "select k.description, k.due_on from task k join agenda_item i using (item_id)
         join meeting m using (meeting_id)
         where m.party_group_id = $1 and k.done_at is null order by k.due_on",
        party_group_id as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.description, r.due_on))
        .collect())
}

/// Decisions of the group's meetings held before `before`, newest first, labelled with their
/// meeting: what a later item may change (R-DECISION-CHANGE).
pub async fn earlier_decisions(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    before: OffsetDateTime,
) -> sqlx::Result<Vec<(ItemId, String)>> {
    let rows = sqlx::query!(
        r#"select i.item_id as "item_id: ItemId", m.title || ':' || t.title as "label!"
           from agenda_item i join meeting m using (meeting_id) join topic t using (topic_id)
           where m.party_group_id = $1 and m.starts_at < $2 and i.outcome = 'passed'
             and not exists (select 1 from decision_change c where c.old_item_id = i.item_id)
           order by m.starts_at desc, i.position limit 200"#,
        party_group_id as _,
        before
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.item_id, r.label)).collect())
}

/// One thing this person must do about the record, for the home page.
pub struct RecordTodo {
    pub kind: String,
    pub title: String,
    pub id: Uuid,
    pub due_on: Option<Date>,
}

/// Open tasks I lead, borrow requests waiting in the groups I decide them for (`deciding`),
/// summaries I have not signed for, documents waiting for my review, minutes I draft or sign,
/// summaries of meetings I chaired waiting for my signature, signed summaries of the groups I
/// serve as 综合科 (`office`) waiting to be distributed.
pub async fn todos(
    conn: &mut PgConnection,
    user_id: UserId,
    deciding: &[PartyGroupId],
    office: &[PartyGroupId],
) -> sqlx::Result<Vec<RecordTodo>> {
    sqlx::query_as!(
        RecordTodo,
        r#"select 'task' as "kind!", t.title as "title!", k.task_id as "id!", k.due_on as "due_on?"
           from task k join agenda_item i using (item_id) join topic t using (topic_id)
           where k.lead_user_id = $1 and k.done_at is null
           union all
           select 'borrow', m.title || '(' || u.name || ')', b.request_id, null
           from borrow_request b join meeting m using (meeting_id) join app_user u on u.user_id = b.user_id
           where b.approved is null and m.party_group_id = any($2)
           union all
           select 'receipt', m.title, r.meeting_id, null
           from summary_receipt r join meeting m using (meeting_id)
           where r.user_id = $1 and r.read_at is null
           union all
           select 'circulation', c.title, c.circulation_id, null
           from circulation c
           where c.published_at is null
             and exists (select 1 from membership s where s.party_group_id = c.party_group_id
                         and s.user_id = $1 and s.ended_on is null)
             and not exists (select 1 from circulation_signoff o
                             where o.circulation_id = c.circulation_id and o.user_id = $1)
           union all
           select case when m.secretary_id = $1 then 'minutes_draft' else 'minutes_sign' end,
                  m.title, m.meeting_id, null
           from meeting m
           where m.status = 'closed'
             and not exists (select 1 from minutes x where x.meeting_id = m.meeting_id and x.sealed_at is not null)
             and (m.secretary_id = $1 or m.chair_id = $1)
           union all
           select 'summary_sign', m.title, m.meeting_id, null
           from meeting m
           where m.status = 'closed' and m.chair_id = $1
             and not exists (select 1 from summary s where s.meeting_id = m.meeting_id)
           union all
           select 'summary_distribute', m.title, m.meeting_id, null
           from summary s join meeting m using (meeting_id)
           where s.distributed_at is null and m.party_group_id = any($3)
           order by 4 nulls last"#,
        user_id as _,
        deciding as _,
        office as _
    )
    .fetch_all(conn)
    .await
}

/// Open tasks due between `from` and `to` (both included): those a reminder may be owed for.
pub async fn open_tasks_due(
    conn: &mut PgConnection,
    from: Date,
    to: Date,
) -> sqlx::Result<Vec<Task>> {
    task_select!(
        "where k.done_at is null and k.due_on between $1 and $2 order by k.due_on, k.created_at",
        from,
        to
    )
    .fetch_all(conn)
    .await
}

/// Records that the automatic reminder `kind` for the task's current due date goes out now;
/// false if it went already (from this instance or another).
pub async fn claim_auto_reminder(
    conn: &mut PgConnection,
    task_id: TaskId,
    kind: &str,
    due_on: Date,
) -> sqlx::Result<bool> {
    let claimed = sqlx::query!(
        "insert into task_auto_reminder (task_id, kind, due_on) values ($1, $2, $3)
         on conflict do nothing",
        task_id as _,
        kind,
        due_on
    )
    .execute(conn)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Closed meetings of the group that decided tasks, with their closing time: what a new
/// meeting's report item may report on.
pub async fn report_candidates(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Vec<(MeetingId, OffsetDateTime)>> {
    let rows = sqlx::query!(
        r#"select m.meeting_id as "meeting_id: MeetingId", m.closed_at as "closed_at!"
           from meeting m
           where m.party_group_id = $1 and m.closed_at is not null
             and exists (select 1 from agenda_item i join task k using (item_id)
                         where i.meeting_id = m.meeting_id)"#,
        party_group_id as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.meeting_id, r.closed_at))
        .collect())
}

pub async fn set_report(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    reports_on: MeetingId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into followup_report (meeting_id, reports_on) values ($1, $2)",
        meeting_id as _,
        reports_on as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The report item of a meeting: the meeting reported on, its title and date, and its tasks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowupReport {
    pub reports_on: MeetingId,
    pub title: String,
    pub tasks: Vec<Task>,
}

pub async fn report_of(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Option<FollowupReport>> {
    let Some(on) = sqlx::query!(
        r#"select r.reports_on as "reports_on: MeetingId", m.title
           from followup_report r join meeting m on m.meeting_id = r.reports_on
           where r.meeting_id = $1"#,
        meeting_id as _
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let tasks = task_select!(
        "where i.meeting_id = $1 order by i.position, k.created_at",
        on.reports_on as _
    )
    .fetch_all(conn)
    .await?;
    Ok(Some(FollowupReport {
        reports_on: on.reports_on,
        title: on.title,
        tasks,
    }))
}

/// The topic a task's decision was taken on.
pub async fn topic_of_task(
    conn: &mut PgConnection,
    task_id: TaskId,
) -> sqlx::Result<Option<TopicId>> {
    sqlx::query_scalar!(
        r#"select i.topic_id as "topic_id: TopicId" from task k join agenda_item i using (item_id)
           where k.task_id = $1"#,
        task_id as _
    )
    .fetch_optional(conn)
    .await
}
