use serde::Serialize;
use sqlx::PgConnection;

use crate::domain::ids::{PartyGroupId, SectionId};
use crate::domain::org::SectionKind;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Section {
    pub section_id: SectionId,
    pub name: String,
    /// `office` (综合科), `finance`, `legal`, `personnel`, `other`.
    #[schema(value_type = String)]
    pub kind: SectionKind,
    /// The party groups the section serves: its staff's roles reach these groups only.
    pub party_group_ids: Vec<PartyGroupId>,
}

pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<Section>> {
    sqlx::query_as!(
        Section,
        r#"select s.section_id as "section_id: _", s.name, s.kind as "kind: SectionKind",
                  array(select sp.party_group_id from section_party_group sp
                        where sp.section_id = s.section_id order by sp.party_group_id) as "party_group_ids!: _"
           from section s order by s.name collate "zh-x-icu""#
    )
    .fetch_all(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, section_id: SectionId) -> sqlx::Result<Option<Section>> {
    sqlx::query_as!(
        Section,
        r#"select s.section_id as "section_id: _", s.name, s.kind as "kind: SectionKind",
                  array(select sp.party_group_id from section_party_group sp
                        where sp.section_id = s.section_id order by sp.party_group_id) as "party_group_ids!: _"
           from section s where s.section_id = $1"#,
        section_id as _
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, section: &Section) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into section (section_id, name, kind) values ($1, $2, $3)",
        section.section_id as _,
        section.name,
        section.kind.as_str()
    )
    .execute(&mut *conn)
    .await?;
    set_groups(conn, section.section_id, &section.party_group_ids).await
}

/// Sets the name and the groups a section serves.
pub async fn update(conn: &mut PgConnection, section: &Section) -> sqlx::Result<()> {
    sqlx::query!(
        "update section set name = $2 where section_id = $1",
        section.section_id as _,
        section.name
    )
    .execute(&mut *conn)
    .await?;
    set_groups(conn, section.section_id, &section.party_group_ids).await
}

async fn set_groups(
    conn: &mut PgConnection,
    section_id: SectionId,
    groups: &[PartyGroupId],
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from section_party_group where section_id = $1",
        section_id as _
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into section_party_group (section_id, party_group_id)
         select $1, unnest($2::uuid[])",
        section_id as _,
        groups as _
    )
    .execute(conn)
    .await
    .map(drop)
}
