//! Drafting the minutes, signing (which seals them) and dated amendments after.

use serde::Deserialize;
use uuid::Uuid;

use super::{generate, load, missing};
use crate::app::error::AppError;
use crate::app::input::required_text;
use crate::app::{CurrentUser, Services};
use crate::audit::checkpoint::Document;
use crate::audit::{self};
use crate::db::meetings::Lock;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::ids::{ItemId, MeetingId, UserId};
use crate::domain::records::{check_amendment, check_edit, check_minutes_complete};

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(from = "DraftFields")]
pub struct DraftInput {
    pub narrative: String,
    /// The report and discussion of each item.
    pub notes: Vec<NoteInput>,
}

/// The draft as it arrives: the API's `notes`, or the page's one `note_<item_id>` field per
/// item.
#[derive(Deserialize)]
struct DraftFields {
    #[serde(default)]
    narrative: String,
    #[serde(default)]
    notes: Vec<NoteInput>,
    #[serde(flatten)]
    fields: std::collections::BTreeMap<String, serde_json::Value>,
}

impl From<DraftFields> for DraftInput {
    fn from(d: DraftFields) -> DraftInput {
        let mut notes = d.notes;
        notes.extend(d.fields.into_iter().filter_map(|(key, value)| {
            let item_id = key.strip_prefix("note_")?.to_owned();
            let serde_json::Value::String(note) = value else {
                return None;
            };
            Some(NoteInput { item_id, note })
        }));
        DraftInput {
            narrative: d.narrative,
            notes,
        }
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NoteInput {
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub note: String,
}

pub async fn save_draft(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
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
        let item_id = ItemId::parse(&note.item_id)
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
    state.commit(tx, user, change).await?;
    Ok(())
}

pub async fn sign(state: &Services, user: &CurrentUser, id: MeetingId) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    // The meeting row is the lock two signatures (or a signature and a draft) meet on.
    let ctx = load(&mut tx, user, id, Action::SignMinutes, Lock::Update).await?;
    let row = db::records::minutes(&mut tx, id, true).await?;
    check_edit(row.as_ref().is_some_and(|r| r.sealed_at.is_some()))?;
    let minutes = generate(&mut tx, &ctx).await?;
    check_minutes_complete(&missing(&minutes))?;
    let (text, hash) = audit::seal(&minutes);
    db::records::seal(&mut tx, id, user.user_id, &text, &hash).await?;
    let members: Vec<UserId> = ctx.roster.iter().map(|r| r.user_id).collect();
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

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct AmendmentInput {
    #[serde(default)]
    pub text: String,
}

pub async fn amend(
    state: &Services,
    user: &CurrentUser,
    id: MeetingId,
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
    state.commit(tx, user, change).await?;
    Ok(amendment_id)
}
