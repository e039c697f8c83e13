//! The public ballot box of a secret vote (R-SECRET-BALLOT): every participant of the item may
//! check, once the vote is closed, every ciphertext with its proofs, the sums, the decryption
//! proofs and the totals, and the voter sees that their own ballot is among them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::AppError;
use super::extract::{CurrentUser, parse_id};
use super::pages::Layout;
use crate::app::ballot_box::{self, BoxReport};
use crate::app::meeting::visible_meeting;
use crate::db;
use crate::db::meetings::Lock;
use crate::domain::secret_ballot::Tracker;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ballot_box_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/meetings/{id}/items/{item_id}/ballot-box",
        axum::routing::get(ballot_box_page),
    )
}

/// The ballot box as one participant sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BallotBoxView {
    pub title: String,
    #[serde(flatten)]
    pub report: BoxReport,
    /// The viewer's own tracking code, when they cast a secret ballot on this item.
    pub my_tracker: Option<String>,
    /// Whether the viewer's ballot is in the box (known once the box is public).
    pub my_ballot_included: Option<bool>,
}

/// Loads the box for a participant of the item: the meeting must be visible to them and the
/// item not withheld from them (R-RECUSAL); 404 otherwise, and when the item had no secret vote.
async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    item_id: Uuid,
) -> Result<BallotBoxView, AppError> {
    visible_meeting(state, user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let item = db::meetings::item(&mut conn, id, item_id, Lock::None)
        .await?
        .ok_or(AppError::NotFound)?;
    let recused = db::deliberation::recusals(&mut conn, id)
        .await?
        .iter()
        .any(|r| r.item_id == item_id && r.user_id == user.user_id);
    if recused {
        return Err(AppError::NotFound);
    }
    let expected = state.ballot.vote_key(item_id).public();
    let report = ballot_box::read(&mut conn, &item, Some(&expected))
        .await?
        .ok_or(AppError::NotFound)?;
    let my_tracker = db::deliberation::my_trackers(&mut conn, id, user.user_id)
        .await?
        .into_iter()
        .find(|(i, _)| *i == item_id)
        .and_then(|(_, t)| Tracker::from_bytes(&t))
        .map(|t| t.short());
    let my_ballot_included = my_tracker
        .as_deref()
        .filter(|_| report.closed)
        .map(|t| report.includes(t));
    Ok(BallotBoxView {
        title: item.title,
        report,
        my_tracker,
        my_ballot_included,
    })
}

/// The ballot box of a secret vote: before closing the key and the number of voters; after it
/// every ballot (no voter named), the count with its proofs, the totals and the digest.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/items/{item_id}/ballot-box", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 200, body = BallotBoxView), (status = 404, body = super::error::Problem)))]
async fn ballot_box_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item_id)): Path<(String, String)>,
) -> Result<Json<BallotBoxView>, AppError> {
    let view = load(&state, &user, parse_id(&id)?, parse_id(&item_id)?).await?;
    Ok(Json(view))
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/ballot_box.html")]
struct BallotBoxPage {
    layout: Layout,
    meeting_id: Uuid,
    v: BallotBoxView,
}

async fn ballot_box_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item_id)): Path<(String, String)>,
) -> Result<BallotBoxPage, AppError> {
    let meeting_id = parse_id(&id)?;
    let v = load(&state, &user, meeting_id, parse_id(&item_id)?).await?;
    Ok(BallotBoxPage {
        layout: Layout::new(format!("票箱:{}", v.title), Some(&user)),
        meeting_id,
        v,
    })
}
