//! The minutes (会议记录), section E of `rules.md`: generated from the structured record of a
//! closed meeting (R-MINUTES) and who may read them (R-MINUTES-ACCESS), here; the secretary's
//! narrative, the seal on signing (R-MINUTES-SEALED) and dated amendments (`drafting`); borrow
//! requests for those who are not members (`borrowing`). Every read is audited.

mod borrowing;
mod drafting;

pub use borrowing::{
    BorrowDecision, BorrowInput, CreatedRequest, ask_borrow, borrow_requests, decide_borrow,
    deciders, deciding_groups,
};
pub use drafting::{AmendmentInput, DraftInput, NoteInput, amend, save_draft, sign};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::app::error::AppError;
use crate::app::meeting::Ctx;
use crate::app::{CurrentUser, Services};
use crate::db::meetings::Lock;
use crate::db::records::Amendment;
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::category::Category;
use crate::domain::deliberation::{Choice, Outcome, Stance};
use crate::domain::ids::{ItemId, MeetingId, UserId};
use crate::domain::meeting::{ItemStage, MeetingState};
use crate::domain::records::{
    MinutesItem as ItemFacts, MinutesRecord, TallyFigures, check_meeting_closed, decision_basis,
    missing_from_minutes,
};
use crate::domain::rule::Rule;
use crate::domain::topic::check_one_cadre;

/// The minutes as generated from the record (and, once signed, as sealed).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Minutes {
    pub meeting_id: MeetingId,
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
    pub item_id: ItemId,
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
    /// A paper vote: the two people of 综合科 whose separate counts agreed (R-ONE-VOTE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counters: Vec<String>,
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
    pub sealed_by: UserId,
    /// sha256 of the sealed text, also in the audit chain.
    pub sha256: String,
    /// The signed checkpoint of the audit chain taken at the seal (the footer's anchor).
    pub anchor: Option<crate::audit::checkpoint::Signed>,
}

pub async fn name_of(conn: &mut sqlx::PgConnection, id: UserId) -> Result<String, AppError> {
    Ok(db::users::get(conn, id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default())
}

/// Generates the full minutes of a meeting from its record (R-MINUTES).
pub async fn generate(conn: &mut sqlx::PgConnection, ctx: &Ctx) -> Result<Minutes, AppError> {
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
    let paper_counts = db::deliberation::paper_counts(conn, id).await?;
    let arrived = db::records::arrived(conn, id).await?;
    let notes = db::records::notes(conn, id).await?;
    let narrative = db::records::minutes(conn, id, false)
        .await?
        .map(|r| r.narrative)
        .unwrap_or_default();
    let emergencies = db::emergencies::emergencies_of_meeting(conn, id).await?;

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
                    stance: o.stance.as_str().to_owned(),
                    reason: o.reason.clone(),
                    dissent: o.stance != Stance::Agree,
                })
                .collect()
        };
        let item_opinions = opinion_lines(&opinions);
        let ballot_box_digest = crate::app::ballot_box::digest(conn, &item).await?;
        let counted_on_paper: Vec<_> = paper_counts.iter().filter(|e| e.item_id == i).collect();
        let counters = crate::app::paper_vote::state_of(&counted_on_paper).counters;
        let vote = item.vote_method.map(|method| VoteRecord {
            ballot_box_digest,
            counters,
            method: method.as_str().to_owned(),
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
        let outcome = item.outcome;
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
            classification: item.classification.as_str().to_owned(),
            cadre_name: item.cadre_name.clone(),
            responsible: name_of(conn, item.responsible_user_id).await?,
            withheld: false,
            not_reached: item.state == ItemStage::Pending,
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
            outcome: item.outcome.map(|o| o.as_str().to_owned()),
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
pub fn missing(m: &Minutes) -> Vec<String> {
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
pub fn redact_for(mut m: Minutes, recused_items: &[ItemId]) -> Minutes {
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
pub async fn load(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: MeetingId,
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
pub async fn read(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<MinutesDoc, AppError> {
    Ok(read_as(state, user, id).await?.0)
}

/// [`read`], with the meeting as the reader stands to it (what else the page may offer).
pub async fn read_as(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
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
    let recused: Vec<ItemId> = db::deliberation::recusals(&mut tx, id)
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
    state.commit(tx, user, change).await?;
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
