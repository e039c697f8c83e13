//! Routes of topic materials (`app::topic::Upload`, `open_file`): a multipart upload read
//! field by field into the upload, and a file streamed out with its headers.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Path};
use crate::app::topic::{Purpose, Upload, chunks, open_file};
use crate::db::materials::MaterialInfo;
use crate::domain::ids::TopicId;
use crate::domain::topic::PrerequisiteKind;

/// The largest request the upload routes read at all; the configured file limit is checked
/// while reading.
pub(super) const UPLOAD_BODY_CAP: usize = 101 * 1024 * 1024;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_material))
        .routes(routes!(attach))
        .routes(routes!(download_material))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_CAP))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/topics/{id}/materials", post(upload_material))
        .route("/topics/{id}/prerequisites/{kind}/attachment", post(attach))
        .route(
            "/topics/{id}/materials/{material_id}",
            get(download_material),
        )
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_CAP))
}

/// Reads the `file` field into the upload as it arrives, and the optional `classification`
/// field.
async fn upload(
    state: &AppState,
    user: &CurrentUser,
    id: TopicId,
    purpose: Purpose,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<MaterialInfo, AppError> {
    let bad = |m: &str| AppError::invalid("file", m);
    let mut upload = Upload::begin(state, user, id, purpose).await?;
    let mut multipart = multipart.map_err(|_| bad("请以 multipart/form-data 上传文件"))?;
    let (mut file_name, mut classification) = (None, None);
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| bad("上传内容无法读取"))?
    {
        match field.name() {
            Some("file") if file_name.is_none() => {
                file_name = Some(field.file_name().unwrap_or("").to_owned());
                while let Some(bytes) = field.chunk().await.map_err(|_| bad("上传内容无法读取"))?
                {
                    upload.feed(&bytes).await?;
                }
            }
            Some("classification") => {
                classification = Some(field.text().await.map_err(|_| bad("上传内容无法读取"))?);
            }
            _ => {}
        }
    }
    let file_name = file_name.ok_or_else(|| bad("请选择要上传的文件"))?;
    upload.finish(&file_name, classification.as_deref()).await
}

async fn download(
    state: &AppState,
    user: &CurrentUser,
    id: TopicId,
    material_id: Uuid,
) -> Result<Response, AppError> {
    let file = open_file(state, user, id, material_id).await?;
    let disposition = format!(
        "attachment; filename=\"material\"; filename*=UTF-8''{}",
        super::pages::url_encode(&file.file_name).replace('/', "%2F")
    );
    let chunks = chunks(state, material_id).await?;
    let mut res = (StatusCode::OK, axum::body::Body::from_stream(chunks)).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size_bytes));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.content_type).map_err(anyhow::Error::from)?,
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(anyhow::Error::from)?,
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// Add a material to a draft or returned topic (its proposer).
#[utoipa::path(post, path = "/api/v1/topics/{id}/materials", tag = "topics",
    params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `file` and optional `classification`"),
    responses((status = 201, body = MaterialInfo), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn upload_material(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let info = upload(&state, &user, id, Purpose::Material, multipart).await?;
    face.answer(topic_page(id), async {
        Ok((StatusCode::CREATED, Json(info)))
    })
    .await
}

/// The kind of a prerequisite named in a path; an unknown kind is not found.
fn kind_of(raw: &str) -> Result<PrerequisiteKind, AppError> {
    PrerequisiteKind::parse(raw).ok_or(AppError::NotFound)
}

/// Attach the document of a prerequisite (by the role or section that records it).
#[utoipa::path(post, path = "/api/v1/topics/{id}/prerequisites/{kind}/attachment", tag = "topics",
    params(("id" = Uuid, Path), ("kind" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `file` and optional `classification`"),
    responses((status = 201, body = MaterialInfo), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn attach(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, kind)): Path<(TopicId, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let purpose = Purpose::Attachment(kind_of(&kind)?);
    let info = upload(&state, &user, id, purpose, multipart).await?;
    face.answer(topic_page(id), async {
        Ok((StatusCode::CREATED, Json(info)))
    })
    .await
}

/// A material's file, to those entitled to it (R-CONFIDENTIAL).
#[utoipa::path(get, path = "/api/v1/topics/{id}/materials/{material_id}", tag = "topics",
    params(("id" = Uuid, Path), ("material_id" = Uuid, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
async fn download_material(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, material_id)): Path<(TopicId, Uuid)>,
) -> Result<Response, AppError> {
    download(&state, &user, id, material_id).await
}

fn topic_page(id: TopicId) -> String {
    format!("/topics/{id}")
}
