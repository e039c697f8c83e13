//! Routes of the meeting (`app::meeting`): one handler per action, serving its `/api/v1` route
//! (JSON) and its page form (a redirect back to the meeting).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path};
use crate::app::meeting::{
    self, AttendanceInput, Created, CreatedItem, DelegateChair, LeaveDecision, LeaveInput,
    MeetingView, MoveInput, NewAgendaItem, NewAttendee, NewMeeting, NoticeInput,
};
use crate::db::meetings::Meeting;
use crate::domain::ids::{ItemId, MeetingId, UserId};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting))
        .routes(routes!(delegate_chair))
        .routes(routes!(add_item))
        .routes(routes!(move_item))
        .routes(routes!(invite_attendee))
        .routes(routes!(issue_notice))
        .routes(routes!(ask_leave))
        .routes(routes!(decide_leave))
        .routes(routes!(record_attendance))
        .routes(routes!(open))
        .routes(routes!(close))
        .routes(routes!(super::events::events))
}

/// The same handlers under the meeting page's form actions.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route("/meetings/{id}/chair", post(delegate_chair))
        .route("/meetings/{id}/agenda", post(add_item))
        .route("/meetings/{id}/agenda/{item_id}/move", post(move_item))
        .route("/meetings/{id}/attendees", post(invite_attendee))
        .route("/meetings/{id}/notice", post(issue_notice))
        .route("/meetings/{id}/leave", post(ask_leave))
        .route(
            "/meetings/{id}/leave/{user_id}/decision",
            post(decide_leave),
        )
        .route(
            "/meetings/{id}/attendance/{user_id}",
            post(record_attendance),
        )
        .route("/meetings/{id}/open", post(open))
        .route("/meetings/{id}/close", post(close))
}

/// The meeting page, where every form of a meeting returns.
pub(super) fn page_of(id: impl std::fmt::Display) -> String {
    format!("/meetings/{id}")
}

/// The meeting as the user now sees it.
pub(super) async fn meeting_view(
    state: &AppState,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<Json<MeetingView>, AppError> {
    let seen = meeting::visible_meeting(state, user, id).await?;
    Ok(Json(meeting::view(&seen, user)?))
}

/// The answer to most meeting actions: the meeting's view, or its page.
pub(super) async fn shown(
    state: &AppState,
    face: Face,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<Response, AppError> {
    face.answer(page_of(id), meeting_view(state, user, id))
        .await
}

/// My meetings (综合科: all of them).
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings",
    responses((status = 200, body = Vec<Meeting>), (status = 401, body = Problem)))]
async fn list_meetings(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Meeting>>, AppError> {
    Ok(Json(meeting::list(&state, &user).await?))
}

/// Status, chair, agenda, attendance, quorum and the current item.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 404, body = Problem)))]
async fn get_meeting(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Json<MeetingView>, AppError> {
    meeting_view(&state, &user, id).await
}

/// Schedule a meeting (书记, 综合科); the 书记 chairs unless they delegate.
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", request_body = NewMeeting,
    responses((status = 201, body = Created), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn create_meeting(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Input(input): Input<NewMeeting>,
) -> Result<Response, AppError> {
    let m = meeting::create_meeting(&state, &user, input).await?;
    let created = Created {
        id: m.meeting_id,
        status: m.status,
        title: m.title,
    };
    face.answer(page_of(created.id), async {
        Ok((StatusCode::CREATED, Json(created)))
    })
    .await
}

/// R-CHAIR: the 书记 delegates the chair to another member, with a reason.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/chair", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = DelegateChair,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn delegate_chair(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Input(input): Input<DelegateChair>,
) -> Result<Response, AppError> {
    meeting::delegate_chair(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// Put a topic on the agenda (R-TOPIC-LEAD-TIME, R-AD-HOC).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = NewAgendaItem,
    responses((status = 201, body = CreatedItem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_item(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Input(input): Input<NewAgendaItem>,
) -> Result<Response, AppError> {
    let item_id = meeting::add_item(&state, &user, id, input).await?;
    face.answer(page_of(id), async {
        Ok((StatusCode::CREATED, Json(CreatedItem { item_id })))
    })
    .await
}

/// Move an item up or down the agenda before the meeting (R-AGENDA-ORDER).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda/{item_id}/move", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = MoveInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn move_item(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): Path<(MeetingId, ItemId)>,
    Input(input): Input<MoveInput>,
) -> Result<Response, AppError> {
    meeting::move_item(&state, &user, id, item_id, input).await?;
    shown(&state, face, &user, id).await
}

/// Invite a non-member to attend an item (列席).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/attendees", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = NewAttendee,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn invite_attendee(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Input(input): Input<NewAttendee>,
) -> Result<Response, AppError> {
    meeting::invite_attendee(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// Issue the notice, which fixes the agenda (R-NOTICE, R-MATERIALS-DEADLINE).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/notice", tag = "meetings", params(("id" = Uuid, Path)),
    request_body(content = NoticeInput, description = "optional"),
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn issue_notice(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    input: Option<Input<NoticeInput>>,
) -> Result<Response, AppError> {
    let input = input.map(|Input(i)| i).unwrap_or_default();
    meeting::issue(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// R-LEAVE: ask the chair for leave.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/leave", tag = "meetings", params(("id" = Uuid, Path)),
    request_body = LeaveInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn ask_leave(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Input(input): Input<LeaveInput>,
) -> Result<Response, AppError> {
    meeting::ask_leave(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// R-LEAVE: the chair grants or refuses a request for leave.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/leave/{user_id}/decision", tag = "meetings",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = LeaveDecision,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn decide_leave(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, who)): Path<(MeetingId, UserId)>,
    Input(input): Input<LeaveDecision>,
) -> Result<Response, AppError> {
    meeting::decide_leave(&state, &user, id, who, input).await?;
    shown(&state, face, &user, id).await
}

/// R-QUORUM: the meeting secretary records who is present.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/attendance/{user_id}", tag = "meetings",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = AttendanceInput,
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_attendance(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, who)): Path<(MeetingId, UserId)>,
    Input(input): Input<AttendanceInput>,
) -> Result<Response, AppError> {
    meeting::record_attendance(&state, &user, id, who, input.present).await?;
    shown(&state, face, &user, id).await
}

/// The chair opens the meeting once the quorum is present (R-QUORUM).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/open", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn open(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Response, AppError> {
    meeting::open(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

/// The chair closes the meeting once every item is dealt with.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/close", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn close(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Response, AppError> {
    meeting::close(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}
