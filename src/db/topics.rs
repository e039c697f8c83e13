use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A topic as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Topic {
    pub topic_id: Uuid,
    pub party_group_id: Uuid,
    pub proposer_id: Uuid,
    pub responsible_user_id: Uuid,
    pub sponsor_section_id: Option<Uuid>,
    pub title: String,
    /// 第十一条 category, 1–33.
    pub category: i16,
    pub content: String,
    pub matters_to_decide: String,
    pub consultation_opinions: String,
    pub amount_fen: Option<i64>,
    pub is_major_policy: bool,
    pub is_technical: bool,
    pub is_public_interest: bool,
    pub is_procurement: bool,
    pub procurement_ref: Option<String>,
    pub cadre_name: Option<String>,
    /// `none`, `internal`, `secret`.
    pub classification: String,
    /// `draft`, `submitted`, `returned`, `withdrawn`, `scheduled`.
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

pub async fn insert(conn: &mut PgConnection, t: &Topic) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into topic (topic_id, party_group_id, proposer_id, responsible_user_id,
             sponsor_section_id, title, category, content, matters_to_decide,
             consultation_opinions, amount_fen, is_major_policy, is_technical, is_public_interest,
             is_procurement, procurement_ref, cadre_name, classification, status, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20)",
        t.topic_id,
        t.party_group_id,
        t.proposer_id,
        t.responsible_user_id,
        t.sponsor_section_id,
        t.title,
        t.category,
        t.content,
        t.matters_to_decide,
        t.consultation_opinions,
        t.amount_fen,
        t.is_major_policy,
        t.is_technical,
        t.is_public_interest,
        t.is_procurement,
        t.procurement_ref,
        t.cadre_name,
        t.classification,
        t.status,
        t.created_at
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn get(conn: &mut PgConnection, topic_id: Uuid) -> sqlx::Result<Option<Topic>> {
    sqlx::query_as!(
        Topic,
        "select topic_id, party_group_id, proposer_id, responsible_user_id, sponsor_section_id,
                title, category, content, matters_to_decide, consultation_opinions, amount_fen,
                is_major_policy, is_technical, is_public_interest, is_procurement, procurement_ref,
                cadre_name, classification, status, created_at
         from topic where topic_id = $1",
        topic_id
    )
    .fetch_optional(conn)
    .await
}

/// Topics a person proposed or is named on as the 分管 leader, newest first.
pub async fn list_for_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<Topic>> {
    sqlx::query_as!(
        Topic,
        "select topic_id, party_group_id, proposer_id, responsible_user_id, sponsor_section_id,
                title, category, content, matters_to_decide, consultation_opinions, amount_fen,
                is_major_policy, is_technical, is_public_interest, is_procurement, procurement_ref,
                cadre_name, classification, status, created_at
         from topic where proposer_id = $1 or responsible_user_id = $1
         order by created_at desc, topic_id desc",
        user_id
    )
    .fetch_all(conn)
    .await
}
