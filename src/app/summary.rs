//! The summary (会议纪要), R-SUMMARY: generated from the decisions of a closed meeting and
//! their follow-up tasks, signed by the 书记 or the meeting's chair only when every passed item
//! has a task with one lead (R-FOLLOWUP-OWNER), sealed on signing, distributed by 综合科 to
//! members, the other leaders and the heads of sections with classified items withheld from
//! those without clearance (R-CONFIDENTIAL), each recipient's delivery and opening logged.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::app::error::AppError;
use crate::app::meeting::{Ctx, commit};
use crate::app::{CurrentUser, Services};
use crate::audit;
use crate::db::meetings::Lock;
use crate::db::records::Receipt;
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::deliberation::Outcome;
use crate::domain::ids::{ItemId, MeetingId, UserId};
use crate::domain::meeting::MeetingState;
use crate::domain::org::member_on;
use crate::domain::records::{
    Decision, check_distribute, check_followup_owners, check_meeting_closed, check_sign_summary,
    check_summary_signer, summary_item_visible, summary_recipient,
};
use crate::domain::role::Role;
use crate::domain::rule::RuleViolation;

/// The summary as generated from the decisions (and, once signed, as sealed).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    pub meeting_id: MeetingId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub place: String,
    pub chair: String,
    pub present: Vec<String>,
    /// Members on approved leave (请假); absent from summaries signed before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_leave: Vec<String>,
    /// Attendees (列席), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attendees: Vec<String>,
    pub decisions: Vec<DecisionLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionLine {
    pub item_id: ItemId,
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
    /// Delivery and receipt per recipient: for 综合科, the chair and the 书记.
    pub receipts: Vec<Receipt>,
    /// The reader's own receipt, when the summary was delivered to them.
    pub my_receipt: Option<MyReceipt>,
}

/// A recipient's delivery and, once they signed for it (签收), when.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyReceipt {
    #[serde(with = "time::serde::rfc3339")]
    pub delivered_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub signed_for_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummarySeal {
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    pub signed_by: UserId,
    pub sha256: String,
    /// The signed checkpoint of the audit chain taken at the signature (the footer's anchor).
    pub anchor: Option<crate::audit::checkpoint::Signed>,
}

pub async fn generate(conn: &mut sqlx::PgConnection, ctx: &Ctx) -> Result<Summary, AppError> {
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
        on_leave: minutes.on_leave.into_iter().map(|a| a.name).collect(),
        attendees: minutes
            .attendees
            .into_iter()
            .fold(Vec::new(), |mut names, a| {
                if !names.contains(&a.name) {
                    names.push(a.name);
                }
                names
            }),
        decisions,
    })
}

/// R-FOLLOWUP-OWNER: the passed decisions still without a follow-up task (each task has one
/// lead by construction).
pub fn followup_check(s: &Summary) -> Result<(), RuleViolation> {
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

pub fn lacking_lead(s: &Summary) -> Vec<String> {
    s.decisions
        .iter()
        .filter(|d| d.outcome == Outcome::Passed.as_str() && d.tasks.is_empty())
        .map(|d| d.title.clone())
        .collect()
}

/// The meeting loaded for an action on its summary, with the reader's delivered copy.
pub async fn load(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: MeetingId,
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
pub fn cleared(ctx: &Ctx, user_id: UserId, office: bool) -> bool {
    office || ctx.is_member(user_id)
}

pub fn withhold(mut s: Summary, cleared: bool) -> (Summary, usize) {
    let before = s.decisions.len();
    s.decisions
        .retain(|d| summary_item_visible(d.classification == "secret", cleared));
    let withheld = before - s.decisions.len();
    (s, withheld)
}

pub async fn read(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<SummaryDoc, AppError> {
    Ok(read_as(state, user, id).await?.0)
}

/// [`read`], with the meeting as the reader stands to it (what else the page may offer).
/// The summary to export as a document, with the name of its party group (the document's
/// issuer).
pub async fn for_export(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<(SummaryDoc, String), AppError> {
    let (doc, ctx) = read_as(state, user, id).await?;
    let group = crate::app::organisation::group_name(state, ctx.meeting.party_group_id).await?;
    Ok((doc, group))
}

pub async fn read_as(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
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
    let my_receipt = db::records::receipt_of(&mut tx, id, user.user_id)
        .await?
        .map(|(delivered_at, signed_for_at)| MyReceipt {
            delivered_at,
            signed_for_at,
        });
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
            my_receipt,
        },
        ctx,
    ))
}

/// A recipient signs for the distributed summary (签收), once; 综合科 sees the time.
pub async fn sign_for(state: &Services, user: &CurrentUser, id: MeetingId) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::ReadSummary, Lock::None).await?;
    if !db::records::is_recipient(&mut tx, id, user.user_id).await? {
        return Err(AppError::Conflict("会议纪要没有分发给您,无须签收。".into()));
    }
    if db::records::mark_summary_read(&mut tx, id, user.user_id).await? {
        return commit(state, tx, user, &ctx, ctx.change("summary.receipt")).await;
    }
    // Signed for before: nothing more to record.
    Ok(())
}

pub async fn sign(state: &Services, user: &CurrentUser, id: MeetingId) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::SignSummary, Lock::Update).await?;
    check_summary_signer(
        ctx.position == Some(crate::domain::org::Position::Secretary),
        ctx.relation.chair,
    )?;
    check_sign_summary(db::records::summary(&mut tx, id, true).await?.is_some())?;
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

pub async fn distribute(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let ctx = load(&mut tx, user, id, Action::DistributeSummary, Lock::Update).await?;
    let row = db::records::summary(&mut tx, id, true).await?;
    check_distribute(
        row.is_some(),
        row.as_ref().is_some_and(|r| r.distributed_at.is_some()),
    )?;
    let row = row.ok_or_else(|| anyhow::anyhow!("a summary that may be distributed exists"))?;
    let summary: Summary = serde_json::from_str(&row.body)
        .map_err(|e| anyhow::anyhow!("signed summary does not parse: {e}"))?;
    let memberships = db::party_groups::memberships(&mut tx, ctx.meeting.party_group_id).await?;
    let date = ctx.date();
    let recipients: Vec<(UserId, i32)> = db::users::list(&mut tx)
        .await?
        .into_iter()
        .filter(|u| u.active)
        .filter_map(|u| {
            let member = memberships
                .iter()
                .any(|m| m.user_id == u.user_id && member_on(m.started_on, m.ended_on, date));
            let member = summary_recipient(member, &u.roles)?;
            let (_, withheld) = withhold(summary.clone(), member);
            Some((u.user_id, withheld as i32))
        })
        .collect();
    db::records::distribute_summary(&mut tx, id, user.user_id, &recipients).await?;
    let to: Vec<UserId> = recipients.iter().map(|(u, _)| *u).collect();
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
    state.commit(tx, user, change).await?;
    Ok(())
}

/// Whom a task may be given to, for those who may add one: sections, and every active account
/// that is not only the admin's.
pub async fn task_choices(
    state: &Services,
    user: &CurrentUser,
    ctx: &Ctx,
) -> Result<
    (
        Vec<crate::db::sections::Section>,
        Vec<crate::db::users::User>,
    ),
    AppError,
> {
    if ctx.can(user, Action::CreateTask).is_err() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut conn = state.pool.acquire().await?;
    let people = db::users::list(&mut conn)
        .await?
        .into_iter()
        .filter(|u| u.active && !u.roles.iter().all(|r| *r == Role::Admin))
        .collect();
    Ok((db::sections::list(&mut conn).await?, people))
}

/// The year's compilation (纪要汇编) of a group, for its 书记 and 综合科: every signed summary
/// of the meetings held in `year`, in order, each as this reader may read it (R-CONFIDENTIAL
/// withholds as in each summary). A compilation stays within its year, as minutes books do.
pub async fn compilation(
    state: &Services,
    user: &CurrentUser,
    group_id: crate::domain::ids::PartyGroupId,
    year: i32,
) -> Result<(String, Vec<SummaryDoc>), AppError> {
    use crate::display::DISPLAY_OFFSET;
    let start = |y: i32| {
        Date::from_calendar_date(y, time::Month::January, 1)
            .map(|d| d.midnight().assume_offset(DISPLAY_OFFSET))
            .map_err(|_| AppError::invalid("year", "须为 2000 至 2100 之间的年份"))
    };
    if !(2000..=2100).contains(&year) {
        return Err(AppError::invalid("year", "须为 2000 至 2100 之间的年份"));
    }
    let mut conn = state.pool.acquire().await?;
    let (group, _) =
        crate::app::duties::group_for(&mut conn, user, group_id, Action::TrackDuties).await?;
    let ids =
        db::records::signed_summaries_between(&mut conn, group_id, start(year)?, start(year + 1)?)
            .await?;
    drop(conn);
    let mut docs = Vec::with_capacity(ids.len());
    for id in ids {
        docs.push(read(state, user, id).await?);
    }
    Ok((group.name, docs))
}
