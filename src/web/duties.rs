//! Routes and pages of the group's duties (`app::duties`): one handler per action, serving its
//! `/api/v1` route and its page form; the duty dashboard, disposals and circulation review.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path};
use super::pages::{Layout, date_zh, datetime_zh};
use crate::app::duties::{
    self, CirculationInput, CirculationView, CreatedId, Duties, EmergencyInput, EmergencyRecorded,
    ReportUpInput, SignoffInput,
};
use crate::db::circulations::Circulation;
use crate::db::emergencies::Emergency;
use crate::db::party_groups::PartyGroup;
use crate::domain::ids::PartyGroupId;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_emergency))
        .routes(routes!(dashboard))
        .routes(routes!(report_up))
        .routes(routes!(create_circulation))
        .routes(routes!(circulation))
        .routes(routes!(sign_off))
        .routes(routes!(publish))
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/duties", get(duties_page))
        .route("/emergencies", get(emergencies_page).post(record_emergency))
        .route("/party-groups/{id}/reports-up", post(report_up))
        .route("/party-groups/{id}/circulations", post(create_circulation))
        .route("/circulations", get(circulations_page))
        .route("/circulations/{id}", get(circulation_page))
        .route("/circulations/{id}/signoffs", post(sign_off))
        .route("/circulations/{id}/publish", post(publish))
}

fn page_of(id: Uuid) -> String {
    format!("/circulations/{id}")
}

/// R-EMERGENCY: an on-the-spot disposal, to be reported to the next meeting.
#[utoipa::path(post, path = "/api/v1/emergencies", tag = "duties", request_body = EmergencyInput,
    responses((status = 201, body = EmergencyRecorded), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn record_emergency(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Input(input): Input<EmergencyInput>,
) -> Result<Response, AppError> {
    let recorded = duties::record_emergency(&state, &user, input).await?;
    face.answer("/emergencies".into(), async {
        Ok((StatusCode::CREATED, Json(recorded)))
    })
    .await
}

/// What the group owes on its calendar (R-MONTHLY, R-HALF-YEAR, R-REPORT-UP, R-SUPERVISION).
#[utoipa::path(get, path = "/api/v1/party-groups/{id}/duties", tag = "duties",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Duties), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PartyGroupId>,
) -> Result<Json<Duties>, AppError> {
    Ok(Json(duties::dashboard(&state, &user, id).await?))
}

/// R-REPORT-UP: a report to the superior party organisation, on record.
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/reports-up", tag = "duties",
    params(("id" = Uuid, Path)), request_body = ReportUpInput,
    responses((status = 201, body = CreatedId), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn report_up(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(group): Path<PartyGroupId>,
    Input(input): Input<ReportUpInput>,
) -> Result<Response, AppError> {
    let id = duties::report_up(&state, &user, group, input).await?;
    face.answer("/duties".into(), async {
        Ok((StatusCode::CREATED, Json(CreatedId { id })))
    })
    .await
}

/// R-PUBLICATION: start the circulation review of a document in the group's name.
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/circulations", tag = "duties",
    params(("id" = Uuid, Path)), request_body = CirculationInput,
    responses((status = 201, body = CreatedId), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn create_circulation(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(group): Path<PartyGroupId>,
    Input(input): Input<CirculationInput>,
) -> Result<Response, AppError> {
    let id = duties::create_circulation(&state, &user, group, input).await?;
    face.answer(page_of(id), async {
        Ok((StatusCode::CREATED, Json(CreatedId { id })))
    })
    .await
}

/// One circulation review with its sign-offs.
#[utoipa::path(get, path = "/api/v1/circulations/{id}", tag = "duties",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CirculationView), (status = 404, body = Problem)))]
async fn circulation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<CirculationView>, AppError> {
    Ok(Json(duties::circulation(&state, &user, id).await?))
}

/// The answer to the review's actions: the review, or its page.
async fn shown(
    state: &AppState,
    face: Face,
    user: &CurrentUser,
    id: Uuid,
) -> Result<Response, AppError> {
    face.answer(page_of(id), async {
        Ok(Json(duties::circulation(state, user, id).await?))
    })
    .await
}

/// A member approves the document, or asks for changes with a comment.
#[utoipa::path(post, path = "/api/v1/circulations/{id}/signoffs", tag = "duties",
    params(("id" = Uuid, Path)), request_body = SignoffInput,
    responses((status = 200, body = CirculationView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn sign_off(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Input(input): Input<SignoffInput>,
) -> Result<Response, AppError> {
    duties::sign_off(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// Publish once every member has approved (R-PUBLICATION).
#[utoipa::path(post, path = "/api/v1/circulations/{id}/publish", tag = "duties",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CirculationView), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn publish(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    duties::publish(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "records/duties.html")]
struct DutiesPage {
    layout: Layout,
    groups: Vec<Duties>,
}

impl DutiesPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn duties_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<DutiesPage, AppError> {
    let groups = duties::dashboards(&state, &user).await?;
    Ok(DutiesPage {
        layout: Layout::new("工作提醒", Some(&user)),
        groups,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "records/emergencies.html")]
struct EmergenciesPage {
    layout: Layout,
    groups: Vec<PartyGroup>,
    emergencies: Vec<Emergency>,
}

impl EmergenciesPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn emergencies_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<EmergenciesPage, AppError> {
    let (groups, emergencies) = duties::pending_emergencies(&state, &user).await?;
    Ok(EmergenciesPage {
        layout: Layout::new("临机处置", Some(&user)),
        groups,
        emergencies,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "records/circulations.html")]
struct CirculationsPage {
    layout: Layout,
    circulations: Vec<Circulation>,
    /// Groups where this person may start a review.
    manage: Vec<PartyGroup>,
}

impl CirculationsPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn circulations_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<CirculationsPage, AppError> {
    let (circulations, manage) = duties::circulations(&state, &user).await?;
    Ok(CirculationsPage {
        layout: Layout::new("传阅审定", Some(&user)),
        circulations,
        manage,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "records/circulation.html")]
struct CirculationPage {
    layout: Layout,
    view: CirculationView,
    may_sign: bool,
    may_publish: bool,
    /// Why publishing is not possible yet.
    publish_blocked: Option<String>,
}

impl CirculationPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn circulation_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<CirculationPage, AppError> {
    let (view, steps) = duties::circulation_steps(&state, &user, id).await?;
    Ok(CirculationPage {
        layout: Layout::new(view.circulation.title.clone(), Some(&user)),
        view,
        may_sign: steps.may_sign,
        may_publish: steps.may_publish,
        publish_blocked: steps
            .publish_blocked
            .map(|v| format!("{}:{}", v.rule.code(), v.detail_zh)),
    })
}
