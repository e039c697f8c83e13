//! Sections (科室) and user accounts, managed by the admin (三员分立: roles kept apart).

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::app::error::{AppError, FieldError};
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::auth::password;
use crate::db::party_groups::PartyGroup;
use crate::db::{self, sections::Section, users::User, violated_constraint};
use crate::domain::account::{
    Login, NewPassword, check_may_join_group, check_role_separation, parse_email, parse_name,
};
use crate::domain::authz::Action;
use crate::domain::ids::{PartyGroupId, SectionId, UserId};
use crate::domain::org::{Area, SectionKind, check_four_not};
use crate::domain::role::Role;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewSection {
    #[serde(default)]
    pub name: String,
    /// `office` (综合科), `finance`, `legal`, `personnel`, `other`.
    #[serde(default)]
    pub kind: String,
    /// The party groups it serves (its staff's roles reach these only); left out, every group
    /// there is now.
    pub party_group_ids: Option<Vec<String>>,
}

/// Changes to a section; absent fields stay as they are.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct SectionChange {
    pub name: Option<String>,
    pub party_group_ids: Option<Vec<String>>,
}

/// Checks that each id names a party group.
pub async fn parse_groups(
    conn: &mut sqlx::PgConnection,
    raw: &[String],
) -> Result<Result<Vec<PartyGroupId>, FieldError>, AppError> {
    let all: Vec<PartyGroupId> = db::party_groups::list_all(conn)
        .await?
        .into_iter()
        .map(|g| g.party_group_id)
        .collect();
    let mut ids = Vec::with_capacity(raw.len());
    for r in raw {
        match PartyGroupId::parse(r) {
            Ok(id) if all.contains(&id) => ids.push(id),
            _ => return Ok(Err(FieldError::new("party_group_ids", "党组不存在"))),
        }
    }
    ids.sort();
    ids.dedup();
    Ok(Ok(ids))
}

pub async fn create_section(
    state: &Services,
    user: &CurrentUser,
    input: NewSection,
) -> Result<Section, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut errors = Vec::new();
    let name = parse_name(&input.name, 100).map_err(|m| errors.push(FieldError::new("name", m)));
    let kind = SectionKind::parse(&input.kind).ok_or_else(|| {
        errors.push(FieldError::new(
            "kind",
            "须为 office、finance、legal、personnel 或 other",
        ))
    });
    let mut tx = state.pool.begin().await?;
    let groups = match &input.party_group_ids {
        Some(raw) => parse_groups(&mut tx, raw)
            .await?
            .map_err(|e| errors.push(e)),
        None => Ok(db::party_groups::list_all(&mut tx)
            .await?
            .into_iter()
            .map(|g| g.party_group_id)
            .collect()),
    };
    let (Ok(name), Ok(kind), Ok(party_group_ids)) = (name, kind, groups) else {
        return Err(AppError::Invalid(errors));
    };
    let section = Section {
        section_id: SectionId::new(),
        name,
        kind,
        party_group_ids,
    };
    if let Err(e) = db::sections::insert(&mut tx, &section).await {
        return Err(match violated_constraint(&e) {
            Some("section_name_key") => AppError::invalid("name", "已有同名科室"),
            _ => e.into(),
        });
    }
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "section.create", "section")
                .entity(section.section_id)
                .after(&section),
        )
        .await?;
    Ok(section)
}

/// Renames a section or changes the party groups it serves.
pub async fn update_section(
    state: &Services,
    user: &CurrentUser,
    id: SectionId,
    change: SectionChange,
) -> Result<Section, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut tx = state.pool.begin().await?;
    let before = db::sections::get(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut after = before.clone();
    if let Some(name) = &change.name {
        after.name = parse_name(name, 100).map_err(|m| AppError::invalid("name", m))?;
    }
    if let Some(raw) = &change.party_group_ids {
        after.party_group_ids = parse_groups(&mut tx, raw)
            .await?
            .map_err(|e| AppError::Invalid(vec![e]))?;
    }
    if let Err(e) = db::sections::update(&mut tx, &after).await {
        return Err(match violated_constraint(&e) {
            Some("section_name_key") => AppError::invalid("name", "已有同名科室"),
            _ => e.into(),
        });
    }
    // The section's staff reach other groups now: their open screens reconnect.
    for u in db::users::list(&mut tx).await? {
        if u.section_id == Some(id) {
            db::sessions::notify_user_changed(&mut tx, u.user_id).await?;
        }
    }
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "section.update", "section")
                .entity(id)
                .before(&before)
                .after(&after),
        )
        .await?;
    state.sessions.clear();
    state.live.changed_all();
    Ok(after)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub password: String,
    pub section_id: Option<String>,
    /// `admin`, `office`, `discipline`, `counsel`, `leader`, `director`, `section_head`, `staff`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct UserChange {
    pub name: Option<String>,
    /// A section id, or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub section_id: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    /// `false` deactivates the account and ends its sessions.
    pub active: Option<bool>,
    /// A new password set by the admin.
    pub password: Option<String>,
    /// The address notifications are mailed to; empty for none.
    pub email: Option<String>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Checks that an optional section id names a section.
pub async fn parse_section(
    state: &Services,
    raw: Option<&str>,
) -> Result<Option<SectionId>, FieldError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let unknown = || FieldError::new("section_id", "科室不存在");
    let id = SectionId::parse(raw).map_err(|_| unknown())?;
    let mut conn = state.pool.acquire().await.map_err(|_| unknown())?;
    match db::sections::get(&mut conn, id).await {
        Ok(Some(_)) => Ok(Some(id)),
        _ => Err(unknown()),
    }
}

pub async fn create_user(
    state: &Services,
    user: &CurrentUser,
    input: NewUser,
) -> Result<User, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut errors = Vec::new();
    let login = Login::parse(&input.login).map_err(|m| errors.push(FieldError::new("login", m)));
    let name = parse_name(&input.name, 50).map_err(|m| errors.push(FieldError::new("name", m)));
    let password = NewPassword::parse(&input.password)
        .map_err(|m| errors.push(FieldError::new("password", m)));
    let roles =
        Role::parse_list(&input.roles).map_err(|m| errors.push(FieldError::new("roles", m)));
    let section = parse_section(state, input.section_id.as_deref())
        .await
        .map_err(|e| errors.push(e));
    let (Ok(login), Ok(name), Ok(password), Ok(roles), Ok(section_id)) =
        (login, name, password, roles, section)
    else {
        return Err(AppError::Invalid(errors));
    };
    check_role_separation(&roles).map_err(|m| AppError::invalid("roles", m))?;
    let hash = password::hash(password.expose().to_owned()).await?;
    let new = User {
        user_id: UserId::new(),
        login: login.as_str().to_owned(),
        name,
        section_id,
        roles: roles.clone(),
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    let mut tx = state.pool.begin().await?;
    if let Err(e) = db::users::insert(&mut tx, &new, Some(&hash)).await {
        return Err(match violated_constraint(&e) {
            Some("app_user_login_key") => AppError::invalid("login", "该登录名已被使用"),
            _ => e.into(),
        });
    }
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "user.create", "user")
                .entity(new.user_id)
                .after(&new),
        )
        .await?;
    Ok(new)
}

pub async fn update_user(
    state: &Services,
    actor: &CurrentUser,
    user_id: UserId,
    change: UserChange,
) -> Result<User, AppError> {
    actor.can(Action::ManageOrganisation)?;
    let mut errors = Vec::new();
    let name = change
        .name
        .as_deref()
        .map(|n| parse_name(n, 50))
        .transpose()
        .map_err(|m| errors.push(FieldError::new("name", m)));
    let roles = change
        .roles
        .as_deref()
        .map(Role::parse_list)
        .transpose()
        .map_err(|m| errors.push(FieldError::new("roles", m)));
    let password = change
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(NewPassword::parse)
        .transpose()
        .map_err(|m| errors.push(FieldError::new("password", m)));
    let section = match &change.section_id {
        None => Ok(None),
        Some(raw) => parse_section(state, raw.as_deref())
            .await
            .map(Some)
            .map_err(|e| errors.push(e)),
    };
    let email = match change.email.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(e) => parse_email(e)
            .map(|e| Some(Some(e)))
            .map_err(|m| errors.push(FieldError::new("email", m))),
    };
    let (Ok(name), Ok(roles), Ok(password), Ok(section), Ok(email)) =
        (name, roles, password, section, email)
    else {
        return Err(AppError::Invalid(errors));
    };
    if let Some(roles) = &roles {
        check_role_separation(roles).map_err(|m| AppError::invalid("roles", m))?;
    }
    if user_id == actor.user_id {
        if change.active == Some(false) {
            return Err(AppError::invalid("active", "不能停用自己的账号"));
        }
        if roles
            .as_ref()
            .is_some_and(|r| r.as_slice() != [Role::Admin])
        {
            return Err(AppError::invalid("roles", "不能改变自己的角色(三员分立)"));
        }
        if password.is_some() {
            return Err(AppError::invalid(
                "password",
                "请在“修改密码”中修改自己的密码",
            ));
        }
    }
    let hash = match &password {
        Some(p) => Some(password::hash(p.expose().to_owned()).await?),
        None => None,
    };

    let mut tx = state.pool.begin().await?;
    let before = db::users::get(&mut tx, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut after = before.clone();
    if let Some(name) = name {
        after.name = name;
    }
    if let Some(section_id) = section {
        after.section_id = section_id;
    }
    if let Some(active) = change.active {
        after.active = active;
    }
    if let Some(roles) = &roles {
        after.roles = roles.clone();
        let memberships = db::party_groups::memberships_of_user(&mut tx, user_id).await?;
        if !memberships.is_empty() {
            check_may_join_group(roles).map_err(|m| AppError::invalid("roles", m))?;
        }
        // R-FOUR-NOT: becoming 局长 is refused while holding one of the four areas.
        for m in memberships {
            let areas = Area::parse_list(&m.areas).map_err(anyhow::Error::msg)?;
            check_four_not(Some(m.position), roles, &areas)?;
        }
    }
    db::users::update(&mut tx, &after).await?;
    let email_before = db::users::mail_settings(&mut tx, user_id).await?.email;
    if let Some(email) = &email {
        db::users::set_email(&mut tx, user_id, email.as_deref()).await?;
    }
    if let Some(hash) = &hash {
        // 三员分立: the admin knows this password; its owner must replace it, and is told.
        db::users::set_password_hash(&mut tx, user_id, hash, true).await?;
        db::notifications::send(
            &mut tx,
            &[user_id],
            "您的密码已被系统管理员重置,所有登录已退出;下次登录须先设置新密码。如非本人申请,请告知派驻纪检组。",
            "/me/password",
        )
        .await?;
    }
    if !after.active || hash.is_some() {
        db::sessions::delete_for_user(&mut tx, user_id, None).await?;
    } else {
        // Their sessions are read again (name, roles); open screens reconnect under the new
        // roles.
        db::sessions::notify_user_changed(&mut tx, user_id).await?;
    }
    let mut entry = Change::new(Chain::Org, "user.update", "user")
        .entity(user_id)
        .before(&before)
        .after(&after);
    if hash.is_some() {
        // Record that the password was reset, never the password or its hash.
        entry.after = Some(serde_json::json!({ "user": after, "password_reset": true }));
    }
    if let Some(email) = email.filter(|e| *e != email_before) {
        if let Some(serde_json::Value::Object(b)) = entry.before.as_mut() {
            b.insert("email".into(), serde_json::json!(email_before));
        }
        if let Some(serde_json::Value::Object(a)) = entry.after.as_mut() {
            a.insert("email".into(), serde_json::json!(email));
        }
    }
    state.commit(tx, actor, entry).await?;
    state.sessions.forget_user(user_id);
    state.live.changed_all();
    Ok(after)
}

/// Every section, and the groups a section may serve.
pub async fn sections(
    state: &Services,
    user: &CurrentUser,
) -> Result<(Vec<Section>, Vec<PartyGroup>), AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut conn = state.pool.acquire().await?;
    Ok((
        db::sections::list(&mut conn).await?,
        db::party_groups::list_all(&mut conn).await?,
    ))
}

/// Every account.
pub async fn users(state: &Services, user: &CurrentUser) -> Result<Vec<User>, AppError> {
    user.can(Action::ManageOrganisation)?;
    Ok(db::users::list(&mut *state.pool.acquire().await?).await?)
}

/// One account.
pub async fn user(state: &Services, actor: &CurrentUser, id: UserId) -> Result<User, AppError> {
    actor.can(Action::ManageOrganisation)?;
    db::users::get(&mut *state.pool.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// An account's mail address.
pub async fn email_of(
    state: &Services,
    actor: &CurrentUser,
    id: UserId,
) -> Result<Option<String>, AppError> {
    actor.can(Action::ManageOrganisation)?;
    Ok(
        db::users::mail_settings(&mut *state.pool.acquire().await?, id)
            .await?
            .email,
    )
}

/// Active accounts without a password (imported ones before their first password is issued).
pub async fn without_password(
    state: &Services,
    user: &CurrentUser,
) -> Result<Vec<UserId>, AppError> {
    user.can(Action::ManageOrganisation)?;
    Ok(db::users::without_password(&mut *state.pool.acquire().await?).await?)
}

/// A first password, shown to the admin once to hand over on paper; its owner replaces it at
/// the first sign-in.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FirstPassword {
    pub user_id: UserId,
    pub login: String,
    pub name: String,
    pub password: String,
}

/// How many first passwords one request issues: each is hashed with the full argon2id cost,
/// about a second for all of them on two cores.
pub const FIRST_PASSWORDS_AT_ONCE: usize = 50;

/// Issues first passwords to active accounts that have none, up to `FIRST_PASSWORDS_AT_ONCE`;
/// the passwords are returned once and kept only as hashes.
pub async fn issue_first_passwords(
    state: &Services,
    user: &CurrentUser,
) -> Result<Vec<FirstPassword>, AppError> {
    let mut ids = without_password(state, user).await?;
    ids.truncate(FIRST_PASSWORDS_AT_ONCE);
    let mut hashed = Vec::with_capacity(ids.len());
    for id in ids {
        let password = crate::random::first_password();
        let hash = password::hash(password.clone()).await?;
        hashed.push((id, password, hash));
    }
    let mut tx = state.pool.begin().await?;
    let mut issued = Vec::with_capacity(hashed.len());
    for (id, password, hash) in hashed {
        // Someone else issued it meanwhile, or the account changed: skipped.
        let Some(account) = db::users::get(&mut tx, id).await? else {
            continue;
        };
        if !account.active || !db::users::set_first_password(&mut tx, id, &hash).await? {
            continue;
        }
        state
            .audit
            .append(
                &mut tx,
                &user.audit_actor(),
                Change::new(Chain::Org, "user.first_password", "user")
                    .entity(id)
                    .after(serde_json::json!({ "login": account.login, "must_change": true })),
            )
            .await?;
        issued.push(FirstPassword {
            user_id: id,
            login: account.login,
            name: account.name,
            password,
        });
    }
    tx.commit().await?;
    Ok(issued)
}
