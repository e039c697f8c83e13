use crate::domain::deliberation::Outcome;
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, SectionId, TaskId, TopicId, UserId};
use crate::domain::meeting::ItemStage;
use crate::domain::topic::{Classification, PrerequisiteKind};
use crate::domain::topic_status::TopicStatus;
use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

/// A topic as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Topic {
    pub topic_id: TopicId,
    pub party_group_id: PartyGroupId,
    pub proposer_id: UserId,
    pub responsible_user_id: UserId,
    pub sponsor_section_id: Option<SectionId>,
    pub title: String,
    /// 第十一条 category, 1–33.
    pub category: i16,
    pub content: String,
    pub matters_to_decide: String,
    pub consultation_opinions: String,
    pub amount_fen: Option<i64>,
    pub is_major_policy: bool,
    pub is_technical: bool,
    pub is_public_interest: bool,
    pub is_procurement: bool,
    pub procurement_ref: Option<String>,
    pub cadre_name: Option<String>,
    #[schema(value_type = String)]
    pub classification: Classification,
    #[schema(value_type = String)]
    pub status: TopicStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The 分管 leader's sign-off (R-TOPIC-SOURCE).
    pub signed_off_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub signed_off_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// Why 综合科 returned the topic, when it did.
    pub returned_reason: Option<String>,
}

pub async fn insert(conn: &mut PgConnection, t: &Topic) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into topic (topic_id, party_group_id, proposer_id, responsible_user_id,
             sponsor_section_id, title, category, content, matters_to_decide,
             consultation_opinions, amount_fen, is_major_policy, is_technical, is_public_interest,
             is_procurement, procurement_ref, cadre_name, classification, status, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20)",
        t.topic_id as _,
        t.party_group_id as _,
        t.proposer_id as _,
        t.responsible_user_id as _,
        t.sponsor_section_id as _,
        t.title,
        t.category,
        t.content,
        t.matters_to_decide,
        t.consultation_opinions,
        t.amount_fen,
        t.is_major_policy,
        t.is_technical,
        t.is_public_interest,
        t.is_procurement,
        t.procurement_ref,
        t.cadre_name,
        t.classification.as_str(),
        t.status.as_str(),
        t.created_at
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Loads a topic; with `for_update` the row stays locked until the transaction ends, so two
/// people signing or submitting at once are served one after the other.
pub async fn get(
    conn: &mut PgConnection,
    topic_id: TopicId,
    for_update: bool,
) -> sqlx::Result<Option<Topic>> {
    if for_update {
        sqlx::query_scalar!(
            r#"select topic_id as "topic_id: TopicId" from topic where topic_id = $1 for update"#,
            topic_id as _
        )
        .fetch_optional(&mut *conn)
        .await?;
    }
    sqlx::query_as!(
        Topic,
        r#"select topic_id as "topic_id: _", party_group_id as "party_group_id: _", proposer_id as "proposer_id: _", responsible_user_id as "responsible_user_id: _", sponsor_section_id as "sponsor_section_id: _",
                title, category, content, matters_to_decide, consultation_opinions, amount_fen,
                is_major_policy, is_technical, is_public_interest, is_procurement, procurement_ref,
                cadre_name, classification as "classification: Classification", status as "status: TopicStatus", created_at, signed_off_by as "signed_off_by: _", signed_off_at,
                submitted_at, returned_reason
         from topic where topic_id = $1"#,
        topic_id as _
    )
    .fetch_optional(conn)
    .await
}

/// Topics a person proposed or is named on as the 分管 leader, newest first.
pub async fn list_for_user(conn: &mut PgConnection, user_id: UserId) -> sqlx::Result<Vec<Topic>> {
    sqlx::query_as!(
        Topic,
        r#"select topic_id as "topic_id: _", party_group_id as "party_group_id: _", proposer_id as "proposer_id: _", responsible_user_id as "responsible_user_id: _", sponsor_section_id as "sponsor_section_id: _",
                title, category, content, matters_to_decide, consultation_opinions, amount_fen,
                is_major_policy, is_technical, is_public_interest, is_procurement, procurement_ref,
                cadre_name, classification as "classification: Classification", status as "status: TopicStatus", created_at, signed_off_by as "signed_off_by: _", signed_off_at,
                submitted_at, returned_reason
         from topic where proposer_id = $1 or responsible_user_id = $1
         order by created_at desc, topic_id desc"#,
        user_id as _
    )
    .fetch_all(conn)
    .await
}

/// Submitted topics of every group, oldest first: 综合科's desk.
pub async fn list_submitted(conn: &mut PgConnection) -> sqlx::Result<Vec<Topic>> {
    sqlx::query_as!(
        Topic,
        r#"select topic_id as "topic_id: _", party_group_id as "party_group_id: _", proposer_id as "proposer_id: _", responsible_user_id as "responsible_user_id: _", sponsor_section_id as "sponsor_section_id: _",
                title, category, content, matters_to_decide, consultation_opinions, amount_fen,
                is_major_policy, is_technical, is_public_interest, is_procurement, procurement_ref,
                cadre_name, classification as "classification: Classification", status as "status: TopicStatus", created_at, signed_off_by as "signed_off_by: _", signed_off_at,
                submitted_at, returned_reason
         from topic where status = 'submitted'
         order by submitted_at, topic_id"#
    )
    .fetch_all(conn)
    .await
}

pub async fn sign_off(conn: &mut PgConnection, topic_id: TopicId, by: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "update topic set signed_off_by = $2, signed_off_at = now(), updated_at = now()
         where topic_id = $1",
        topic_id as _,
        by as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Moves a topic to `status`; `submitted` stamps the submission time, `returned` keeps the
/// reason.
pub async fn set_status(
    conn: &mut PgConnection,
    topic_id: TopicId,
    status: TopicStatus,
    returned_reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update topic set status = $2, returned_reason = $3, updated_at = now(),
             submitted_at = case when $2 = 'submitted' then now() else submitted_at end
         where topic_id = $1",
        topic_id as _,
        status.as_str(),
        returned_reason
    )
    .execute(conn)
    .await
    .map(drop)
}

/// A prerequisite on file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordedPrerequisite {
    #[schema(value_type = String)]
    pub kind: PrerequisiteKind,
    pub conclusion: String,
    pub note: String,
    pub recorded_by: UserId,
    pub recorded_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

pub async fn prerequisites(
    conn: &mut PgConnection,
    topic_id: TopicId,
) -> sqlx::Result<Vec<RecordedPrerequisite>> {
    sqlx::query_as!(
        RecordedPrerequisite,
        r#"select p.kind as "kind: PrerequisiteKind", p.conclusion, p.note, p.recorded_by as "recorded_by: _", u.name as recorded_by_name,
                  p.recorded_at
           from topic_prerequisite p join app_user u on u.user_id = p.recorded_by
           where p.topic_id = $1 order by p.kind"#,
        topic_id as _
    )
    .fetch_all(conn)
    .await
}

/// Records (or re-records) a prerequisite.
pub async fn record_prerequisite(
    conn: &mut PgConnection,
    topic_id: TopicId,
    kind: &str,
    conclusion: &str,
    note: &str,
    by: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into topic_prerequisite (topic_id, kind, conclusion, note, recorded_by)
         values ($1, $2, $3, $4, $5)
         on conflict (topic_id, kind) do update
         set conclusion = excluded.conclusion, note = excluded.note,
             recorded_by = excluded.recorded_by, recorded_at = now()",
        topic_id as _,
        kind,
        conclusion,
        note,
        by as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Saves the editable fields and the sign-off of a topic.
pub async fn update(conn: &mut PgConnection, t: &Topic) -> sqlx::Result<()> {
    sqlx::query!(
        "update topic set responsible_user_id = $2, sponsor_section_id = $3, title = $4,
             category = $5, content = $6, matters_to_decide = $7, consultation_opinions = $8,
             amount_fen = $9, is_major_policy = $10, is_technical = $11, is_public_interest = $12,
             is_procurement = $13, procurement_ref = $14, cadre_name = $15, classification = $16,
             signed_off_by = $17, signed_off_at = $18, updated_at = now()
         where topic_id = $1",
        t.topic_id as _,
        t.responsible_user_id as _,
        t.sponsor_section_id as _,
        t.title,
        t.category,
        t.content,
        t.matters_to_decide,
        t.consultation_opinions,
        t.amount_fen,
        t.is_major_policy,
        t.is_technical,
        t.is_public_interest,
        t.is_procurement,
        t.procurement_ref,
        t.cadre_name,
        t.classification.as_str(),
        t.signed_off_by as _,
        t.signed_off_at
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Topics still being prepared or waiting at 综合科 (draft, returned, submitted).
pub async fn list_open(conn: &mut PgConnection) -> sqlx::Result<Vec<Topic>> {
    sqlx::query_as!(
        Topic,
        r#"select topic_id as "topic_id: _", party_group_id as "party_group_id: _", proposer_id as "proposer_id: _", responsible_user_id as "responsible_user_id: _", sponsor_section_id as "sponsor_section_id: _",
                title, category, content, matters_to_decide, consultation_opinions, amount_fen,
                is_major_policy, is_technical, is_public_interest, is_procurement, procurement_ref,
                cadre_name, classification as "classification: Classification", status as "status: TopicStatus", created_at, signed_off_by as "signed_off_by: _", signed_off_at,
                submitted_at, returned_reason
         from topic where status in ('draft', 'returned', 'submitted')
         order by created_at, topic_id"#
    )
    .fetch_all(conn)
    .await
}

/// The prerequisite kinds on file for every open topic, as (topic, kind) pairs.
pub async fn recorded_kinds_of_open(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(TopicId, String)>> {
    let rows = sqlx::query!(
        r#"select p.topic_id as "topic_id: TopicId", p.kind from topic_prerequisite p join topic t using (topic_id)
         where t.status in ('draft', 'returned', 'submitted')"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.topic_id, r.kind)).collect())
}

/// The sections assigned to a topic's policy assessments.
pub async fn assigned_sections(
    conn: &mut PgConnection,
    topic_id: TopicId,
) -> sqlx::Result<Vec<SectionId>> {
    sqlx::query_scalar!(
        r#"select section_id as "section_id: SectionId" from topic_assignment where topic_id = $1 order by assigned_at"#,
        topic_id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn assign_section(
    conn: &mut PgConnection,
    topic_id: TopicId,
    section_id: SectionId,
    by: UserId,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "insert into topic_assignment (topic_id, section_id, assigned_by) values ($1, $2, $3)
         on conflict do nothing",
        topic_id as _,
        section_id as _,
        by as _
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// (topic, section) assignments of every open topic.
pub async fn assignments_of_open(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(TopicId, SectionId)>> {
    let rows = sqlx::query!(
        r#"select a.topic_id as "topic_id: TopicId", a.section_id as "section_id: SectionId" from topic_assignment a join topic t using (topic_id)
         where t.status in ('draft', 'returned', 'submitted')"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.topic_id, r.section_id))
        .collect())
}

/// R-PROCUREMENT-ONCE: the project references of the group's procurements that a meeting
/// passed.
pub async fn approved_procurements(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select t.procurement_ref as "r!" from topic t join agenda_item i using (topic_id)
           where t.party_group_id = $1 and t.is_procurement and t.procurement_ref is not null
             and i.outcome = 'passed'"#,
        party_group_id as _
    )
    .fetch_all(conn)
    .await
}

/// One agenda item a topic went on: the meeting, how far the item got, whether the
/// meeting's summary is signed, and the follow-up tasks of a decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Placement {
    pub meeting_id: MeetingId,
    pub meeting_title: String,
    pub item_id: ItemId,
    #[schema(value_type = String)]
    pub state: ItemStage,
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Outcome>,
    pub passed: Option<bool>,
    pub summary_signed: bool,
    pub tasks: Vec<PlacedTask>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PlacedTask {
    pub task_id: TaskId,
    pub description: String,
    pub done: bool,
}

/// Where a topic went: every agenda item it was placed on, the earliest meeting first.
pub async fn placements(
    conn: &mut PgConnection,
    topic_id: TopicId,
) -> sqlx::Result<Vec<Placement>> {
    let rows = sqlx::query!(
        r#"select i.meeting_id as "meeting_id: MeetingId", m.title as meeting_title,
                  i.item_id as "item_id: ItemId",
                  i.state as "state: ItemStage", i.outcome as "outcome: Outcome", i.passed,
                  exists (select 1 from summary s where s.meeting_id = i.meeting_id) as "summary_signed!",
                  (select coalesce(json_agg(json_build_object(
                              'task_id', t.task_id, 'description', t.description,
                              'done', t.done_at is not null) order by t.created_at), '[]')
                   from task t where t.item_id = i.item_id)
                     as "tasks!: sqlx::types::Json<Vec<PlacedTask>>"
           from agenda_item i join meeting m using (meeting_id)
           where i.topic_id = $1
           order by m.starts_at, i.position"#,
        topic_id as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Placement {
            meeting_id: r.meeting_id,
            meeting_title: r.meeting_title,
            item_id: r.item_id,
            state: r.state,
            outcome: r.outcome,
            passed: r.passed,
            summary_signed: r.summary_signed,
            tasks: r.tasks.0,
        })
        .collect())
}
