//! Routes and pages of topic intake (`app::topic`): one handler per action, serving its
//! `/api/v1` route and its page form; the topic list, the topic page and the reviewer's inbox.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{CurrentUser, Face, Input, Path, Query};
use super::pages::{Layout, datetime_zh};
use crate::app::topic::{
    self, NewAssignment, NewPrerequisite, NewTopic, PrerequisiteView, ReturnTopic, ReviewItem,
    TopicView, inbox, recordable_kinds, relation_to, requirements, submission_blockers, view,
    visible_topic,
};
use crate::db::party_groups::PartyGroup;
use crate::db::sections::Section;
use crate::db::topics::Topic;
use crate::db::users::User;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::category::{Category, CategoryGroup};
use crate::domain::ids::{SectionId, TopicId};
use crate::domain::role::Role;
use crate::domain::topic::{Classification, PrerequisiteKind, Recorder, recorder};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_topics, create_topic))
        .routes(routes!(get_topic, update_topic))
        .routes(routes!(submitted))
        .routes(routes!(reviews))
        .routes(routes!(preview))
        .routes(routes!(record_prerequisite))
        .routes(routes!(sign_off))
        .routes(routes!(submit))
        .routes(routes!(withdraw))
        .routes(routes!(return_topic))
        .routes(routes!(assign))
}

/// The pages, and the same action handlers under their forms.
pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/topics", get(topics_page).post(create_topic))
        .route("/topics/{id}", get(topic_page))
        .route("/reviews", get(reviews_page))
        .route("/topics/{id}/prerequisites", post(record_prerequisite))
        .route("/topics/{id}/edit", post(update_topic))
        .route("/topics/{id}/sign-off", post(sign_off))
        .route("/topics/{id}/submit", post(submit))
        .route("/topics/{id}/withdraw", post(withdraw))
        .route("/topics/{id}/return", post(return_topic))
        .route("/topics/{id}/assignments", post(assign))
}

fn page_of(id: impl std::fmt::Display) -> String {
    format!("/topics/{id}")
}

/// The topic as the user now sees it.
async fn topic_view(
    state: &AppState,
    user: &CurrentUser,
    id: TopicId,
) -> Result<Json<TopicView>, AppError> {
    let topic = visible_topic(state, user, id).await?;
    Ok(Json(view(state, user, topic).await?))
}

/// The answer to most topic actions: the topic's view, or its page.
async fn shown(
    state: &AppState,
    face: Face,
    user: &CurrentUser,
    id: TopicId,
) -> Result<Response, AppError> {
    face.answer(page_of(id), topic_view(state, user, id)).await
}

/// Topics I proposed or must sign off.
#[utoipa::path(get, path = "/api/v1/topics", tag = "topics",
    responses((status = 200, body = Vec<Topic>), (status = 401, body = Problem)))]
async fn list_topics(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Topic>>, AppError> {
    Ok(Json(topic::list(&state, &user).await?))
}

/// Draft a topic; the answer lists the prerequisites it will need.
#[utoipa::path(post, path = "/api/v1/topics", tag = "topics", request_body = NewTopic,
    responses((status = 201, body = TopicView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_topic(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Input(input): Input<NewTopic>,
) -> Result<Response, AppError> {
    let created = topic::create_topic(&state, &user, input).await?;
    face.answer(page_of(created.topic_id), async {
        Ok((
            StatusCode::CREATED,
            Json(view(&state, &user, created).await?),
        ))
    })
    .await
}

/// One topic, with its prerequisites and what is missing.
#[utoipa::path(get, path = "/api/v1/topics/{id}", tag = "topics", params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 404, body = Problem)))]
async fn get_topic(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<TopicId>,
) -> Result<Json<TopicView>, AppError> {
    topic_view(&state, &user, id).await
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
    responses((status = 200, body = TopicUpdated), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn update_topic(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
    Input(input): Input<NewTopic>,
) -> Result<Response, AppError> {
    let (updated, sign_off_voided) = topic::update_topic(&state, &user, id, input).await?;
    let page = if sign_off_voided {
        format!("{}?voided=1", page_of(id))
    } else {
        page_of(id)
    };
    face.answer(page, async {
        Ok(Json(TopicUpdated {
            view: view(&state, &user, updated).await?,
            sign_off_voided,
        }))
    })
    .await
}

/// Record a prerequisite (by the role or section that owns its kind).
#[utoipa::path(post, path = "/api/v1/topics/{id}/prerequisites", tag = "topics",
    params(("id" = Uuid, Path)), request_body = NewPrerequisite,
    responses((status = 200, body = TopicView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn record_prerequisite(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
    Input(input): Input<NewPrerequisite>,
) -> Result<Response, AppError> {
    topic::record_prerequisite(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// The 分管 leader's written sign-off (R-TOPIC-SOURCE).
#[utoipa::path(post, path = "/api/v1/topics/{id}/sign-off", tag = "topics",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn sign_off(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
) -> Result<Response, AppError> {
    topic::sign_off(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

/// Submit to 综合科; refused with the rule and everything missing.
#[utoipa::path(post, path = "/api/v1/topics/{id}/submit", tag = "topics",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn submit(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
) -> Result<Response, AppError> {
    topic::submit(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

/// Withdraw a topic (its proposer, until it is on an agenda).
#[utoipa::path(post, path = "/api/v1/topics/{id}/withdraw", tag = "topics",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TopicView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn withdraw(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
) -> Result<Response, AppError> {
    topic::withdraw(&state, &user, id).await?;
    shown(&state, face, &user, id).await
}

/// Return a submitted topic to its proposer with a reason (综合科).
#[utoipa::path(post, path = "/api/v1/topics/{id}/return", tag = "topics",
    params(("id" = Uuid, Path)), request_body = ReturnTopic,
    responses((status = 200, body = TopicView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn return_topic(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
    Input(input): Input<ReturnTopic>,
) -> Result<Response, AppError> {
    topic::return_topic(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// R-PREREQ-POLICY: the 书记 assigns a section to carry out a policy topic's assessments.
#[utoipa::path(post, path = "/api/v1/topics/{id}/assignments", tag = "topics",
    params(("id" = Uuid, Path)), request_body = NewAssignment,
    responses((status = 200, body = TopicView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn assign(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Path(id): Path<TopicId>,
    Input(input): Input<NewAssignment>,
) -> Result<Response, AppError> {
    topic::assign(&state, &user, id, input).await?;
    shown(&state, face, &user, id).await
}

/// Submitted topics of the groups one's section serves, with their completeness (综合科).
#[utoipa::path(get, path = "/api/v1/topics/submitted", tag = "topics",
    responses((status = 200, body = Vec<TopicView>), (status = 403, body = Problem)))]
async fn submitted(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<TopicView>>, AppError> {
    Ok(Json(topic::submitted(&state, &user).await?))
}

/// Topics waiting for a prerequisite this user records.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "topics",
    responses((status = 200, body = Vec<ReviewItem>), (status = 401, body = Problem)))]
async fn reviews(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ReviewItem>>, AppError> {
    Ok(Json(inbox(&state, &user).await?))
}

/// The prerequisites a topic with these facts needs, and the rules that require them (for the
/// drafting form, before anything is saved).
#[utoipa::path(get, path = "/api/v1/topics/prerequisites", tag = "topics", params(topic::PreviewQuery),
    responses((status = 200, body = Vec<PrerequisiteView>), (status = 422, body = Problem)))]
async fn preview(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<topic::PreviewQuery>,
) -> Result<Json<Vec<PrerequisiteView>>, AppError> {
    Ok(Json(topic::preview(&state, q).await?))
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
        .filter(|u| {
            u.active
                && u.roles
                    .iter()
                    .any(|r| matches!(r, Role::Leader | Role::Director))
        })
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
    fn category_zh(&self, n: &i16) -> String {
        category_zh(*n)
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
    let chaired = crate::app::organisation::chaired_groups(&mut conn, &user).await?;
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
    /// What keeps the topic from being submitted now: each explanation with its article.
    submit_blocked: Vec<(String, &'static str)>,
}

impl TopicPage {
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
        self.view.topic.classification.label_zh()
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

    fn section_name(&self, id: &SectionId) -> &str {
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
    Path(id): Path<TopicId>,
    Query(q): Query<TopicPageQuery>,
) -> Result<TopicPage, AppError> {
    let topic = visible_topic(&state, &user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let (position, relation) = relation_to(&mut conn, &user, &topic).await?;
    let required = requirements(&mut conn, &topic).await?;
    let mut recordable = recordable_kinds(&mut conn, &user, &topic, &required).await?;
    let needs_assignment = required
        .iter()
        .any(|r| recorder(r.kind) == Recorder::AssignedSection);
    drop(conn);
    let view = view(&state, &user, topic).await?;
    // Which steps the topic's course allows now; the policy then says whether this user may.
    let status = view.topic.status;
    let open_for_records = status.prepare().is_ok();
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
    Ok(TopicPage {
        layout: Layout::new(view.topic.title.clone(), Some(&user)),
        can_sign_off: status.sign_off().is_ok()
            && view.topic.signed_off_by.is_none()
            && allowed(Action::SignOffTopic),
        can_submit: status.submit().is_ok() && allowed(Action::SubmitTopic),
        can_withdraw: status.withdraw().is_ok() && allowed(Action::WithdrawTopic),
        can_return: status.return_to_proposer().is_ok() && allowed(Action::ReturnTopic),
        submit_blocked: submission_blockers(&view.topic, position, &required, &on_file)
            .into_iter()
            .map(|v| (v.explanation().to_owned(), v.rule.article()))
            .collect(),
        can_edit: status.edit().is_ok() && allowed(Action::EditTopic),
        can_assign: open_for_records && needs_assignment && allowed(Action::AssignReviewSection),
        voided: q.voided.is_some(),
        attachable,
        choices: form_choices(&state, &user).await?,
        category_groups: CategoryGroup::ALL,
        classifications: Classification::ALL,
        recordable: if open_for_records {
            recordable
        } else {
            Vec::new()
        },
        view,
    })
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
