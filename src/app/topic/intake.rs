//! Drafting a topic and editing it while it is its proposer's: every field checked at once,
//! R-ONE-PERSON-ONE-ITEM asked, and an edit voiding the 分管 leader's sign-off.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{topic_change, topic_for_action};
use crate::app::error::{AppError, FieldError};
use crate::app::input::{blank_as_none, checkbox, number};
use crate::app::organisation::named_group;
use crate::app::{CurrentUser, Services};
use crate::db::topics::Topic;
use crate::db::{self};
use crate::domain::account::parse_name;
use crate::domain::authz::Action;
use crate::domain::category::Category;
use crate::domain::ids::{SectionId, TopicId, UserId};
use crate::domain::money::Fen;
use crate::domain::role::Role;
use crate::domain::topic::{Classification, check_one_cadre};
use crate::domain::topic_status::TopicStatus;

/// A new topic. Texts may be left empty in a draft; R-MATERIALS applies at submission.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NewTopic {
    #[serde(default)]
    pub party_group_id: String,
    #[serde(default)]
    pub title: String,
    /// 第十一条 category, 1–33.
    #[serde(default, deserialize_with = "number")]
    pub category: i64,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub matters_to_decide: String,
    #[serde(default)]
    pub consultation_opinions: String,
    pub sponsor_section_id: Option<String>,
    /// The 分管 leader who signs the topic off.
    #[serde(default)]
    pub responsible_user_id: String,
    /// Amount in fen (5000元 = 500000).
    pub amount_fen: Option<i64>,
    /// Or the amount in yuan as a person writes it (`5000.00`), as the page's form sends it.
    #[serde(default, deserialize_with = "blank_as_none")]
    pub amount_yuan: Option<String>,
    #[serde(default, deserialize_with = "checkbox")]
    pub is_major_policy: bool,
    #[serde(default, deserialize_with = "checkbox")]
    pub is_technical: bool,
    #[serde(default, deserialize_with = "checkbox")]
    pub is_public_interest: bool,
    #[serde(default, deserialize_with = "checkbox")]
    pub is_procurement: bool,
    pub procurement_ref: Option<String>,
    /// For a cadre appointment (category 24): the one cadre concerned.
    pub cadre_name: Option<String>,
    /// `none` (default), `internal`, `secret`.
    pub classification: Option<String>,
}

pub fn optional_text(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub fn long_text(field: &'static str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    if raw.chars().count() > 20_000 {
        errors.push(FieldError::new(field, "不能超过 20000 个字符"));
    }
    raw.trim().to_owned()
}

/// Validates the editable fields of a topic and writes them into `topic`; every bad field is
/// named at once (422), then R-ONE-PERSON-ONE-ITEM is asked.
pub async fn fill_topic(
    conn: &mut sqlx::PgConnection,
    input: &NewTopic,
    topic: &mut Topic,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let title = parse_name(&input.title, 200).map_err(|m| errors.push(FieldError::new("title", m)));
    let category =
        Category::new(input.category).map_err(|m| errors.push(FieldError::new("category", m)));
    let content = long_text("content", &input.content, &mut errors);
    let matters = long_text("matters_to_decide", &input.matters_to_decide, &mut errors);
    let consultation = long_text(
        "consultation_opinions",
        &input.consultation_opinions,
        &mut errors,
    );
    let amount = match (input.amount_fen, input.amount_yuan.as_deref()) {
        (Some(fen), _) => Fen::new(fen)
            .map(Some)
            .map_err(|m| errors.push(FieldError::new("amount_fen", m))),
        (None, Some(yuan)) => Fen::parse_yuan(yuan)
            .map(Some)
            .map_err(|m| errors.push(FieldError::new("amount_yuan", m))),
        (None, None) => Ok(None),
    };
    let classification = Classification::parse(input.classification.as_deref().unwrap_or("none"))
        .ok_or_else(|| {
            errors.push(FieldError::new(
                "classification",
                "须为 none、internal 或 secret",
            ))
        });
    let procurement_ref = optional_text(input.procurement_ref.as_deref());
    if input.is_procurement && procurement_ref.is_none() {
        errors.push(FieldError::new("procurement_ref", "采购事项须填写项目编号"));
    }
    if procurement_ref
        .as_ref()
        .is_some_and(|r| r.chars().count() > 100)
    {
        errors.push(FieldError::new("procurement_ref", "不能超过 100 个字符"));
    }
    let cadre_name = optional_text(input.cadre_name.as_deref());
    if cadre_name.as_ref().is_some_and(|c| c.chars().count() > 50) {
        errors.push(FieldError::new("cadre_name", "不能超过 50 个字符"));
    }
    let responsible = match UserId::parse(&input.responsible_user_id) {
        Ok(id) => db::users::get(conn, id).await?,
        Err(_) => None,
    };
    let responsible = responsible
        .filter(|u| {
            u.active
                && u.roles
                    .iter()
                    .any(|r| matches!(r, Role::Leader | Role::Director))
        })
        .ok_or_else(|| errors.push(FieldError::new("responsible_user_id", "须为在职的局领导")));
    let sponsor = match optional_text(input.sponsor_section_id.as_deref()) {
        None => Ok(None),
        Some(raw) => match SectionId::parse(&raw) {
            Ok(id) if db::sections::get(conn, id).await?.is_some() => Ok(Some(id)),
            _ => {
                errors.push(FieldError::new("sponsor_section_id", "科室不存在"));
                Err(())
            }
        },
    };
    let (Ok(title), Ok(category), Ok(amount), Ok(classification), Ok(responsible), Ok(sponsor)) = (
        title,
        category,
        amount,
        classification,
        responsible,
        sponsor,
    ) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    check_one_cadre(category, cadre_name.as_deref())?;
    topic.responsible_user_id = responsible.user_id;
    topic.sponsor_section_id = sponsor;
    topic.title = title;
    topic.category = i16::from(category.number());
    topic.content = content;
    topic.matters_to_decide = matters;
    topic.consultation_opinions = consultation;
    topic.amount_fen = amount.map(Fen::fen);
    topic.is_major_policy = input.is_major_policy;
    topic.is_technical = input.is_technical;
    topic.is_public_interest = input.is_public_interest;
    topic.is_procurement = input.is_procurement;
    topic.procurement_ref = procurement_ref;
    topic.cadre_name = cadre_name;
    topic.classification = classification;
    Ok(())
}

pub async fn create_topic(
    state: &Services,
    user: &CurrentUser,
    input: NewTopic,
) -> Result<Topic, AppError> {
    let mut conn = state.pool.acquire().await?;

    let group = named_group(&mut conn, user, &input.party_group_id, Action::CreateTopic).await?;
    let Some(group) = group else {
        return Err(AppError::invalid("party_group_id", "党组不存在"));
    };

    let mut topic = Topic {
        topic_id: TopicId::new(),
        party_group_id: group.party_group_id,
        proposer_id: user.user_id,
        responsible_user_id: user.user_id,
        sponsor_section_id: None,
        title: String::new(),
        category: 1,
        content: String::new(),
        matters_to_decide: String::new(),
        consultation_opinions: String::new(),
        amount_fen: None,
        is_major_policy: false,
        is_technical: false,
        is_public_interest: false,
        is_procurement: false,
        procurement_ref: None,
        cadre_name: None,
        classification: Classification::Unclassified,
        status: TopicStatus::Draft,
        created_at: OffsetDateTime::now_utc(),
        signed_off_by: None,
        signed_off_at: None,
        submitted_at: None,
        returned_reason: None,
    };
    fill_topic(&mut conn, &input, &mut topic).await?;
    drop(conn);
    let mut tx = state.pool.begin().await?;
    db::topics::insert(&mut tx, &topic).await?;
    state
        .commit(tx, user, topic_change(&topic, "topic.create").after(&topic))
        .await?;
    Ok(topic)
}

/// The proposer changes a draft or returned topic. R-TOPIC-SOURCE: the sign-off approved the
/// topic as it was, so any change voids it; returns whether it did.
pub async fn update_topic(
    state: &Services,
    user: &CurrentUser,
    id: TopicId,
    input: NewTopic,
) -> Result<(Topic, bool), AppError> {
    let mut tx = state.pool.begin().await?;
    let (before, _) = topic_for_action(&mut tx, user, id, Action::EditTopic).await?;
    before.status.edit()?;
    let mut after = before.clone();
    fill_topic(&mut tx, &input, &mut after).await?;
    if after == before {
        return Ok((before, false));
    }
    let voided = before.signed_off_by.is_some();
    after.signed_off_by = None;
    after.signed_off_at = None;
    db::topics::update(&mut tx, &after).await?;
    state
        .commit(
            tx,
            user,
            topic_change(&before, "topic.update")
                .before(&before)
                .after(serde_json::json!({ "topic": after, "sign_off_voided": voided })),
        )
        .await?;
    Ok((after, voided))
}
