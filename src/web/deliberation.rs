//! Routes of each agenda item in turn (`app::deliberation`): one handler per action, serving
//! its `/api/v1` route and its form on the meeting page.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path};
use super::meetings::{page_of, shown};
use crate::app::deliberation::{
    self, BallotInput, OutcomeInput, RecusalInput, RemarkInput, StanceInput, StartInput, TallyView,
    VoteInput,
};
use crate::app::meeting::MeetingView;
use crate::domain::ids::{ItemId, MeetingId};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_item))
        .routes(routes!(recuse))
        .routes(routes!(write_opinion))
        .routes(routes!(state_opinion))
        .routes(routes!(remark))
        .routes(routes!(open_vote))
        .routes(routes!(cast_ballot))
        .routes(routes!(close_vote))
        .routes(routes!(end_item))
}

/// The same handlers under the meeting page's form actions.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::post;
    let item = |action: &str| format!("/meetings/{{id}}/items/{{item_id}}/{action}");
    axum::Router::new()
        .route(&item("start"), post(start_item))
        .route(&item("recusals"), post(recuse))
        .route(&item("written-opinions"), post(write_opinion))
        .route(&item("opinions"), post(state_opinion))
        .route(&item("remarks"), post(remark))
        .route(&item("vote"), post(open_vote))
        .route(&item("ballots"), post(cast_ballot))
        .route(&item("vote/close"), post(close_vote))
        .route(&item("outcome"), post(end_item))
}

type ItemPath = Path<(MeetingId, ItemId)>;

/// The answer to the members' frequent actions (opinions, ballots): deliberately small, as
/// every screen learns the new state from the event stream; `GET /api/v1/meetings/{id}` has it
/// all.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub accepted: bool,
}

async fn accepted(face: Face, id: MeetingId) -> Result<Response, AppError> {
    face.answer(page_of(id), async { Ok(Json(Accepted { accepted: true })) })
        .await
}

/// R-ONE-AT-A-TIME, R-ABSENT-RESPONSIBLE: the chair starts an item.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/start", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)),
    request_body(content = StartInput, description = "optional"),
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn start_item(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    input: Option<Input<StartInput>>,
) -> Result<Response, AppError> {
    let input = input.map(|Input(i)| i).unwrap_or_default();
    deliberation::start_item(&state, &user, id, item_id, input).await?;
    shown(&state, face, &user, id).await
}

/// R-RECUSAL: a member with a conflict of interest withdraws from the item.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/recusals", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = RecusalInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn recuse(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    Input(input): Input<RecusalInput>,
) -> Result<Response, AppError> {
    deliberation::recuse(&state, &user, id, item_id, input).await?;
    shown(&state, face, &user, id).await
}

/// R-ABSENT-OPINION: an absent member's written opinion, read out in the meeting.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/written-opinions", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = StanceInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn write_opinion(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    Input(input): Input<StanceInput>,
) -> Result<Response, AppError> {
    deliberation::write_opinion(&state, &user, id, item_id, input).await?;
    shown(&state, face, &user, id).await
}

/// R-EVERY-OPINION, R-CHAIR-LAST: a member states their opinion.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/opinions", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = StanceInput,
    responses((status = 200, body = Accepted), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn state_opinion(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    Input(input): Input<StanceInput>,
) -> Result<Response, AppError> {
    deliberation::state_opinion(&state, &user, id, item_id, input).await?;
    accepted(face, id).await
}

/// An attendee's remark on the item they attend for.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/remarks", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = RemarkInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn remark(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    Input(input): Input<RemarkInput>,
) -> Result<Response, AppError> {
    deliberation::remark(&state, &user, id, item_id, input).await?;
    shown(&state, face, &user, id).await
}

/// The chair opens the vote once every opinion is stated.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/vote", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = VoteInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn open_vote(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    Input(input): Input<VoteInput>,
) -> Result<Response, AppError> {
    deliberation::open_vote(&state, &user, id, item_id, input).await?;
    shown(&state, face, &user, id).await
}

/// Cast a ballot.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/ballots", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = BallotInput,
    responses((status = 200, body = Accepted), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn cast_ballot(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    Input(input): Input<BallotInput>,
) -> Result<Response, AppError> {
    deliberation::cast_ballot(&state, &user, id, item_id, input).await?;
    accepted(face, id).await
}

/// The chair closes the vote; it is tallied.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/vote/close", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 200, body = TallyView), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn close_vote(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
) -> Result<Response, AppError> {
    let tally = deliberation::close_vote(&state, &user, id, item_id).await?;
    face.answer(page_of(id), async { Ok(Json(tally)) }).await
}

/// The chair announces the outcome, or ends the item deferred or referred (R-DISAGREEMENT).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/outcome", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = OutcomeInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn end_item(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): ItemPath,
    Input(input): Input<OutcomeInput>,
) -> Result<Response, AppError> {
    deliberation::end_item(&state, &user, id, item_id, input).await?;
    shown(&state, face, &user, id).await
}
