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
        // Someone with an address who has not opted out also gets it by mail (`app::mail`).
        "with sent as (
             insert into notification (notification_id, user_id, text, link, mail_pending)
             select id, r, $3, $4, u.email is not null and not u.mail_opt_out
             from unnest($1::uuid[], $2::uuid[]) as x(id, r) join app_user u on u.user_id = r
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

/// A notification waiting to go by mail, with its recipient.
pub struct PendingMail {
    pub notification_id: Uuid,
    pub link: String,
    pub name: String,
    pub email: Option<String>,
    pub mail_opt_out: bool,
}

/// A notification waiting longer than a day for the mailer is no longer news (or no mail
/// server is configured): it stays in the app only.
pub async fn expire_mail(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!(
        "update notification set mail_pending = false, mail_error = 'expired'
         where mail_pending and created_at < now() - interval '1 day'"
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Takes the oldest notification waiting for the mailer, locked so that another instance's
/// mailer skips it; `None` when none waits.
pub async fn next_pending_mail(conn: &mut PgConnection) -> sqlx::Result<Option<PendingMail>> {
    sqlx::query_as!(
        PendingMail,
        "select n.notification_id, n.link, u.name, u.email,
                u.mail_opt_out
         from notification n join app_user u on u.user_id = n.user_id
         where n.mail_pending order by n.created_at limit 1
         for update of n skip locked"
    )
    .fetch_optional(conn)
    .await
}

/// The mailer is done with a notification: sent (`error` none), or given up on.
pub async fn mail_done(
    conn: &mut PgConnection,
    notification_id: Uuid,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update notification set mail_pending = false, mail_error = $2,
             mailed_at = case when $2::text is null then now() end
         where notification_id = $1",
        notification_id,
        error
    )
    .execute(conn)
    .await
    .map(drop)
}

/// A failed attempt, to be tried again later.
pub async fn mail_failed(
    conn: &mut PgConnection,
    notification_id: Uuid,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update notification set mail_attempts = mail_attempts + 1, mail_error = $2
         where notification_id = $1",
        notification_id,
        error
    )
    .execute(conn)
    .await
    .map(drop)
}

/// What a mail may say of a meeting: its title, start and place, and whether a secret topic
/// is on its agenda.
pub async fn meeting_facts(
    conn: &mut PgConnection,
    meeting_id: Uuid,
) -> sqlx::Result<Option<(String, OffsetDateTime, String, bool)>> {
    let row = sqlx::query!(
        r#"select m.title, m.starts_at, m.place,
                  exists (select 1 from agenda_item i join topic t on t.topic_id = i.topic_id
                          where i.meeting_id = m.meeting_id and t.classification = 'secret')
                    as "secret_topic!"
           from meeting m where m.meeting_id = $1"#,
        meeting_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.title, r.starts_at, r.place, r.secret_topic)))
}
