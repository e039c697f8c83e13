use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::domain::ids::{PartyGroupId, SectionId, UserId};
use crate::domain::role::Role;

/// A user as shown to the admin; never carries the password hash.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct User {
    pub user_id: UserId,
    pub login: String,
    pub name: String,
    pub section_id: Option<SectionId>,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<User>> {
    sqlx::query_as!(
        User,
        r#"select u.user_id as "user_id: _", u.login, u.name, u.section_id as "section_id: _", u.active, u.created_at,
                  array(select r.role from user_role r where r.user_id = u.user_id order by r.role) as "roles!: Vec<Role>"
           from app_user u order by u.name collate "zh-x-icu", u.login"#
    )
    .fetch_all(conn)
    .await
}

/// Whether the user is 综合科 of the group: the office role, in a section that serves it.
pub async fn is_office_of(
    conn: &mut PgConnection,
    user_id: UserId,
    party_group_id: PartyGroupId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (
               select 1 from app_user u
               join user_role r on r.user_id = u.user_id and r.role = 'office'
               join section_party_group sp on sp.section_id = u.section_id
               where u.user_id = $1 and u.active and sp.party_group_id = $2) as "office!""#,
        user_id as _,
        party_group_id as _
    )
    .fetch_one(conn)
    .await
}

/// Active 综合科 staff of any of `groups`, with the groups each serves.
pub async fn office_staff(
    conn: &mut PgConnection,
    groups: &[PartyGroupId],
) -> sqlx::Result<Vec<(User, Vec<PartyGroupId>)>> {
    let rows = sqlx::query!(
        r#"select u.user_id as "user_id: UserId", u.login, u.name, u.section_id as "section_id: SectionId", u.active, u.created_at,
                  array(select r.role from user_role r where r.user_id = u.user_id order by r.role) as "roles!: Vec<Role>",
                  array(select sp.party_group_id from section_party_group sp
                        where sp.section_id = u.section_id and sp.party_group_id = any($1))
                    as "groups!: Vec<PartyGroupId>"
           from app_user u
           where u.active
             and exists (select 1 from user_role r where r.user_id = u.user_id and r.role = 'office')
             and exists (select 1 from section_party_group sp
                         where sp.section_id = u.section_id and sp.party_group_id = any($1))
           order by u.name collate "zh-x-icu", u.login"#,
        groups as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                User {
                    user_id: r.user_id,
                    login: r.login,
                    name: r.name,
                    section_id: r.section_id,
                    roles: r.roles,
                    active: r.active,
                    created_at: r.created_at,
                },
                r.groups,
            )
        })
        .collect())
}

/// Loads a user, locking the row when `for_update` so a concurrent change waits.
pub async fn get(conn: &mut PgConnection, user_id: UserId) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"select u.user_id as "user_id: _", u.login, u.name, u.section_id as "section_id: _", u.active, u.created_at,
                  array(select r.role from user_role r where r.user_id = u.user_id order by r.role) as "roles!: Vec<Role>"
           from app_user u where u.user_id = $1 for update"#,
        user_id as _
    )
    .fetch_optional(conn)
    .await
}

pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from app_user"#)
        .fetch_one(conn)
        .await
}

/// Inserts an account; without a password hash (an imported account) nobody can sign in to
/// it until the admin issues a first password.
pub async fn insert(
    conn: &mut PgConnection,
    user: &User,
    password_hash: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into app_user (user_id, login, name, password_hash, section_id, active, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        user.user_id as _,
        user.login,
        user.name,
        password_hash,
        user.section_id as _,
        user.active,
        user.created_at
    )
    .execute(&mut *conn)
    .await?;
    set_roles(conn, user.user_id, &user.roles).await
}

/// Inserts imported accounts in one statement each for the accounts and their roles; none has
/// a password yet.
pub async fn insert_imported(
    conn: &mut PgConnection,
    users: &[User],
    emails: &[Option<String>],
) -> sqlx::Result<()> {
    let ids: Vec<UserId> = users.iter().map(|u| u.user_id).collect();
    let logins: Vec<&str> = users.iter().map(|u| u.login.as_str()).collect();
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    let sections: Vec<Option<SectionId>> = users.iter().map(|u| u.section_id).collect();
    let created: Vec<OffsetDateTime> = users.iter().map(|u| u.created_at).collect();
    sqlx::query!(
        "insert into app_user (user_id, login, name, section_id, email, active, created_at)
         select id, login, name, section_id, email, true, created_at
         from unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[],
                     $6::timestamptz[]) as u(id, login, name, section_id, email, created_at)",
        &ids as &[UserId],
        &logins as &[&str],
        &names as &[&str],
        &sections as &[Option<SectionId>],
        emails as &[Option<String>],
        &created
    )
    .execute(&mut *conn)
    .await?;
    let (holders, roles): (Vec<UserId>, Vec<&str>) = users
        .iter()
        .flat_map(|u| u.roles.iter().map(|r| (u.user_id, r.as_str())))
        .unzip();
    sqlx::query!(
        "insert into user_role (user_id, role) select * from unnest($1::uuid[], $2::text[])",
        &holders as &[UserId],
        &roles as &[&str]
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Saves name, section, active flag and roles of an existing user.
pub async fn update(conn: &mut PgConnection, user: &User) -> sqlx::Result<()> {
    sqlx::query!(
        "update app_user set name = $2, section_id = $3, active = $4, updated_at = now()
         where user_id = $1",
        user.user_id as _,
        user.name,
        user.section_id as _,
        user.active
    )
    .execute(&mut *conn)
    .await?;
    set_roles(conn, user.user_id, &user.roles).await
}

async fn set_roles(conn: &mut PgConnection, user_id: UserId, roles: &[Role]) -> sqlx::Result<()> {
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    sqlx::query!("delete from user_role where user_id = $1", user_id as _)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "insert into user_role (user_id, role) select $1, unnest($2::text[])",
        user_id as _,
        &roles as &[&str]
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Sets a password; `must_change` when someone other than its owner chose it (the admin's
/// reset), so the owner replaces it at the next sign-in.
pub async fn set_password_hash(
    conn: &mut PgConnection,
    user_id: UserId,
    password_hash: &str,
    must_change: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update app_user set password_hash = $2, must_change_password = $3, updated_at = now()
         where user_id = $1",
        user_id as _,
        password_hash,
        must_change
    )
    .execute(conn)
    .await
    .map(drop)
}

/// What sign-in needs to know about a login.
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: Option<String>,
    pub active: bool,
}

pub async fn credentials(
    conn: &mut PgConnection,
    login: &str,
) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as!(
        Credentials,
        r#"select user_id as "user_id: _", password_hash, active from app_user where login = $1"#,
        login
    )
    .fetch_optional(conn)
    .await
}

pub async fn password_hash(
    conn: &mut PgConnection,
    user_id: UserId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select password_hash from app_user where user_id = $1",
        user_id as _
    )
    .fetch_one(conn)
    .await
}

/// The section a user belongs to, and its kind, if any.
pub async fn section_of(
    conn: &mut PgConnection,
    user_id: UserId,
) -> sqlx::Result<Option<(SectionId, String)>> {
    let row = sqlx::query!(
        r#"select s.section_id as "section_id: SectionId", s.kind from app_user u join section s on s.section_id = u.section_id
         where u.user_id = $1"#,
        user_id as _
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.section_id, r.kind)))
}

/// A person's e-mail address and whether they want notifications by mail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MailSettings {
    pub email: Option<String>,
    pub mail_opt_out: bool,
}

pub async fn mail_settings(conn: &mut PgConnection, user_id: UserId) -> sqlx::Result<MailSettings> {
    sqlx::query_as!(
        MailSettings,
        "select email, mail_opt_out from app_user where user_id = $1",
        user_id as _
    )
    .fetch_one(conn)
    .await
}

pub async fn set_email(
    conn: &mut PgConnection,
    user_id: UserId,
    email: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update app_user set email = $2, updated_at = now() where user_id = $1",
        user_id as _,
        email
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn set_mail_opt_out(
    conn: &mut PgConnection,
    user_id: UserId,
    opt_out: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update app_user set mail_opt_out = $2, updated_at = now() where user_id = $1",
        user_id as _,
        opt_out
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Every account's e-mail address, for the roster export.
pub async fn emails(conn: &mut PgConnection) -> sqlx::Result<Vec<(UserId, String)>> {
    let rows = sqlx::query!(
        r#"select user_id as "user_id: UserId", email as "email!" from app_user where email is not null"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.email)).collect())
}

/// Whether the account has a password: imported ones have none until the admin issues one.
pub async fn without_password(conn: &mut PgConnection) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"select user_id as "user_id: UserId" from app_user where password_hash is null and active
           order by created_at, login"#
    )
    .fetch_all(conn)
    .await
}

/// Sets the first password of an account that has none; false when it has one by now.
pub async fn set_first_password(
    conn: &mut PgConnection,
    user_id: UserId,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update app_user set password_hash = $2, must_change_password = true, updated_at = now()
         where user_id = $1 and password_hash is null",
        user_id as _,
        password_hash
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
