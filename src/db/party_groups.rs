use serde::Serialize;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

use crate::domain::ids::{PartyGroupId, UserId};
use crate::domain::org::Position;
use crate::domain::settings::Settings;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyGroup {
    pub party_group_id: PartyGroupId,
    pub name: String,
}

/// A membership row: current when `ended_on` is empty, history otherwise.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Membership {
    pub membership_id: Uuid,
    pub party_group_id: PartyGroupId,
    pub party_group_name: String,
    pub user_id: UserId,
    pub login: String,
    pub name: String,
    #[schema(value_type = String)]
    pub position: Position,
    /// 分管 areas.
    pub areas: Vec<String>,
    #[serde(with = "super::iso_date")]
    pub started_on: Date,
    #[serde(with = "super::iso_date::option")]
    pub ended_on: Option<Date>,
}

pub async fn list_all(conn: &mut PgConnection) -> sqlx::Result<Vec<PartyGroup>> {
    sqlx::query_as!(
        PartyGroup,
        r#"select party_group_id as "party_group_id: _", name from party_group order by name collate "zh-x-icu""#
    )
    .fetch_all(conn)
    .await
}

/// The groups `user_id` is a current member of.
pub async fn list_for_member(
    conn: &mut PgConnection,
    user_id: UserId,
) -> sqlx::Result<Vec<PartyGroup>> {
    sqlx::query_as!(
        PartyGroup,
        r#"select g.party_group_id as "party_group_id: _", g.name from party_group g
           where exists (select 1 from membership m where m.party_group_id = g.party_group_id
                         and m.user_id = $1 and m.ended_on is null)
           order by g.name collate "zh-x-icu""#,
        user_id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn get(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Option<PartyGroup>> {
    sqlx::query_as!(
        PartyGroup,
        r#"select party_group_id as "party_group_id: _", name from party_group where party_group_id = $1"#,
        party_group_id as _
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, group: &PartyGroup) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into party_group (party_group_id, name) values ($1, $2)",
        group.party_group_id as _,
        group.name
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into party_group_setting (party_group_id) values ($1)",
        group.party_group_id as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// A group's settings, locked when `for_update` is true.
pub async fn settings(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    for_update: bool,
) -> sqlx::Result<Option<Settings>> {
    let row = if for_update {
        sqlx::query_as!(
            Settings,
            "select quorum_num, quorum_den, large_spend_fen, topic_lead_days, materials_lead_days
             from party_group_setting where party_group_id = $1 for update",
            party_group_id as _
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            Settings,
            "select quorum_num, quorum_den, large_spend_fen, topic_lead_days, materials_lead_days
             from party_group_setting where party_group_id = $1",
            party_group_id as _
        )
        .fetch_optional(conn)
        .await?
    };
    Ok(row)
}

pub async fn save_settings(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    s: &Settings,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update party_group_setting set quorum_num = $2, quorum_den = $3, large_spend_fen = $4,
             topic_lead_days = $5, materials_lead_days = $6, updated_at = now()
         where party_group_id = $1",
        party_group_id as _,
        s.quorum_num,
        s.quorum_den,
        s.large_spend_fen,
        s.topic_lead_days,
        s.materials_lead_days
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Memberships of a group, current ones first, then history, newest first.
pub async fn memberships(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Vec<Membership>> {
    sqlx::query_as!(
        Membership,
        r#"select m.membership_id, m.party_group_id as "party_group_id: _", g.name as party_group_name, m.user_id as "user_id: _",
                  u.login, u.name, m.position as "position: Position", m.areas, m.started_on, m.ended_on
           from membership m join app_user u using (user_id) join party_group g using (party_group_id)
           where m.party_group_id = $1
           order by (m.ended_on is null) desc,
                    array_position(array['secretary','deputy','member'], m.position),
                    u.name collate "zh-x-icu", m.started_on desc"#,
        party_group_id as _
    )
    .fetch_all(conn)
    .await
}

/// The current memberships of one person in every group.
pub async fn memberships_of_user(
    conn: &mut PgConnection,
    user_id: UserId,
) -> sqlx::Result<Vec<Membership>> {
    sqlx::query_as!(
        Membership,
        r#"select m.membership_id, m.party_group_id as "party_group_id: _", g.name as party_group_name, m.user_id as "user_id: _",
                  u.login, u.name, m.position as "position: Position", m.areas, m.started_on, m.ended_on
           from membership m join app_user u using (user_id) join party_group g using (party_group_id)
           where m.user_id = $1 and m.ended_on is null
           order by g.name collate "zh-x-icu""#,
        user_id as _
    )
    .fetch_all(conn)
    .await
}

/// The current membership of a person in a group, locked for the change that follows.
pub async fn current_membership(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    user_id: UserId,
) -> sqlx::Result<Option<Membership>> {
    sqlx::query_as!(
        Membership,
        r#"select m.membership_id, m.party_group_id as "party_group_id: _", g.name as party_group_name, m.user_id as "user_id: _",
                  u.login, u.name, m.position as "position: Position", m.areas, m.started_on, m.ended_on
           from membership m join app_user u using (user_id) join party_group g using (party_group_id)
           where m.party_group_id = $1 and m.user_id = $2 and m.ended_on is null
           for update of m"#,
        party_group_id as _,
        user_id as _
    )
    .fetch_optional(conn)
    .await
}

/// The position of a current member of the group; `None` for anyone else.
pub async fn current_position(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
    user_id: UserId,
) -> sqlx::Result<Option<Position>> {
    sqlx::query_scalar!(
        r#"select position as "position: Position" from membership
           where party_group_id = $1 and user_id = $2 and ended_on is null"#,
        party_group_id as _,
        user_id as _
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert_membership(conn: &mut PgConnection, m: &Membership) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into membership (membership_id, party_group_id, user_id, position, areas, started_on)
         values ($1, $2, $3, $4, $5, $6)",
        m.membership_id as _,
        m.party_group_id as _,
        m.user_id as _,
        m.position.as_str(),
        &m.areas,
        m.started_on
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn end_membership(
    conn: &mut PgConnection,
    membership_id: Uuid,
    ended_on: Date,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update membership set ended_on = $2 where membership_id = $1",
        membership_id as _,
        ended_on
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Locks the group's row, serialising what is numbered per group (its meetings).
pub async fn lock(conn: &mut PgConnection, party_group_id: PartyGroupId) -> sqlx::Result<()> {
    sqlx::query!(
        r#"select party_group_id as "party_group_id: PartyGroupId" from party_group where party_group_id = $1 for update"#,
        party_group_id as _
    )
    .fetch_optional(conn)
    .await
    .map(drop)
}

/// When the group was set up in the system: its calendar duties count from then.
pub async fn created_at(
    conn: &mut PgConnection,
    party_group_id: PartyGroupId,
) -> sqlx::Result<Option<time::OffsetDateTime>> {
    sqlx::query_scalar!(
        "select created_at from party_group where party_group_id = $1",
        party_group_id as _
    )
    .fetch_optional(conn)
    .await
}
