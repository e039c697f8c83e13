//! The minutes (会议记录), section E of `rules.md`: generated from the structured record of a
//! closed meeting (R-MINUTES), the secretary's narrative beside it, the seal on signing
//! (R-MINUTES-SEALED) with dated amendments after, and who may read them (R-MINUTES-ACCESS):
//! members, or others with an approved, unexpired borrow request. Every read is audited.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::AppError;
use super::extract::{ApiJson, CurrentUser, PageForm, parse_id};
use super::pages::{Layout, datetime_zh};
use crate::app::input::required_text;
use crate::app::meeting::Ctx;
use crate::audit::checkpoint::Document;
use crate::audit::{self, Change};
use crate::db::meetings::Lock;
use crate::db::records::{Amendment, BorrowRequest};
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::category::Category;
use crate::domain::deliberation::{Choice, Outcome, Relation as Kinship, Stance, VoteMethod};
use crate::domain::meeting::MeetingState;
use crate::domain::org::Position;
use crate::domain::records::{
    MinutesItem as ItemFacts, MinutesRecord, TallyFigures, check_amendment, check_borrow_decider,
    check_edit, check_meeting_closed, check_minutes_complete, decision_basis, missing_from_minutes,
};
use crate::domain::rule::{Rule, RuleViolation};
use crate::domain::topic::check_one_cadre;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(minutes_api, save_draft_api))
        .routes(routes!(sign_api))
        .routes(routes!(amend_api))
        .routes(routes!(borrow_api))
        .routes(routes!(borrow_requests_api))
        .routes(routes!(decide_borrow_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/meetings/{id}/minutes",
            get(minutes_page).post(save_draft_page),
        )
        .route("/meetings/{id}/minutes/sign", post(sign_page))
        .route("/meetings/{id}/minutes/amendments", post(amend_page))
        .route("/meetings/{id}/minutes/borrow-requests", post(borrow_page))
        .route("/borrow-requests", get(borrow_requests_page))
        .route("/borrow-requests/{id}/decision", post(decide_borrow_page))
}

// ---- The document ----

/// The minutes as generated from the record (and, once signed, as sealed).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Minutes {
    pub meeting_id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub place: String,
    pub chair: String,
    /// Why the 书记 delegated the chair (R-CHAIR), if so.
    pub chair_reason: Option<String>,
    pub recorder: String,
    /// Members recorded present; those who left before the end are in `left_early` too.
    pub present: Vec<String>,
    pub left_early: Vec<String>,
    pub on_leave: Vec<Absence>,
    /// Members neither present nor on approved leave.
    pub absent: Vec<String>,
    pub attendees: Vec<AttendeeLine>,
    /// The chair's reason for materials that reached 综合科 late (R-MATERIALS-DEADLINE).
    pub materials_late_reason: Option<String>,
    /// The secretary's narrative.
    pub narrative: String,
    pub items: Vec<MinutesItem>,
    /// On-the-spot disposals reported to this meeting (R-EMERGENCY).
    pub emergencies: Vec<EmergencyLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Absence {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttendeeLine {
    pub name: String,
    pub item: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmergencyLine {
    pub title: String,
    pub action_taken: String,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MinutesItem {
    pub item_id: Uuid,
    pub position: i32,
    pub title: String,
    pub category: i16,
    pub classification: String,
    /// Personnel items: the one cadre concerned (R-ONE-PERSON-ONE-ITEM).
    pub cadre_name: Option<String>,
    pub responsible: String,
    /// R-RECUSAL: withheld from the reader, who recused from this item.
    pub withheld: bool,
    /// Never reached: the topic went back to the 书记's queue when the meeting closed.
    pub not_reached: bool,
    /// The report and discussion, as the secretary wrote it.
    pub note: String,
    /// Rules passed with a recorded reason.
    pub overrides: Vec<OverrideLine>,
    pub recusals: Vec<RecusalLine>,
    pub opinions: Vec<OpinionLine>,
    /// R-WRITTEN-OPINION: absent members' opinions, presented, never counted.
    pub written_opinions: Vec<OpinionLine>,
    pub remarks: Vec<RemarkLine>,
    pub vote: Option<VoteRecord>,
    /// `passed`, `rejected`, `deferred`, `referred`.
    pub outcome: Option<String>,
    pub basis: String,
    /// Someone disagreed, asked to defer or voted against: marked in the minutes.
    pub dissent: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverrideLine {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecusalLine {
    pub name: String,
    pub relation: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpinionLine {
    pub name: String,
    /// `agree`, `disagree`, `defer`.
    pub stance: String,
    pub reason: String,
    pub dissent: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RemarkLine {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VoteRecord {
    pub method: String,
    pub yes: Option<i32>,
    pub no: Option<i32>,
    pub abstain: Option<i32>,
    pub should_attend: Option<i32>,
    /// Per person for open methods; for a secret ballot only who voted, never a choice
    /// (R-SECRET-BALLOT).
    pub ballots: Vec<BallotLine>,
    /// R-SECRET-BALLOT: the digest of the counted ballot box, which anyone may check against
    /// the public box (absent from minutes generated before ballots were encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballot_box_digest: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BallotLine {
    pub name: String,
    pub choice: Option<String>,
}

/// The minutes with their state: what is missing, the seal and amendments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MinutesDoc {
    pub minutes: Minutes,
    /// R-MINUTES: what the record still lacks (empty once complete).
    pub missing: Vec<String>,
    pub sealed: Option<Seal>,
    pub amendments: Vec<Amendment>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Seal {
    #[serde(with = "time::serde::rfc3339")]
    pub sealed_at: OffsetDateTime,
    pub sealed_by: Uuid,
    /// sha256 of the sealed text, also in the audit chain.
    pub sha256: String,
    /// The signed checkpoint of the audit chain taken at the seal (the footer's anchor).
    pub anchor: Option<crate::audit::checkpoint::Signed>,
}

async fn name_of(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<String, AppError> {
    Ok(db::users::get(conn, id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default())
}

/// Generates the full minutes of a meeting from its record (R-MINUTES).
pub(super) async fn generate(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
) -> Result<Minutes, AppError> {
    let m = &ctx.meeting;
    let id = ctx.id();
    let items = db::meetings::items(conn, id).await?;
    let attendees = db::meetings::attendees(conn, id).await?;
    let leave = db::meetings::leave_requests(conn, id).await?;
    let recusals = db::deliberation::recusals(conn, id).await?;
    let opinions = db::deliberation::opinions(conn, id).await?;
    let written = db::deliberation::written_opinions(conn, id).await?;
    let remarks = db::deliberation::remarks(conn, id).await?;
    let votes = db::deliberation::votes(conn, id).await?;
    let arrived = db::records::arrived(conn, id).await?;
    let notes = db::records::notes(conn, id).await?;
    let narrative = db::records::minutes(conn, id, false)
        .await?
        .map(|r| r.narrative)
        .unwrap_or_default();
    let emergencies = db::followup::emergencies_of_meeting(conn, id).await?;

    let mut present = Vec::new();
    let mut left_early = Vec::new();
    let mut on_leave = Vec::new();
    let mut absent = Vec::new();
    for member in &ctx.roster {
        if arrived.contains(&member.user_id) {
            present.push(member.name.clone());
            if !member.present {
                left_early.push(member.name.clone());
            }
        } else if let Some(l) = leave
            .iter()
            .find(|l| l.user_id == member.user_id && l.approved == Some(true))
        {
            on_leave.push(Absence {
                name: member.name.clone(),
                reason: l.reason.clone(),
            });
        } else {
            absent.push(member.name.clone());
        }
    }

    let mut lines = Vec::new();
    for item in items {
        let i = item.item_id;
        let mut overrides = Vec::new();
        if let Some(r) = &item.override_reason {
            let rule = if item.ad_hoc {
                Rule::AdHoc
            } else {
                Rule::TopicLeadTime
            };
            overrides.push(OverrideLine {
                rule: rule.code().into(),
                reason: r.clone(),
            });
        }
        if let Some(r) = &item.absent_override_reason {
            overrides.push(OverrideLine {
                rule: Rule::AbsentResponsible.code().into(),
                reason: r.clone(),
            });
        }
        let opinion_lines = |list: &[db::deliberation::Statement]| -> Vec<OpinionLine> {
            list.iter()
                .filter(|o| o.item_id == i)
                .map(|o| OpinionLine {
                    name: o.name.clone(),
                    stance: o.stance.clone(),
                    reason: o.reason.clone(),
                    dissent: Stance::parse(&o.stance) != Some(Stance::Agree),
                })
                .collect()
        };
        let item_opinions = opinion_lines(&opinions);
        let ballot_box_digest = crate::app::ballot_box::digest(conn, &item).await?;
        let vote = item.vote_method.as_ref().map(|method| VoteRecord {
            ballot_box_digest,
            method: method.clone(),
            yes: item.yes,
            no: item.no,
            abstain: item.abstain,
            should_attend: item.should_attend,
            ballots: votes
                .iter()
                .filter(|v| v.item_id == i)
                .map(|v| BallotLine {
                    name: v.name.clone(),
                    choice: if v.secret { None } else { v.choice.clone() },
                })
                .collect(),
        });
        let voted_against = vote.as_ref().is_some_and(|v| {
            v.ballots
                .iter()
                .any(|b| b.choice.as_deref() == Some(Choice::No.as_str()))
                || v.no.is_some_and(|n| n > 0)
        });
        let outcome = item.outcome.as_deref().and_then(Outcome::parse);
        let tally = match (item.yes, item.no, item.abstain, item.should_attend) {
            (Some(yes), Some(no), Some(abstain), Some(should)) => Some(TallyFigures {
                yes: i64::from(yes),
                no: i64::from(no),
                abstain: i64::from(abstain),
                should_attend: i64::from(should),
            }),
            _ => None,
        };
        lines.push(MinutesItem {
            item_id: i,
            position: item.position,
            category: item.category,
            classification: item.classification.clone(),
            cadre_name: item.cadre_name.clone(),
            responsible: name_of(conn, item.responsible_user_id).await?,
            withheld: false,
            not_reached: item.state == "pending",
            note: notes
                .iter()
                .find(|(n, _)| *n == i)
                .map(|(_, t)| t.clone())
                .unwrap_or_default(),
            overrides,
            recusals: recusals
                .iter()
                .filter(|r| r.item_id == i)
                .map(|r| RecusalLine {
                    name: r.name.clone(),
                    relation: r.relation.clone(),
                    note: r.note.clone(),
                })
                .collect(),
            dissent: item_opinions.iter().any(|o| o.dissent) || voted_against,
            opinions: item_opinions,
            written_opinions: opinion_lines(&written),
            remarks: remarks
                .iter()
                .filter(|r| r.item_id == i)
                .map(|r| RemarkLine {
                    name: r.name.clone(),
                    text: r.text.clone(),
                })
                .collect(),
            vote,
            basis: outcome.map_or_else(String::new, |o| {
                decision_basis(o, tally, item.outcome_reason.as_deref().unwrap_or(""))
            }),
            outcome: item.outcome.clone(),
            title: item.title,
        });
    }
    Ok(Minutes {
        meeting_id: id,
        name: m.title.clone(),
        starts_at: m.starts_at,
        place: m.place.clone(),
        chair: name_of(conn, m.chair_id).await?,
        chair_reason: m.chair_reason.clone(),
        recorder: name_of(conn, m.secretary_id).await?,
        present,
        left_early,
        on_leave,
        absent,
        attendees: attendees
            .iter()
            .map(|a| AttendeeLine {
                name: a.name.clone(),
                item: lines
                    .iter()
                    .find(|l| l.item_id == a.item_id)
                    .map(|l| l.title.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        materials_late_reason: m.materials_late_reason.clone(),
        narrative,
        items: lines,
        emergencies: emergencies
            .into_iter()
            .map(|e| EmergencyLine {
                title: e.title,
                action_taken: e.action_taken,
                occurred_at: e.occurred_at,
                recorded_by: e.recorded_by_name,
            })
            .collect(),
    })
}

/// R-MINUTES: what the generated minutes still lack. Items never reached went back to the
/// queue and are listed as such.
fn missing(m: &Minutes) -> Vec<String> {
    let record = MinutesRecord {
        name: &m.name,
        place: &m.place,
        has_time: true,
        chair: Some(m.chair.as_str()).filter(|c| !c.is_empty()),
        present: m.present.len(),
        recorder: Some(m.recorder.as_str()).filter(|r| !r.is_empty()),
        items: m
            .items
            .iter()
            .filter(|i| !i.not_reached)
            .map(|i| ItemFacts {
                title: &i.title,
                // R-OPINION is enforced when the vote opens (every present, non-recused member
                // has spoken), so the opinions on record are all that were due.
                expected_opinions: i.opinions.len(),
                opinions: i.opinions.len(),
                vote_recorded: i.vote.as_ref().is_some_and(|v| v.yes.is_some()),
                outcome: i.outcome.as_deref().and_then(Outcome::parse),
                basis: &i.basis,
                cadres: Category::new(i64::from(i.category))
                    .ok()
                    .filter(|c| c.is_cadre_appointment())
                    .map(|c| {
                        if check_one_cadre(c, i.cadre_name.as_deref()).is_ok() {
                            1
                        } else {
                            2
                        }
                    }),
            })
            .collect(),
    };
    missing_from_minutes(&record)
}

/// R-RECUSAL: a reader who recused from an item reads only that it is withheld.
fn redact_for(mut m: Minutes, recused_items: &[Uuid]) -> Minutes {
    for item in &mut m.items {
        if recused_items.contains(&item.item_id) {
            *item = MinutesItem {
                title: "(您已回避此议题)".into(),
                cadre_name: None,
                withheld: true,
                note: String::new(),
                overrides: Vec::new(),
                recusals: Vec::new(),
                opinions: Vec::new(),
                written_opinions: Vec::new(),
                remarks: Vec::new(),
                vote: None,
                outcome: None,
                basis: String::new(),
                dissent: false,
                ..item.clone()
            };
        }
    }
    m
}

/// The meeting loaded for an action on its minutes: `action` checked with the reader's borrow
/// grant, the meeting closed (R-MINUTES).
async fn load(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: Uuid,
    action: Action,
    lock: Lock,
) -> Result<Ctx, AppError> {
    let grant = db::records::borrow_grant(conn, id, user.user_id).await?;
    let found = Relation {
        borrow_grant: grant.is_some(),
        ..Relation::default()
    };
    let ctx = Ctx::load_as(conn, user, id, lock, action, found).await?;
    check_meeting_closed(ctx.state == MeetingState::Closed)?;
    Ok(ctx)
}

/// Reads the minutes as this user may see them, and audits the read (R-MINUTES-ACCESS).
async fn read(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<MinutesDoc, AppError> {
    Ok(read_as(state, user, id).await?.0)
}

/// [`read`], with the meeting as the reader stands to it (what else the page may offer).
async fn read_as(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<(MinutesDoc, Ctx), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::ReadMinutes, Lock::None).await?;
    let row = db::records::minutes(&mut tx, id, false).await?;
    let (minutes, sealed) = match row.as_ref().and_then(|r| r.sealed_body.as_deref()) {
        Some(body) => {
            let r = row.as_ref().expect("sealed row");
            let minutes: Minutes = serde_json::from_str(body)
                .map_err(|e| anyhow::anyhow!("sealed minutes do not parse: {e}"))?;
            let seal = Seal {
                sealed_at: r.sealed_at.expect("sealed"),
                sealed_by: r.sealed_by.expect("sealed"),
                sha256: r.sealed_sha256.clone().unwrap_or_default(),
                anchor: crate::audit::checkpoint::anchor_of(&mut tx, id, "minutes").await?,
            };
            (minutes, Some(seal))
        }
        None => (generate(&mut tx, &ctx).await?, None),
    };
    let missing = if sealed.is_some() {
        Vec::new()
    } else {
        missing(&minutes)
    };
    let recused: Vec<Uuid> = db::deliberation::recusals(&mut tx, id)
        .await?
        .into_iter()
        .filter(|r| r.user_id == user.user_id)
        .map(|r| r.item_id)
        .collect();
    let amendments = db::records::amendments(&mut tx, id).await?;
    let change = ctx.change("minutes.read").after(serde_json::json!({
        "sealed": sealed.is_some(),
        "as_member": ctx.position.is_some(),
    }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok((
        MinutesDoc {
            minutes: redact_for(minutes, &recused),
            missing,
            sealed,
            amendments,
        },
        ctx,
    ))
}

/// Structured minutes (R-MINUTES); members, the meeting secretary, or a borrower.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/minutes", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MinutesDoc), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem)))]
async fn minutes_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MinutesDoc>, AppError> {
    Ok(Json(read(&state, &user, parse_id(&id)?).await?))
}

// ---- The secretary's draft ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct DraftInput {
    #[serde(default)]
    pub narrative: String,
    /// The report and discussion of each item.
    #[serde(default)]
    pub notes: Vec<NoteInput>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NoteInput {
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub note: String,
}

async fn save_draft(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: DraftInput,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::DraftMinutes, Lock::Share).await?;
    let row = db::records::minutes(&mut tx, id, true).await?;
    check_edit(row.as_ref().is_some_and(|r| r.sealed_at.is_some()))?;
    let narrative = input.narrative.trim().to_owned();
    if narrative.chars().count() > 20000 {
        return Err(AppError::invalid("narrative", "不能超过 20000 个字符"));
    }
    let items = db::meetings::items(&mut tx, id).await?;
    let mut notes = Vec::new();
    for (n, note) in input.notes.iter().enumerate() {
        let field = format!("notes[{n}].item_id");
        let item_id = Uuid::parse_str(note.item_id.trim())
            .ok()
            .filter(|i| items.iter().any(|x| x.item_id == *i))
            .ok_or_else(|| AppError::invalid(&field, "不是本次会议的议题"))?;
        let text = note.note.trim().to_owned();
        if text.chars().count() > 20000 {
            return Err(AppError::invalid(
                &format!("notes[{n}].note"),
                "不能超过 20000 个字符",
            ));
        }
        notes.push((item_id, text));
    }
    db::records::save_draft(&mut tx, id, &narrative, &notes).await?;
    let change = ctx.change("minutes.draft").after(serde_json::json!({
        "narrative": narrative,
        "notes": notes.iter().map(|(i, t)| serde_json::json!({"item_id": i, "note": t})).collect::<Vec<_>>(),
    }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The secretary's narrative and item notes (R-MINUTES; refused once sealed).
#[utoipa::path(put, path = "/api/v1/meetings/{id}/minutes", tag = "records",
    params(("id" = Uuid, Path)), request_body = DraftInput,
    responses((status = 200, body = MinutesDoc), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn save_draft_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DraftInput>,
) -> Result<Json<MinutesDoc>, AppError> {
    let id = parse_id(&id)?;
    save_draft(&state, &user, id, input).await?;
    Ok(Json(read(&state, &user, id).await?))
}

// ---- Signing and amendments ----

async fn sign(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    // The meeting row is the lock two signatures (or a signature and a draft) meet on.
    let ctx = load(&mut tx, user, id, Action::SignMinutes, Lock::Update).await?;
    let row = db::records::minutes(&mut tx, id, true).await?;
    check_edit(row.as_ref().is_some_and(|r| r.sealed_at.is_some()))?;
    let minutes = generate(&mut tx, &ctx).await?;
    check_minutes_complete(&missing(&minutes))?;
    let (text, hash) = audit::seal(&minutes);
    db::records::seal(&mut tx, id, user.user_id, &text, &hash).await?;
    let members: Vec<Uuid> = ctx.roster.iter().map(|r| r.user_id).collect();
    db::notifications::send(
        &mut tx,
        &members,
        &format!("{}的会议记录已签署封存", ctx.meeting.title),
        &format!("/meetings/{id}/minutes"),
    )
    .await?;
    let change = ctx
        .change("minutes.sign")
        .after(serde_json::json!({ "sha256": hash }));
    let head = state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    let document = Document {
        kind: "minutes".into(),
        meeting_id: id,
        sha256: hash,
    };
    state.audit.anchor(&mut tx, &head, document).await?;
    tx.commit().await?;
    // R-AUDIT: every seal is followed by a checkpoint of every chain, kept outside the database.
    state.audit.checkpoints().request();
    Ok(())
}

/// Signs and seals the minutes (R-MINUTES-SEALED); the chair or the 书记.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/sign", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MinutesDoc), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem)))]
async fn sign_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MinutesDoc>, AppError> {
    let id = parse_id(&id)?;
    sign(&state, &user, id).await?;
    Ok(Json(read(&state, &user, id).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct AmendmentInput {
    #[serde(default)]
    pub text: String,
}

async fn amend(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: AmendmentInput,
) -> Result<Uuid, AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::AmendMinutes, Lock::Share).await?;
    let row = db::records::minutes(&mut tx, id, true).await?;
    check_amendment(
        row.as_ref().is_some_and(|r| r.sealed_at.is_some()),
        ctx.relation.meeting_secretary,
    )?;
    let text = required_text("text", &input.text, 5000)?;
    let amendment_id = db::records::amend(&mut tx, id, &text, user.user_id).await?;
    let change = ctx
        .change("minutes.amend")
        .after(serde_json::json!({ "amendment_id": amendment_id, "text": text }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(amendment_id)
}

/// A dated correction beside the sealed minutes; the meeting secretary.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/amendments", tag = "records",
    params(("id" = Uuid, Path)), request_body = AmendmentInput,
    responses((status = 201, body = MinutesDoc), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn amend_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AmendmentInput>,
) -> Result<(StatusCode, Json<MinutesDoc>), AppError> {
    let id = parse_id(&id)?;
    amend(&state, &user, id, input).await?;
    Ok((StatusCode::CREATED, Json(read(&state, &user, id).await?)))
}

// ---- Borrowing (R-MINUTES-ACCESS) ----

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct BorrowInput {
    #[serde(default)]
    pub reason: String,
    /// How long the permission lasts once approved: 1 to 90 days.
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedRequest {
    pub id: Uuid,
}

/// The 书记 and 副书记 of a group today.
async fn deciders(
    conn: &mut sqlx::PgConnection,
    party_group_id: Uuid,
) -> Result<Vec<Uuid>, AppError> {
    Ok(db::party_groups::memberships(conn, party_group_id)
        .await?
        .into_iter()
        .filter(|m| m.ended_on.is_none())
        .filter(|m| {
            matches!(
                Position::parse(&m.position),
                Some(Position::Secretary | Position::Deputy)
            )
        })
        .map(|m| m.user_id)
        .collect())
}

async fn ask_borrow(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: BorrowInput,
) -> Result<Uuid, AppError> {
    user.can(Action::RequestBorrow)?;
    let mut tx = state.pool.begin().await?;
    let meeting = db::meetings::get(&mut tx, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    let reason = required_text("reason", &input.reason, 2000)
        .map_err(|e| errors.push(e))
        .ok();
    let days = input.days.filter(|d| (1..=90).contains(d));
    if days.is_none() {
        errors.push(AppError::invalid("days", "借阅天数须为 1 到 90 天"));
    }
    let (Some(reason), Some(days)) = (reason, days) else {
        return Err(AppError::Invalid(
            errors
                .into_iter()
                .flat_map(|e| match e {
                    AppError::Invalid(f) => f,
                    _ => Vec::new(),
                })
                .collect(),
        ));
    };
    let request_id =
        db::records::ask_borrow(&mut tx, id, user.user_id, &reason, days as i32).await?;
    let to = deciders(&mut tx, meeting.party_group_id).await?;
    db::notifications::send(
        &mut tx,
        &to,
        &format!("{}申请借阅{}的会议记录", user.name, meeting.title),
        "/borrow-requests",
    )
    .await?;
    let change = Change::new(
        audit::Chain::PartyGroup(meeting.party_group_id),
        "minutes.borrow_request",
        "meeting",
    )
    .entity(id)
    .after(serde_json::json!({ "request_id": request_id, "reason": reason, "days": days }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(request_id)
}

/// Asks to borrow the minutes with a reason and a duration; anyone signed in.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/borrow-requests", tag = "records",
    params(("id" = Uuid, Path)), request_body = BorrowInput,
    responses((status = 201, body = CreatedRequest), (status = 404, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn borrow_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<BorrowInput>,
) -> Result<(StatusCode, Json<CreatedRequest>), AppError> {
    let id = ask_borrow(&state, &user, parse_id(&id)?, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedRequest { id })))
}

/// My borrow requests, and those waiting for my decision as 书记 or 副书记.
#[utoipa::path(get, path = "/api/v1/borrow-requests", tag = "records",
    responses((status = 200, body = Vec<BorrowRequest>), (status = 401, body = super::error::Problem)))]
async fn borrow_requests_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<BorrowRequest>>, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        db::records::borrow_requests_for(&mut conn, user.user_id).await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct BorrowDecision {
    pub approved: Option<bool>,
}

async fn decide_borrow(
    state: &AppState,
    user: &CurrentUser,
    request_id: Uuid,
    input: BorrowDecision,
) -> Result<BorrowRequest, AppError> {
    let mut tx = state.pool.begin().await?;
    let request = db::records::borrow_request(&mut tx, request_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position =
        db::party_groups::current_position(&mut tx, request.party_group_id, user.user_id)
            .await?
            .and_then(|p| Position::parse(&p));
    // The requester may see their own request; a decider is a member of the group.
    if position.is_none() && request.user_id != user.user_id {
        return Err(AppError::NotFound);
    }
    user.can_in(
        Action::DecideBorrow,
        request.party_group_id,
        position,
        &Relation::default(),
    )?;
    check_borrow_decider(position)?;
    let approved = input
        .approved
        .ok_or_else(|| AppError::invalid("approved", "请选择批准或不批准"))?;
    if request.approved.is_some() {
        return Err(
            RuleViolation::new(Rule::MinutesAccess, "该借阅申请已审批,不能重复审批。").into(),
        );
    }
    let expires_at =
        db::records::decide_borrow(&mut tx, request_id, approved, user.user_id).await?;
    let text = match expires_at {
        Some(t) => format!(
            "您借阅{}会议记录的申请已批准,有效期至{}",
            request.meeting_title,
            datetime_zh(&t)
        ),
        None => format!("您借阅{}会议记录的申请未获批准", request.meeting_title),
    };
    db::notifications::send(
        &mut tx,
        &[request.user_id],
        &text,
        &format!("/meetings/{}/minutes", request.meeting_id),
    )
    .await?;
    let change = Change::new(
        audit::Chain::PartyGroup(request.party_group_id),
        "minutes.borrow_decision",
        "meeting",
    )
    .entity(request.meeting_id)
    .after(serde_json::json!({
        "request_id": request_id,
        "user_id": request.user_id,
        "approved": approved,
        "expires_at": expires_at.map(|t| datetime_zh(&t)),
    }));
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(BorrowRequest {
        approved: Some(approved),
        decided_by: Some(user.user_id),
        expires_at,
        ..request
    })
}

/// Decides a borrow request (R-MINUTES-ACCESS); the 书记 or a 副书记 of the meeting's group.
#[utoipa::path(post, path = "/api/v1/borrow-requests/{id}/decision", tag = "records",
    params(("id" = Uuid, Path)), request_body = BorrowDecision,
    responses((status = 200, body = BorrowRequest), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn decide_borrow_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<BorrowDecision>,
) -> Result<Json<BorrowRequest>, AppError> {
    Ok(Json(
        decide_borrow(&state, &user, parse_id(&id)?, input).await?,
    ))
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "records/minutes.html")]
struct MinutesPage {
    layout: Layout,
    meeting_id: Uuid,
    doc: Option<MinutesDoc>,
    /// Why the reader cannot read them (then the borrow form is shown).
    refusal: Option<String>,
    may_draft: bool,
    may_sign: bool,
    may_amend: bool,
}

impl MinutesPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
    fn stance_zh(&self, s: &str) -> &'static str {
        Stance::parse(s).map_or("", Stance::label_zh)
    }
    fn choice_zh(&self, c: &Option<String>) -> &'static str {
        c.as_deref()
            .and_then(Choice::parse)
            .map_or("已投票", Choice::label_zh)
    }
    fn method_zh(&self, m: &str) -> &'static str {
        VoteMethod::parse(m).map_or("", VoteMethod::label_zh)
    }
    fn outcome_zh(&self, o: &Option<String>) -> &'static str {
        o.as_deref()
            .and_then(Outcome::parse)
            .map_or("未决", Outcome::label_zh)
    }
    fn relation_zh(&self, r: &str) -> &'static str {
        Kinship::parse(r).map_or("", Kinship::label_zh)
    }
    fn join(&self, names: &[String]) -> String {
        if names.is_empty() {
            "无".into()
        } else {
            names.join("、")
        }
    }
}

async fn minutes_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<MinutesPage, AppError> {
    let id = parse_id(&id)?;
    let mut page = MinutesPage {
        layout: Layout::new("会议记录", Some(&user)),
        meeting_id: id,
        doc: None,
        refusal: None,
        may_draft: false,
        may_sign: false,
        may_amend: false,
    };
    match read_as(&state, &user, id).await {
        Ok((doc, ctx)) => {
            let allowed = |a| ctx.can(&user, a).is_ok();
            let sealed = doc.sealed.is_some();
            page.may_draft = !sealed && allowed(Action::DraftMinutes);
            page.may_sign = !sealed && allowed(Action::SignMinutes);
            page.may_amend = sealed && allowed(Action::AmendMinutes);
            page.layout = Layout::new(format!("{} 会议记录", doc.minutes.name), Some(&user));
            page.doc = Some(doc);
        }
        // Not theirs to read: offer to borrow, without showing the meeting.
        Err(AppError::Forbidden | AppError::NotFound) => {
            let mut conn = state.pool.acquire().await?;
            if db::meetings::get(&mut conn, id, Lock::None)
                .await?
                .is_none()
            {
                return Err(AppError::NotFound);
            }
            page.refusal = Some(
                "会议记录仅党组成员可查阅;其他人员须经书记或副书记批准借阅(第二十一条(四))。"
                    .into(),
            );
        }
        Err(e) => return Err(e),
    }
    Ok(page)
}

#[derive(Deserialize)]
struct MinutesForm {
    #[serde(default)]
    narrative: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    days: String,
    /// `note_<item_id>` fields.
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, String>,
}

fn to_minutes(id: Uuid) -> Redirect {
    Redirect::to(&format!("/meetings/{id}/minutes"))
}

async fn save_draft_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MinutesForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let notes = f
        .rest
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("note_").map(|item_id| NoteInput {
                item_id: item_id.to_owned(),
                note: v.clone(),
            })
        })
        .collect();
    let input = DraftInput {
        narrative: f.narrative,
        notes,
    };
    save_draft(&state, &user, id, input).await?;
    Ok(to_minutes(id))
}

async fn sign_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(_): PageForm<MinutesForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    sign(&state, &user, id).await?;
    Ok(to_minutes(id))
}

async fn amend_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MinutesForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    amend(&state, &user, id, AmendmentInput { text: f.text }).await?;
    Ok(to_minutes(id))
}

async fn borrow_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MinutesForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let input = BorrowInput {
        reason: f.reason,
        days: f.days.trim().parse().ok(),
    };
    ask_borrow(&state, &user, id, input).await?;
    Ok(Redirect::to("/borrow-requests"))
}

#[derive(Template, WebTemplate)]
#[template(path = "records/borrow_requests.html")]
struct BorrowRequestsPage {
    layout: Layout,
    me: Uuid,
    requests: Vec<BorrowRequest>,
}

impl BorrowRequestsPage {
    fn when(&self, t: &OffsetDateTime) -> String {
        datetime_zh(t)
    }
    fn state_zh(&self, r: &BorrowRequest) -> String {
        match (r.approved, r.expires_at) {
            (None, _) => "待审批".into(),
            (Some(false), _) => "未批准".into(),
            (Some(true), Some(t)) if t > OffsetDateTime::now_utc() => {
                format!("已批准,至{}", datetime_zh(&t))
            }
            (Some(true), _) => "已到期".into(),
        }
    }
}

async fn borrow_requests_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<BorrowRequestsPage, AppError> {
    let mut conn = state.pool.acquire().await?;
    Ok(BorrowRequestsPage {
        layout: Layout::new("借阅申请", Some(&user)),
        me: user.user_id,
        requests: db::records::borrow_requests_for(&mut conn, user.user_id).await?,
    })
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    approved: String,
}

async fn decide_borrow_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<DecisionForm>,
) -> Result<Redirect, AppError> {
    let approved = match f.approved.as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    decide_borrow(&state, &user, parse_id(&id)?, BorrowDecision { approved }).await?;
    Ok(Redirect::to("/borrow-requests"))
}
