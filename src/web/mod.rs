//! HTTP: pages and `/api/v1` side by side, per area, over the same action functions.

pub mod account;
pub mod audit_log;
pub mod ballot_box;
pub mod calendar;
pub mod confirm;
pub mod deliberation;
pub mod docx;
pub mod duties;
pub mod error;
pub mod events;
pub mod extract;
pub mod followup;
pub mod guard;
pub mod health;
pub mod materials;
pub mod meeting_pages;
pub mod meetings;
pub mod minutes;
pub mod notifications;
pub mod pages;
pub mod paper;
pub mod party_groups;
pub mod people;
pub mod refusal;
pub mod roster;
pub mod summary;
pub mod topics;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router, middleware};
use sqlx::PgPool;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use error::AppError;

/// A server instance: the application's services, and what only the web needs — the
/// instance's live screens and the dummy password hash.
#[derive(Clone)]
pub struct AppState {
    services: Arc<crate::app::Services>,
    /// This instance's live meeting screens.
    pub hub: Arc<events::Hub>,
}

impl std::ops::Deref for AppState {
    type Target = crate::app::Services;

    fn deref(&self) -> &crate::app::Services {
        &self.services
    }
}

impl AppState {
    /// The state of a server instance: reads (or creates) its key files, starts signing audit
    /// checkpoints and listening for meeting events, so it must be called within the tokio
    /// runtime.
    pub fn new(pool: PgPool, config: Config) -> anyhow::Result<AppState> {
        let services = Arc::new(crate::app::Services::new(pool.clone(), config)?);
        let hub = Arc::new(events::Hub::default());
        events::spawn_listener(pool, hub.clone(), services.clone());
        Ok(AppState { services, hub })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "议事 yishi API", description = "党组会议议事规则系统的 HTTP 接口。"),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes with their OpenAPI document, built from the same handler annotations so
/// that no route can be missing from it.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(account::api_routes())
        .merge(people::api_routes())
        .merge(roster::api_routes())
        .merge(party_groups::api_routes())
        .merge(audit_log::api_routes())
        .merge(topics::api_routes())
        .merge(materials::api_routes())
        .merge(meetings::api_routes())
        .merge(deliberation::api_routes())
        .merge(ballot_box::api_routes())
        .merge(paper::api_routes())
        .merge(minutes::api_routes())
        .merge(summary::api_routes())
        .merge(followup::api_routes())
        .merge(duties::api_routes())
        .merge(notifications::api_routes())
        .merge(health::routes())
        .split_for_parts()
}

/// The whole application: pages, API, static files and the middleware every request passes.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api();
    let openapi = Arc::new(openapi);
    let pages = Router::new()
        .merge(account::page_routes())
        .merge(people::page_routes())
        .merge(roster::page_routes())
        .merge(party_groups::page_routes())
        .merge(audit_log::page_routes())
        .merge(topics::page_routes())
        .merge(materials::page_routes())
        .merge(meetings::page_routes())
        .merge(meeting_pages::page_routes())
        .merge(deliberation::page_routes())
        .merge(ballot_box::page_routes())
        .merge(paper::page_routes())
        .merge(minutes::page_routes())
        .merge(summary::page_routes())
        .merge(followup::page_routes())
        .merge(duties::page_routes())
        .merge(calendar::page_routes())
        .merge(notifications::page_routes())
        .layer(middleware::from_fn(confirm::confirm_first));

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .merge(pages)
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refusal::audit_refusals,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::authenticate,
        ))
        .layer(middleware::from_fn(refusal::html_errors))
        .layer(middleware::from_fn(time_limit))
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(header_if_absent(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_if_absent(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_if_absent(header::REFERRER_POLICY, "same-origin"))
        .layer(header_if_absent(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or(req.uri().path(), MatchedPath::as_str);
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), route, request_id = id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Answers 408 when a request takes longer than 30 s; event streams are meant to stay open.
async fn time_limit(req: Request, next: middleware::Next) -> axum::response::Response {
    if req.uri().path().ends_with("/events") {
        return next.run(req).await;
    }
    match tokio::time::timeout(Duration::from_secs(30), next.run(req)).await {
        Ok(res) => res,
        Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

fn header_if_absent(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}

async fn not_found() -> AppError {
    AppError::NotFound
}
