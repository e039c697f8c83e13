use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Section {
    pub section_id: Uuid,
    pub name: String,
    /// `office` (综合科), `finance`, `legal`, `personnel`, `other`.
    pub kind: String,
}

pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<Section>> {
    sqlx::query_as!(
        Section,
        r#"select section_id, name, kind from section order by name collate "zh-x-icu""#
    )
    .fetch_all(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, section_id: Uuid) -> sqlx::Result<Option<Section>> {
    sqlx::query_as!(
        Section,
        "select section_id, name, kind from section where section_id = $1",
        section_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, section: &Section) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into section (section_id, name, kind) values ($1, $2, $3)",
        section.section_id,
        section.name,
        section.kind
    )
    .execute(conn)
    .await
    .map(drop)
}
