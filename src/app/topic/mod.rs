//! Topic intake (议题), section B of `rules.md`: who may see and act on a topic and what it
//! requires (here); drafting and editing it (`intake`); its way to the 书记's desk —
//! prerequisites, sign-off, submission, withdrawal, return (`course`); and what waits for each
//! person (`desk`).

mod course;
mod desk;
mod intake;
mod materials;

pub use course::{
    NewAssignment, NewPrerequisite, ReturnTopic, assign, record_prerequisite, return_topic,
    sign_off, submission_blockers, submission_check, submit, withdraw,
};
pub use desk::{PreviewQuery, ReviewItem, inbox, preview, submitted, todos};
pub use intake::{NewTopic, create_topic, fill_topic, long_text, optional_text, update_topic};
pub use materials::{Purpose, Upload, chunks, open_file};

use serde::Serialize;
use time::OffsetDateTime;

use crate::app::error::AppError;
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::topics::Topic;
use crate::db::{self};
use crate::domain::authz::{Action, Relation};
use crate::domain::category::Category;
use crate::domain::ids::{SectionId, TopicId};
use crate::domain::money::Fen;
use crate::domain::org::{Position, SectionKind};
use crate::domain::topic::{
    Classification, PrerequisiteKind, Requirement, TopicFacts, may_record, required_prerequisites,
};

/// A prerequisite the topic needs, and whether it is on file.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PrerequisiteView {
    pub kind: String,
    pub label_zh: String,
    /// The rule codes that require it.
    pub rules: Vec<String>,
    pub satisfied: bool,
    pub conclusion: Option<String>,
    pub note: Option<String>,
    /// Who recorded it.
    pub by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
}

impl PrerequisiteView {
    /// A required prerequisite with what is on file for it, if anything.
    fn of(r: Requirement, on_file: Option<&db::topics::RecordedPrerequisite>) -> Self {
        PrerequisiteView {
            kind: r.kind.as_str().to_owned(),
            label_zh: r.kind.label_zh().to_owned(),
            rules: r.rules.iter().map(|rule| rule.code().to_owned()).collect(),
            satisfied: on_file.is_some(),
            conclusion: on_file.map(|p| p.conclusion.clone()),
            note: on_file.map(|p| p.note.clone()),
            by: on_file.map(|p| p.recorded_by_name.clone()),
            at: on_file.map(|p| p.recorded_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TopicView {
    #[serde(flatten)]
    pub topic: Topic,
    pub prerequisites: Vec<PrerequisiteView>,
    /// Kinds of prerequisite still missing.
    pub missing: Vec<String>,
    pub materials: Vec<db::materials::MaterialInfo>,
    /// Sections the 书记 assigned to carry out the policy assessments.
    pub assigned_sections: Vec<SectionId>,
    /// Where it went: each agenda item it was placed on, with the decision and its follow-up.
    pub placements: Vec<db::topics::Placement>,
}

/// The prerequisites the domain requires of a topic, each with what is on file.
pub async fn view(
    state: &Services,
    user: &CurrentUser,
    topic: Topic,
) -> Result<TopicView, AppError> {
    let mut conn = state.pool.acquire().await?;
    let recorded = db::topics::prerequisites(&mut conn, topic.topic_id).await?;
    // R-CONFIDENTIAL: secret materials are listed only to those who may read them.
    let (position, relation) = relation_to(&mut conn, user, &topic).await?;
    let sees_secret = user
        .can_in(
            Action::ReadMaterial { secret: true },
            topic.party_group_id,
            position,
            &relation,
        )
        .is_ok();
    let materials = db::materials::list(&mut conn, topic.topic_id)
        .await?
        .into_iter()
        .filter(|m| sees_secret || m.classification != Classification::Secret)
        .collect();
    let prerequisites: Vec<PrerequisiteView> = requirements(&mut conn, &topic)
        .await?
        .into_iter()
        .map(|r| {
            let on_file = recorded.iter().find(|p| p.kind == r.kind);
            PrerequisiteView::of(r, on_file)
        })
        .collect();
    let missing = prerequisites
        .iter()
        .filter(|p| !p.satisfied)
        .map(|p| p.kind.clone())
        .collect();
    let assigned_sections = db::topics::assigned_sections(&mut conn, topic.topic_id).await?;
    let placements = db::topics::placements(&mut conn, topic.topic_id).await?;
    Ok(TopicView {
        topic,
        prerequisites,
        missing,
        materials,
        assigned_sections,
        placements,
    })
}

/// A topic's change, audited on its group's chain with the topic as the entity.
pub fn topic_change(topic: &Topic, action: &'static str) -> Change {
    Change::new(Chain::PartyGroup(topic.party_group_id), action, "topic").entity(topic.topic_id)
}

/// Loads a topic the user may see (R-CONFIDENTIAL), else 404.
pub async fn visible_topic(
    state: &Services,
    user: &CurrentUser,
    id: TopicId,
) -> Result<Topic, AppError> {
    let mut conn = state.pool.acquire().await?;
    let topic = db::topics::get(&mut conn, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let (position, relation) = relation_to(&mut conn, user, &topic).await?;
    user.can_in(Action::ReadTopic, topic.party_group_id, position, &relation)?;
    Ok(topic)
}

/// The facts of a stored topic that its prerequisites depend on.
pub fn facts_of(topic: &Topic) -> Result<TopicFacts, AppError> {
    Ok(TopicFacts {
        category: Category::new(i64::from(topic.category)).map_err(anyhow::Error::msg)?,
        is_major_policy: topic.is_major_policy,
        is_technical: topic.is_technical,
        is_public_interest: topic.is_public_interest,
        is_procurement: topic.is_procurement,
        amount: topic
            .amount_fen
            .map(Fen::new)
            .transpose()
            .map_err(anyhow::Error::msg)?,
    })
}

/// What a topic requires, computed by the domain from its facts and the group's threshold.
pub async fn requirements(
    conn: &mut sqlx::PgConnection,
    topic: &Topic,
) -> Result<Vec<Requirement>, AppError> {
    let settings = db::party_groups::settings(conn, topic.party_group_id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let facts = facts_of(topic)?;
    let threshold = Fen::new(settings.large_spend_fen).map_err(anyhow::Error::msg)?;
    Ok(required_prerequisites(&facts, threshold))
}

/// The kinds this user may record on this topic (by role and section, see `topic::may_record`).
pub async fn recordable_kinds(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    topic: &Topic,
    required: &[Requirement],
) -> Result<Vec<PrerequisiteKind>, AppError> {
    let section = db::users::section_of(conn, user.user_id).await?;
    let assigned = match &section {
        Some((id, _)) => db::topics::assigned_sections(conn, topic.topic_id)
            .await?
            .contains(id),
        None => false,
    };
    let kind = section_kind_for(
        user,
        topic,
        section.and_then(|(_, k)| SectionKind::parse(&k)),
    );
    Ok(required
        .iter()
        .map(|r| r.kind)
        .filter(|k| may_record(*k, &user.roles, kind, assigned))
        .collect())
}

/// The kind of the user's section where it counts for this topic: a section reviews only the
/// topics of the party groups it serves.
pub fn section_kind_for(
    user: &CurrentUser,
    topic: &Topic,
    kind: Option<SectionKind>,
) -> Option<SectionKind> {
    kind.filter(|_| user.served_groups.contains(&topic.party_group_id))
}

/// The user's position in the topic's group and relation to the topic.
pub async fn relation_to(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    topic: &Topic,
) -> Result<(Option<Position>, Relation), AppError> {
    let position =
        db::party_groups::current_position(conn, topic.party_group_id, user.user_id).await?;
    let required = requirements(conn, topic).await?;
    let reviewer = !recordable_kinds(conn, user, topic, &required)
        .await?
        .is_empty();
    let relation = Relation {
        proposer: topic.proposer_id == user.user_id,
        responsible_leader: topic.responsible_user_id == user.user_id,
        reviewer,
        attendee: db::meetings::invited_to_topic(conn, topic.topic_id, user.user_id).await?,
        ..Relation::default()
    };
    Ok((position, relation))
}

/// Locks the topic in `tx` and checks that the user may take `action` on it.
pub async fn topic_for_action(
    tx: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: TopicId,
    action: Action,
) -> Result<(Topic, Option<Position>), AppError> {
    let topic = db::topics::get(tx, id, true)
        .await?
        .ok_or(AppError::NotFound)?;
    let (position, relation) = relation_to(tx, user, &topic).await?;
    user.can_in(Action::ReadTopic, topic.party_group_id, position, &relation)?;
    user.can_in(action, topic.party_group_id, position, &relation)?;
    Ok((topic, position))
}

/// Topics I proposed or must sign off.
pub async fn list(state: &Services, user: &CurrentUser) -> Result<Vec<Topic>, AppError> {
    Ok(db::topics::list_for_user(&mut *state.pool.acquire().await?, user.user_id).await?)
}
