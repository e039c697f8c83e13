//! Party groups (党组): their settings and memberships (书记/副书记/成员, 分管 areas), kept as
//! history. Managed by the admin; members may read their group's settings.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::app::error::{AppError, FieldError};
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::party_groups::{Membership, PartyGroup};
use crate::db::users::User;
use crate::db::{self, violated_constraint};
use crate::display::today;
use crate::domain::account::parse_name;
use crate::domain::authz::{Action, Relation};
use crate::domain::ids::{PartyGroupId, UserId};
use crate::domain::org::{Area, Position, check_four_not, member_on};
use crate::domain::role::Role;
use crate::domain::settings::Settings;

/// The groups where the user, a member today, holds a position `held` accepts.
pub async fn groups_held(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    held: impl Fn(Position) -> bool,
) -> Result<Vec<PartyGroupId>, AppError> {
    Ok(db::party_groups::memberships_of_user(conn, user.user_id)
        .await?
        .into_iter()
        .filter(|m| member_on(m.started_on, m.ended_on, today()) && held(m.position))
        .map(|m| m.party_group_id)
        .collect())
}

/// The groups whose 书记 the user is now.
pub async fn chaired_groups(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
) -> Result<Vec<PartyGroupId>, AppError> {
    groups_held(conn, user, |p| p == Position::Secretary).await
}

/// The party group an input names, if it exists, once the user is known to be allowed `action`
/// in it (or, for a group that does not exist, anywhere: the caller answers 422 for it).
/// A party group's name, for a document it issues (the caller has checked the reader may see
/// the document).
pub async fn group_name(state: &Services, id: PartyGroupId) -> Result<String, AppError> {
    Ok(db::party_groups::get(&mut *state.pool.acquire().await?, id)
        .await?
        .map(|g| g.name)
        .unwrap_or_default())
}

pub async fn named_group(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    raw_id: &str,
    action: Action,
) -> Result<Option<PartyGroup>, AppError> {
    let group = match PartyGroupId::parse(raw_id) {
        Ok(id) => db::party_groups::get(conn, id).await?,
        Err(_) => None,
    };
    match &group {
        Some(g) => {
            let position =
                db::party_groups::current_position(conn, g.party_group_id, user.user_id).await?;
            user.can_in(action, g.party_group_id, position, &Relation::default())?
        }
        None => user.can(action)?,
    }
    Ok(group)
}

/// A group's settings as the API shows them.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    /// R-QUORUM: quorum_num/quorum_den of members must be present (2/3).
    pub quorum_num: i32,
    pub quorum_den: i32,
    /// R-LARGE-SPEND threshold in fen (500000 = 5000元).
    pub large_spend_fen: i64,
    /// R-TOPIC-LEAD-TIME in days (7).
    pub topic_lead_days: i32,
    /// R-MATERIALS-DEADLINE in days (1).
    pub materials_lead_days: i32,
}

impl From<Settings> for SettingsView {
    fn from(s: Settings) -> Self {
        SettingsView {
            quorum_num: s.quorum_num,
            quorum_den: s.quorum_den,
            large_spend_fen: s.large_spend_fen,
            topic_lead_days: s.topic_lead_days,
            materials_lead_days: s.materials_lead_days,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PartyGroupDetail {
    pub party_group_id: PartyGroupId,
    pub name: String,
    pub settings: SettingsView,
    /// Current members.
    pub members: Vec<Membership>,
    /// Ended memberships, newest first.
    pub history: Vec<Membership>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPartyGroup {
    #[serde(default)]
    pub name: String,
}

/// Settings to change; absent fields stay as they are.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct SettingsChange {
    pub quorum_num: Option<i64>,
    pub quorum_den: Option<i64>,
    pub large_spend_fen: Option<i64>,
    pub topic_lead_days: Option<i64>,
    pub materials_lead_days: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewMember {
    #[serde(default)]
    pub user_id: String,
    /// `secretary` (书记), `deputy` (副书记), `member`.
    #[serde(default)]
    pub position: String,
    /// 分管 areas, e.g. `personnel`, `finance`, `construction`, `procurement`, `party_building`.
    #[serde(default)]
    pub areas: Vec<String>,
    /// `YYYY-MM-DD`; today when absent.
    pub started_on: Option<String>,
}

/// Loads a group the actor may see, answering 404 otherwise.
pub async fn visible_group(
    state: &Services,
    user: &CurrentUser,
    id: PartyGroupId,
) -> Result<PartyGroup, AppError> {
    let mut conn = state.pool.acquire().await?;
    let group = db::party_groups::get(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = db::party_groups::current_position(&mut conn, id, user.user_id).await?;
    user.can_in(Action::ReadGroupSettings, id, position, &Default::default())?;
    Ok(group)
}

pub async fn group_detail(
    state: &Services,
    user: &CurrentUser,
    id: PartyGroupId,
) -> Result<PartyGroupDetail, AppError> {
    let group = visible_group(state, user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let settings = db::party_groups::settings(&mut conn, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let (members, history) = db::party_groups::memberships(&mut conn, id)
        .await?
        .into_iter()
        .partition(|m| m.ended_on.is_none());
    Ok(PartyGroupDetail {
        party_group_id: group.party_group_id,
        name: group.name,
        settings: settings.into(),
        members,
        history,
    })
}

pub async fn create_group(
    state: &Services,
    user: &CurrentUser,
    input: NewPartyGroup,
) -> Result<PartyGroup, AppError> {
    user.can(Action::ManageOrganisation)?;
    let name = parse_name(&input.name, 100).map_err(|m| AppError::invalid("name", m))?;
    let group = PartyGroup {
        party_group_id: PartyGroupId::new(),
        name,
    };
    let mut tx = state.pool.begin().await?;
    if let Err(e) = db::party_groups::insert(&mut tx, &group).await {
        return Err(match violated_constraint(&e) {
            Some("party_group_name_key") => AppError::invalid("name", "已有同名党组"),
            _ => e.into(),
        });
    }
    state.audit.append(
        &mut tx,
        &user.audit_actor(),
        Change::new(
            Chain::PartyGroup(group.party_group_id),
            "party_group.create",
            "party_group",
        )
        .entity(group.party_group_id)
        .after(serde_json::json!({ "group": group, "settings": SettingsView::from(Settings::default()) })),
    )
    .await?;
    tx.commit().await?;
    Ok(group)
}

pub async fn update_settings(
    state: &Services,
    user: &CurrentUser,
    id: PartyGroupId,
    change: SettingsChange,
) -> Result<Settings, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut tx = state.pool.begin().await?;
    let before = db::party_groups::settings(&mut tx, id, true)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    let mut int = |field: &'static str, value: Option<i64>, current: i32| match value {
        None => current,
        Some(v) => i32::try_from(v).unwrap_or_else(|_| {
            errors.push(FieldError::new(field, "数值超出范围"));
            current
        }),
    };
    let mut after = Settings {
        quorum_num: int("quorum_num", change.quorum_num, before.quorum_num),
        quorum_den: int("quorum_den", change.quorum_den, before.quorum_den),
        topic_lead_days: int(
            "topic_lead_days",
            change.topic_lead_days,
            before.topic_lead_days,
        ),
        materials_lead_days: int(
            "materials_lead_days",
            change.materials_lead_days,
            before.materials_lead_days,
        ),
        ..before
    };
    if let Some(fen) = change.large_spend_fen {
        after.large_spend_fen = fen;
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let after = after.validate().map_err(|errs| {
        AppError::Invalid(
            errs.into_iter()
                .map(|e| FieldError::new(e.field, e.message))
                .collect(),
        )
    })?;
    db::party_groups::save_settings(&mut tx, id, &after).await?;
    state
        .commit(
            tx,
            user,
            Change::new(Chain::PartyGroup(id), "party_group.settings", "party_group")
                .entity(id)
                .before(SettingsView::from(before))
                .after(SettingsView::from(after)),
        )
        .await?;
    state.live.changed_all();
    Ok(after)
}

/// Adds a member, or changes a current member's position or areas (the old row ends and a new
/// one starts, so the history keeps both).
pub async fn add_member(
    state: &Services,
    user: &CurrentUser,
    id: PartyGroupId,
    input: NewMember,
) -> Result<Membership, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut errors = Vec::new();
    let position = Position::parse(&input.position).ok_or_else(|| {
        errors.push(FieldError::new(
            "position",
            "须为 secretary、deputy 或 member",
        ))
    });
    let areas =
        Area::parse_list(&input.areas).map_err(|m| errors.push(FieldError::new("areas", m)));
    let started_on = match input.started_on.as_deref().map(str::trim) {
        None | Some("") => Ok(today()),
        Some(raw) => Date::parse(
            raw,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| errors.push(FieldError::new("started_on", "日期格式须为 YYYY-MM-DD"))),
    };
    let member_id = UserId::parse(&input.user_id)
        .map_err(|_| errors.push(FieldError::new("user_id", "用户不存在")));
    let (Ok(position), Ok(areas), Ok(started_on), Ok(member_id)) =
        (position, areas, started_on, member_id)
    else {
        return Err(AppError::Invalid(errors));
    };

    let mut tx = state.pool.begin().await?;
    let group = db::party_groups::get(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let member = match db::users::get(&mut tx, member_id).await? {
        Some(u) if u.active => u,
        _ => return Err(AppError::invalid("user_id", "用户不存在或已停用")),
    };
    crate::domain::account::check_may_join_group(&member.roles)
        .map_err(|m| AppError::invalid("user_id", m))?;
    check_four_not(Some(position), &member.roles, &areas)?;

    let current = db::party_groups::current_membership(&mut tx, id, member_id).await?;
    if let Some(current) = &current {
        if started_on < current.started_on {
            return Err(AppError::invalid(
                "started_on",
                format!("不能早于现任职务的开始日期 {}", current.started_on),
            ));
        }
        db::party_groups::end_membership(&mut tx, current.membership_id, started_on).await?;
    }
    let new = Membership {
        membership_id: Uuid::now_v7(),
        party_group_id: id,
        party_group_name: group.name,
        user_id: member_id,
        login: member.login,
        name: member.name,
        position,
        areas: areas.iter().map(|a| a.as_str().to_owned()).collect(),
        started_on,
        ended_on: None,
    };
    if let Err(e) = db::party_groups::insert_membership(&mut tx, &new).await {
        return Err(match violated_constraint(&e) {
            Some("membership_one_secretary") => {
                AppError::invalid("position", "该党组已有现任书记,请先结束其任职")
            }
            Some("membership_one_current") => {
                AppError::Conflict("该成员的任职刚被他人修改,请刷新后重试".into())
            }
            _ => e.into(),
        });
    }
    let action = if current.is_some() {
        "membership.change"
    } else {
        "membership.add"
    };
    let mut change = Change::new(Chain::PartyGroup(id), action, "membership")
        .entity(new.membership_id)
        .after(&new);
    if let Some(current) = &current {
        change = change.before(current);
    }
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    db::sessions::notify_user_changed(&mut tx, new.user_id).await?;
    tx.commit().await?;
    state.live.changed_all();
    Ok(new)
}

pub async fn end_member(
    state: &Services,
    user: &CurrentUser,
    id: PartyGroupId,
    member_id: UserId,
) -> Result<(), AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut tx = state.pool.begin().await?;
    let current = db::party_groups::current_membership(&mut tx, id, member_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ended_on = today().max(current.started_on);
    db::party_groups::end_membership(&mut tx, current.membership_id, ended_on).await?;
    let ended = Membership {
        ended_on: Some(ended_on),
        ..current.clone()
    };
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(Chain::PartyGroup(id), "membership.end", "membership")
                .entity(current.membership_id)
                .before(&current)
                .after(&ended),
        )
        .await?;
    // A former member's open screens end: they reconnect under what they may see now.
    db::sessions::notify_user_changed(&mut tx, member_id).await?;
    tx.commit().await?;
    state.live.changed_all();
    Ok(())
}

/// The groups this person sees: all of them for the admin, else those they belong to.
pub async fn list(state: &Services, user: &CurrentUser) -> Result<Vec<PartyGroup>, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(if user.has(Role::Admin) {
        db::party_groups::list_all(&mut conn).await?
    } else {
        db::party_groups::list_for_member(&mut conn, user.user_id).await?
    })
}

/// Who the admin may add to a group: every active account (nobody, for anyone else).
pub async fn candidates(state: &Services, user: &CurrentUser) -> Result<Vec<User>, AppError> {
    if !user.has(Role::Admin) {
        return Ok(Vec::new());
    }
    let users = db::users::list(&mut *state.pool.acquire().await?).await?;
    Ok(users.into_iter().filter(|u| u.active).collect())
}
