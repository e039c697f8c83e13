//! Routes and pages of the roster import (`app::organisation::roster`): the upload with its
//! preview, the import, and the template and the export as CSV.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Path};
use super::pages::{Layout, datetime_zh};
use crate::app::organisation::roster::{self, MAX_FILE_BYTES, Preview, RowView};
use crate::domain::ids::UserId;
use crate::domain::roster::List;

/// The request around the largest file: its multipart envelope and the CSRF field.
const BODY_CAP: usize = MAX_FILE_BYTES + 64 * 1024;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(import))
        .routes(routes!(apply))
        .routes(routes!(template))
        .routes(routes!(export))
        .layer(DefaultBodyLimit::max(BODY_CAP))
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/roster", get(roster_page))
        .route("/roster/imports", post(upload))
        .route("/roster/imports/{id}", get(import_page))
        .route("/roster/imports/{id}/apply", post(apply))
        .route("/roster/template/{list}", get(template))
        .route("/roster/export/{list}", get(export))
        .layer(DefaultBodyLimit::max(BODY_CAP))
}

fn page_of(id: Uuid) -> String {
    format!("/roster/imports/{id}")
}

/// Upload a roster (.xlsx, .xls, .ods or UTF-8 CSV, field `file`): every row is checked and the
/// preview says what would be imported; nothing but the upload is kept.
#[utoipa::path(post, path = "/api/v1/roster/imports", tag = "organisation",
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = Preview), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn upload(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let bad = |m: &str| AppError::invalid("file", m);
    let too_large = format!("文件超过 {} MB", MAX_FILE_BYTES >> 20);
    user.can(crate::domain::authz::Action::ManageOrganisation)?;
    let mut multipart = multipart.map_err(|_| bad("请以 multipart/form-data 上传文件"))?;
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| bad(&too_large))? {
        if field.name() != Some("file") || file.is_some() {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| bad(&too_large))? {
            if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                return Err(bad(&too_large));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((name, bytes));
    }
    let (name, bytes) = file
        .filter(|(name, bytes)| !name.is_empty() || !bytes.is_empty())
        .ok_or_else(|| bad("请选择要导入的名单文件"))?;
    let preview = roster::upload(&state, &user, &name, &bytes).await?;
    face.answer(page_of(preview.import_id), async {
        Ok((StatusCode::CREATED, Json(preview)))
    })
    .await
}

/// An uploaded roster as it would be imported now (or what its import created).
#[utoipa::path(get, path = "/api/v1/roster/imports/{id}", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Preview), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Preview>, AppError> {
    Ok(Json(roster::preview(&state, &user, id).await?))
}

/// Import the accepted rows, in one transaction; refused (409) when the rows accepted now are
/// not the ones the preview showed.
#[utoipa::path(post, path = "/api/v1/roster/imports/{id}/apply", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Preview), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn apply(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let preview = roster::apply(&state, &user, id).await?;
    face.answer(page_of(id), async { Ok(Json(preview)) }).await
}

fn list_of(raw: &str) -> Result<List, AppError> {
    List::parse(raw.trim_end_matches(".csv")).ok_or(AppError::NotFound)
}

fn csv_file(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The empty list to fill in (`people` or `members`), as CSV.
#[utoipa::path(get, path = "/api/v1/roster/template/{list}", tag = "organisation",
    params(("list" = String, Path, description = "`people` or `members`")),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn template(user: CurrentUser, Path(list): Path<String>) -> Result<Response, AppError> {
    user.can(crate::domain::authz::Action::ManageOrganisation)?;
    let list = list_of(&list)?;
    Ok(csv_file(
        &format!("{}-template", list.as_str()),
        roster::template(list),
    ))
}

/// The list as it stands (`people`: active accounts; `members`: current memberships), in the
/// template's columns.
#[utoipa::path(get, path = "/api/v1/roster/export/{list}", tag = "organisation",
    params(("list" = String, Path, description = "`people` or `members`")),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(list): Path<String>,
) -> Result<Response, AppError> {
    let list = list_of(&list)?;
    let body = roster::export(&state, &user, list).await?;
    Ok(csv_file(list.as_str(), body))
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "people/roster.html")]
struct RosterPage {
    layout: Layout,
    lists: [List; 2],
    max_rows: usize,
    max_mb: usize,
    without_password: usize,
}

async fn roster_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<RosterPage, AppError> {
    let without: Vec<UserId> = crate::app::organisation::without_password(&state, &user).await?;
    Ok(RosterPage {
        layout: Layout::new("名单导入", Some(&user)),
        lists: List::ALL,
        max_rows: crate::domain::roster::MAX_ROWS,
        max_mb: MAX_FILE_BYTES >> 20,
        without_password: without.len(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "people/roster_import.html")]
struct ImportPage {
    layout: Layout,
    preview: Preview,
}

impl ImportPage {
    /// Each list with its columns and checked rows.
    fn lists(&self) -> [(&'static str, &'static [&'static str], &[RowView]); 2] {
        [
            (
                List::People.label_zh(),
                List::People.columns(),
                &self.preview.people,
            ),
            (
                List::Members.label_zh(),
                List::Members.columns(),
                &self.preview.members,
            ),
        ]
    }

    fn when(&self, t: &time::OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn import_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<ImportPage, AppError> {
    let preview = roster::preview(&state, &user, id).await?;
    Ok(ImportPage {
        layout: Layout::new(format!("名单导入:{}", preview.file_name), Some(&user)),
        preview,
    })
}
