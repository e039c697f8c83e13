//! In-app notifications: a list per person with an unread count.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::ids::UserId;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub notification_id: Uuid,
    pub text: String,
    /// The page it is about.
    pub link: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

/// Sends the same notification to each of `recipients`.
pub async fn send(
    conn: &mut PgConnection,
    recipients: &[UserId],
    text: &str,
    link: &str,
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = recipients.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query!(
        // Each recipient's unread count changes: their cached sessions are read again.
        "with sent as (
             insert into notification (notification_id, user_id, text, link)
             select id, r, $3, $4 from unnest($1::uuid[], $2::uuid[]) as x(id, r)
             returning user_id)
         select pg_notify($5, 'unread:' || user_id::text) from (select distinct user_id from sent) u",
        &ids,
        recipients as _,
        text,
        link,
        super::sessions::ENDED_CHANNEL
    )
    .execute(conn)
    .await
    .map(drop)
}

/// The latest notifications of a person.
pub async fn list(conn: &mut PgConnection, user_id: UserId) -> sqlx::Result<Vec<Notification>> {
    sqlx::query_as!(
        Notification,
        "select notification_id, text, link, created_at, read_at from notification
         where user_id = $1 order by created_at desc, notification_id limit 200",
        user_id as _
    )
    .fetch_all(conn)
    .await
}

/// Marks every notification of a person read.
pub async fn mark_read(conn: &mut PgConnection, user_id: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "with read as (
             update notification set read_at = now() where user_id = $1 and read_at is null)
         select pg_notify($2, 'unread:' || $1::uuid::text)",
        user_id as _,
        super::sessions::ENDED_CHANNEL
    )
    .execute(conn)
    .await
    .map(drop)
}
