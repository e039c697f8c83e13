//! What the room needs on paper: the sign-in sheet (签到表) and the paper ballots (表决票) of a
//! secret vote held on paper, both A4 pages for the browser to print; and the counters' entries
//! of a paper vote's totals (R-ONE-VOTE: two people of 综合科 must agree).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path};
use super::meetings::page_of;
use super::pages::{Layout, date_zh, datetime_zh};
use crate::app::meeting::{MeetingView, sign_in_sheet};
use crate::app::paper_vote::{self, PaperBallots, PaperCountAnswer, PaperCountInput};
use crate::domain::ids::{ItemId, MeetingId};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(enter_count))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/meetings/{id}/sign-in-sheet", get(sign_in_page))
        .route(
            "/meetings/{id}/items/{item_id}/paper-ballots",
            get(ballots_page),
        )
        .route(
            "/meetings/{id}/items/{item_id}/paper-count",
            post(enter_count),
        )
}

/// R-ONE-VOTE: a counter of 综合科 enters the totals of the open paper vote; the vote is counted
/// when a second counter's entry agrees, else the count is repeated.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/paper-count", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = PaperCountInput,
    responses((status = 200, body = PaperCountAnswer), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn enter_count(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): Path<(MeetingId, ItemId)>,
    Input(input): Input<PaperCountInput>,
) -> Result<Response, AppError> {
    let answer = paper_vote::enter_count(&state, &user, id, item_id, input).await?;
    face.answer(page_of(id), async { Ok(Json(answer)) }).await
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/sign_in_sheet.html")]
struct SignInPage {
    layout: Layout,
    v: MeetingView,
}

impl SignInPage {
    fn when(&self) -> String {
        datetime_zh(&self.v.meeting.starts_at)
    }
    /// R-LEAVE: a member on approved leave signs nothing; the sheet says so.
    fn on_leave(&self, who: &crate::domain::ids::UserId) -> bool {
        self.v
            .leave_requests
            .iter()
            .any(|l| l.user_id == *who && l.approved == Some(true))
    }
}

async fn sign_in_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<SignInPage, AppError> {
    let v = sign_in_sheet(&state, &user, id).await?;
    Ok(SignInPage {
        layout: Layout::new(format!("{} 签到表", v.meeting.title), Some(&user)),
        v,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/paper_ballots.html")]
struct BallotsPage {
    layout: Layout,
    meeting_id: MeetingId,
    b: PaperBallots,
}

impl BallotsPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
}

async fn ballots_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item_id)): Path<(MeetingId, ItemId)>,
) -> Result<BallotsPage, AppError> {
    let b = paper_vote::ballots(&state, &user, id, item_id).await?;
    Ok(BallotsPage {
        layout: Layout::new(format!("{} 表决票", b.item_title), Some(&user)),
        meeting_id: id,
        b,
    })
}
