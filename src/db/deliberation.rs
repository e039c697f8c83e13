//! What is said and cast on an agenda item: recusals, opinions, written opinions, remarks and
//! votes. R-SECRET-BALLOT: a secret ballot is stored as "this member voted" and a ciphertext in
//! the ballot box; no choice is stored in plaintext before the vote's totals.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::deliberation::Stance;
use crate::domain::ids::{ItemId, MeetingId, UserId};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recusal {
    pub item_id: ItemId,
    pub user_id: UserId,
    pub name: String,
    /// `self`, `spouse`, `lineal`, `collateral_3`, `in_law`.
    pub relation: String,
    pub note: String,
    pub declared_by: UserId,
}

pub async fn recusals(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Recusal>> {
    sqlx::query_as!(
        Recusal,
        r#"select r.item_id as "item_id: _", r.user_id as "user_id: _", u.name, r.relation, r.note, r.declared_by as "declared_by: _"
         from recusal r join agenda_item i using (item_id) join app_user u on u.user_id = r.user_id
         where i.meeting_id = $1 order by r.declared_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// Records a recusal; false when the person had already recused.
pub async fn recuse(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    relation: &str,
    note: &str,
    by: UserId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into recusal (item_id, user_id, relation, note, declared_by)
         values ($1, $2, $3, $4, $5) on conflict do nothing",
        item_id as _,
        user_id as _,
        relation,
        note,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A member's opinion stated at the meeting, or written when absent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub item_id: ItemId,
    pub user_id: UserId,
    pub name: String,
    #[schema(value_type = String)]
    pub stance: Stance,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

pub async fn opinions(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Statement>> {
    sqlx::query_as!(
        Statement,
        r#"select o.item_id as "item_id: _", o.user_id as "user_id: _", u.name, o.stance as "stance: Stance", o.reason, o.stated_at as "at"
           from opinion o join agenda_item i using (item_id) join app_user u on u.user_id = o.user_id
           where i.meeting_id = $1 order by o.stated_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn state_opinion(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    stance: &str,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into opinion (item_id, user_id, stance, reason) values ($1, $2, $3, $4)",
        item_id as _,
        user_id as _,
        stance,
        reason
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn written_opinions(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Statement>> {
    sqlx::query_as!(
        Statement,
        r#"select w.item_id as "item_id: _", w.user_id as "user_id: _", u.name, w.stance as "stance: Stance", w.reason, w.written_at as "at"
           from written_opinion w join agenda_item i using (item_id)
           join app_user u on u.user_id = w.user_id
           where i.meeting_id = $1 order by w.written_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// Writes (or rewrites, until the item is decided) an absent member's written opinion.
pub async fn write_opinion(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    stance: &str,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into written_opinion (item_id, user_id, stance, reason) values ($1, $2, $3, $4)
         on conflict (item_id, user_id)
         do update set stance = $3, reason = $4, written_at = now()",
        item_id as _,
        user_id as _,
        stance,
        reason
    )
    .execute(conn)
    .await
    .map(drop)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Remark {
    pub item_id: ItemId,
    pub user_id: UserId,
    pub name: String,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
}

pub async fn remarks(conn: &mut PgConnection, meeting_id: MeetingId) -> sqlx::Result<Vec<Remark>> {
    sqlx::query_as!(
        Remark,
        r#"select r.item_id as "item_id: _", r.user_id as "user_id: _", u.name, r.text, r.made_at
         from remark r join agenda_item i using (item_id) join app_user u on u.user_id = r.user_id
         where i.meeting_id = $1 order by r.made_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn remark(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    text: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into remark (remark_id, item_id, user_id, text) values ($1, $2, $3, $4)",
        Uuid::now_v7(),
        item_id as _,
        user_id as _,
        text
    )
    .execute(conn)
    .await
    .map(drop)
}

/// A member's vote on an item; `choice` is empty for a secret ballot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Vote {
    pub item_id: ItemId,
    pub user_id: UserId,
    pub name: String,
    pub secret: bool,
    /// `yes`, `no`, `abstain`; never present for a secret ballot.
    pub choice: Option<String>,
    pub recorded_by: Option<UserId>,
}

pub async fn votes(conn: &mut PgConnection, meeting_id: MeetingId) -> sqlx::Result<Vec<Vote>> {
    sqlx::query_as!(
        Vote,
        r#"select v.item_id as "item_id: _", v.user_id as "user_id: _", u.name, v.secret, v.choice, v.recorded_by as "recorded_by: _"
           from vote_cast v join agenda_item i using (item_id) join app_user u on u.user_id = v.user_id
           where i.meeting_id = $1 order by i.position, u.name collate "zh-x-icu""#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// An open vote: the member, their choice and who recorded it.
pub async fn cast_open(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    choice: &str,
    recorded_by: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into vote_cast (item_id, user_id, secret, choice, recorded_by, cast_at)
         values ($1, $2, false, $3, $4, now())",
        item_id as _,
        user_id as _,
        choice,
        recorded_by as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Opens a secret vote's ballot box under the vote's public key.
pub async fn open_secret_vote(
    conn: &mut PgConnection,
    item_id: ItemId,
    public_key: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into secret_vote (item_id, public_key) values ($1, $2)",
        item_id as _,
        public_key
    )
    .execute(conn)
    .await
    .map(drop)
}

/// R-SECRET-BALLOT: a secret ballot is the member's "voted" row (with their tracking code, no
/// choice, no time, no recorder) and the ciphertext in the ballot box, which names nobody. One
/// statement, so both are written or neither.
pub async fn cast_secret(
    conn: &mut PgConnection,
    item_id: ItemId,
    user_id: UserId,
    tracker: &[u8],
    ballot: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "with voted as (insert into vote_cast (item_id, user_id, secret, tracker)
                        values ($1, $2, true, $3))
         insert into secret_ballot (item_id, tracker, ballot) values ($1, $3, $4)",
        item_id as _,
        user_id as _,
        tracker,
        ballot
    )
    .execute(conn)
    .await
    .map(drop)
}

/// A secret vote's ballot box as stored.
pub struct SecretVote {
    pub public_key: Vec<u8>,
    /// Written at closing.
    pub count_proof: Option<Vec<u8>>,
    /// (tracker, ballot), in the order of the trackers (which says nothing of the voters).
    pub ballots: Vec<(Vec<u8>, Vec<u8>)>,
    /// How many members are recorded as having cast a secret ballot.
    pub voters: i64,
}

pub async fn secret_vote(
    conn: &mut PgConnection,
    item_id: ItemId,
) -> sqlx::Result<Option<SecretVote>> {
    let Some(vote) = sqlx::query!(
        r#"select public_key, count_proof,
                  (select count(*) from vote_cast v where v.item_id = s.item_id and v.secret) as "voters!"
           from secret_vote s where item_id = $1"#,
        item_id as _
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let ballots = sqlx::query!(
        "select tracker, ballot from secret_ballot where item_id = $1 order by tracker",
        item_id as _
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|b| (b.tracker, b.ballot))
    .collect();
    Ok(Some(SecretVote {
        public_key: vote.public_key,
        count_proof: vote.count_proof,
        ballots,
        voters: vote.voters,
    }))
}

/// Stores the count of a closed secret vote (once: a trigger refuses a second).
pub async fn record_count(
    conn: &mut PgConnection,
    item_id: ItemId,
    count_proof: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "update secret_vote set count_proof = $2 where item_id = $1",
        item_id as _,
        count_proof
    )
    .execute(conn)
    .await
    .map(drop)
}

/// The tracking codes of the secret ballots cast on a meeting's items: (item, voter, tracker).
/// Each voter is shown only their own.
pub async fn trackers(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<(ItemId, UserId, Vec<u8>)>> {
    Ok(sqlx::query!(
        r#"select v.item_id as "item_id: ItemId", v.user_id as "user_id: UserId",
                  v.tracker as "tracker!"
           from vote_cast v join agenda_item i using (item_id)
           where i.meeting_id = $1 and v.tracker is not null"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.item_id, r.user_id, r.tracker))
    .collect())
}

/// The choices of an open vote, for the tally.
pub async fn open_choices(conn: &mut PgConnection, item_id: ItemId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select choice as "choice!" from vote_cast where item_id = $1 and not secret"#,
        item_id as _
    )
    .fetch_all(conn)
    .await
}

/// The meeting an agenda item belongs to.
pub async fn meeting_of_item(
    conn: &mut PgConnection,
    item_id: ItemId,
) -> sqlx::Result<Option<MeetingId>> {
    sqlx::query_scalar!(
        r#"select meeting_id as "meeting_id: MeetingId" from agenda_item where item_id = $1"#,
        item_id as _
    )
    .fetch_optional(conn)
    .await
}

/// One counter's entry of a paper vote's totals.
#[derive(Debug, Clone)]
pub struct PaperCount {
    pub item_id: ItemId,
    pub round: i32,
    pub counter_id: UserId,
    pub counter_name: String,
    pub yes: i32,
    pub no: i32,
    pub abstain: i32,
    pub entered_at: time::OffsetDateTime,
}

/// The entries of the paper votes of a meeting, by item, round and time.
pub async fn paper_counts(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<PaperCount>> {
    sqlx::query_as!(
        PaperCount,
        r#"select p.item_id as "item_id: _", p.round, p.counter_id as "counter_id: _",
                  u.name as counter_name, p.yes, p.no, p.abstain, p.entered_at
           from paper_count p join agenda_item i using (item_id)
           join app_user u on u.user_id = p.counter_id
           where i.meeting_id = $1
           order by i.position, p.round, p.entered_at"#,
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn enter_paper_count(
    conn: &mut PgConnection,
    item_id: ItemId,
    round: i32,
    counter: UserId,
    tally: [i32; 3],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into paper_count (item_id, round, counter_id, yes, no, abstain)
         values ($1, $2, $3, $4, $5, $6)",
        item_id as _,
        round,
        counter as _,
        tally[0],
        tally[1],
        tally[2]
    )
    .execute(conn)
    .await?;
    Ok(())
}
