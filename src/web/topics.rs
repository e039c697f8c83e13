//! Topic intake (议题), section B of `rules.md`: drafting a topic and seeing at once which
//! prerequisites it needs and why.

use super::extract::Query;
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
use super::error::{AppError, FieldError};
use super::extract::{ApiJson, CurrentUser, PageForm, parse_id};
use super::pages::{Layout, datetime_zh};
use crate::audit::{Chain, Change};
use crate::db::party_groups::PartyGroup;
use crate::db::sections::Section;
use crate::db::topics::Topic;
use crate::db::users::User;
use crate::db::{self};
use crate::domain::account::parse_name;
use crate::domain::authz::{Action, Relation};
use crate::domain::category::{Category, CategoryGroup};
use crate::domain::money::Fen;
use crate::domain::org::Position;
use crate::domain::org::SectionKind;
use crate::domain::role::Role;
use crate::domain::topic::{
    Classification, MaterialsFields, PrerequisiteKind, Recorder, Requirement, TopicFacts,
    check_materials, check_one_cadre, check_prerequisites_on_file, check_procurement_once,
    check_sign_off, check_submission_source, may_record, recorder, required_prerequisites,
};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_topics_api, create_topic_api))
        .routes(routes!(get_topic_api, update_topic_api))
        .routes(routes!(submitted_api))
        .routes(routes!(reviews_api))
        .routes(routes!(preview_api))
        .routes(routes!(record_prerequisite_api))
        .routes(routes!(sign_off_api))
        .routes(routes!(submit_api))
        .routes(routes!(withdraw_api))
        .routes(routes!(return_api))
        .routes(routes!(assign_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/topics", get(topics_page).post(create_topic_page))
        .route("/topics/{id}", get(topic_page))
        .route("/reviews", get(reviews_page))
        .route("/topics/{id}/prerequisites", post(record_prerequisite_page))
        .route("/topics/{id}/edit", post(edit_topic_page))
        .route("/topics/{id}/sign-off", post(sign_off_page))
        .route("/topics/{id}/submit", post(submit_page))
        .route("/topics/{id}/withdraw", post(withdraw_page))
        .route("/topics/{id}/return", post(return_page))
        .route("/topics/{id}/assignments", post(assign_page))
}

/// A new topic. Texts may be left empty in a draft; R-MATERIALS applies at submission.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NewTopic {
    #[serde(default)]
    pub party_group_id: String,
    #[serde(default)]
    pub title: String,
    /// 第十一条 category, 1–33.
    #[serde(default)]
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
    #[serde(default)]
    pub is_major_policy: bool,
    #[serde(default)]
    pub is_technical: bool,
    #[serde(default)]
    pub is_public_interest: bool,
    #[serde(default)]
    pub is_procurement: bool,
    pub procurement_ref: Option<String>,
    /// For a cadre appointment (category 24): the one cadre concerned.
    pub cadre_name: Option<String>,
    /// `none` (default), `internal`, `secret`.
    pub classification: Option<String>,
}

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
    pub assigned_sections: Vec<Uuid>,
}

fn optional_text(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn long_text(field: &'static str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    if raw.chars().count() > 20_000 {
        errors.push(FieldError::new(field, "不能超过 20000 个字符"));
    }
    raw.trim().to_owned()
}

/// Validates the editable fields of a topic and writes them into `topic`; every bad field is
/// named at once (422), then R-ONE-PERSON-ONE-ITEM is asked.
async fn fill_topic(
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
    let amount = input
        .amount_fen
        .map(Fen::new)
        .transpose()
        .map_err(|m| errors.push(FieldError::new("amount_fen", m)));
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
    let responsible = match Uuid::parse_str(input.responsible_user_id.trim()) {
        Ok(id) => db::users::get(conn, id).await?,
        Err(_) => None,
    };
    let responsible = responsible
        .filter(|u| u.active && u.roles.iter().any(|r| r == "leader" || r == "director"))
        .ok_or_else(|| errors.push(FieldError::new("responsible_user_id", "须为在职的局领导")));
    let sponsor = match optional_text(input.sponsor_section_id.as_deref()) {
        None => Ok(None),
        Some(raw) => match Uuid::parse_str(&raw) {
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
    topic.classification = classification.as_str().to_owned();
    Ok(())
}

async fn create_topic(
    state: &AppState,
    user: &CurrentUser,
    input: NewTopic,
) -> Result<Topic, AppError> {
    let mut conn = state.pool.acquire().await?;

    let group = match Uuid::parse_str(input.party_group_id.trim()) {
        Ok(id) => db::party_groups::get(&mut conn, id).await?,
        Err(_) => None,
    };
    let position = match &group {
        Some(g) => db::party_groups::current_position(&mut conn, g.party_group_id, user.user_id)
            .await?
            .and_then(|p| Position::parse(&p)),
        None => None,
    };
    match &group {
        Some(g) => user.can_in(
            Action::CreateTopic,
            g.party_group_id,
            position,
            &Relation::default(),
        )?,
        None => user.can(Action::CreateTopic)?,
    }
    let Some(group) = group else {
        return Err(AppError::invalid("party_group_id", "党组不存在"));
    };

    let mut topic = Topic {
        topic_id: Uuid::now_v7(),
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
        classification: Classification::Unclassified.as_str().to_owned(),
        status: "draft".to_owned(),
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
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(
                Chain::PartyGroup(group.party_group_id),
                "topic.create",
                "topic",
            )
            .entity(topic.topic_id)
            .after(&topic),
        )
        .await?;
    tx.commit().await?;
    Ok(topic)
}

/// The prerequisites the domain requires of a topic, each with what is on file.
async fn view(state: &AppState, user: &CurrentUser, topic: Topic) -> Result<TopicView, AppError> {
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
        .filter(|m| sees_secret || m.classification != "secret")
        .collect();
    let prerequisites: Vec<PrerequisiteView> = requirements(&mut conn, &topic)
        .await?
        .into_iter()
        .map(|r| {
            let on_file = recorded.iter().find(|p| p.kind == r.kind.as_str());
            PrerequisiteView::of(r, on_file)
        })
        .collect();
    let missing = prerequisites
        .iter()
        .filter(|p| !p.satisfied)
        .map(|p| p.kind.clone())
        .collect();
    let assigned_sections = db::topics::assigned_sections(&mut conn, topic.topic_id).await?;
    Ok(TopicView {
        topic,
        prerequisites,
        missing,
        materials,
        assigned_sections,
    })
}

/// Loads a topic the user may see (R-CONFIDENTIAL), else 404.
pub(super) async fn visible_topic(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<Topic, AppError> {
    let mut conn = state.pool.acquire().await?;
    let topic = db::topics::get(&mut conn, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let (position, relation) = relation_to(&mut conn, user, &topic).await?;
    user.can_in(Action::ReadTopic, topic.party_group_id, position, &relation)?;
    Ok(topic)
}

/// Topics I proposed or must sign off.
#[utoipa::path(get, path = "/api/v1/topics", tag = "topics",
    responses((status = 200, body = Vec<Topic>), (status = 401, body = super::error::Problem)))]
async fn list_topics_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Topic>>, AppError> {
    Ok(Json(
        db::topics::list_for_user(&mut *state.pool.acquire().await?, user.user_id).await?,
    ))
}

/// Draft a topic; the answer lists the prerequisites it will need.
#[utoipa::path(post, path = "/api/v1/topics", tag = "topics", request_body = NewTopic,
    responses((status = 201, body = TopicView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn create_topic_api(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<NewTopic>,
) -> Result<(StatusCode, Json<TopicView>), AppError> {
    let topic = create_topic(&state, &user, input).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &user, topic).await?)))
}

/// One topic, with its prerequisites and what is missing.
#[utoipa::path(get, path = "/api/v1/topics/{id}", tag = "topics", params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 404, body = super::error::Problem)))]
async fn get_topic_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TopicView>, AppError> {
    answer(&state, &user, parse_id(&id)?).await
}

/// The topic as the user now sees it: the answer of every topic action.
async fn answer(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<Json<TopicView>, AppError> {
    let topic = visible_topic(state, user, id).await?;
    Ok(Json(view(state, user, topic).await?))
}

// ---- Pages ----

/// Everything the new-topic form offers.
struct FormChoices {
    groups: Vec<PartyGroup>,
    leaders: Vec<User>,
    sections: Vec<Section>,
}

async fn form_choices(state: &AppState, user: &CurrentUser) -> Result<FormChoices, AppError> {
    let mut conn = state.pool.acquire().await?;
    let mut groups = db::party_groups::list_for_member(&mut conn, user.user_id).await?;
    if groups.is_empty() {
        // Section staff propose to the bureau's group(s) without being members of them.
        groups = db::party_groups::list_all(&mut conn).await?;
    }
    let leaders = db::users::list(&mut conn)
        .await?
        .into_iter()
        .filter(|u| u.active && u.roles.iter().any(|r| r == "leader" || r == "director"))
        .collect();
    Ok(FormChoices {
        groups,
        leaders,
        sections: db::sections::list(&mut conn).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "topics/list.html")]
struct TopicsPage {
    layout: Layout,
    topics: Vec<Topic>,
    /// 综合科: every submitted topic; the 书记: the submitted topics of their group, ready
    /// for an agenda.
    desk: Vec<Topic>,
    desk_title: &'static str,
    choices: FormChoices,
    can_propose: bool,
    category_groups: [CategoryGroup; 6],
    classifications: &'static [Classification],
}

impl TopicsPage {
    fn status_zh(&self, status: &str) -> &'static str {
        status_zh(status)
    }

    fn category_zh(&self, n: &i16) -> String {
        category_zh(*n)
    }
}

fn status_zh(status: &str) -> &'static str {
    match status {
        "draft" => "草稿",
        "submitted" => "已报送综合科",
        "returned" => "已退回",
        "withdrawn" => "已撤回",
        "scheduled" => "已列入议程",
        _ => "",
    }
}

fn category_zh(n: i16) -> String {
    Category::new(i64::from(n)).map_or_else(
        |_| n.to_string(),
        |c| format!("{}. {}", c.number(), c.label_zh()),
    )
}

async fn topics_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<TopicsPage, AppError> {
    let mut conn = state.pool.acquire().await?;
    let topics = db::topics::list_for_user(&mut conn, user.user_id).await?;
    let submitted = db::topics::list_submitted(&mut conn).await?;
    let chaired: Vec<Uuid> = db::party_groups::memberships_of_user(&mut conn, user.user_id)
        .await?
        .into_iter()
        .filter(|m| m.position == Position::Secretary.as_str())
        .map(|m| m.party_group_id)
        .collect();
    drop(conn);
    let (desk, desk_title) = if user.has(Role::Office) {
        // 综合科 sees the topics of the groups its section serves.
        let desk = submitted
            .into_iter()
            .filter(|t| user.is_office_of(t.party_group_id))
            .collect();
        (desk, "已报送综合科的议题")
    } else if !chaired.is_empty() {
        let queue = submitted
            .into_iter()
            .filter(|t| chaired.contains(&t.party_group_id))
            .collect();
        (queue, "待列入议程的议题(前置程序已齐备)")
    } else {
        (Vec::new(), "")
    };
    let can_propose = [Role::Leader, Role::Director, Role::SectionHead, Role::Staff]
        .iter()
        .any(|r| user.has(*r));
    Ok(TopicsPage {
        layout: Layout::new("议题", Some(&user)),
        topics,
        desk,
        desk_title,
        choices: form_choices(&state, &user).await?,
        can_propose,
        category_groups: CategoryGroup::ALL,
        classifications: Classification::ALL,
    })
}

/// The page form: amounts in yuan as written, flags as checkboxes.
#[derive(Deserialize)]
struct TopicForm {
    #[serde(default)]
    party_group_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    matters_to_decide: String,
    #[serde(default)]
    consultation_opinions: String,
    sponsor_section_id: Option<String>,
    #[serde(default)]
    responsible_user_id: String,
    amount_yuan: Option<String>,
    is_major_policy: Option<String>,
    is_technical: Option<String>,
    is_public_interest: Option<String>,
    is_procurement: Option<String>,
    procurement_ref: Option<String>,
    cadre_name: Option<String>,
    classification: Option<String>,
}

impl TopicForm {
    /// The API's input from the page's form.
    fn into_input(self) -> Result<NewTopic, AppError> {
        let form = self;
        let amount_fen = match form
            .amount_yuan
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => Some(
                Fen::parse_yuan(raw)
                    .map_err(|m| AppError::invalid("amount_yuan", m))?
                    .fen(),
            ),
        };
        let category = form
            .category
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("category", "请选择议题类别"))?;
        Ok(NewTopic {
            party_group_id: form.party_group_id,
            title: form.title,
            category,
            content: form.content,
            matters_to_decide: form.matters_to_decide,
            consultation_opinions: form.consultation_opinions,
            sponsor_section_id: form.sponsor_section_id,
            responsible_user_id: form.responsible_user_id,
            amount_fen,
            is_major_policy: form.is_major_policy.is_some(),
            is_technical: form.is_technical.is_some(),
            is_public_interest: form.is_public_interest.is_some(),
            is_procurement: form.is_procurement.is_some(),
            procurement_ref: form.procurement_ref,
            cadre_name: form.cadre_name,
            classification: form.classification,
        })
    }
}

async fn edit_topic_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<TopicForm>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    let (_, voided) = update_topic(&state, &user, id, form.into_input()?).await?;
    let query = if voided { "?voided=1" } else { "" };
    Ok(Redirect::to(&format!("/topics/{id}{query}")))
}

async fn create_topic_page(
    State(state): State<AppState>,
    user: CurrentUser,
    PageForm(form): PageForm<TopicForm>,
) -> Result<Redirect, AppError> {
    let input = form.into_input()?;
    let topic = create_topic(&state, &user, input).await?;
    Ok(Redirect::to(&format!("/topics/{}", topic.topic_id)))
}

#[derive(Template, WebTemplate)]
#[template(path = "topics/detail.html")]
struct TopicPage {
    layout: Layout,
    view: TopicView,
    /// Missing prerequisites this user may record now.
    recordable: Vec<PrerequisiteKind>,
    /// Prerequisites on file this user recorded the kind of, to which they may attach a file.
    attachable: Vec<String>,
    /// The last edit voided the sign-off.
    voided: bool,
    can_edit: bool,
    choices: FormChoices,
    category_groups: [CategoryGroup; 6],
    classifications: &'static [Classification],
    can_sign_off: bool,
    can_submit: bool,
    can_withdraw: bool,
    can_return: bool,
    /// The 书记 may assign sections to this policy topic's assessments.
    can_assign: bool,
    /// Why submission would be refused now (rule code and explanation), if it would.
    submit_blocked: Option<String>,
}

impl TopicPage {
    fn status_zh(&self) -> &'static str {
        status_zh(&self.view.topic.status)
    }

    fn category_zh(&self) -> String {
        category_zh(self.view.topic.category)
    }

    fn amount(&self) -> String {
        self.view
            .topic
            .amount_fen
            .map(super::pages::yuan)
            .unwrap_or_else(|| "—".into())
    }

    fn created(&self) -> String {
        datetime_zh(&self.view.topic.created_at)
    }

    fn when(&self, t: &Option<OffsetDateTime>) -> String {
        t.as_ref().map(datetime_zh).unwrap_or_default()
    }

    fn classification_zh(&self) -> &'static str {
        Classification::parse(&self.view.topic.classification).map_or("", Classification::label_zh)
    }

    /// The amount in yuan as the edit form shows it.
    fn amount_input(&self) -> String {
        self.view
            .topic
            .amount_fen
            .map(|f| format!("{}.{:02}", f / 100, f % 100))
            .unwrap_or_default()
    }

    fn size(&self, bytes: &i64) -> String {
        if *bytes >= 1024 * 1024 {
            format!("{:.1} MiB", *bytes as f64 / (1024.0 * 1024.0))
        } else {
            format!("{} KiB", (*bytes + 1023) / 1024)
        }
    }

    fn classification_of(&self, c: &str) -> &'static str {
        Classification::parse(c).map_or("", Classification::label_zh)
    }

    fn section_name(&self, id: &Uuid) -> &str {
        self.choices
            .sections
            .iter()
            .find(|s| s.section_id == *id)
            .map_or("", |s| s.name.as_str())
    }

    fn is_sponsor(&self, section: &Section) -> bool {
        self.view.topic.sponsor_section_id == Some(section.section_id)
    }

    fn text<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

#[derive(Deserialize)]
struct TopicPageQuery {
    voided: Option<String>,
}

async fn topic_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<TopicPageQuery>,
) -> Result<TopicPage, AppError> {
    let topic = visible_topic(&state, &user, parse_id(&id)?).await?;
    let mut conn = state.pool.acquire().await?;
    let (position, relation) = relation_to(&mut conn, &user, &topic).await?;
    let required = requirements(&mut conn, &topic).await?;
    let mut recordable = recordable_kinds(&mut conn, &user, &topic, &required).await?;
    let needs_assignment = required
        .iter()
        .any(|r| recorder(r.kind) == Recorder::AssignedSection);
    drop(conn);
    let view = view(&state, &user, topic).await?;
    let open_for_records = matches!(
        view.topic.status.as_str(),
        "draft" | "submitted" | "returned"
    );
    let attachable = recordable
        .iter()
        .filter(|k| open_for_records && !view.missing.iter().any(|m| m == k.as_str()))
        .map(|k| k.as_str().to_owned())
        .collect();
    recordable.retain(|k| view.missing.iter().any(|m| m == k.as_str()));
    let on_file: Vec<PrerequisiteKind> = view
        .prerequisites
        .iter()
        .filter(|p| p.satisfied)
        .filter_map(|p| PrerequisiteKind::parse(&p.kind))
        .collect();
    let group = view.topic.party_group_id;
    let allowed = |action| user.can_in(action, group, position, &relation).is_ok();
    let status = view.topic.status.as_str();
    let open = matches!(status, "draft" | "returned");
    Ok(TopicPage {
        layout: Layout::new(view.topic.title.clone(), Some(&user)),
        can_sign_off: open && view.topic.signed_off_by.is_none() && allowed(Action::SignOffTopic),
        can_submit: open && allowed(Action::SubmitTopic),
        can_withdraw: (open || status == "submitted") && allowed(Action::WithdrawTopic),
        can_return: status == "submitted" && allowed(Action::ReturnTopic),
        submit_blocked: submission_check(&view.topic, position, &required, &on_file)
            .err()
            .map(|v| format!("{}:{}", v.rule.code(), v.detail_zh)),
        can_edit: open && allowed(Action::EditTopic),
        can_assign: (open || status == "submitted")
            && needs_assignment
            && allowed(Action::AssignReviewSection),
        voided: q.voided.is_some(),
        attachable,
        choices: form_choices(&state, &user).await?,
        category_groups: CategoryGroup::ALL,
        classifications: Classification::ALL,
        recordable: if open || status == "submitted" {
            recordable
        } else {
            Vec::new()
        },
        view,
    })
}

// ---- The way to the 书记's desk: prerequisites, sign-off, submission, withdrawal, return ----

/// The facts of a stored topic that its prerequisites depend on.
fn facts_of(topic: &Topic) -> Result<TopicFacts, AppError> {
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
pub(super) async fn requirements(
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
pub(super) async fn recordable_kinds(
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
fn section_kind_for(
    user: &CurrentUser,
    topic: &Topic,
    kind: Option<SectionKind>,
) -> Option<SectionKind> {
    kind.filter(|_| user.served_groups.contains(&topic.party_group_id))
}

/// The user's position in the topic's group and relation to the topic.
pub(super) async fn relation_to(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    topic: &Topic,
) -> Result<(Option<Position>, Relation), AppError> {
    let position = db::party_groups::current_position(conn, topic.party_group_id, user.user_id)
        .await?
        .and_then(|p| Position::parse(&p));
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
pub(super) async fn topic_for_action(
    tx: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: Uuid,
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

async fn record_prerequisite(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
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
    topic.state()?.prepare()?;
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
        .find(|p| p.kind == kind.as_str());
    db::topics::record_prerequisite(&mut tx, id, kind.as_str(), &conclusion, &note, user.user_id)
        .await?;
    let mut change = Change::new(
        Chain::PartyGroup(topic.party_group_id),
        "topic.prerequisite",
        "topic",
    )
    .entity(id)
    .after(serde_json::json!({ "kind": kind.as_str(), "conclusion": conclusion, "note": note }));
    if let Some(before) = before {
        change = change.before(before);
    }
    state
        .audit
        .append(&mut tx, &user.audit_actor(), change)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The proposer changes a draft or returned topic. R-TOPIC-SOURCE: the sign-off approved the
/// topic as it was, so any change voids it; returns whether it did.
async fn update_topic(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: NewTopic,
) -> Result<(Topic, bool), AppError> {
    let mut tx = state.pool.begin().await?;
    let (before, _) = topic_for_action(&mut tx, user, id, Action::EditTopic).await?;
    before.state()?.edit()?;
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
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(
                Chain::PartyGroup(before.party_group_id),
                "topic.update",
                "topic",
            )
            .entity(id)
            .before(&before)
            .after(serde_json::json!({ "topic": after, "sign_off_voided": voided })),
        )
        .await?;
    tx.commit().await?;
    Ok((after, voided))
}

/// R-TOPIC-SOURCE: the 分管 leader named on the topic signs it off.
async fn sign_off(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::SignOffTopic).await?;
    check_sign_off(user.user_id, topic.responsible_user_id)?;
    topic.state()?.sign_off()?;
    if topic.signed_off_by.is_some() {
        return Err(AppError::Conflict("该议题已签字同意。".into()));
    }
    db::topics::sign_off(&mut tx, id, user.user_id).await?;
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(
                Chain::PartyGroup(topic.party_group_id),
                "topic.sign_off",
                "topic",
            )
            .entity(id),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The rules a submission must pass, in the order they are told: R-MATERIALS, R-TOPIC-SOURCE,
/// then every prerequisite on file.
fn submission_check(
    topic: &Topic,
    proposer_position: Option<Position>,
    required: &[Requirement],
    on_file: &[PrerequisiteKind],
) -> Result<(), crate::domain::rule::RuleViolation> {
    check_materials(&MaterialsFields {
        title: &topic.title,
        content: &topic.content,
        consultation_opinions: &topic.consultation_opinions,
        matters_to_decide: &topic.matters_to_decide,
    })?;
    check_submission_source(
        proposer_position == Some(Position::Secretary),
        topic.signed_off_by.is_some(),
    )?;
    check_prerequisites_on_file(required, on_file)
}

/// Submission to 综合科: R-MATERIALS, R-TOPIC-SOURCE, then every prerequisite on file.
async fn submit(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, position) = topic_for_action(&mut tx, user, id, Action::SubmitTopic).await?;
    let next = topic.state()?.submit()?;
    let required = requirements(&mut tx, &topic).await?;
    let on_file: Vec<PrerequisiteKind> = db::topics::prerequisites(&mut tx, id)
        .await?
        .iter()
        .filter_map(|p| PrerequisiteKind::parse(&p.kind))
        .collect();
    submission_check(&topic, position, &required, &on_file)?;
    if let (true, Some(reference)) = (topic.is_procurement, topic.procurement_ref.as_deref()) {
        let approved = db::topics::approved_procurements(&mut tx, topic.party_group_id).await?;
        check_procurement_once(reference, approved.iter().map(String::as_str))?;
    }
    db::topics::set_status(&mut tx, id, next, None).await?;
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(
                Chain::PartyGroup(topic.party_group_id),
                "topic.submit",
                "topic",
            )
            .entity(id)
            .before(serde_json::json!({ "status": topic.status })),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The proposer withdraws a topic until it is placed on an agenda.
async fn withdraw(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::WithdrawTopic).await?;
    let next = topic.state()?.withdraw()?;
    db::topics::set_status(&mut tx, id, next, None).await?;
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(
                Chain::PartyGroup(topic.party_group_id),
                "topic.withdraw",
                "topic",
            )
            .entity(id)
            .before(serde_json::json!({ "status": topic.status })),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReturnTopic {
    #[serde(default)]
    pub reason: String,
}

/// 综合科 returns a submitted topic to its proposer with a reason.
async fn return_topic(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: ReturnTopic,
) -> Result<(), AppError> {
    let reason = parse_name(&input.reason, 500).map_err(|m| AppError::invalid("reason", m))?;
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::ReturnTopic).await?;
    let next = topic.state()?.return_to_proposer()?;
    db::topics::set_status(&mut tx, id, next, Some(&reason)).await?;
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(
                Chain::PartyGroup(topic.party_group_id),
                "topic.return",
                "topic",
            )
            .entity(id)
            .after(serde_json::json!({ "reason": reason })),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Record a prerequisite (by the role or section that owns its kind).
#[utoipa::path(post, path = "/api/v1/topics/{id}/prerequisites", tag = "topics",
    params(("id" = Uuid, Path)), request_body = NewPrerequisite,
    responses((status = 200, body = TopicView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn record_prerequisite_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewPrerequisite>,
) -> Result<Json<TopicView>, AppError> {
    let id = parse_id(&id)?;
    record_prerequisite(&state, &user, id, input).await?;
    answer(&state, &user, id).await
}

/// A topic after an edit.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TopicUpdated {
    #[serde(flatten)]
    pub view: TopicView,
    /// The change voided the 分管 leader's sign-off, which must be given again.
    pub sign_off_voided: bool,
}

/// Change a draft or returned topic (its proposer). Any change voids the sign-off.
#[utoipa::path(put, path = "/api/v1/topics/{id}", tag = "topics",
    params(("id" = Uuid, Path)), request_body = NewTopic,
    responses((status = 200, body = TopicUpdated), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn update_topic_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewTopic>,
) -> Result<Json<TopicUpdated>, AppError> {
    let (topic, sign_off_voided) = update_topic(&state, &user, parse_id(&id)?, input).await?;
    Ok(Json(TopicUpdated {
        view: view(&state, &user, topic).await?,
        sign_off_voided,
    }))
}

/// The 分管 leader's written sign-off (R-TOPIC-SOURCE).
#[utoipa::path(post, path = "/api/v1/topics/{id}/sign-off", tag = "topics",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem)))]
async fn sign_off_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TopicView>, AppError> {
    let id = parse_id(&id)?;
    sign_off(&state, &user, id).await?;
    answer(&state, &user, id).await
}

/// Submit to 综合科; refused with the rule and everything missing.
#[utoipa::path(post, path = "/api/v1/topics/{id}/submit", tag = "topics",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem)))]
async fn submit_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TopicView>, AppError> {
    let id = parse_id(&id)?;
    submit(&state, &user, id).await?;
    answer(&state, &user, id).await
}

/// Withdraw a topic (its proposer, until it is on an agenda).
#[utoipa::path(post, path = "/api/v1/topics/{id}/withdraw", tag = "topics",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem)))]
async fn withdraw_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TopicView>, AppError> {
    let id = parse_id(&id)?;
    withdraw(&state, &user, id).await?;
    answer(&state, &user, id).await
}

/// Return a submitted topic to its proposer with a reason (综合科).
#[utoipa::path(post, path = "/api/v1/topics/{id}/return", tag = "topics",
    params(("id" = Uuid, Path)), request_body = ReturnTopic,
    responses((status = 200, body = TopicView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn return_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReturnTopic>,
) -> Result<Json<TopicView>, AppError> {
    let id = parse_id(&id)?;
    return_topic(&state, &user, id, input).await?;
    answer(&state, &user, id).await
}

/// Submitted topics of the groups one's section serves, with their completeness (综合科).
#[utoipa::path(get, path = "/api/v1/topics/submitted", tag = "topics",
    responses((status = 200, body = Vec<TopicView>), (status = 403, body = super::error::Problem)))]
async fn submitted_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<TopicView>>, AppError> {
    if !user.has(Role::Office) {
        return Err(AppError::Forbidden);
    }
    let topics = db::topics::list_submitted(&mut *state.pool.acquire().await?).await?;
    let mut views = Vec::with_capacity(topics.len());
    for t in topics
        .into_iter()
        .filter(|t| user.is_office_of(t.party_group_id))
    {
        views.push(view(&state, &user, t).await?);
    }
    Ok(Json(views))
}

fn redirect_to(id: Uuid) -> Redirect {
    Redirect::to(&format!("/topics/{id}"))
}

async fn record_prerequisite_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(input): PageForm<NewPrerequisite>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    record_prerequisite(&state, &user, id, input).await?;
    Ok(redirect_to(id))
}

async fn sign_off_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    sign_off(&state, &user, id).await?;
    Ok(redirect_to(id))
}

async fn submit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    submit(&state, &user, id).await?;
    Ok(redirect_to(id))
}

async fn withdraw_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    withdraw(&state, &user, id).await?;
    Ok(redirect_to(id))
}

async fn return_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(input): PageForm<ReturnTopic>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    return_topic(&state, &user, id, input).await?;
    Ok(redirect_to(id))
}

// ---- The reviewer's inbox ----

/// A topic waiting for this reviewer, with the kinds they may record on it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub topic_id: Uuid,
    pub title: String,
    pub status: String,
    /// Missing prerequisite kinds this user records.
    pub kinds: Vec<String>,
}

/// Open topics with a missing prerequisite this user records, computed for all topics from two
/// queries (not one per topic).
pub(super) async fn inbox(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<ReviewItem>, AppError> {
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

/// Topics waiting for a prerequisite this user records.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "topics",
    responses((status = 200, body = Vec<ReviewItem>), (status = 401, body = super::error::Problem)))]
async fn reviews_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ReviewItem>>, AppError> {
    Ok(Json(inbox(&state, &user).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "topics/reviews.html")]
struct ReviewsPage {
    layout: Layout,
    items: Vec<ReviewItem>,
}

impl ReviewsPage {
    fn kinds_zh(&self, kinds: &[String]) -> String {
        kinds
            .iter()
            .filter_map(|k| PrerequisiteKind::parse(k))
            .map(PrerequisiteKind::label_zh)
            .collect::<Vec<_>>()
            .join("、")
    }

    fn status_zh(&self, status: &str) -> &'static str {
        status_zh(status)
    }
}

async fn reviews_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<ReviewsPage, AppError> {
    Ok(ReviewsPage {
        layout: Layout::new("待我审查", Some(&user)),
        items: inbox(&state, &user).await?,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewAssignment {
    #[serde(default)]
    pub section_id: String,
}

/// R-PREREQ-POLICY: the 书记 assigns a section to carry out a policy topic's assessments
/// (stability risk, integrity, legality, expert review, public consultation).
async fn assign(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: NewAssignment,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (topic, _) = topic_for_action(&mut tx, user, id, Action::AssignReviewSection).await?;
    topic.state()?.prepare()?;
    let section = match Uuid::parse_str(input.section_id.trim()) {
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
                Change::new(
                    Chain::PartyGroup(topic.party_group_id),
                    "topic.assign",
                    "topic",
                )
                .entity(id)
                .after(&section),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Assign a section to a policy topic's assessments (the 书记).
#[utoipa::path(post, path = "/api/v1/topics/{id}/assignments", tag = "topics",
    params(("id" = Uuid, Path)), request_body = NewAssignment,
    responses((status = 200, body = TopicView), (status = 403, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
async fn assign_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewAssignment>,
) -> Result<Json<TopicView>, AppError> {
    let id = parse_id(&id)?;
    assign(&state, &user, id, input).await?;
    answer(&state, &user, id).await
}

async fn assign_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    PageForm(input): PageForm<NewAssignment>,
) -> Result<Redirect, AppError> {
    let id = parse_id(&id)?;
    assign(&state, &user, id, input).await?;
    Ok(redirect_to(id))
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

/// The prerequisites a topic with these facts needs, and the rules that require them (for the
/// drafting form, before anything is saved).
#[utoipa::path(get, path = "/api/v1/topics/prerequisites", tag = "topics", params(PreviewQuery),
    responses((status = 200, body = Vec<PrerequisiteView>), (status = 422, body = super::error::Problem)))]
async fn preview_api(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<PreviewQuery>,
) -> Result<Json<Vec<PrerequisiteView>>, AppError> {
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
    let group = Uuid::parse_str(q.party_group_id.trim())
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
    Ok(Json(
        required_prerequisites(&facts, threshold)
            .into_iter()
            .map(|r| PrerequisiteView::of(r, None))
            .collect(),
    ))
}

/// One line of a person's to-do list on the home page.
pub struct Todo {
    pub label: String,
    pub href: String,
}

/// What this person must do next about topics (ui.md: each person lands on what they must do
/// next): sign-offs, returned topics, reviews, 综合科's desk, the 书记's queue.
pub(super) async fn todos(state: &AppState, user: &CurrentUser) -> Result<Vec<Todo>, AppError> {
    let mut conn = state.pool.acquire().await?;
    let mine = db::topics::list_for_user(&mut conn, user.user_id).await?;
    let mut todos = Vec::new();
    for t in &mine {
        let open = matches!(t.status.as_str(), "draft" | "returned");
        if open && t.responsible_user_id == user.user_id && t.signed_off_by.is_none() {
            todos.push(Todo {
                label: format!("待我签字:{}", t.title),
                href: format!("/topics/{}", t.topic_id),
            });
        }
        if t.status == "returned" && t.proposer_id == user.user_id {
            todos.push(Todo {
                label: format!("被综合科退回:{}", t.title),
                href: format!("/topics/{}", t.topic_id),
            });
        }
    }
    let chaired: Vec<Uuid> = db::party_groups::memberships_of_user(&mut conn, user.user_id)
        .await?
        .into_iter()
        .filter(|m| m.position == Position::Secretary.as_str())
        .map(|m| m.party_group_id)
        .collect();
    // Only 综合科 and a 书记 have a desk of submitted topics.
    let submitted = if user.has(Role::Office) || !chaired.is_empty() {
        db::topics::list_submitted(&mut conn).await?
    } else {
        Vec::new()
    };
    drop(conn);
    let reviews = inbox(state, user).await?.len();
    if reviews > 0 {
        todos.push(Todo {
            label: format!("{reviews} 个议题等待我的前置审查"),
            href: "/reviews".into(),
        });
    }
    let at_desk = submitted
        .iter()
        .filter(|t| user.is_office_of(t.party_group_id))
        .count();
    if at_desk > 0 {
        todos.push(Todo {
            label: format!("{at_desk} 个议题已报送综合科"),
            href: "/topics".into(),
        });
    }
    let queue = submitted
        .iter()
        .filter(|t| chaired.contains(&t.party_group_id))
        .count();
    if queue > 0 {
        todos.push(Todo {
            label: format!("{queue} 个议题待列入议程"),
            href: "/topics".into(),
        });
    }
    Ok(todos)
}
