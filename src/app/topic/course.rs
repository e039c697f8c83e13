//! A topic's way to the 书记's desk: prerequisites recorded by those who own them, the 分管
//! leader's sign-off, submission to 综合科 (R-MATERIALS, R-TOPIC-SOURCE and every prerequisite),
//! withdrawal, return, and the sections assigned to a policy topic's assessments.

use serde::Deserialize;

use super::{
    long_text, recordable_kinds, relation_to, requirements, topic_change, topic_for_action,
};
use crate::app::error::AppError;
use crate::app::{CurrentUser, Services};
use crate::db::topics::Topic;
use crate::db::{self};
use crate::domain::account::parse_name;
use crate::domain::authz::Action;
use crate::domain::ids::{SectionId, TopicId};
use crate::domain::org::Position;
use crate::domain::topic::{
    MaterialsFields, PrerequisiteKind, Recorder, Requirement, check_materials,
    check_prerequisites_on_file, check_procurement_once, check_sign_off, check_submission_source,
    recorder,
};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPrerequisite {
    /// One of the prerequisite kinds of `api.md`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub conclusion: String,
    #[serde(default)]
    pub note: String,
}

pub async fn record_prerequisite(
    state: &Services,
    user: &CurrentUser,
    id: TopicId,
    input: NewPrerequisite,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let topic = db::topics::get(&mut tx, id, true)
        .await?
        .ok_or(AppError::NotFound)?;
    let (position, relation) = relation_to(&mut tx, user, &topic).await?;
    user.can_in(Action::ReadTopic, topic.party_group_id, position, &relation)?;
    user.can_in(
        Action::RecordPrerequisite,
        topic.party_group_id,
        position,
        &relation,
    )?;
    let kind = PrerequisiteKind::parse(input.kind.trim())
        .ok_or_else(|| AppError::invalid("kind", "未知的前置审查类型"))?;
    let required = requirements(&mut tx, &topic).await?;
    if !required.iter().any(|r| r.kind == kind) {
        return Err(AppError::invalid("kind", "本议题无须此项前置审查"));
    }
    // A reviewer of this topic records only the kinds their role or section owns.
    if !recordable_kinds(&mut tx, user, &topic, &required)
        .await?
        .contains(&kind)
    {
        return Err(AppError::Forbidden);
    }
    topic.status.prepare()?;
    let conclusion =
        parse_name(&input.conclusion, 200).map_err(|m| AppError::invalid("conclusion", m))?;
    let mut errors = Vec::new();
    let note = long_text("note", &input.note, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let before = db::topics::prerequisites(&mut tx, id)
        .await?
        .into_iter()
        .find(|p| p.kind == kind);
    db::topics::record_prerequisite(&mut tx, id, kind.as_str(), &conclusion, &note, user.user_id)
        .await?;
    let mut change = topic_change(&topic, "topic.prerequisite").after(
        serde_json::json!({ "kind": kind.as_str(), "conclusion": conclusion, "note": note }),
    );
    if let Some(before) = before {
        change = change.before(before);
    }
    state.commit(tx, user, change).await?;
    Ok(())
}

/// R-TOPIC-SOURCE: the 分管 leader named on the topic signs it off.
pub async fn sign_off(state: &Services, user: &CurrentUser, id: TopicId) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::SignOffTopic).await?;
    topic.status.sign_off()?;
    check_sign_off(
        user.user_id,
        topic.responsible_user_id,
        topic.signed_off_by.is_some(),
    )?;
    db::topics::sign_off(&mut tx, id, user.user_id).await?;
    state
        .commit(tx, user, topic_change(&topic, "topic.sign_off"))
        .await?;
    Ok(())
}

/// The rules a submission must pass, in the order they are told: R-MATERIALS, R-TOPIC-SOURCE,
/// then every prerequisite on file.
pub fn submission_check(
    topic: &Topic,
    proposer_position: Option<Position>,
    required: &[Requirement],
    on_file: &[PrerequisiteKind],
) -> Result<(), crate::domain::rule::RuleViolation> {
    match submission_blockers(topic, proposer_position, required, on_file)
        .into_iter()
        .next()
    {
        Some(first) => Err(first),
        None => Ok(()),
    }
}

/// Everything that keeps the topic from being submitted now, in the order of
/// [`submission_check`]: the page lists them all, the action refuses with the first.
pub fn submission_blockers(
    topic: &Topic,
    proposer_position: Option<Position>,
    required: &[Requirement],
    on_file: &[PrerequisiteKind],
) -> Vec<crate::domain::rule::RuleViolation> {
    let checks = [
        check_materials(&MaterialsFields {
            title: &topic.title,
            content: &topic.content,
            consultation_opinions: &topic.consultation_opinions,
            matters_to_decide: &topic.matters_to_decide,
        }),
        check_submission_source(
            proposer_position == Some(Position::Secretary),
            topic.signed_off_by.is_some(),
        ),
        check_prerequisites_on_file(required, on_file),
    ];
    checks.into_iter().filter_map(Result::err).collect()
}

/// Submission to 综合科: R-MATERIALS, R-TOPIC-SOURCE, then every prerequisite on file.
pub async fn submit(state: &Services, user: &CurrentUser, id: TopicId) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, position) = topic_for_action(&mut tx, user, id, Action::SubmitTopic).await?;
    let next = topic.status.submit()?;
    let required = requirements(&mut tx, &topic).await?;
    let on_file: Vec<PrerequisiteKind> = db::topics::prerequisites(&mut tx, id)
        .await?
        .iter()
        .map(|p| p.kind)
        .collect();
    submission_check(&topic, position, &required, &on_file)?;
    if let (true, Some(reference)) = (topic.is_procurement, topic.procurement_ref.as_deref()) {
        let approved = db::topics::approved_procurements(&mut tx, topic.party_group_id).await?;
        check_procurement_once(reference, approved.iter().map(String::as_str))?;
    }
    db::topics::set_status(&mut tx, id, next, None).await?;
    state
        .commit(
            tx,
            user,
            topic_change(&topic, "topic.submit")
                .before(serde_json::json!({ "status": topic.status })),
        )
        .await?;
    Ok(())
}

/// The proposer withdraws a topic until it is placed on an agenda.
pub async fn withdraw(state: &Services, user: &CurrentUser, id: TopicId) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::WithdrawTopic).await?;
    let next = topic.status.withdraw()?;
    db::topics::set_status(&mut tx, id, next, None).await?;
    state
        .commit(
            tx,
            user,
            topic_change(&topic, "topic.withdraw")
                .before(serde_json::json!({ "status": topic.status })),
        )
        .await?;
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReturnTopic {
    #[serde(default)]
    pub reason: String,
}

/// 综合科 returns a submitted topic to its proposer with a reason.
pub async fn return_topic(
    state: &Services,
    user: &CurrentUser,
    id: TopicId,
    input: ReturnTopic,
) -> Result<(), AppError> {
    let reason = parse_name(&input.reason, 500).map_err(|m| AppError::invalid("reason", m))?;
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::ReturnTopic).await?;
    let next = topic.status.return_to_proposer()?;
    db::topics::set_status(&mut tx, id, next, Some(&reason)).await?;
    state
        .commit(
            tx,
            user,
            topic_change(&topic, "topic.return").after(serde_json::json!({ "reason": reason })),
        )
        .await?;
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewAssignment {
    #[serde(default)]
    pub section_id: String,
}

/// R-PREREQ-POLICY: the 书记 assigns a section to carry out a policy topic's assessments
/// (stability risk, integrity, legality, expert review, public consultation).
pub async fn assign(
    state: &Services,
    user: &CurrentUser,
    id: TopicId,
    input: NewAssignment,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::AssignReviewSection).await?;
    topic.status.prepare()?;
    let section = match SectionId::parse(&input.section_id) {
        Ok(s) => db::sections::get(&mut tx, s).await?,
        Err(_) => None,
    }
    .ok_or_else(|| AppError::invalid("section_id", "科室不存在"))?;
    let required = requirements(&mut tx, &topic).await?;
    if !required
        .iter()
        .any(|r| recorder(r.kind) == Recorder::AssignedSection)
    {
        return Err(AppError::invalid(
            "section_id",
            "本议题没有须指定科室承担的评估事项",
        ));
    }
    if db::topics::assign_section(&mut tx, id, section.section_id, user.user_id).await? {
        state
            .audit
            .append(
                &mut tx,
                &user.audit_actor(),
                topic_change(&topic, "topic.assign").after(&section),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
