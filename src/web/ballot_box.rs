//! The public ballot box of a secret vote (R-SECRET-BALLOT): every participant of the item may
//! check, once the vote is closed, every ciphertext with its proofs, the sums, the decryption
//! proofs and the totals, and the voter sees that their own ballot is among them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::AppError;
use super::extract::{CurrentUser, Face, Path};
use super::pages::Layout;
use crate::app::ballot_box::{BallotBoxView, participant_view};
use crate::domain::ids::{ItemId, MeetingId};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ballot_box))
}

pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/meetings/{id}/items/{item_id}/ballot-box",
        axum::routing::get(ballot_box),
    )
}

/// The ballot box of a secret vote: before closing the key and the number of voters; after it
/// every ballot (no voter named), the count with its proofs, the totals and the digest.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/items/{item_id}/ballot-box", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 200, body = BallotBoxView), (status = 404, body = super::error::Problem)))]
async fn ballot_box(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): Path<(MeetingId, ItemId)>,
) -> Result<Response, AppError> {
    let view = participant_view(&state, &user, id, item_id).await?;
    Ok(face.show(view, |v| BallotBoxPage {
        layout: Layout::new(format!("票箱:{}", v.title), Some(&user)),
        meeting_id: id,
        v,
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/ballot_box.html")]
struct BallotBoxPage {
    layout: Layout,
    meeting_id: MeetingId,
    v: BallotBoxView,
}
