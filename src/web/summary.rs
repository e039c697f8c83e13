//! The summary (会议纪要), R-SUMMARY: generated from the decisions of a closed meeting and
//! their follow-up tasks, signed by the 书记 or the meeting's chair only when every passed item
//! has a task with one lead (R-FOLLOWUP-OWNER), sealed on signing, distributed by 综合科 to
//! members, the other leaders and the heads of sections with classified items withheld from
//! those without clearance (R-CONFIDENTIAL), each recipient's delivery and opening logged.
//! Also printable and exported as a Word document laid out as an official document (公文).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::docx::{CopyQuery, attachment};
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Path, Query};
use super::pages::{DISPLAY_OFFSET, Layout, date_zh, datetime_zh};
use crate::app::summary::{self, Summary, SummaryDoc};
use crate::domain::authz::Action;
use crate::domain::deliberation::Outcome;
use crate::domain::ids::MeetingId;
use crate::gongwen::{Block, Document, build, doc_no, number_in_title};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read_summary))
        .routes(routes!(sign))
        .routes(routes!(distribute))
        .routes(routes!(sign_for))
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/meetings/{id}/summary", get(summary_page))
        .route("/meetings/{id}/summary.docx", get(docx_export))
        .route("/party-groups/{id}/summaries.docx", get(compilation_export))
        .route("/meetings/{id}/summary/sign", post(sign))
        .route("/meetings/{id}/summary/distribute", post(distribute))
        .route("/meetings/{id}/summary/receipt", post(sign_for))
}

/// The summary as the user may read it (classified items withheld without clearance).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/summary", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryDoc), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
async fn read_summary(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Json<SummaryDoc>, AppError> {
    Ok(Json(summary::read(&state, &user, id).await?))
}

/// The answer to the summary's actions: the summary, or its page.
async fn shown(
    state: &AppState,
    face: Face,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<Response, AppError> {
    face.answer(format!("/meetings/{id}/summary"), async {
        Ok(Json(summary::read(state, user, id).await?))
    })
    .await
}

/// R-SUMMARY: the 书记 or the chair signs, once every passed item has its lead.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/summary/sign", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryDoc), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn sign(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Response, AppError> {
    summary::sign(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

/// 综合科 distributes the signed summary; each delivery is logged.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/summary/distribute", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryDoc), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
async fn distribute(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Response, AppError> {
    summary::distribute(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

/// A recipient signs for the distributed summary (签收); 综合科 sees when.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/summary/receipt", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryDoc), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
async fn sign_for(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Response, AppError> {
    summary::sign_for(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

// ---- Pages and the Word document ----

pub fn outcome_zh(o: &str) -> &'static str {
    Outcome::parse(o).map_or("", Outcome::label_zh)
}

#[derive(Template, WebTemplate)]
#[template(path = "records/summary.html")]
struct SummaryPage {
    layout: Layout,
    meeting_id: MeetingId,
    doc: SummaryDoc,
    may_sign: bool,
    may_distribute: bool,
    may_add_task: bool,
    sections: Vec<crate::db::sections::Section>,
    people: Vec<crate::db::users::User>,
}

impl SummaryPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
    fn day(&self, d: &Date) -> String {
        date_zh(d)
    }
    fn outcome_zh(&self, o: &str) -> &'static str {
        outcome_zh(o)
    }
}

async fn summary_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<SummaryPage, AppError> {
    let (doc, ctx) = summary::read_as(&state, &user, id).await?;
    let signed = doc.signed.is_some();
    let (sections, people) = summary::task_choices(&state, &user, &ctx).await?;
    Ok(SummaryPage {
        layout: Layout::new(format!("{} 会议纪要", doc.summary.name), Some(&user)),
        meeting_id: id,
        may_sign: !signed && ctx.can(&user, Action::SignSummary).is_ok(),
        may_distribute: signed
            && doc.distributed_at.is_none()
            && ctx.can(&user, Action::DistributeSummary).is_ok(),
        may_add_task: ctx.can(&user, Action::CreateTask).is_ok(),
        sections,
        people,
        doc,
    })
}

#[derive(serde::Deserialize, Default)]
struct YearQuery {
    year: Option<String>,
}

/// The year's compilation of a group's summaries as one .docx (its 书记 and 综合科).
async fn compilation_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<crate::domain::ids::PartyGroupId>,
    Query(q): Query<YearQuery>,
    Query(copy): Query<CopyQuery>,
) -> Result<Response, AppError> {
    let year = match q.year.as_deref().map(str::trim) {
        None | Some("") => crate::display::today().year(),
        Some(raw) => raw
            .parse()
            .map_err(|_| AppError::invalid("year", "须为 2000 至 2100 之间的年份"))?,
    };
    let copy_no = copy.number()?;
    let (group, docs) = summary::compilation(&state, &user, id, year).await?;
    let bytes = compilation_docx(&group, year, &docs, copy_no)?;
    let file_name = format!("{group}{year}年会议纪要汇编.docx");
    Ok(attachment("yishi-compilation.docx", &file_name, bytes))
}

/// The summary as a .docx laid out as an official document (GB/T 9704-2012).
async fn docx_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Query(q): Query<CopyQuery>,
) -> Result<Response, AppError> {
    let copy_no = q.number()?;
    let (doc, group) = summary::for_export(&state, &user, id).await?;
    let anchor = doc.signed.as_ref().and_then(|s| s.anchor.as_ref());
    let bytes = summary_docx(&doc.summary, anchor, &group, copy_no)?;
    let file_name = format!("{}会议纪要.docx", doc.summary.name);
    Ok(attachment("yishi-summary.docx", &file_name, bytes))
}

/// The body of a summary: the meeting, each decision with its tasks, 出席/请假/列席.
fn summary_body(s: &Summary) -> Vec<Block> {
    let date = s.starts_at.to_offset(DISPLAY_OFFSET).date();
    let mut body = vec![Block::Para(format!(
        "{},{}在{}召开党组会议,由{}主持。会议研究了以下事项:",
        date_zh(&date),
        s.name,
        s.place,
        s.chair,
    ))];
    for (n, d) in s.decisions.iter().enumerate() {
        body.push(Block::Heading(format!(
            "{}、{}",
            chinese_number(n + 1),
            d.title
        )));
        body.push(Block::Para(format!(
            "会议决定:{}。{}",
            outcome_zh(&d.outcome),
            d.basis
        )));
        for t in &d.tasks {
            body.push(Block::Para(format!(
                "由{}牵头{},{}前完成:{}",
                t.lead,
                if t.sections.is_empty() {
                    String::new()
                } else {
                    format!(",{}配合", t.sections.join("、"))
                },
                date_zh(&t.due_on),
                t.description
            )));
        }
    }
    body.push(Block::Labelled("出席", s.present.join("、")));
    if !s.on_leave.is_empty() {
        body.push(Block::Labelled("请假", s.on_leave.join("、")));
    }
    if !s.attendees.is_empty() {
        body.push(Block::Labelled("列席", s.attendees.join("、")));
    }
    body
}

fn is_secret(s: &Summary) -> bool {
    s.decisions.iter().any(|d| d.classification == "secret")
}

/// 保密法: a 秘密 document is kept secret for ten years unless decided otherwise.
const SECRET_MARK: &str = "秘密★10年";

/// The summary as an official document (`gongwen`): 份号 and 密级 when a decision is
/// classified 秘密, the group's 纪要 mark and 发文字号, the body, the 版记. A signed summary's
/// footer carries the anchor of the audit chain taken at its signature.
pub fn summary_docx(
    s: &Summary,
    anchor: Option<&crate::audit::checkpoint::Signed>,
    group: &str,
    copy_no: u32,
) -> Result<Vec<u8>, AppError> {
    let date = s.starts_at.to_offset(DISPLAY_OFFSET).date();
    let secret = is_secret(s);
    let doc = Document {
        copy_no: secret.then_some(copy_no),
        secrecy: secret.then(|| SECRET_MARK.to_owned()),
        issuer_mark: format!("{group}会议纪要"),
        doc_no: number_in_title(&s.name).map(|n| doc_no(&format!("{group}纪"), date.year(), n)),
        title: format!("{}纪要", s.name),
        body: summary_body(s),
        distribution: "党组成员,局领导,各科室。".into(),
        printed_by: format!("{group}综合科"),
        printed_on: date_zh(&date),
        // 小五号 (9 pt): the anchor is for checking, not for reading aloud.
        footnote: anchor.map(|a| a.footer_zh()),
    };
    Ok(build(&doc)?)
}

/// The year's compilation (纪要汇编) as one document: the cover with the highest
/// classification of its parts, a table of contents, each summary from a new page.
pub fn compilation_docx(
    group: &str,
    year: i32,
    docs: &[SummaryDoc],
    copy_no: u32,
) -> Result<Vec<u8>, AppError> {
    let secret = docs.iter().any(|d| is_secret(&d.summary));
    let mut body = vec![Block::Heading("目录".into())];
    for (n, d) in docs.iter().enumerate() {
        let date = d.summary.starts_at.to_offset(DISPLAY_OFFSET).date();
        body.push(Block::Para(format!(
            "{}. {}纪要({})",
            n + 1,
            d.summary.name,
            date_zh(&date)
        )));
    }
    if docs.is_empty() {
        body.push(Block::Para(format!("{year}年尚无已签发的会议纪要。")));
    }
    for d in docs {
        body.push(Block::PageBreak);
        body.push(Block::Title(format!("{}纪要", d.summary.name)));
        body.extend(summary_body(&d.summary));
    }
    let doc = Document {
        copy_no: secret.then_some(copy_no),
        secrecy: secret.then(|| SECRET_MARK.to_owned()),
        issuer_mark: format!("{group}会议纪要汇编"),
        doc_no: None,
        title: format!("{year}年党组会议纪要汇编(共 {} 期)", docs.len()),
        body,
        distribution: "党组成员,存档。".into(),
        printed_by: format!("{group}综合科"),
        printed_on: date_zh(&crate::display::today()),
        footnote: None,
    };
    Ok(build(&doc)?)
}

/// 一, 二, … 九十九 for headings.
fn chinese_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n].into(),
        10..=19 => format!("十{}", if n == 10 { "" } else { DIGITS[n - 10] }),
        _ => format!(
            "{}十{}",
            DIGITS[(n / 10) % 10],
            if n.is_multiple_of(10) {
                ""
            } else {
                DIGITS[n % 10]
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::chinese_number;
    #[test]
    fn headings_are_numbered_in_chinese() {
        assert_eq!(chinese_number(1), "一");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(12), "十二");
        assert_eq!(chinese_number(20), "二十");
        assert_eq!(chinese_number(34), "三十四");
    }
}
