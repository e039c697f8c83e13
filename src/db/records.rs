//! The record after the meeting: the minutes' narrative and seal, amendments, borrow requests,
//! the signed summary and its receipts.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, UserId};

/// The secretary's part of the minutes and, once signed, the seal.
#[derive(Debug, Clone, Default)]
pub struct MinutesRow {
    pub narrative: String,
    pub sealed_at: Option<OffsetDateTime>,
    pub sealed_by: Option<UserId>,
    pub sealed_body: Option<String>,
    pub sealed_sha256: Option<String>,
}

/// The minutes row of a meeting, locked for an action when `lock`.
pub async fn minutes(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    lock: bool,
) -> sqlx::Result<Option<MinutesRow>> {
    optional_row!(
        conn,
        lock,
        MinutesRow,
        r#"select narrative, sealed_at, sealed_by as "sealed_by: _", sealed_body, sealed_sha256
                 from minutes where meeting_id = $1"#,
        meeting_id as _
    )
}

/// Per item: the secretary's note of the report and discussion.
pub async fn notes(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<(ItemId, String)>> {
    let rows = sqlx::query!(
        r#"select item_id as "item_id: ItemId", note from minutes_note where meeting_id = $1"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.item_id, r.note)).collect())
}

/// Saves the narrative and item notes of unsealed minutes (the database refuses sealed ones).
pub async fn save_draft(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    narrative: &str,
    notes: &[(ItemId, String)],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into minutes (meeting_id, narrative) values ($1, $2)
         on conflict (meeting_id) do update set narrative = $2, updated_at = now()",
        meeting_id as _,
        narrative
    )
    .execute(&mut *conn)
    .await?;
    let (items, texts): (Vec<ItemId>, Vec<String>) = notes.iter().cloned().unzip();
    sqlx::query!(
        "insert into minutes_note (item_id, meeting_id, note)
         select i, $1, n from unnest($2::uuid[], $3::text[]) as x(i, n)
         on conflict (item_id) do update set note = excluded.note",
        meeting_id as _,
        &items as _,
        &texts
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn seal(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    by: UserId,
    body: &str,
    sha256: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into minutes (meeting_id) values ($1) on conflict (meeting_id) do nothing",
        meeting_id as _
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update minutes set sealed_at = now(), sealed_by = $2, sealed_body = $3, sealed_sha256 = $4
         where meeting_id = $1",
        meeting_id as _,
        by as _,
        body,
        sha256
    )
    .execute(conn)
    .await
    .map(drop)
}

/// A dated correction beside the sealed minutes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Amendment {
    pub amendment_id: Uuid,
    pub text: String,
    pub made_by: UserId,
    pub made_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
}

pub async fn amendments(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Amendment>> {
    sqlx::query_as!(
        Amendment,
        r#"select a.amendment_id, a.text, a.made_by as "made_by: _", u.name as made_by_name, a.made_at
         from minutes_amendment a join app_user u on u.user_id = a.made_by
         where a.meeting_id = $1 order by a.made_at, a.amendment_id"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn amend(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    text: &str,
    by: UserId,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "insert into minutes_amendment (amendment_id, meeting_id, text, made_by)
         values ($1, $2, $3, $4)",
        id,
        meeting_id as _,
        text,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// Members of the meeting who were recorded present at some point (arrived).
pub async fn arrived(conn: &mut PgConnection, meeting_id: MeetingId) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"select user_id as "user_id: UserId" from attendance where meeting_id = $1"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

// ---- Borrow requests (R-MINUTES-ACCESS) ----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BorrowRequest {
    pub request_id: Uuid,
    pub meeting_id: MeetingId,
    pub meeting_title: String,
    pub party_group_id: PartyGroupId,
    pub user_id: UserId,
    pub name: String,
    pub reason: String,
    pub days: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Empty until the 书记 or a 副书记 decides.
    pub approved: Option<bool>,
    pub decided_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

macro_rules! borrow_select {
    ($rest:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            BorrowRequest,
            r#"select b.request_id, b.meeting_id as "meeting_id: _", m.title as meeting_title, m.party_group_id as "party_group_id: _",
                    b.user_id as "user_id: _", u.name, b.reason, b.days, b.requested_at, b.approved, b.decided_by as "decided_by: _",
                    b.expires_at
             from borrow_request b join meeting m using (meeting_id)
             join app_user u on u.user_id = b.user_id "# + $rest
            $(, $arg)*
        )
    };
}

pub async fn ask_borrow(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
    reason: &str,
    days: i32,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "insert into borrow_request (request_id, meeting_id, user_id, reason, days)
         values ($1, $2, $3, $4, $5)",
        id,
        meeting_id as _,
        user_id as _,
        reason,
        days
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// A borrow request, locked for its decision.
pub async fn borrow_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<BorrowRequest>> {
    borrow_select!("where b.request_id = $1 for update of b", request_id)
        .fetch_optional(conn)
        .await
}

/// Decides a request; an approval runs from now for the requested number of days.
pub async fn decide_borrow(
    conn: &mut PgConnection,
    request_id: Uuid,
    approved: bool,
    by: UserId,
) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        "update borrow_request set approved = $2, decided_by = $3, decided_at = now(),
             expires_at = case when $2 then now() + make_interval(days => days) end
         where request_id = $1 returning expires_at",
        request_id as _,
        approved,
        by as _
    )
    .fetch_one(conn)
    .await
}

/// When the person's latest unexpired approved request for the meeting ends, if any.
pub async fn borrow_grant(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        r#"select max(expires_at) as "e" from borrow_request
           where meeting_id = $1 and user_id = $2 and approved and expires_at > now()"#,
        meeting_id as _,
        user_id as _
    )
    .fetch_one(conn)
    .await
}

/// Requests a person asked, and those waiting for a decision in `deciding` groups.
pub async fn borrow_requests_for(
    conn: &mut PgConnection,
    user_id: UserId,
    deciding: &[PartyGroupId],
) -> sqlx::Result<Vec<BorrowRequest>> {
    borrow_select!(
        "where b.user_id = $1 or (b.approved is null and m.party_group_id = any($2))
         order by b.requested_at desc limit 200",
        user_id as _,
        deciding as _
    )
    .fetch_all(conn)
    .await
}

// ---- The summary (R-SUMMARY) ----

#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub signed_by: UserId,
    pub signed_at: OffsetDateTime,
    pub body: String,
    pub sha256: String,
    pub distributed_at: Option<OffsetDateTime>,
}

pub async fn summary(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    lock: bool,
) -> sqlx::Result<Option<SummaryRow>> {
    optional_row!(
        conn,
        lock,
        SummaryRow,
        r#"select signed_by as "signed_by: _", signed_at, body, sha256, distributed_at
                 from summary where meeting_id = $1"#,
        meeting_id as _
    )
}

pub async fn sign_summary(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    by: UserId,
    body: &str,
    sha256: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into summary (meeting_id, signed_by, body, sha256) values ($1, $2, $3, $4)",
        meeting_id as _,
        by as _,
        body,
        sha256
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Records the distribution and one receipt per recipient with what was withheld from it.
pub async fn distribute_summary(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    by: UserId,
    recipients: &[(UserId, i32)],
) -> sqlx::Result<()> {
    sqlx::query!(
        "update summary set distributed_by = $2, distributed_at = now() where meeting_id = $1",
        meeting_id as _,
        by as _
    )
    .execute(&mut *conn)
    .await?;
    let (users, withheld): (Vec<UserId>, Vec<i32>) = recipients.iter().copied().unzip();
    sqlx::query!(
        "insert into summary_receipt (meeting_id, user_id, withheld)
         select $1, u, w from unnest($2::uuid[], $3::int[]) as x(u, w)",
        meeting_id as _,
        &users as _,
        &withheld
    )
    .execute(conn)
    .await
    .map(drop)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub user_id: UserId,
    pub name: String,
    /// Classified items withheld from this recipient.
    pub withheld: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub delivered_at: OffsetDateTime,
    /// When the recipient opened it (签收).
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

pub async fn receipts(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Receipt>> {
    sqlx::query_as!(
        Receipt,
        r#"select r.user_id as "user_id: _", u.name, r.withheld, r.delivered_at, r.read_at
           from summary_receipt r join app_user u using (user_id)
           where r.meeting_id = $1 order by u.name collate "zh-x-icu""#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// The recipient signs for the summary (签收); true the first time.
pub async fn mark_summary_read(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update summary_receipt set read_at = now()
         where meeting_id = $1 and user_id = $2 and read_at is null",
        meeting_id as _,
        user_id as _
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// This person's receipt of the summary, if it was delivered to them: when delivered, when
/// signed for.
pub async fn receipt_of(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
) -> sqlx::Result<Option<(OffsetDateTime, Option<OffsetDateTime>)>> {
    let row = sqlx::query!(
        "select delivered_at, read_at from summary_receipt where meeting_id = $1 and user_id = $2",
        meeting_id as _,
        user_id as _
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.delivered_at, r.read_at)))
}

/// Whether the summary was delivered to this person.
pub async fn is_recipient(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
    user_id: UserId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from summary_receipt where meeting_id = $1 and user_id = $2) as "e!""#,
        meeting_id as _,
        user_id as _
    )
    .fetch_one(conn)
    .await
}

/// The meetings of a group whose summary is signed, held between `from` and `to` (the year's
/// bounds in the display zone), in the order they were held.
pub async fn signed_summaries_between(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> sqlx::Result<Vec<MeetingId>> {
    sqlx::query_scalar!(
        r#"select m.meeting_id as "meeting_id: MeetingId"
           from summary s join meeting m using (meeting_id)
           where m.party_group_id = $1 and m.starts_at >= $2 and m.starts_at < $3
           order by m.starts_at, m.meeting_id"#,
        party_group_id as _,
        from,
        to
    )
    .fetch_all(conn)
    .await
}
