//! What the room needs on paper: the meeting notice (会议通知) as an official document, the
//! sign-in sheet (签到表) and the paper ballots (表决票) of a secret vote held on paper, both A4
//! pages for the browser to print; and the counters' entries of a paper vote's totals
//! (R-ONE-VOTE: two people of 综合科 must agree).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::docx::{CopyQuery, attachment};
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path, Query};
use super::meetings::page_of;
use super::pages::{Layout, date_zh, datetime_zh};
use crate::app::meeting::{MeetingView, notice_document, sign_in_sheet};
use crate::app::paper_vote::{self, PaperBallots, PaperCountAnswer, PaperCountInput};
use crate::domain::ids::{ItemId, MeetingId};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(enter_count))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/meetings/{id}/notice.docx", get(notice_docx))
        .route("/meetings/{id}/sign-in-sheet", get(sign_in_page))
        .route(
            "/meetings/{id}/items/{item_id}/paper-ballots",
            get(ballots_page),
        )
        .route(
            "/meetings/{id}/items/{item_id}/paper-count",
            post(enter_count),
        )
}

/// R-ONE-VOTE: a counter of 综合科 enters the totals of the open paper vote; the vote is counted
/// when a second counter's entry agrees, else the count is repeated.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/items/{item_id}/paper-count", tag = "meetings",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = PaperCountInput,
    responses((status = 200, body = PaperCountAnswer), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn enter_count(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path((id, item_id)): Path<(MeetingId, ItemId)>,
    Input(input): Input<PaperCountInput>,
) -> Result<Response, AppError> {
    let answer = paper_vote::enter_count(&state, &user, id, item_id, input).await?;
    face.answer(page_of(id), async { Ok(Json(answer)) }).await
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/sign_in_sheet.html")]
struct SignInPage {
    layout: Layout,
    v: MeetingView,
}

impl SignInPage {
    fn when(&self) -> String {
        datetime_zh(&self.v.meeting.starts_at)
    }
    /// R-LEAVE: a member on approved leave signs nothing; the sheet says so.
    fn on_leave(&self, who: &crate::domain::ids::UserId) -> bool {
        self.v
            .leave_requests
            .iter()
            .any(|l| l.user_id == *who && l.approved == Some(true))
    }
}

async fn sign_in_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<SignInPage, AppError> {
    let v = sign_in_sheet(&state, &user, id).await?;
    Ok(SignInPage {
        layout: Layout::new(format!("{} 签到表", v.meeting.title), Some(&user)),
        v,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/paper_ballots.html")]
struct BallotsPage {
    layout: Layout,
    meeting_id: MeetingId,
    b: PaperBallots,
}

impl BallotsPage {
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
}

async fn ballots_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item_id)): Path<(MeetingId, ItemId)>,
) -> Result<BallotsPage, AppError> {
    let b = paper_vote::ballots(&state, &user, id, item_id).await?;
    Ok(BallotsPage {
        layout: Layout::new(format!("{} 表决票", b.item_title), Some(&user)),
        meeting_id: id,
        b,
    })
}

/// The meeting notice as an official document (GB/T 9704-2012): to the group's members, the
/// time, place and items (as the reader may see them), asking for leave in advance (R-LEAVE).
async fn notice_docx(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Query(q): Query<CopyQuery>,
) -> Result<Response, AppError> {
    use crate::domain::topic::Classification;
    use crate::gongwen::{Block, Document, build, doc_no, number_in_title};
    let copy_no = q.number()?;
    let (v, group) = notice_document(&state, &user, id).await?;
    let m = &v.meeting;
    let secret = v
        .agenda
        .iter()
        .any(|i| !i.withheld && i.item.classification == Classification::Secret);
    let issued = m.noticed_at.unwrap_or(m.created_at);
    let issued = date_zh(&issued.to_offset(super::pages::DISPLAY_OFFSET).date());
    let mut body = vec![
        Block::Para("党组各成员:".into()),
        Block::Para(format!(
            "定于{}在{}召开{},由{}主持。会议议题如下:",
            datetime_zh(&m.starts_at),
            m.place,
            m.title,
            v.chair_name
        )),
    ];
    for (n, i) in v.agenda.iter().enumerate() {
        body.push(Block::Para(format!("{}. {}", n + 1, i.item.title)));
    }
    if !v.attendees.is_empty() {
        let mut names: Vec<&str> = Vec::new();
        for a in &v.attendees {
            if !names.contains(&a.name.as_str()) {
                names.push(&a.name);
            }
        }
        body.push(Block::Labelled("列席", names.join("、")));
    }
    body.push(Block::Para(
        "请准时出席。因故不能出席的,请于会前向党组书记请假,并可提交书面意见。".into(),
    ));
    let year = m.starts_at.to_offset(super::pages::DISPLAY_OFFSET).year();
    let doc = Document {
        copy_no: secret.then_some(copy_no),
        secrecy: secret.then(|| "秘密★10年".to_owned()),
        issuer_mark: format!("{group}文件"),
        doc_no: number_in_title(&m.title).map(|n| doc_no(&format!("{group}通"), year, n)),
        title: format!("关于召开{}的通知", m.title),
        body,
        distribution: "党组成员,列席人员。".into(),
        printed_by: format!("{group}综合科"),
        printed_on: issued,
        footnote: None,
    };
    let bytes = build(&doc)?;
    Ok(attachment(
        "yishi-notice.docx",
        &format!("{}会议通知.docx", m.title),
        bytes,
    ))
}
