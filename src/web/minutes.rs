//! Routes and pages of the minutes (`app::minutes`): one handler per action, serving its
//! `/api/v1` route and its page form; the minutes page and the borrow requests page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path};
use super::pages::{Layout, datetime_zh};
use crate::app::minutes::{
    self, AmendmentInput, BorrowDecision, BorrowInput, CreatedRequest, DraftInput, MinutesDoc,
    read_as,
};
use crate::db::meetings::Lock;
use crate::db::records::BorrowRequest;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::deliberation::{Choice, Outcome, Relation as Kinship, Stance, VoteMethod};
use crate::domain::ids::{MeetingId, UserId};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read_minutes, save_draft))
        .routes(routes!(sign))
        .routes(routes!(amend))
        .routes(routes!(ask_borrow))
        .routes(routes!(borrow_requests))
        .routes(routes!(decide_borrow))
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/meetings/{id}/minutes", get(minutes_page).post(save_draft))
        .route("/meetings/{id}/minutes/sign", post(sign))
        .route("/meetings/{id}/minutes/amendments", post(amend))
        .route("/meetings/{id}/minutes/borrow-requests", post(ask_borrow))
        .route("/borrow-requests", get(borrow_requests_page))
        .route("/borrow-requests/{id}/decision", post(decide_borrow))
}

fn page_of(id: MeetingId) -> String {
    format!("/meetings/{id}/minutes")
}

const BORROW_PAGE: &str = "/borrow-requests";

/// The minutes as the user may read them (each read audited).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/minutes", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MinutesDoc), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn read_minutes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Json<MinutesDoc>, AppError> {
    Ok(Json(minutes::read(&state, &user, id).await?))
}

/// The answer to the secretary's actions: the minutes, or their page.
async fn shown(
    state: &AppState,
    face: Face,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<Response, AppError> {
    face.answer(page_of(id), async {
        Ok(Json(minutes::read(state, user, id).await?))
    })
    .await
}

/// The meeting secretary's narrative and item notes, until the minutes are signed.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/minutes", tag = "records",
    params(("id" = Uuid, Path)), request_body = DraftInput,
    responses((status = 200, body = MinutesDoc), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn save_draft(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Input(input): Input<DraftInput>,
) -> Result<Response, AppError> {
    minutes::save_draft(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// R-MINUTES-SEALED: signing seals the minutes.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/sign", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MinutesDoc), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn sign(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Response, AppError> {
    minutes::sign(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

/// A dated amendment to sealed minutes.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/amendments", tag = "records",
    params(("id" = Uuid, Path)), request_body = AmendmentInput,
    responses((status = 201, body = MinutesDoc), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn amend(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Input(input): Input<AmendmentInput>,
) -> Result<Response, AppError> {
    minutes::amend(&state, &user, id, input).await?;
    face.answer(page_of(id), async {
        Ok((
            StatusCode::CREATED,
            Json(minutes::read(&state, &user, id).await?),
        ))
    })
    .await
}

/// R-MINUTES-ACCESS: ask to borrow the minutes.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/borrow-requests", tag = "records",
    params(("id" = Uuid, Path)), request_body = BorrowInput,
    responses((status = 201, body = CreatedRequest), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
async fn ask_borrow(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Input(input): Input<BorrowInput>,
) -> Result<Response, AppError> {
    let id = minutes::ask_borrow(&state, &user, id, input).await?;
    face.answer(BORROW_PAGE.into(), async {
        Ok((StatusCode::CREATED, Json(CreatedRequest { id })))
    })
    .await
}

/// My borrow requests, and those I decide.
#[utoipa::path(get, path = "/api/v1/borrow-requests", tag = "records",
    responses((status = 200, body = Vec<BorrowRequest>), (status = 401, body = Problem)))]
async fn borrow_requests(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<BorrowRequest>>, AppError> {
    Ok(Json(minutes::borrow_requests(&state, &user).await?))
}

/// The 书记 or a 副书记 grants or refuses a borrow request.
#[utoipa::path(post, path = "/api/v1/borrow-requests/{id}/decision", tag = "records",
    params(("id" = Uuid, Path)), request_body = BorrowDecision,
    responses((status = 200, body = BorrowRequest), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decide_borrow(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Input(input): Input<BorrowDecision>,
) -> Result<Response, AppError> {
    let decided = minutes::decide_borrow(&state, &user, id, input).await?;
    face.answer(BORROW_PAGE.into(), async { Ok(Json(decided)) })
        .await
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "records/minutes.html")]
struct MinutesPage {
    layout: Layout,
    meeting_id: MeetingId,
    doc: Option<MinutesDoc>,
    /// Why the reader cannot read them (then the borrow form is shown).
    refusal: Option<String>,
    may_draft: bool,
    may_sign: bool,
    may_amend: bool,
}

impl MinutesPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
    fn stance_zh(&self, s: &str) -> &'static str {
        Stance::parse(s).map_or("", Stance::label_zh)
    }
    fn choice_zh(&self, c: &Option<String>) -> &'static str {
        c.as_deref()
            .and_then(Choice::parse)
            .map_or("已投票", Choice::label_zh)
    }
    fn method_zh(&self, m: &str) -> &'static str {
        VoteMethod::parse(m).map_or("", VoteMethod::label_zh)
    }
    fn outcome_zh(&self, o: &Option<String>) -> &'static str {
        o.as_deref()
            .and_then(Outcome::parse)
            .map_or("未决", Outcome::label_zh)
    }
    fn relation_zh(&self, r: &str) -> &'static str {
        Kinship::parse(r).map_or("", Kinship::label_zh)
    }
    fn join(&self, names: &[String]) -> String {
        if names.is_empty() {
            "无".into()
        } else {
            names.join("、")
        }
    }
}

async fn minutes_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<MinutesPage, AppError> {
    let mut page = MinutesPage {
        layout: Layout::new("会议记录", Some(&user)),
        meeting_id: id,
        doc: None,
        refusal: None,
        may_draft: false,
        may_sign: false,
        may_amend: false,
    };
    match read_as(&state, &user, id).await {
        Ok((doc, ctx)) => {
            let allowed = |a| ctx.can(&user, a).is_ok();
            let sealed = doc.sealed.is_some();
            page.may_draft = !sealed && allowed(Action::DraftMinutes);
            page.may_sign = !sealed && allowed(Action::SignMinutes);
            page.may_amend = sealed && allowed(Action::AmendMinutes);
            page.layout = Layout::new(format!("{} 会议记录", doc.minutes.name), Some(&user));
            page.doc = Some(doc);
        }
        // Not theirs to read: offer to borrow, without showing the meeting.
        Err(AppError::Forbidden | AppError::NotFound) => {
            let mut conn = state.pool.acquire().await?;
            if db::meetings::get(&mut conn, id, Lock::None)
                .await?
                .is_none()
            {
                return Err(AppError::NotFound);
            }
            page.refusal = Some(
                "会议记录仅党组成员可查阅;其他人员须经书记或副书记批准借阅(第二十一条(四))。"
                    .into(),
            );
        }
        Err(e) => return Err(e),
    }
    Ok(page)
}

#[derive(Template, WebTemplate)]
#[template(path = "records/borrow_requests.html")]
struct BorrowRequestsPage {
    layout: Layout,
    me: UserId,
    requests: Vec<BorrowRequest>,
}

impl BorrowRequestsPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
    fn state_zh(&self, r: &BorrowRequest) -> String {
        match (r.approved, r.expires_at) {
            (None, _) => "待审批".into(),
            (Some(false), _) => "未批准".into(),
            (Some(true), Some(t)) if t > OffsetDateTime::now_utc() => {
                format!("已批准,至{}", datetime_zh(&t))
            }
            (Some(true), _) => "已到期".into(),
        }
    }
}

async fn borrow_requests_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<BorrowRequestsPage, AppError> {
    Ok(BorrowRequestsPage {
        layout: Layout::new("借阅申请", Some(&user)),
        me: user.user_id,
        requests: minutes::borrow_requests(&state, &user).await?,
    })
}
