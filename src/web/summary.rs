//! The summary (会议纪要), R-SUMMARY: generated from the decisions of a closed meeting and
//! their follow-up tasks, signed by the 书记 or the meeting's chair only when every passed item
//! has a task with one lead (R-FOLLOWUP-OWNER), sealed on signing, distributed by 综合科 to
//! members, the other leaders and the heads of sections with classified items withheld from
//! those without clearance (R-CONFIDENTIAL), each recipient's delivery and opening logged.
//! Also printable and exported as a Word document laid out as an official document (公文).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::AppError;
use super::extract::{CurrentUser, parse_id};
use super::pages::{DISPLAY_OFFSET, Layout, date_zh, datetime_zh};
use crate::app::meeting::Ctx;
use crate::audit;
use crate::db::meetings::Lock;
use crate::db::records::Receipt;
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::deliberation::Outcome;
use crate::domain::meeting::MeetingState;
use crate::domain::records::{
    Decision, check_followup_owners, check_meeting_closed, check_summary_signer,
    summary_item_visible,
};
use crate::domain::role::Role;
use crate::domain::rule::{Rule, RuleViolation};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary_api))
        .routes(routes!(sign_api))
        .routes(routes!(distribute_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/meetings/{id}/summary", get(summary_page))
        .route("/meetings/{id}/summary.docx", get(docx_export))
        .route("/meetings/{id}/summary/sign", post(sign_page))
        .route("/meetings/{id}/summary/distribute", post(distribute_page))
}

/// The summary as generated from the decisions (and, once signed, as sealed).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    pub meeting_id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub place: String,
    pub chair: String,
    pub present: Vec<String>,
    pub decisions: Vec<DecisionLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionLine {
    pub item_id: Uuid,
    pub position: i32,
    pub title: String,
    /// `none`, `internal`, `secret`; secret items are withheld from recipients who are not
    /// cleared.
    pub classification: String,
    /// `passed`, `rejected`, `deferred`, `referred`.
    pub outcome: String,
    pub basis: String,
    pub tasks: Vec<TaskLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskLine {
    pub lead: String,
    pub sections: Vec<String>,
    #[serde(with = "crate::db::iso_date")]
    pub due_on: Date,
    pub description: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryDoc {
    /// Without the items withheld from this reader.
    pub summary: Summary,
    /// How many classified items are withheld from this reader.
    pub withheld: usize,
    pub signed: Option<SummarySeal>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub distributed_at: Option<OffsetDateTime>,
    /// R-FOLLOWUP-OWNER: passed items still without a task (empty once ready to sign).
    pub lacking_lead: Vec<String>,
    /// Delivery and opening per recipient: for 综合科, the chair and the 书记.
    pub receipts: Vec<Receipt>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummarySeal {
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    pub signed_by: Uuid,
    pub sha256: String,
    /// The signed checkpoint of the audit chain taken at the signature (the footer's anchor).
    pub anchor: Option<crate::audit::checkpoint::Signed>,
}

async fn generate(conn: &mut sqlx::PgConnection, ctx: &Ctx) -> Result<Summary, AppError> {
    let minutes = crate::app::minutes::generate(conn, ctx).await?;
    let tasks = db::followup::tasks_of_meeting(conn, ctx.id()).await?;
    let decisions = minutes
        .items
        .into_iter()
        .filter_map(|i| {
            let outcome = i.outcome?;
            Some(DecisionLine {
                item_id: i.item_id,
                position: i.position,
                title: i.title,
                classification: i.classification,
                outcome,
                basis: i.basis,
                tasks: tasks
                    .iter()
                    .filter(|t| t.item_id == i.item_id)
                    .map(|t| TaskLine {
                        lead: t.lead_name.clone(),
                        sections: t.section_names.clone(),
                        due_on: t.due_on,
                        description: t.description.clone(),
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(Summary {
        meeting_id: minutes.meeting_id,
        name: minutes.name,
        starts_at: minutes.starts_at,
        place: minutes.place,
        chair: minutes.chair,
        present: minutes.present,
        decisions,
    })
}

/// R-FOLLOWUP-OWNER: the passed decisions still without a follow-up task (each task has one
/// lead by construction).
fn followup_check(s: &Summary) -> Result<(), RuleViolation> {
    let decisions: Vec<Decision<'_>> = s
        .decisions
        .iter()
        .filter_map(|d| {
            Some(Decision {
                title: &d.title,
                outcome: Outcome::parse(&d.outcome)?,
                task_leads: d.tasks.iter().map(|_| 1).collect(),
            })
        })
        .collect();
    check_followup_owners(&decisions)
}

fn lacking_lead(s: &Summary) -> Vec<String> {
    s.decisions
        .iter()
        .filter(|d| d.outcome == Outcome::Passed.as_str() && d.tasks.is_empty())
        .map(|d| d.title.clone())
        .collect()
}

/// The meeting loaded for an action on its summary, with the reader's delivered copy.
async fn load(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: Uuid,
    action: Action,
    lock: Lock,
) -> Result<Ctx, AppError> {
    let delivered = db::records::is_recipient(conn, id, user.user_id).await?;
    let found = Relation {
        summary_distributed: delivered,
        ..Relation::default()
    };
    let ctx = Ctx::load_as(conn, user, id, lock, action, found).await?;
    check_meeting_closed(ctx.state == MeetingState::Closed)?;
    Ok(ctx)
}

/// Cleared for classified items: members of the group and 综合科, who handle them.
fn cleared(ctx: &Ctx, user_id: Uuid, office: bool) -> bool {
    office || ctx.is_member(user_id)
}

fn withhold(mut s: Summary, cleared: bool) -> (Summary, usize) {
    let before = s.decisions.len();
    s.decisions
        .retain(|d| summary_item_visible(d.classification == "secret", cleared));
    let withheld = before - s.decisions.len();
    (s, withheld)
}

async fn read(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<SummaryDoc, AppError> {
    Ok(read_as(state, user, id).await?.0)
}

/// [`read`], with the meeting as the reader stands to it (what else the page may offer).
async fn read_as(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<(SummaryDoc, Ctx), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::ReadSummary, Lock::None).await?;
    let row = db::records::summary(&mut tx, id, false).await?;
    let (summary, signed, distributed_at) = match row {
        Some(r) => {
            let s: Summary = serde_json::from_str(&r.body)
                .map_err(|e| anyhow::anyhow!("signed summary does not parse: {e}"))?;
            let seal = SummarySeal {
                signed_at: r.signed_at,
                signed_by: r.signed_by,
                sha256: r.sha256,
                anchor: crate::audit::checkpoint::anchor_of(&mut tx, id, "summary").await?,
            };
            (s, Some(seal), r.distributed_at)
        }
        None => (generate(&mut tx, &ctx).await?, None, None),
    };
    let lacking = lacking_lead(&summary);
    let oversees = ctx.can(user, Action::DistributeSummary).is_ok()
        || ctx.can(user, Action::SignSummary).is_ok();
    let receipts = if oversees {
        db::records::receipts(&mut tx, id).await?
    } else {
        Vec::new()
    };
    // The recipient's first opening is their receipt (签收).
    if db::records::mark_summary_read(&mut tx, id, user.user_id).await? {
        let change = ctx.change("summary.receipt");
        state
            .audit
            .append(&mut tx, &user.audit_actor(), change)
            .await?;
    }
    tx.commit().await?;
    let (summary, withheld) = withhold(
        summary,
        cleared(
            &ctx,
            user.user_id,
            user.is_office_of(ctx.meeting.party_group_id),
        ),
    );
    Ok((
        SummaryDoc {
            summary,
            withheld,
            signed,
            distributed_at,
            lacking_lead: lacking,
            receipts,
        },
        ctx,
    ))
}

/// The meeting summary (R-SUMMARY): participants and 综合科; recipients once distributed.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/summary", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryDoc), (status = 404, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn summary_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<SummaryDoc>, AppError> {
    Ok(Json(read(&state, &user, parse_id(&id)?).await?))
}

async fn sign(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::SignSummary, Lock::Update).await?;
    check_summary_signer(
        ctx.position == Some(crate::domain::org::Position::Secretary),
        ctx.relation.chair,
    )?;
    if db::records::summary(&mut tx, id, true).await?.is_some() {
        return Err(
            RuleViolation::new(Rule::MinutesSealed, "会议纪要已签发,不能再次签署或修改。").into(),
        );
    }
    let summary = generate(&mut tx, &ctx).await?;
    followup_check(&summary)?;
    let (body, sha256) = audit::seal(&summary);
    db::records::sign_summary(&mut tx, id, user.user_id, &body, &sha256).await?;
    let change = ctx
        .change("summary.sign")
        .after(serde_json::json!({ "sha256": sha256 }));
    let head = state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    let document = crate::audit::checkpoint::Document {
        kind: "summary".into(),
        meeting_id: id,
        sha256,
    };
    state.audit.anchor(&mut tx, &head, document).await?;
    tx.commit().await?;
    // R-AUDIT: every seal is followed by a checkpoint of every chain, kept outside the database.
    state.audit.checkpoints().request();
    Ok(())
}

/// Signs the summary: the 书记 or the meeting's chair; refused with R-FOLLOWUP-OWNER while a
/// passed item has no follow-up task.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/summary/sign", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryDoc), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn sign_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<SummaryDoc>, AppError> {
    let id = parse_id(&id)?;
    sign(&state, &user, id).await?;
    Ok(Json(read(&state, &user, id).await?))
}

async fn distribute(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::DistributeSummary, Lock::Update).await?;
    let row = db::records::summary(&mut tx, id, true)
        .await?
        .ok_or_else(|| {
            RuleViolation::new(
                Rule::Summary,
                "会议纪要须经书记或主持人签发后才能分发。依据:第二十一条(四)",
            )
        })?;
    if row.distributed_at.is_some() {
        return Err(RuleViolation::new(Rule::Summary, "会议纪要已分发。").into());
    }
    let summary: Summary = serde_json::from_str(&row.body)
        .map_err(|e| anyhow::anyhow!("signed summary does not parse: {e}"))?;
    let recipients: Vec<(Uuid, i32)> =
        db::records::summary_recipients(&mut tx, ctx.meeting.party_group_id, ctx.date())
            .await?
            .into_iter()
            .map(|(user_id, member)| {
                let (_, withheld) = withhold(summary.clone(), member);
                (user_id, withheld as i32)
            })
            .collect();
    db::records::distribute_summary(&mut tx, id, user.user_id, &recipients).await?;
    let to: Vec<Uuid> = recipients.iter().map(|(u, _)| *u).collect();
    db::notifications::send(
        &mut tx,
        &to,
        &format!("请签收:{}会议纪要", ctx.meeting.title),
        &format!("/meetings/{id}/summary"),
    )
    .await?;
    let change = ctx.change("summary.distribute").after(serde_json::json!({
        "recipients": recipients
            .iter()
            .map(|(u, w)| serde_json::json!({"user_id": u, "withheld": w}))
            .collect::<Vec<_>>(),
    }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Distributes the signed summary (综合科), one logged receipt per recipient.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/summary/distribute", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryDoc), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn distribute_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<SummaryDoc>, AppError> {
    let id = parse_id(&id)?;
    distribute(&state, &user, id).await?;
    Ok(Json(read(&state, &user, id).await?))
}

// ---- Pages and the Word document ----

pub fn outcome_zh(o: &str) -> &'static str {
    Outcome::parse(o).map_or("", Outcome::label_zh)
}

#[derive(Template, WebTemplate)]
#[template(path = "records/summary.html")]
struct SummaryPage {
    layout: Layout,
    meeting_id: Uuid,
    doc: SummaryDoc,
    may_sign: bool,
    may_distribute: bool,
    may_add_task: bool,
    sections: Vec<db::sections::Section>,
    people: Vec<db::users::User>,
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
    Path(id): Path<String>,
) -> Result<SummaryPage, AppError> {
    let id = parse_id(&id)?;
    let (doc, ctx) = read_as(&state, &user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let signed = doc.signed.is_some();
    let may_add_task = ctx.can(&user, Action::CreateTask).is_ok();
    let (sections, people) = if may_add_task {
        (
            db::sections::list(&mut conn).await?,
            db::users::list(&mut conn)
                .await?
                .into_iter()
                .filter(|u| u.active && !u.roles.iter().all(|r| r == Role::Admin.as_str()))
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(SummaryPage {
        layout: Layout::new(format!("{} 会议纪要", doc.summary.name), Some(&user)),
        meeting_id: id,
        may_sign: !signed && ctx.can(&user, Action::SignSummary).is_ok(),
        may_distribute: signed
            && doc.distributed_at.is_none()
            && ctx.can(&user, Action::DistributeSummary).is_ok(),
        may_add_task,
        sections,
        people,
        doc,
    })
}

async fn sign_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    sign(&state, &user, id).await?;
    Ok(Redirect::to(&format!("/meetings/{id}/summary")))
}

async fn distribute_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    distribute(&state, &user, id).await?;
    Ok(Redirect::to(&format!("/meetings/{id}/summary")))
}

/// The summary as a .docx laid out as an official document: A4, 方正小标宋/黑体 title,
/// 仿宋 body, the meeting's number and date, the recipients line.
async fn docx_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let doc = read(&state, &user, id).await?;
    let anchor = doc.signed.as_ref().and_then(|s| s.anchor.as_ref());
    let bytes = summary_docx(&doc.summary, anchor)?;
    let filename = format!("{}会议纪要.docx", doc.summary.name);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"summary.docx\"; filename*=UTF-8''{}",
                    percent_encode(&filename)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Builds the Word document. Sizes are half-points: 二号 22 pt = 44, 三号 16 pt = 32. A signed
/// summary's footer carries the anchor of the audit chain taken at its signature.
pub fn summary_docx(
    s: &Summary,
    anchor: Option<&crate::audit::checkpoint::Signed>,
) -> Result<Vec<u8>, AppError> {
    use docx_rs::{AlignmentType, Docx, Footer, PageMargin, Paragraph, Run, RunFonts};
    let heading = RunFonts::new().east_asia("方正小标宋简体").ascii("SimHei");
    let hei = RunFonts::new().east_asia("黑体").ascii("SimHei");
    let fangsong = RunFonts::new().east_asia("仿宋_GB2312").ascii("FangSong");
    let para = |text: String, fonts: &RunFonts, size: usize| {
        Paragraph::new().add_run(Run::new().add_text(text).fonts(fonts.clone()).size(size))
    };
    let date = s.starts_at.to_offset(DISPLAY_OFFSET).date();
    let mut docx = Docx::new()
        // A4 in twentieths of a point; margins of the national standard for official documents.
        .page_size(11906, 16838)
        .page_margin(
            PageMargin::new()
                .top(2098)
                .bottom(1984)
                .left(1588)
                .right(1474),
        )
        .default_fonts(fangsong.clone())
        .default_size(32)
        .add_paragraph(para(format!("{}纪要", s.name), &heading, 44).align(AlignmentType::Center))
        .add_paragraph(para(date_zh(&date), &fangsong, 32).align(AlignmentType::Center))
        .add_paragraph(para(
            format!(
                "{},{}在{}召开党组会议,由{}主持。出席:{}。会议研究了以下事项:",
                date_zh(&date),
                s.name,
                s.place,
                s.chair,
                s.present.join("、")
            ),
            &fangsong,
            32,
        ));
    for (n, d) in s.decisions.iter().enumerate() {
        docx = docx.add_paragraph(para(
            format!("{}、{}", chinese_number(n + 1), d.title),
            &hei,
            32,
        ));
        docx = docx.add_paragraph(para(
            format!("会议决定:{}。{}", outcome_zh(&d.outcome), d.basis),
            &fangsong,
            32,
        ));
        for t in &d.tasks {
            docx = docx.add_paragraph(para(
                format!(
                    "由{}牵头{},{}前完成:{}",
                    t.lead,
                    if t.sections.is_empty() {
                        String::new()
                    } else {
                        format!(",{}配合", t.sections.join("、"))
                    },
                    date_zh(&t.due_on),
                    t.description
                ),
                &fangsong,
                32,
            ));
        }
    }
    docx = docx.add_paragraph(para("分送:党组成员,局领导,各科室。".into(), &fangsong, 28));
    if let Some(a) = anchor {
        // 小五号 (9 pt): the anchor is for checking, not for reading aloud.
        docx = docx.footer(Footer::new().add_paragraph(para(a.footer_zh(), &fangsong, 18)));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| anyhow::anyhow!("docx: {e}"))?;
    Ok(out.into_inner())
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
