//! Routes and pages of sections (科室) and user accounts (`app::organisation`), managed by
//! the admin: one handler per action, serving its `/api/v1` route and its page form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, FormOr, Input, Path};
use super::pages::Layout;
use crate::app::organisation::{
    self as people, FirstPassword, NewSection, NewUser, SectionChange, UserChange,
};
use crate::db::party_groups::PartyGroup;
use crate::db::{sections::Section, users::User};
use crate::domain::ids::{SectionId, UserId};
use crate::domain::org::SectionKind;
use crate::domain::role::Role;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sections, create_section))
        .routes(routes!(update_section))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(first_passwords))
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/sections", get(sections_page).post(create_section))
        .route("/sections/{id}", post(update_section))
        .route("/users", get(users_page).post(create_user))
        .route("/users/{id}", get(user_page).post(update_user))
        .route("/users/first-passwords", post(first_passwords))
}

fn user_page_of(id: impl std::fmt::Display) -> String {
    format!("/users/{id}")
}

// ---- Sections ----

/// Every section.
#[utoipa::path(get, path = "/api/v1/sections", tag = "organisation",
    responses((status = 200, body = Vec<Section>), (status = 403, body = Problem)))]
async fn list_sections(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Section>>, AppError> {
    Ok(Json(people::sections(&state, &user).await?.0))
}

/// Create a section, serving the groups given (or every group there is now).
#[utoipa::path(post, path = "/api/v1/sections", tag = "organisation", request_body = NewSection,
    responses((status = 201, body = Section), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn create_section(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    FormOr(input, _): FormOr<NewSection, SectionForm>,
) -> Result<Response, AppError> {
    let section = people::create_section(&state, &user, input).await?;
    face.answer("/sections".into(), async {
        Ok((StatusCode::CREATED, Json(section)))
    })
    .await
}

/// Rename a section or change the groups it serves.
#[utoipa::path(patch, path = "/api/v1/sections/{id}", tag = "organisation",
    params(("id" = Uuid, Path)), request_body = SectionChange,
    responses((status = 200, body = Section), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_section(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<SectionId>,
    FormOr(change, _): FormOr<SectionChange, SectionForm>,
) -> Result<Response, AppError> {
    let section = people::update_section(&state, &user, id, change).await?;
    face.answer("/sections".into(), async { Ok(Json(section)) })
        .await
}

// ---- Users ----

/// Every account.
#[utoipa::path(get, path = "/api/v1/users", tag = "organisation",
    responses((status = 200, body = Vec<User>), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<User>>, AppError> {
    Ok(Json(people::users(&state, &user).await?))
}

/// Create an account (三员分立: the admin's roles are kept apart).
#[utoipa::path(post, path = "/api/v1/users", tag = "organisation", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Input(input): Input<NewUser>,
) -> Result<Response, AppError> {
    let created = people::create_user(&state, &user, input).await?;
    face.answer(user_page_of(created.user_id), async {
        Ok((StatusCode::CREATED, Json(created)))
    })
    .await
}

/// One account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<UserId>,
) -> Result<Json<User>, AppError> {
    Ok(Json(people::user(&state, &user, id).await?))
}

/// Change an account; absent fields stay as they are.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "organisation", request_body = UserChange,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn update_user(
    State(state): State<AppState>,
    face: Face,
    actor: CurrentUser,
    Path(id): Path<UserId>,
    FormOr(change, _): FormOr<UserChange, UserForm>,
) -> Result<Response, AppError> {
    let updated = people::update_user(&state, &actor, id, change).await?;
    face.answer(user_page_of(id), async { Ok(Json(updated)) })
        .await
}

/// Issue first passwords to active accounts that have none (imported ones), up to 50 at a
/// time: shown once, to print and hand over; each must be replaced at the first sign-in.
#[utoipa::path(post, path = "/api/v1/users/first-passwords", tag = "organisation",
    responses((status = 201, body = Vec<FirstPassword>), (status = 403, body = Problem)))]
async fn first_passwords(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let issued = people::issue_first_passwords(&state, &user).await?;
    let left = people::without_password(&state, &user).await?.len();
    // The passwords exist only in this answer (never cached: `guard`), so the page shows them
    // instead of redirecting.
    let mut answer = face.show(issued, |issued| FirstPasswordsPage {
        layout: Layout::new("初始密码单", Some(&user)),
        issued,
        left,
        at_once: people::FIRST_PASSWORDS_AT_ONCE,
    });
    if face == Face::Api {
        *answer.status_mut() = StatusCode::CREATED;
    }
    Ok(answer)
}

#[derive(Template, WebTemplate)]
#[template(path = "people/first_passwords.html")]
struct FirstPasswordsPage {
    layout: Layout,
    issued: Vec<FirstPassword>,
    left: usize,
    at_once: usize,
}

/// The section form: its groups are checkboxes, so none ticked means it serves none.
#[derive(Deserialize)]
struct SectionForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    party_group_ids: Vec<String>,
}

impl From<SectionForm> for NewSection {
    fn from(form: SectionForm) -> NewSection {
        NewSection {
            name: form.name,
            kind: form.kind,
            party_group_ids: Some(form.party_group_ids),
        }
    }
}

impl From<SectionForm> for SectionChange {
    fn from(form: SectionForm) -> SectionChange {
        SectionChange {
            name: Some(form.name),
            party_group_ids: Some(form.party_group_ids),
        }
    }
}

/// The account form: roles and `active` are checkboxes, so unticked means none and inactive.
#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    name: String,
    section_id: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    active: Option<String>,
    password: Option<String>,
    #[serde(default)]
    email: String,
}

impl From<UserForm> for UserChange {
    fn from(form: UserForm) -> UserChange {
        UserChange {
            name: Some(form.name),
            section_id: Some(form.section_id),
            roles: Some(form.roles),
            active: Some(form.active.is_some()),
            password: form.password,
            email: Some(form.email),
        }
    }
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "people/sections.html")]
struct SectionsPage {
    layout: Layout,
    sections: Vec<Section>,
    kinds: &'static [SectionKind],
    groups: Vec<PartyGroup>,
}

impl SectionsPage {
    fn group_names(&self, s: &Section) -> String {
        let names: Vec<&str> = self
            .groups
            .iter()
            .filter(|g| s.party_group_ids.contains(&g.party_group_id))
            .map(|g| g.name.as_str())
            .collect();
        if names.is_empty() {
            "(无)".into()
        } else {
            names.join("、")
        }
    }
}

async fn sections_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<SectionsPage, AppError> {
    let (sections, groups) = people::sections(&state, &user).await?;
    Ok(SectionsPage {
        layout: Layout::new("科室", Some(&user)),
        sections,
        kinds: SectionKind::ALL,
        groups,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "people/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    sections: Vec<Section>,
    roles: &'static [Role],
}

impl UsersPage {
    fn section_name(&self, id: &Option<SectionId>) -> &str {
        section_name(&self.sections, id)
    }
}

fn section_name<'a>(sections: &'a [Section], id: &Option<SectionId>) -> &'a str {
    sections
        .iter()
        .find(|s| Some(s.section_id) == *id)
        .map_or("", |s| s.name.as_str())
}

async fn users_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<UsersPage, AppError> {
    let users = people::users(&state, &user).await?;
    let (sections, _) = people::sections(&state, &user).await?;
    Ok(UsersPage {
        layout: Layout::new("用户", Some(&user)),
        users,
        sections,
        roles: Role::ALL,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "people/user.html")]
struct UserPage {
    layout: Layout,
    user: User,
    email: String,
    sections: Vec<Section>,
    roles: &'static [Role],
}

impl UserPage {
    fn in_section(&self, section: &Section) -> bool {
        self.user.section_id == Some(section.section_id)
    }

    fn has_role(&self, role: &Role) -> bool {
        self.user.roles.contains(role)
    }
}

async fn user_page(
    State(state): State<AppState>,
    actor: CurrentUser,
    Path(id): Path<UserId>,
) -> Result<UserPage, AppError> {
    let user = people::user(&state, &actor, id).await?;
    let (sections, _) = people::sections(&state, &actor).await?;
    let email = people::email_of(&state, &actor, id)
        .await?
        .unwrap_or_default();
    Ok(UserPage {
        layout: Layout::new(format!("用户:{}", user.name), Some(&actor)),
        user,
        email,
        sections,
        roles: Role::ALL,
    })
}
