//! What waits for each person about topics: the reviewer's inbox and the to-do lines of the
//! home page.

use serde::{Deserialize, Serialize};

use super::{
    PrerequisiteView, TopicView, facts_of, relation_to, requirements, section_kind_for,
    submission_blockers, view,
};
use crate::app::Todo;
use crate::app::error::AppError;
use crate::app::{CurrentUser, Services};
use crate::db::{self};
use crate::domain::category::Category;
use crate::domain::ids::{PartyGroupId, TopicId};
use crate::domain::money::Fen;
use crate::domain::org::SectionKind;
use crate::domain::role::Role;
use crate::domain::topic::{PrerequisiteKind, TopicFacts, may_record, required_prerequisites};
use crate::domain::topic_status::TopicStatus;
use crate::domain::waiting::Waiting;

/// A topic waiting for this reviewer, with the kinds they may record on it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub topic_id: TopicId,
    pub title: String,
    #[schema(value_type = String)]
    pub status: TopicStatus,
    /// Missing prerequisite kinds this user records.
    pub kinds: Vec<String>,
}

/// Open topics with a missing prerequisite this user records, computed for all topics from two
/// queries (not one per topic).
pub async fn inbox(state: &Services, user: &CurrentUser) -> Result<Vec<ReviewItem>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let section = db::users::section_of(&mut conn, user.user_id).await?;
    let section_id = section.as_ref().map(|(id, _)| *id);
    let kind = section.and_then(|(_, k)| SectionKind::parse(&k));
    // Everything this user could record somewhere; assigned kinds are narrowed per topic below.
    let mine: Vec<PrerequisiteKind> = PrerequisiteKind::ALL
        .iter()
        .copied()
        .filter(|k| may_record(*k, &user.roles, kind, true))
        .collect();
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let topics = db::topics::list_open(&mut conn).await?;
    let on_file = db::topics::recorded_kinds_of_open(&mut conn).await?;
    let assignments = db::topics::assignments_of_open(&mut conn).await?;
    let mut thresholds = std::collections::HashMap::new();
    let mut items = Vec::new();
    for topic in topics {
        if let std::collections::hash_map::Entry::Vacant(e) = thresholds.entry(topic.party_group_id)
        {
            let settings = db::party_groups::settings(&mut conn, topic.party_group_id, false)
                .await?
                .ok_or(AppError::NotFound)?;
            e.insert(Fen::new(settings.large_spend_fen).map_err(anyhow::Error::msg)?);
        }
        let facts = facts_of(&topic)?;
        let kinds: Vec<String> = required_prerequisites(&facts, thresholds[&topic.party_group_id])
            .into_iter()
            .map(|r| r.kind)
            .filter(|k| mine.contains(k))
            .filter(|k| {
                let assigned =
                    section_id.is_some_and(|s| assignments.contains(&(topic.topic_id, s)));
                may_record(
                    *k,
                    &user.roles,
                    section_kind_for(user, &topic, kind),
                    assigned,
                )
            })
            .filter(|k| {
                !on_file
                    .iter()
                    .any(|(t, kind)| *t == topic.topic_id && kind == k.as_str())
            })
            .map(|k| k.as_str().to_owned())
            .collect();
        if !kinds.is_empty() {
            items.push(ReviewItem {
                topic_id: topic.topic_id,
                title: topic.title,
                status: topic.status,
                kinds,
            });
        }
    }
    Ok(items)
}

/// What this person must do next about topics (ui.md: each person lands on what they must do
/// next): sign-offs, returned topics, reviews, 综合科's desk, the 书记's queue.
pub async fn todos(state: &Services, user: &CurrentUser) -> Result<Vec<Todo>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let mine = db::topics::list_for_user(&mut conn, user.user_id).await?;
    let mut todos = Vec::new();
    for t in &mine {
        let status = t.status;
        if status.sign_off().is_ok()
            && t.responsible_user_id == user.user_id
            && t.signed_off_by.is_none()
        {
            todos.push(Todo::new(
                Waiting::TopicSignOff,
                &t.title,
                format!("/topics/{}", t.topic_id),
            ));
        }
        if status == TopicStatus::Returned && t.proposer_id == user.user_id {
            todos.push(Todo::new(
                Waiting::TopicReturned,
                &t.title,
                format!("/topics/{}", t.topic_id),
            ));
        }
        // Complete, signed off, every prerequisite on file: the proposer may submit it now.
        if status.submit().is_ok() && t.proposer_id == user.user_id {
            let required = requirements(&mut conn, t).await?;
            let on_file: Vec<_> = db::topics::prerequisites(&mut conn, t.topic_id)
                .await?
                .iter()
                .map(|p| p.kind)
                .collect();
            let position = relation_to(&mut conn, user, t).await?.0;
            if submission_blockers(t, position, &required, &on_file).is_empty() {
                todos.push(Todo::new(
                    Waiting::TopicReadyToSubmit,
                    &t.title,
                    format!("/topics/{}", t.topic_id),
                ));
            }
        }
    }
    let chaired = crate::app::organisation::chaired_groups(&mut conn, user).await?;
    // Only 综合科 and a 书记 have a desk of submitted topics.
    let submitted = if user.has(Role::Office) || !chaired.is_empty() {
        db::topics::list_submitted(&mut conn).await?
    } else {
        Vec::new()
    };
    drop(conn);
    let reviews = inbox(state, user).await?.len();
    if reviews > 0 {
        todos.push(Todo::new(
            Waiting::TopicReviews,
            &format!("{reviews} 个"),
            "/reviews",
        ));
    }
    let at_desk = submitted
        .iter()
        .filter(|t| user.is_office_of(t.party_group_id))
        .count();
    if at_desk > 0 {
        todos.push(Todo::new(
            Waiting::TopicsAtDesk,
            &format!("{at_desk} 个"),
            "/topics",
        ));
    }
    let queue = submitted
        .iter()
        .filter(|t| chaired.contains(&t.party_group_id))
        .count();
    if queue > 0 {
        todos.push(Todo::new(
            Waiting::TopicsToSchedule,
            &format!("{queue} 个"),
            "/topics",
        ));
    }
    Ok(todos)
}

/// Submitted topics of the groups one's section serves, with their completeness (综合科).
pub async fn submitted(state: &Services, user: &CurrentUser) -> Result<Vec<TopicView>, AppError> {
    if !user.has(Role::Office) {
        return Err(AppError::Forbidden);
    }
    let topics = db::topics::list_submitted(&mut *state.pool.acquire().await?).await?;
    let mut views = Vec::with_capacity(topics.len());
    for t in topics
        .into_iter()
        .filter(|t| user.is_office_of(t.party_group_id))
    {
        views.push(view(state, user, t).await?);
    }
    Ok(views)
}

/// What a topic being drafted would need, from the facts the form has so far.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    pub party_group_id: String,
    /// 第十一条 category, 1–33.
    pub category: String,
    /// Amount in yuan as typed, e.g. `5000.00`; empty for none.
    pub amount_yuan: Option<String>,
    pub is_major_policy: Option<bool>,
    pub is_technical: Option<bool>,
    pub is_public_interest: Option<bool>,
    pub is_procurement: Option<bool>,
}

/// The prerequisites a topic with these facts would need (the drafting form's preview).
pub async fn preview(state: &Services, q: PreviewQuery) -> Result<Vec<PrerequisiteView>, AppError> {
    let category = q
        .category
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::invalid("category", "请选择议题类别"))
        .and_then(|n| Category::new(n).map_err(|m| AppError::invalid("category", m)))?;
    let amount = match q
        .amount_yuan
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => Some(Fen::parse_yuan(raw).map_err(|m| AppError::invalid("amount_yuan", m))?),
    };
    let group = PartyGroupId::parse(&q.party_group_id)
        .map_err(|_| AppError::invalid("party_group_id", "党组不存在"))?;
    let settings = db::party_groups::settings(&mut *state.pool.acquire().await?, group, false)
        .await?
        .ok_or_else(|| AppError::invalid("party_group_id", "党组不存在"))?;
    let facts = TopicFacts {
        category,
        is_major_policy: q.is_major_policy.unwrap_or(false),
        is_technical: q.is_technical.unwrap_or(false),
        is_public_interest: q.is_public_interest.unwrap_or(false),
        is_procurement: q.is_procurement.unwrap_or(false),
        amount,
    };
    let threshold = Fen::new(settings.large_spend_fen).map_err(anyhow::Error::msg)?;
    Ok(required_prerequisites(&facts, threshold)
        .into_iter()
        .map(|r| PrerequisiteView::of(r, None))
        .collect())
}
