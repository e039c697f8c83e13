//! Party groups (党组): their settings and memberships (书记/副书记/成员, 分管 areas), kept as
//! history. Managed by the admin; members may read their group's settings.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, FieldError};
use super::extract::{ApiJson, CurrentUser, PageForm, parse_id};
use super::pages::{Layout, date_zh, today, yuan};
use crate::audit::{Chain, Change};
use crate::db::party_groups::{Membership, PartyGroup};
use crate::db::users::User;
use crate::db::{self, violated_constraint};
use crate::domain::account::parse_name;
use crate::domain::authz::Action;
use crate::domain::org::{Area, Position, check_four_not};
use crate::domain::role::Role;
use crate::domain::settings::Settings;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups_api, create_group_api))
        .routes(routes!(get_group_api))
        .routes(routes!(get_settings_api, update_settings_api))
        .routes(routes!(add_member_api))
        .routes(routes!(end_member_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/party-groups", get(groups_page).post(create_group_page))
        .route("/party-groups/{id}", get(group_page))
        .route("/party-groups/{id}/settings", post(update_settings_page))
        .route("/party-groups/{id}/members", post(add_member_page))
        .route(
            "/party-groups/{id}/members/{user_id}/end",
            post(end_member_page),
        )
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
    pub party_group_id: Uuid,
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
async fn visible_group(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<PartyGroup, AppError> {
    let mut conn = state.pool.acquire().await?;
    let group = db::party_groups::get(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = db::party_groups::current_position(&mut conn, id, user.user_id)
        .await?
        .and_then(|p| Position::parse(&p));
    user.can_in(Action::ReadGroupSettings, id, position, &Default::default())?;
    Ok(group)
}

async fn group_detail(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
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

async fn create_group(
    state: &AppState,
    user: &CurrentUser,
    input: NewPartyGroup,
) -> Result<PartyGroup, AppError> {
    user.can(Action::ManageOrganisation)?;
    let name = parse_name(&input.name, 100).map_err(|m| AppError::invalid("name", m))?;
    let group = PartyGroup {
        party_group_id: Uuid::now_v7(),
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

async fn update_settings(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
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
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(Chain::PartyGroup(id), "party_group.settings", "party_group")
                .entity(id)
                .before(SettingsView::from(before))
                .after(SettingsView::from(after)),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Adds a member, or changes a current member's position or areas (the old row ends and a new
/// one starts, so the history keeps both).
async fn add_member(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
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
    let member_id = Uuid::parse_str(input.user_id.trim())
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
    let roles = Role::parse_list(&member.roles).map_err(anyhow::Error::msg)?;
    crate::domain::account::check_may_join_group(&roles)
        .map_err(|m| AppError::invalid("user_id", m))?;
    check_four_not(Some(position), &roles, &areas)?;

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
        position: position.as_str().to_owned(),
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
    Ok(new)
}

async fn end_member(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    member_id: Uuid,
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
    Ok(())
}

// ---- API ----

/// Party groups: all of them for the admin, one's own for a member.
#[utoipa::path(get, path = "/api/v1/party-groups", tag = "organisation",
    responses((status = 200, body = Vec<PartyGroup>), (status = 401, body = super::error::Problem)))]
async fn list_groups_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<PartyGroup>>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let groups = if user.has(Role::Admin) {
        db::party_groups::list_all(&mut conn).await?
    } else {
        db::party_groups::list_for_member(&mut conn, user.user_id).await?
    };
    Ok(Json(groups))
}

/// Create a party group with default settings.
#[utoipa::path(post, path = "/api/v1/party-groups", tag = "organisation", request_body = NewPartyGroup,
    responses((status = 201, body = PartyGroupDetail), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn create_group_api(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<NewPartyGroup>,
) -> Result<(StatusCode, Json<PartyGroupDetail>), AppError> {
    let group = create_group(&state, &user, input).await?;
    let detail = group_detail(&state, &user, group.party_group_id).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// A party group with its settings, current members and membership history.
#[utoipa::path(get, path = "/api/v1/party-groups/{id}", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PartyGroupDetail), (status = 404, body = super::error::Problem)))]
async fn get_group_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PartyGroupDetail>, AppError> {
    Ok(Json(group_detail(&state, &user, parse_id(&id)?).await?))
}

/// A party group's settings.
#[utoipa::path(get, path = "/api/v1/party-groups/{id}/settings", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SettingsView), (status = 404, body = super::error::Problem)))]
async fn get_settings_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<SettingsView>, AppError> {
    Ok(Json(
        group_detail(&state, &user, parse_id(&id)?).await?.settings,
    ))
}

/// Change a party group's settings.
#[utoipa::path(patch, path = "/api/v1/party-groups/{id}/settings", tag = "organisation",
    params(("id" = Uuid, Path)), request_body = SettingsChange,
    responses((status = 200, body = SettingsView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn update_settings_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<SettingsChange>,
) -> Result<Json<SettingsView>, AppError> {
    let settings = update_settings(&state, &user, parse_id(&id)?, change).await?;
    Ok(Json(settings.into()))
}

/// Add a member, or change a current member's position and 分管 areas (R-FOUR-NOT).
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/members", tag = "organisation",
    params(("id" = Uuid, Path)), request_body = NewMember,
    responses((status = 201, body = Membership), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn add_member_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<Membership>), AppError> {
    let m = add_member(&state, &user, parse_id(&id)?, input).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// End a membership today; it stays in the history.
#[utoipa::path(delete, path = "/api/v1/party-groups/{id}/members/{user_id}", tag = "organisation",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem)))]
async fn end_member_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, member_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    end_member(&state, &user, parse_id(&id)?, parse_id(&member_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "party_groups/list.html")]
struct GroupsPage {
    layout: Layout,
    groups: Vec<PartyGroup>,
    can_manage: bool,
}

async fn groups_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<GroupsPage, AppError> {
    let Json(groups) = list_groups_api(State(state), user.clone()).await?;
    Ok(GroupsPage {
        layout: Layout::new("党组", Some(&user)),
        groups,
        can_manage: user.has(Role::Admin),
    })
}

async fn create_group_page(
    State(state): State<AppState>,
    user: CurrentUser,
    PageForm(input): PageForm<NewPartyGroup>,
) -> Result<Redirect, AppError> {
    let group = create_group(&state, &user, input).await?;
    Ok(Redirect::to(&format!(
        "/party-groups/{}",
        group.party_group_id
    )))
}

#[derive(Template, WebTemplate)]
#[template(path = "party_groups/detail.html")]
struct GroupPage {
    layout: Layout,
    group: PartyGroupDetail,
    can_manage: bool,
    users: Vec<User>,
    positions: &'static [Position],
    areas: &'static [Area],
}

impl GroupPage {
    fn position_zh(&self, p: &str) -> &'static str {
        Position::parse(p).map_or("", Position::label_zh)
    }

    fn areas_zh(&self, areas: &[String]) -> String {
        let labels: Vec<&str> = areas
            .iter()
            .filter_map(|a| Area::parse(a))
            .map(Area::label_zh)
            .collect();
        if labels.is_empty() {
            "—".to_owned()
        } else {
            labels.join("、")
        }
    }

    fn date(&self, d: &Date) -> String {
        date_zh(d)
    }

    fn large_spend(&self) -> String {
        yuan(self.group.settings.large_spend_fen)
    }
}

async fn group_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<GroupPage, AppError> {
    let group = group_detail(&state, &user, parse_id(&id)?).await?;
    let can_manage = user.has(Role::Admin);
    let users = if can_manage {
        db::users::list(&mut *state.pool.acquire().await?)
            .await?
            .into_iter()
            .filter(|u| u.active)
            .collect()
    } else {
        Vec::new()
    };
    Ok(GroupPage {
        layout: Layout::new(group.name.clone(), Some(&user)),
        group,
        can_manage,
        users,
        positions: Position::ALL,
        areas: Area::ALL,
    })
}

async fn update_settings_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(change): PageForm<SettingsChange>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    update_settings(&state, &user, id, change).await?;
    Ok(Redirect::to(&format!("/party-groups/{id}")))
}

async fn add_member_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(input): PageForm<NewMember>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    add_member(&state, &user, id, input).await?;
    Ok(Redirect::to(&format!("/party-groups/{id}")))
}

async fn end_member_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, member_id)): Path<(String, String)>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    end_member(&state, &user, id, parse_id(&member_id)?).await?;
    Ok(Redirect::to(&format!("/party-groups/{id}")))
}
