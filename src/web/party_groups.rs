//! Routes and pages of the party groups (`app::organisation`): one handler per action,
//! serving its `/api/v1` route and its page form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path};
use super::pages::{Layout, date_zh, yuan};
use crate::app::organisation::{
    self as party_groups, NewMember, NewPartyGroup, PartyGroupDetail, SettingsChange, SettingsView,
};
use crate::db::party_groups::{Membership, PartyGroup};
use crate::db::users::User;
use crate::domain::ids::{PartyGroupId, UserId};
use crate::domain::org::{Area, Position};
use crate::domain::role::Role;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group))
        .routes(routes!(get_settings, update_settings))
        .routes(routes!(add_member))
        .routes(routes!(end_member))
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/party-groups", get(groups_page).post(create_group))
        .route("/party-groups/{id}", get(group_page))
        .route("/party-groups/{id}/settings", post(update_settings))
        .route("/party-groups/{id}/members", post(add_member))
        .route("/party-groups/{id}/members/{user_id}/end", post(end_member))
}

fn page_of(id: impl std::fmt::Display) -> String {
    format!("/party-groups/{id}")
}

/// The groups I see (the admin: all of them).
#[utoipa::path(get, path = "/api/v1/party-groups", tag = "organisation",
    responses((status = 200, body = Vec<PartyGroup>), (status = 401, body = Problem)))]
async fn list_groups(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<PartyGroup>>, AppError> {
    Ok(Json(party_groups::list(&state, &user).await?))
}

/// Create a party group (the admin).
#[utoipa::path(post, path = "/api/v1/party-groups", tag = "organisation", request_body = NewPartyGroup,
    responses((status = 201, body = PartyGroupDetail), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn create_group(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Input(input): Input<NewPartyGroup>,
) -> Result<Response, AppError> {
    let id = party_groups::create_group(&state, &user, input)
        .await?
        .party_group_id;
    face.answer(page_of(id), async {
        let detail = party_groups::group_detail(&state, &user, id).await?;
        Ok((StatusCode::CREATED, Json(detail)))
    })
    .await
}

/// A group with its members and their history.
#[utoipa::path(get, path = "/api/v1/party-groups/{id}", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PartyGroupDetail), (status = 404, body = Problem)))]
async fn get_group(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PartyGroupId>,
) -> Result<Json<PartyGroupDetail>, AppError> {
    Ok(Json(party_groups::group_detail(&state, &user, id).await?))
}

/// A group's settings (R-QUORUM, R-LARGE-SPEND, R-TOPIC-LEAD-TIME, R-MATERIALS-DEADLINE).
#[utoipa::path(get, path = "/api/v1/party-groups/{id}/settings", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SettingsView), (status = 404, body = Problem)))]
async fn get_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PartyGroupId>,
) -> Result<Json<SettingsView>, AppError> {
    Ok(Json(
        party_groups::group_detail(&state, &user, id)
            .await?
            .settings,
    ))
}

/// Change a group's settings (the admin); absent fields stay as they are.
#[utoipa::path(patch, path = "/api/v1/party-groups/{id}/settings", tag = "organisation",
    params(("id" = Uuid, Path)), request_body = SettingsChange,
    responses((status = 200, body = SettingsView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_settings(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<PartyGroupId>,
    Input(change): Input<SettingsChange>,
) -> Result<Response, AppError> {
    let settings = party_groups::update_settings(&state, &user, id, change).await?;
    face.answer(page_of(id), async {
        Ok(Json(SettingsView::from(settings)))
    })
    .await
}

/// A membership (R-FOUR-NOT for the 书记's 分管 areas).
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/members", tag = "organisation",
    params(("id" = Uuid, Path)), request_body = NewMember,
    responses((status = 201, body = Membership), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn add_member(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<PartyGroupId>,
    Input(input): Input<NewMember>,
) -> Result<Response, AppError> {
    let m = party_groups::add_member(&state, &user, id, input).await?;
    face.answer(page_of(id), async { Ok((StatusCode::CREATED, Json(m))) })
        .await
}

/// End a membership today; it stays in the history.
#[utoipa::path(delete, path = "/api/v1/party-groups/{id}/members/{user_id}", tag = "organisation",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn end_member(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, member)): Path<(PartyGroupId, UserId)>,
) -> Result<Response, AppError> {
    party_groups::end_member(&state, &user, id, member).await?;
    face.answer(page_of(id), async { Ok(StatusCode::NO_CONTENT) })
        .await
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
    let groups = party_groups::list(&state, &user).await?;
    Ok(GroupsPage {
        layout: Layout::new("党组", Some(&user)),
        groups,
        can_manage: user.has(Role::Admin),
    })
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
    Path(id): Path<PartyGroupId>,
) -> Result<GroupPage, AppError> {
    let group = party_groups::group_detail(&state, &user, id).await?;
    let users = party_groups::candidates(&state, &user).await?;
    Ok(GroupPage {
        layout: Layout::new(group.name.clone(), Some(&user)),
        group,
        can_manage: user.has(Role::Admin),
        users,
        positions: Position::ALL,
        areas: Area::ALL,
    })
}
