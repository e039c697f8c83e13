//! Uploaded rosters (`roster_import`): the file from its preview until it is applied.

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::ids::UserId;

pub struct RosterImport {
    pub import_id: Uuid,
    pub uploaded_by: UserId,
    pub uploaded_at: OffsetDateTime,
    pub file_name: String,
    /// `None` once applied.
    pub content: Option<Vec<u8>>,
    pub previewed: Value,
    pub applied_at: Option<OffsetDateTime>,
    pub people_created: Option<i32>,
    pub members_created: Option<i32>,
}

/// Keeps an upload; uploads never applied are dropped after a day.
pub async fn insert(
    conn: &mut PgConnection,
    import_id: Uuid,
    uploaded_by: UserId,
    file_name: &str,
    content: &[u8],
    previewed: &Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from roster_import where applied_at is null and uploaded_at < now() - interval '1 day'"
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into roster_import (import_id, uploaded_by, file_name, content, previewed)
         values ($1, $2, $3, $4, $5)",
        import_id,
        uploaded_by as _,
        file_name,
        content,
        previewed
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Loads an upload, locking it when `for_update` so that two applies queue.
pub async fn get(
    conn: &mut PgConnection,
    import_id: Uuid,
    for_update: bool,
) -> sqlx::Result<Option<RosterImport>> {
    optional_row!(
        conn,
        for_update,
        RosterImport,
        r#"select import_id, uploaded_by as "uploaded_by: _", uploaded_at, file_name, content,
                  previewed, applied_at, people_created, members_created
           from roster_import where import_id = $1"#,
        import_id
    )
}

/// What the preview shows now, when a second check found the rows changed.
pub async fn set_previewed(
    conn: &mut PgConnection,
    import_id: Uuid,
    previewed: &Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update roster_import set previewed = $2 where import_id = $1",
        import_id,
        previewed
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Marks an upload applied; its file is no longer kept.
pub async fn mark_applied(
    conn: &mut PgConnection,
    import_id: Uuid,
    people: i32,
    members: i32,
) -> sqlx::Result<OffsetDateTime> {
    sqlx::query_scalar!(
        "update roster_import set applied_at = now(), content = null, people_created = $2,
             members_created = $3
         where import_id = $1 returning applied_at as \"applied_at!\"",
        import_id,
        people,
        members
    )
    .fetch_one(conn)
    .await
}
