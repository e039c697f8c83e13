//! Circulation review of documents in the group's name (R-PUBLICATION): the document, each
//! member's sign-off, publication.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::ids::{PartyGroupId, UserId};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Circulation {
    pub circulation_id: Uuid,
    pub party_group_id: PartyGroupId,
    pub title: String,
    pub body: String,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
}

pub async fn insert_circulation(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    title: &str,
    body: &str,
    by: UserId,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "insert into circulation (circulation_id, party_group_id, title, body, created_by)
         values ($1, $2, $3, $4, $5)",
        id,
        party_group_id as _,
        title,
        body,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn circulation(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Circulation>> {
    optional_row!(
        conn,
        lock,
        Circulation,
        r#"select circulation_id, party_group_id as "party_group_id: _", title, body,
                        created_by as "created_by: _", created_at, published_at
                 from circulation where circulation_id = $1"#,
        id
    )
}

pub async fn circulations(
    conn: &mut PgConnection,
    party_group_ids: &[PartyGroupId],
) -> sqlx::Result<Vec<Circulation>> {
    sqlx::query_as!(
        Circulation,
        r#"select circulation_id, party_group_id as "party_group_id: _", title, body, created_by as "created_by: _", created_at, published_at
         from circulation where party_group_id = any($1) order by created_at desc limit 200"#,
        party_group_ids as _
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Signoff {
    pub user_id: UserId,
    pub name: String,
    pub approved: bool,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

pub async fn signoffs(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<Signoff>> {
    sqlx::query_as!(
        Signoff,
        r#"select s.user_id as "user_id: _", u.name, s.approved, s.comment, s.signed_at
         from circulation_signoff s join app_user u using (user_id)
         where s.circulation_id = $1 order by s.signed_at"#,
        id
    )
    .fetch_all(conn)
    .await
}

/// Records (or replaces, before publication) a member's sign-off or comment.
pub async fn sign_circulation(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: UserId,
    approved: bool,
    comment: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into circulation_signoff (circulation_id, user_id, approved, comment)
         values ($1, $2, $3, $4)
         on conflict (circulation_id, user_id)
         do update set approved = $3, comment = $4, signed_at = now()",
        id,
        user_id as _,
        approved,
        comment
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn publish_circulation(
    conn: &mut PgConnection,
    id: Uuid,
    by: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update circulation set published_at = now(), published_by = $2 where circulation_id = $1",
        id,
        by as _
    )
    .execute(conn)
    .await
    .map(drop)
}
