use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::ids::{TopicId, UserId};
use crate::domain::topic::Classification;

/// A material without its bytes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialInfo {
    pub material_id: Uuid,
    pub topic_id: TopicId,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// sha256 of the content, hex.
    pub sha256: String,
    #[schema(value_type = String)]
    pub classification: Classification,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// Set when the file is the attachment of a prerequisite record of that kind.
    pub prerequisite_kind: Option<String>,
}

/// The bytes of a material are stored in chunks of this size (the last one shorter).
pub const CHUNK: usize = 256 * 1024;

pub struct NewMaterial<'a> {
    pub material_id: Uuid,
    pub topic_id: TopicId,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a [u8],
    pub classification: Classification,
    pub uploaded_by: UserId,
    pub prerequisite_kind: Option<&'a str>,
}

/// One chunk of a material being uploaded; the material row follows in the same transaction.
pub async fn insert_chunk(
    conn: &mut PgConnection,
    material_id: Uuid,
    n: i32,
    data: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into material_chunk (material_id, n, data) values ($1, $2, $3)",
        material_id as _,
        n,
        data
    )
    .execute(conn)
    .await
    .map(drop)
}

/// The `n`th chunk of a material; `None` past the last.
pub async fn chunk(
    conn: &mut PgConnection,
    material_id: Uuid,
    n: i32,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar!(
        "select data from material_chunk where material_id = $1 and n = $2",
        material_id as _,
        n
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, m: &NewMaterial<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into material (material_id, topic_id, file_name, content_type, size_bytes, sha256,
             classification, uploaded_by, prerequisite_kind)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        m.material_id as _,
        m.topic_id as _,
        m.file_name,
        m.content_type,
        m.size_bytes,
        m.sha256,
        m.classification.as_str(),
        m.uploaded_by as _,
        m.prerequisite_kind
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn list(conn: &mut PgConnection, topic_id: TopicId) -> sqlx::Result<Vec<MaterialInfo>> {
    let rows = sqlx::query!(
        r#"select material_id, topic_id as "topic_id: TopicId", file_name, content_type, size_bytes, sha256,
                  classification as "classification: Classification", uploaded_at,
                  prerequisite_kind
           from material where topic_id = $1 order by uploaded_at, material_id"#,
        topic_id as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MaterialInfo {
            material_id: r.material_id,
            topic_id: r.topic_id,
            file_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: hex::encode(r.sha256),
            classification: r.classification,
            uploaded_at: r.uploaded_at,
            prerequisite_kind: r.prerequisite_kind,
        })
        .collect())
}

/// A material's name, content type, classification and size (its bytes are its chunks).
pub struct MaterialFile {
    pub file_name: String,
    pub content_type: String,
    pub classification: Classification,
    pub size_bytes: i64,
}

pub async fn file(
    conn: &mut PgConnection,
    topic_id: TopicId,
    material_id: Uuid,
) -> sqlx::Result<Option<MaterialFile>> {
    sqlx::query_as!(
        MaterialFile,
        r#"select file_name, content_type, classification as "classification: Classification",
                  size_bytes from material
         where topic_id = $1 and material_id = $2"#,
        topic_id as _,
        material_id as _
    )
    .fetch_optional(conn)
    .await
}
