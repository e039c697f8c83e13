//! Topic materials: uploads checked by content and size, kept with their sha256 in the
//! database, and served only to those entitled (R-CONFIDENTIAL), each read of a classified one
//! audited.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Path};
use crate::app::topic::{
    recordable_kinds, relation_to, requirements, topic_for_action, visible_topic,
};
use crate::audit::{Chain, Change};
use crate::db::{self, materials::MaterialInfo, materials::NewMaterial};
use crate::domain::authz::Action;
use crate::domain::ids::TopicId;
use crate::domain::material::{Sniffer, too_large};
use crate::domain::topic::{Classification, PrerequisiteKind};

/// The largest request the upload routes read at all; the configured file limit is checked
/// while reading.
const UPLOAD_BODY_CAP: usize = 101 * 1024 * 1024;

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

/// What an upload brought: the file's name, what it is, size and sha256 (its bytes are in the
/// transaction's chunks), and the optional `classification` field.
struct Upload {
    file_name: String,
    kind: crate::domain::material::FileKind,
    size: usize,
    sha256: Vec<u8>,
    classification: Option<String>,
}

/// Streams the `file` field into chunks of `material_id` within `tx`, judging the file by its
/// bytes as they pass and stopping as soon as it passes the limit; reads the optional
/// `classification` field. At most one chunk is held in memory.
async fn stream_upload(
    tx: &mut sqlx::PgConnection,
    multipart: Result<Multipart, MultipartRejection>,
    material_id: Uuid,
    limit: usize,
) -> Result<Upload, AppError> {
    let bad = |m: &str| AppError::invalid("file", m);
    let mut multipart = multipart.map_err(|_| bad("请以 multipart/form-data 上传文件"))?;
    let (mut file, mut classification) = (None, None);
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| bad("上传内容无法读取"))?
    {
        match field.name() {
            Some("file") if file.is_none() => {
                let name = field.file_name().unwrap_or("").trim().to_owned();
                let mut sniffer = Sniffer::default();
                let mut sha = Sha256::new();
                let mut buffer = Vec::with_capacity(db::materials::CHUNK);
                let mut n = 0;
                while let Some(bytes) = field.chunk().await.map_err(|_| bad("上传内容无法读取"))?
                {
                    if sniffer.size() + bytes.len() > limit {
                        return Err(bad(&too_large(limit)));
                    }
                    sniffer.feed(&bytes);
                    sha.update(&bytes);
                    let mut rest = &bytes[..];
                    while !rest.is_empty() {
                        let take = (db::materials::CHUNK - buffer.len()).min(rest.len());
                        buffer.extend_from_slice(&rest[..take]);
                        rest = &rest[take..];
                        if buffer.len() == db::materials::CHUNK {
                            db::materials::insert_chunk(tx, material_id, n, &buffer).await?;
                            buffer.clear();
                            n += 1;
                        }
                    }
                }
                if !buffer.is_empty() {
                    db::materials::insert_chunk(tx, material_id, n, &buffer).await?;
                }
                file = Some((name, sniffer, sha.finalize().to_vec()));
            }
            Some("classification") => {
                classification = Some(field.text().await.map_err(|_| bad("上传内容无法读取"))?);
            }
            _ => {}
        }
    }
    let (file_name, sniffer, sha256) = file.ok_or_else(|| bad("请选择要上传的文件"))?;
    let file_name = crate::domain::account::parse_name(&file_name, 200)
        .map_err(|m| AppError::invalid("file", format!("文件名{m}")))?;
    let kind = sniffer
        .finish(&file_name, limit)
        .map_err(|m| AppError::invalid("file", m))?;
    Ok(Upload {
        file_name,
        kind,
        size: sniffer.size(),
        sha256,
        classification,
    })
}

/// What an upload is for: a material of the topic (its proposer, while the topic is open) or
/// the attachment of a prerequisite record (the record's owner, once the record is on file).
#[derive(Clone, Copy)]
enum Purpose {
    Material,
    Attachment(PrerequisiteKind),
}

/// Locks the topic and checks that the user may upload for `purpose` now.
async fn authorize(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: Uuid,
    purpose: Purpose,
) -> Result<crate::db::topics::Topic, AppError> {
    match purpose {
        Purpose::Material => {
            let (topic, _) = topic_for_action(conn, user, id, Action::EditTopic).await?;
            topic.state()?.edit()?;
            Ok(topic)
        }
        Purpose::Attachment(kind) => {
            let (topic, _) = topic_for_action(conn, user, id, Action::RecordPrerequisite).await?;
            let required = requirements(conn, &topic).await?;
            if !recordable_kinds(conn, user, &topic, &required)
                .await?
                .contains(&kind)
            {
                return Err(AppError::Forbidden);
            }
            topic.state()?.prepare()?;
            let on_file = db::topics::prerequisites(conn, id)
                .await?
                .iter()
                .any(|p| p.kind == kind.as_str());
            if !on_file {
                return Err(AppError::invalid(
                    "kind",
                    "请先录入该项前置审查的结论,再上传附件",
                ));
            }
            Ok(topic)
        }
    }
}

async fn upload(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    purpose: Purpose,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<MaterialInfo, AppError> {
    // Who may upload is known before the body is read.
    authorize(&mut *state.pool.acquire().await?, user, id, purpose).await?;
    let limit = state.config.upload_limit_bytes;
    let material_id = Uuid::now_v7();
    // The chunks go into the transaction as they arrive; the topic is locked (and the right
    // to upload checked again) only once the whole file is in.
    let mut tx = state.pool.begin().await?;
    let upload = stream_upload(&mut tx, multipart, material_id, limit).await?;
    let topic = authorize(&mut tx, user, id, purpose).await?;
    let classification = match upload
        .classification
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => topic.classification.clone(),
        Some(c) => Classification::parse(c)
            .ok_or_else(|| AppError::invalid("classification", "须为 none、internal 或 secret"))?
            .as_str()
            .to_owned(),
    };
    db::materials::insert(
        &mut tx,
        &NewMaterial {
            material_id,
            topic_id: id,
            file_name: &upload.file_name,
            content_type: upload.kind.content_type(),
            size_bytes: upload.size as i64,
            sha256: &upload.sha256,
            classification: &classification,
            uploaded_by: user.user_id,
            prerequisite_kind: match purpose {
                Purpose::Material => None,
                Purpose::Attachment(k) => Some(k.as_str()),
            },
        },
    )
    .await?;
    let info = db::materials::list(&mut tx, id)
        .await?
        .into_iter()
        .find(|m| m.material_id == material_id)
        .ok_or_else(|| anyhow::anyhow!("uploaded material not found"))?;
    state
        .commit(
            tx,
            user,
            Change::new(
                Chain::PartyGroup(topic.party_group_id),
                "material.upload",
                "material",
            )
            .entity(material_id)
            .after(&info),
        )
        .await?;
    Ok(info)
}

async fn download(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    material_id: Uuid,
) -> Result<Response, AppError> {
    let topic = visible_topic(state, user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let file = db::materials::file(&mut conn, id, material_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (position, relation) = relation_to(&mut conn, user, &topic).await?;
    let secret = file.classification == "secret";
    user.can_in(
        Action::ReadMaterial { secret },
        topic.party_group_id,
        position,
        &relation,
    )
    .map_err(|_| AppError::NotFound)?;
    drop(conn);
    if file.classification != "none" || topic.classification != "none" {
        // Reads of classified materials are audited (R-AUDIT).
        let tx = state.pool.begin().await?;
        state
            .commit(
                tx,
                user,
                Change::new(
                    Chain::PartyGroup(topic.party_group_id),
                    "material.read",
                    "material",
                )
                .entity(material_id),
            )
            .await?;
    }
    let disposition = format!(
        "attachment; filename=\"material\"; filename*=UTF-8''{}",
        super::pages::url_encode(&file.file_name).replace('/', "%2F")
    );
    // The file streams out chunk by chunk on a connection of its own: memory holds one chunk.
    let conn = state.pool.acquire().await?;
    let chunks = futures_util::stream::unfold((conn, 0i32), move |(mut conn, n)| async move {
        match db::materials::chunk(&mut conn, material_id, n).await {
            Ok(Some(data)) => Some((Ok(axum::body::Bytes::from(data)), (conn, n + 1))),
            Ok(None) => None,
            Err(e) => Some((Err(e), (conn, i32::MAX))),
        }
    });
    let mut res = (StatusCode::OK, axum::body::Body::from_stream(chunks)).into_response();
    res.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(file.size_bytes));
    let headers = res.headers_mut();
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
    let info = upload(&state, &user, id.into(), Purpose::Material, multipart).await?;
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
    let info = upload(&state, &user, id.into(), purpose, multipart).await?;
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
    download(&state, &user, id.into(), material_id).await
}

fn topic_page(id: TopicId) -> String {
    format!("/topics/{id}")
}
