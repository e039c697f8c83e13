use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A material without its bytes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialInfo {
    pub material_id: Uuid,
    pub topic_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// sha256 of the content, hex.
    pub sha256: String,
    /// `none`, `internal`, `secret`.
    pub classification: String,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// Set when the file is the attachment of a prerequisite record of that kind.
    pub prerequisite_kind: Option<String>,
}

pub struct NewMaterial<'a> {
    pub material_id: Uuid,
    pub topic_id: Uuid,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub sha256: &'a [u8],
    pub classification: &'a str,
    pub data: &'a [u8],
    pub uploaded_by: Uuid,
    pub prerequisite_kind: Option<&'a str>,
}

pub async fn insert(conn: &mut PgConnection, m: &NewMaterial<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into material (material_id, topic_id, file_name, content_type, size_bytes, sha256,
             classification, data, uploaded_by, prerequisite_kind)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        m.material_id,
        m.topic_id,
        m.file_name,
        m.content_type,
        m.data.len() as i64,
        m.sha256,
        m.classification,
        m.data,
        m.uploaded_by,
        m.prerequisite_kind
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn list(conn: &mut PgConnection, topic_id: Uuid) -> sqlx::Result<Vec<MaterialInfo>> {
    let rows = sqlx::query!(
        "select material_id, topic_id, file_name, content_type, size_bytes, sha256,
                classification, uploaded_at, prerequisite_kind
         from material where topic_id = $1 order by uploaded_at, material_id",
        topic_id
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

/// A material's content type, name, classification and bytes.
pub struct MaterialFile {
    pub file_name: String,
    pub content_type: String,
    pub classification: String,
    pub data: Vec<u8>,
}

pub async fn file(
    conn: &mut PgConnection,
    topic_id: Uuid,
    material_id: Uuid,
) -> sqlx::Result<Option<MaterialFile>> {
    sqlx::query_as!(
        MaterialFile,
        "select file_name, content_type, classification, data from material
         where topic_id = $1 and material_id = $2",
        topic_id,
        material_id
    )
    .fetch_optional(conn)
    .await
}
