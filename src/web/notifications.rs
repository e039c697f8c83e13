//! The notification list: what was sent to me (notices, leave decisions, invitations), newest
//! first. Opening the list marks everything read.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::AppError;
use super::extract::CurrentUser;
use super::pages::{Layout, datetime_zh};
use crate::db::{self, notifications::Notification};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
}

pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/notifications", axum::routing::get(page))
}

/// My notifications, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "account",
    responses((status = 200, body = Vec<Notification>), (status = 401, body = super::error::Problem)))]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Notification>>, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        db::notifications::list(&mut conn, user.user_id).await?,
    ))
}

/// Marks all my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "account",
    responses((status = 204), (status = 401, body = super::error::Problem)))]
async fn mark_read(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<StatusCode, AppError> {
    let mut conn = state.pool.acquire().await?;
    db::notifications::mark_read(&mut conn, user.user_id).await?;
    state.sessions.forget_user(user.user_id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    items: Vec<Notification>,
}

impl NotificationsPage {
    fn when(&self, n: &Notification) -> String {
        datetime_zh(&n.created_at)
    }
}

/// The list as it was before opening it (unread ones marked), then everything is read.
async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<NotificationsPage, AppError> {
    let mut conn = state.pool.acquire().await?;
    let items = db::notifications::list(&mut conn, user.user_id).await?;
    db::notifications::mark_read(&mut conn, user.user_id).await?;
    state.sessions.forget_user(user.user_id);
    let mut layout = Layout::new("通知", Some(&user));
    if let Some(u) = layout.user.as_mut() {
        u.unread = 0;
    }
    Ok(NotificationsPage { layout, items })
}
