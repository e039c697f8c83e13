//! On-the-spot disposals (R-EMERGENCY): recorded, and reported to the group's next meeting.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::ids::{MeetingId, PartyGroupId, UserId};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Emergency {
    pub emergency_id: Uuid,
    pub party_group_id: PartyGroupId,
    pub title: String,
    pub action_taken: String,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub recorded_by: UserId,
    pub recorded_by_name: String,
    /// The meeting it is reported to.
    pub meeting_id: Option<MeetingId>,
}

pub struct NewEmergency<'a> {
    pub party_group_id: PartyGroupId,
    pub title: &'a str,
    pub action_taken: &'a str,
    pub occurred_at: OffsetDateTime,
    pub recorded_by: UserId,
}

/// Records the disposal and puts it on the group's next meeting whose notice is not yet out;
/// returns the id and that meeting, if one is scheduled.
pub async fn record_emergency(
    conn: &mut PgConnection,
    e: &NewEmergency<'_>,
) -> sqlx::Result<(Uuid, Option<MeetingId>)> {
    let id = Uuid::now_v7();
    let meeting = sqlx::query_scalar!(
        r#"insert into emergency (emergency_id, party_group_id, title, action_taken, occurred_at,
             recorded_by, meeting_id)
         values ($1, $2, $3, $4, $5, $6,
                 (select meeting_id from meeting where party_group_id = $2 and status = 'draft'
                  order by starts_at, meeting_id limit 1))
         returning meeting_id as "meeting_id: MeetingId""#,
        id,
        e.party_group_id as _,
        e.title,
        e.action_taken,
        e.occurred_at,
        e.recorded_by as _
    )
    .fetch_one(conn)
    .await?;
    Ok((id, meeting))
}

/// Puts every disposal not yet on a meeting onto this new meeting; returns how many.
pub async fn adopt_emergencies(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    meeting_id: MeetingId,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update emergency set meeting_id = $2 where party_group_id = $1 and meeting_id is null",
        party_group_id as _,
        meeting_id as _
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

macro_rules! emergency_select {
    ($rest:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            Emergency,
            r#"select e.emergency_id, e.party_group_id as "party_group_id: _", e.title, e.action_taken, e.occurred_at,
                    e.recorded_by as "recorded_by: _", u.name as recorded_by_name, e.meeting_id as "meeting_id: _"
             from emergency e join app_user u on u.user_id = e.recorded_by "# + $rest
            $(, $arg)*
        )
    };
}

pub async fn emergencies_of_meeting(
    conn: &mut PgConnection,
    meeting_id: MeetingId,
) -> sqlx::Result<Vec<Emergency>> {
    emergency_select!(
        "where e.meeting_id = $1 order by e.occurred_at, e.emergency_id",
        meeting_id as _
    )
    .fetch_all(conn)
    .await
}

/// Disposals of a group not yet reported at a held (closed) meeting.
pub async fn emergencies_pending(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Vec<Emergency>> {
    emergency_select!(
        "where e.party_group_id = $1 and (e.meeting_id is null or exists (
             select 1 from meeting m where m.meeting_id = e.meeting_id and m.status <> 'closed'))
         order by e.occurred_at, e.emergency_id",
        party_group_id as _
    )
    .fetch_all(conn)
    .await
}
