//! Routes and pages of follow-up (`app::followup`): one handler per action, serving its
//! `/api/v1` route and its page form; the task board (also as CSV) and the task page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path, Query};
use super::pages::{Layout, date_zh, datetime_zh};
use crate::app::followup::{
    self, BoardQuery, CircularInput, CircularSent, NewTaskInput, ProgressInput, Recorded,
    ReminderInput, ReserveInput, SupersedeInput, TaskDetail, TaskView,
};
use crate::db::followup::{Circular, Task};
use crate::db::party_groups::PartyGroup;
use crate::domain::ids::{ItemId, PartyGroupId, TaskId};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task))
        .routes(routes!(tasks))
        .routes(routes!(task))
        .routes(routes!(report))
        .routes(routes!(remind))
        .routes(routes!(circulate))
        .routes(routes!(reserve))
        .routes(routes!(supersede))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(close))
                .layer(DefaultBodyLimit::max(super::materials::UPLOAD_BODY_CAP)),
        )
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/tasks", get(board_page))
        .route("/tasks.csv", get(board_csv))
        .route("/tasks/{id}", get(task_page))
        .route("/tasks/{id}/progress", post(report))
        .route(
            "/tasks/{id}/close",
            post(close).layer(DefaultBodyLimit::max(super::materials::UPLOAD_BODY_CAP)),
        )
        .route("/tasks/{id}/reminders", post(remind))
        .route("/items/{item_id}/tasks", post(create_task))
        .route("/items/{item_id}/reserved-opinions", post(reserve))
        .route("/items/{item_id}/supersedes", post(supersede))
        .route("/party-groups/{id}/circulars", post(circulate))
}

fn page_of(id: impl std::fmt::Display) -> String {
    format!("/tasks/{id}")
}

/// Give a passed item's decision its task, with one lead (R-FOLLOWUP-OWNER).
#[utoipa::path(post, path = "/api/v1/items/{item_id}/tasks", tag = "follow-up",
    params(("item_id" = Uuid, Path)), request_body = NewTaskInput,
    responses((status = 201, body = Task), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_task(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(item_id): Path<ItemId>,
    Input(input): Input<NewTaskInput>,
) -> Result<Response, AppError> {
    let task = followup::create_task(&state, &user, item_id, input).await?;
    let page = format!("/meetings/{}/summary", task.meeting_id);
    face.answer(page, async { Ok((StatusCode::CREATED, Json(task))) })
        .await
}

/// The task board (R-SUPERVISION): 综合科 and the 书记 see every task, others the ones they lead.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "follow-up", params(BoardQuery),
    responses((status = 200, body = Vec<TaskView>), (status = 422, body = Problem)))]
async fn tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BoardQuery>,
) -> Result<Json<Vec<TaskView>>, AppError> {
    Ok(Json(followup::board(&state, &user, &q).await?))
}

/// One task with its progress reports.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "follow-up", params(("id" = Uuid, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = Problem)))]
async fn task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<TaskId>,
) -> Result<Json<TaskDetail>, AppError> {
    Ok(Json(followup::detail(&state, &user, id).await?))
}

/// The lead reports progress, or that the task is done.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/progress", tag = "follow-up",
    params(("id" = Uuid, Path)), request_body = ProgressInput,
    responses((status = 200, body = TaskDetail), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn report(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TaskId>,
    Input(input): Input<ProgressInput>,
) -> Result<Response, AppError> {
    followup::report(&state, &user, id, input).await?;
    face.answer(page_of(id), async {
        Ok(Json(followup::detail(&state, &user, id).await?))
    })
    .await
}

/// Closing a task (销号): the `note` says how it was done; an optional `file` (the document
/// that shows it) is kept as a material of the decision's topic.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/close", tag = "follow-up",
    params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `note` and optional `file`"),
    responses((status = 200, body = TaskDetail), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn close(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TaskId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let bad = |m: &str| AppError::invalid("file", m);
    followup::may_close(&state, &user, id).await?;
    let mut multipart = multipart.map_err(|_| bad("请以 multipart/form-data 提交"))?;
    let (mut note, mut file) = (String::new(), None);
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| bad("提交内容无法读取"))?
    {
        match field.name() {
            Some("note") => note = field.text().await.map_err(|_| bad("提交内容无法读取"))?,
            Some("file") if file.is_none() => {
                let name = field.file_name().unwrap_or("").to_owned();
                // A file input left empty still sends a part without a name or bytes.
                if name.is_empty() {
                    continue;
                }
                let mut upload = followup::begin_closing_file(&state, &user, id).await?;
                while let Some(bytes) = field.chunk().await.map_err(|_| bad("上传内容无法读取"))?
                {
                    upload.feed(&bytes).await?;
                }
                file = Some((upload, name));
            }
            _ => {}
        }
    }
    followup::close(&state, &user, id, &note, file).await?;
    face.answer(page_of(id), async {
        Ok(Json(followup::detail(&state, &user, id).await?))
    })
    .await
}

/// A reminder (督办通知) to the task's lead.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reminders", tag = "follow-up",
    params(("id" = Uuid, Path)), request_body = ReminderInput,
    responses((status = 201, body = TaskDetail), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn remind(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TaskId>,
    Input(input): Input<ReminderInput>,
) -> Result<Response, AppError> {
    followup::remind(&state, &user, id, input).await?;
    face.answer(page_of(id), async {
        Ok((
            StatusCode::CREATED,
            Json(followup::detail(&state, &user, id).await?),
        ))
    })
    .await
}

/// A circular (通报) on the follow-up, to the group's members.
#[utoipa::path(post, path = "/api/v1/party-groups/{id}/circulars", tag = "follow-up",
    params(("id" = Uuid, Path)), request_body = CircularInput,
    responses((status = 201, body = CircularSent), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn circulate(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<PartyGroupId>,
    Input(input): Input<CircularInput>,
) -> Result<Response, AppError> {
    let sent = followup::circulate(&state, &user, id, input).await?;
    face.answer("/tasks".into(), async {
        Ok((StatusCode::CREATED, Json(sent)))
    })
    .await
}

/// R-RESERVE: a dissenting member's reserved opinion on a decided item.
#[utoipa::path(post, path = "/api/v1/items/{item_id}/reserved-opinions", tag = "follow-up",
    params(("item_id" = Uuid, Path)), request_body = ReserveInput,
    responses((status = 201, body = Recorded), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn reserve(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(item_id): Path<ItemId>,
    Input(input): Input<ReserveInput>,
) -> Result<Response, AppError> {
    let item_id = followup::reserve(&state, &user, item_id, input).await?;
    let meeting = followup::meeting_of_item(&state, item_id).await?;
    face.answer(super::meetings::page_of(meeting), async {
        Ok((StatusCode::CREATED, Json(Recorded { item_id })))
    })
    .await
}

/// R-DECISION-CHANGE: this item's decision changes an earlier one.
#[utoipa::path(post, path = "/api/v1/items/{item_id}/supersedes", tag = "follow-up",
    params(("item_id" = Uuid, Path)), request_body = SupersedeInput,
    responses((status = 201, body = Recorded), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn supersede(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(item_id): Path<ItemId>,
    Input(input): Input<SupersedeInput>,
) -> Result<Response, AppError> {
    let meeting = followup::meeting_of_item(&state, item_id).await?;
    let old = followup::supersede(&state, &user, item_id, input).await?;
    face.answer(super::meetings::page_of(meeting), async {
        Ok((StatusCode::CREATED, Json(Recorded { item_id: old })))
    })
    .await
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "records/tasks.html")]
struct BoardPage {
    layout: Layout,
    tasks: Vec<TaskView>,
    status: String,
    overdue_only: bool,
    circulars: Vec<Circular>,
    /// Groups this person may issue circulars for.
    groups: Vec<PartyGroup>,
}

impl BoardPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn board_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BoardQuery>,
) -> Result<BoardPage, AppError> {
    let tasks = followup::board(&state, &user, &q).await?;
    let (groups, circulars) = followup::circular_desk(&state, &user).await?;
    Ok(BoardPage {
        layout: Layout::new("督办事项", Some(&user)),
        tasks,
        status: q.status.unwrap_or_default(),
        overdue_only: matches!(q.overdue.as_deref(), Some("true" | "1" | "on")),
        circulars,
        groups,
    })
}

/// One CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180); a
/// leading formula character is neutralised so spreadsheets do not evaluate it.
pub fn tasks_csv(tasks: &[TaskView]) -> String {
    let sections: Vec<String> = tasks
        .iter()
        .map(|t| t.task.section_names.join("、"))
        .collect();
    let due: Vec<String> = tasks.iter().map(|t| t.task.due_on.to_string()).collect();
    crate::spreadsheet::write_csv(
        &[
            "会议",
            "决定事项",
            "牵头人",
            "配合科室",
            "完成时限",
            "工作要求",
            "状态",
            "最新进展",
        ],
        tasks.iter().enumerate().map(|(i, t)| {
            vec![
                t.task.meeting_title.as_str(),
                t.task.title.as_str(),
                t.task.lead_name.as_str(),
                &sections[i],
                &due[i],
                t.task.description.as_str(),
                t.urgency.label_zh(),
                t.task.last_note.as_deref().unwrap_or(""),
            ]
        }),
    )
}

async fn board_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let tasks = followup::board(&state, &user, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tasks.csv\"",
            ),
        ],
        tasks_csv(&tasks),
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "records/task.html")]
struct TaskPage {
    layout: Layout,
    detail: TaskDetail,
    may_report: bool,
    may_remind: bool,
}

impl TaskPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
}

async fn task_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<TaskId>,
) -> Result<TaskPage, AppError> {
    let detail = followup::detail(&state, &user, id).await?;
    let (may_report, may_remind) = followup::task_steps(&state, &user, &detail).await?;
    Ok(TaskPage {
        layout: Layout::new("督办事项", Some(&user)),
        may_report,
        may_remind,
        detail,
    })
}
