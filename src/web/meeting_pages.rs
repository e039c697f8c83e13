//! The meeting pages: my meetings with the scheduling form, and one page per meeting that
//! shows each person what they may do next — the agenda builder for the 书记, the secretary's
//! console, the chair's console, the member's screen — each unavailable action with its rule.
//! Plus a read-only room display. Live updates come from `events`; with JavaScript off a
//! refresh shows the truth.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::error::AppError;
use super::extract::{CurrentUser, Path};
use super::pages::{Layout, datetime_zh};
use crate::app::meeting::{self, ItemView, MeetingView, visible_meeting};
use crate::db::audit_log::Line;
use crate::db::meetings::Meeting;
use crate::db::party_groups::PartyGroup;
use crate::db::topics::Topic;
use crate::db::users::User;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::deliberation::{Choice, Outcome, Relation as Kinship, Stance, VoteMethod};
use crate::domain::ids::{ItemId, MeetingId, PartyGroupId, UserId};
use crate::domain::meeting::{ItemStage, MeetingState, reveal};
use crate::domain::org::Position;
use crate::domain::role::Role;
use crate::domain::rule::RuleViolation;

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/meetings",
            get(list_page).post(super::meetings::create_meeting),
        )
        .route("/meetings/{id}", get(meeting_page))
        .route("/meetings/{id}/live", get(meeting_live))
        .route("/meetings/{id}/display", get(display_page))
        .route("/meetings/{id}/display/live", get(display_live))
}

/// Why a step cannot be taken yet, said as the state it waits on: plain Chinese, the article
/// as a quiet reference, the rule's code kept for the markup only (issue 17: a state is not a
/// refusal — nobody tried anything).
struct Hint {
    code: &'static str,
    text: String,
    article: &'static str,
}

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn why(v: RuleViolation) -> Hint {
    Hint {
        code: v.rule.code(),
        text: v.explanation().to_owned(),
        article: v.rule.article(),
    }
}

fn item_state_zh(item: &ItemView) -> String {
    // A decided item reads as its outcome.
    match item.item.outcome {
        Some(outcome) if item.item.state == ItemStage::Decided => outcome.label_zh().into(),
        _ => item.item.state.label_zh().into(),
    }
}

// ---- My meetings ----

#[derive(Template, WebTemplate)]
#[template(path = "meetings/list.html")]
struct ListPage {
    layout: Layout,
    meetings: Vec<Meeting>,
    /// Groups this person may schedule for, and 综合科's staff for the secretary.
    groups: Vec<PartyGroup>,
    office_staff: Vec<User>,
}

impl ListPage {
    fn when(&self, m: &Meeting) -> String {
        datetime_zh(&m.starts_at)
    }
}

async fn list_page(State(state): State<AppState>, user: CurrentUser) -> Result<ListPage, AppError> {
    let meetings = meeting::list(&state, &user).await?;
    let mut conn = state.pool.acquire().await?;
    let groups = if user.has(Role::Office) {
        db::party_groups::list_all(&mut conn)
            .await?
            .into_iter()
            .filter(|g| user.is_office_of(g.party_group_id))
            .collect()
    } else {
        let mut mine = Vec::new();
        for m in db::party_groups::memberships_of_user(&mut conn, user.user_id).await? {
            if m.position == Position::Secretary {
                mine.push(PartyGroup {
                    party_group_id: m.party_group_id,
                    name: m.party_group_name,
                });
            }
        }
        mine
    };
    let group_ids: Vec<PartyGroupId> = groups
        .iter()
        .map(|g: &PartyGroup| g.party_group_id)
        .collect();
    let office_staff = db::users::office_staff(&mut conn, &group_ids)
        .await?
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    Ok(ListPage {
        layout: Layout::new("会议", Some(&user)),
        meetings,
        groups,
        office_staff,
    })
}

// ---- One meeting ----

/// One member's line on the chair's console and the room display.
struct Seat {
    user_id: UserId,
    name: String,
    is_chair: bool,
    /// The stance label once stated.
    stance: Option<&'static str>,
    voted: bool,
    /// The choice, for open votes only.
    choice: Option<&'static str>,
}

/// The item being dealt with, as this viewer may act on it.
struct Current {
    index: usize,
    method_zh: &'static str,
    seats: Vec<Seat>,
    waiting: usize,
    /// Whether I may state my opinion now, or why not.
    my_opinion: Result<(), Hint>,
    my_stance: Option<&'static str>,
    my_vote: Result<(), Hint>,
    voted: bool,
    /// The chair's next step and why it is not yet possible.
    open_vote: Result<(), Hint>,
    /// Members the secretary may still record a voice or hands vote for.
    recordable: Vec<(UserId, String)>,
    /// Totals, when they may be shown (R-SECRET-BALLOT: after closing).
    totals: Option<String>,
    i_may_remark: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/detail.html", blocks = ["content"])]
struct MeetingPage {
    layout: Layout,
    v: MeetingView,
    is_chair: bool,
    is_secretary: bool,
    is_member: bool,
    present: bool,
    /// 书记's agenda builder: the complete topics of the group waiting for an agenda.
    can_add: bool,
    queue: Vec<Topic>,
    can_notice: bool,
    notice_blocked: Option<Hint>,
    can_delegate: bool,
    open_blocked: Option<Hint>,
    /// Per pending item: may the chair start it, or why not.
    start: Vec<(ItemId, Result<(), Hint>)>,
    may_ask_leave: bool,
    /// 综合科, the chair, the secretary: the sign-in sheet and paper ballots.
    may_print: bool,
    /// 综合科: a counter of paper votes.
    may_count: bool,
    non_members: Vec<User>,
    current: Option<Current>,
    history: Arc<[Line]>,
    stances: &'static [Stance],
    choices: &'static [Choice],
    methods: &'static [VoteMethod],
    kinships: &'static [Kinship],
    me: UserId,
    /// Earlier decisions a passed item of this meeting may change (chair or 综合科).
    earlier_decisions: Vec<(ItemId, String)>,
}

impl MeetingPage {
    /// R-RESERVE: I said 不同意 or 暂缓 on this decided item and have not reserved yet.
    fn may_reserve(&self, i: &ItemView) -> bool {
        i.item.outcome.is_some()
            && i.opinions.iter().any(|o| {
                o.user_id == self.me && matches!(o.stance, Stance::Disagree | Stance::Defer)
            })
            && !self
                .v
                .reserved_opinions
                .iter()
                .any(|r| r.item_id == i.item.item_id && r.user_id == self.me)
    }
    fn reserved_of(&self, item_id: &ItemId) -> Vec<&db::followup::Reserved> {
        self.v
            .reserved_opinions
            .iter()
            .filter(|r| r.item_id == *item_id)
            .collect()
    }
    fn changes_of(&self, item_id: &ItemId) -> Vec<&db::followup::Change> {
        self.v
            .decision_changes
            .iter()
            .filter(|c| c.old_item_id == *item_id || c.new_item_id == *item_id)
            .collect()
    }
    fn when(&self) -> String {
        datetime_zh(&self.v.meeting.starts_at)
    }
    fn day(&self, d: &time::Date) -> String {
        crate::display::date_zh(d)
    }
    fn item_state_zh(&self, i: &ItemView) -> String {
        item_state_zh(i)
    }
    fn passed(&self, i: &ItemView) -> bool {
        i.item.outcome == Some(Outcome::Passed)
    }

    /// Whether the item's vote is (or was) secret: its ballot box is public.
    fn secret(&self, i: &ItemView) -> bool {
        i.item.vote_method.is_some_and(VoteMethod::is_secret)
    }
    fn kinship_zh(&self, k: &str) -> &'static str {
        Kinship::parse(k).map_or("", Kinship::label_zh)
    }
    fn at(&self, e: &Line) -> String {
        datetime_zh(&e.occurred_at)
    }
    fn start_of(&self, item: &ItemId) -> Option<&Result<(), Hint>> {
        self.start.iter().find(|(i, _)| i == item).map(|(_, r)| r)
    }
    fn leave_zh(&self, a: &Option<bool>) -> &'static str {
        match a {
            None => "待批准",
            Some(true) => "已批准",
            Some(false) => "未批准",
        }
    }
    fn action_zh(&self, a: &str) -> &'static str {
        crate::audit::actions::label_zh(a)
    }
}

/// The live part of a page alone, without the layout: what the page's script swaps in after
/// each change of the meeting.
fn fragment(part: impl Template) -> Result<Response, AppError> {
    let html = part.render().map_err(anyhow::Error::from)?;
    Ok(Html(html).into_response())
}

async fn meeting_live(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<MeetingId>,
) -> Result<Response, AppError> {
    fragment(meeting_page(state, user, id).await?.as_content())
}

async fn display_live(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<MeetingId>,
) -> Result<Response, AppError> {
    fragment(display_page(state, user, id).await?.as_content())
}

async fn meeting_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<MeetingPage, AppError> {
    let seen = visible_meeting(&state, &user, id).await?;
    let ctx = &seen.ctx;
    let allowed = |a| ctx.can(&user, a).is_ok();
    let is_chair = ctx.relation.chair;
    let is_secretary = ctx.relation.meeting_secretary;
    let is_member = ctx.is_member(user.user_id);
    let present = ctx.present().contains(&user.user_id);
    let editable = matches!(ctx.state, MeetingState::Draft | MeetingState::Noticed);
    let can_add = editable && allowed(Action::AddAgendaItem);
    let can_notice = ctx.state == MeetingState::Draft && allowed(Action::IssueNotice);
    let can_delegate = editable && allowed(Action::DelegateChair);
    let may_ask_leave = editable && allowed(Action::AskLeave);
    let ctx_can_link = allowed(Action::LinkDecision);
    let chair_id = ctx.meeting.chair_id;

    // Only the chair and the secretary preparing the meeting read more than the read model.
    let queue = if can_add {
        db::topics::list_submitted(&mut *state.pool.acquire().await?)
            .await?
            .into_iter()
            .filter(|t| t.party_group_id == ctx.meeting.party_group_id)
            .collect()
    } else {
        Vec::new()
    };
    let non_members = if is_chair && editable {
        db::users::list(&mut *state.pool.acquire().await?)
            .await?
            .into_iter()
            .filter(|u| {
                u.active && !ctx.is_member(u.user_id) && u.roles.iter().any(|r| *r != Role::Admin)
            })
            .collect()
    } else {
        Vec::new()
    };
    let history = seen.live.history.clone();
    let layout = Layout::new(ctx.meeting.title.clone(), Some(&user));
    let v = meeting::view(&seen, &user)?;
    let steps = meeting::steps(&seen, &user, &v.agenda)?;

    // R-ONE-AT-A-TIME, R-ABSENT-RESPONSIBLE: may each pending item start now?
    let start = v
        .agenda
        .iter()
        .zip(steps.start)
        .filter(|(i, _)| i.item.state == ItemStage::Pending)
        .map(|(i, check)| (i.item.item_id, check.map_err(why)))
        .collect();

    // A recused viewer is shown nothing of the item being dealt with (R-RECUSAL).
    let current = steps
        .current
        .filter(|c| !v.agenda[c.index].withheld)
        .map(|c| {
            let item = &v.agenda[c.index];
            let recused: Vec<UserId> = item.recusals.iter().map(|r| r.user_id).collect();
            let voting = item.item.state == ItemStage::Voting;
            let method = item.item.vote_method;
            let shown = method.map(|m| reveal(m, !voting));
            let seats: Vec<Seat> = v
                .roster
                .iter()
                .filter(|m| m.present && !recused.contains(&m.user_id))
                .map(|m| {
                    let vote = item.votes.iter().find(|x| x.user_id == m.user_id);
                    Seat {
                        user_id: m.user_id,
                        name: m.name.clone(),
                        is_chair: m.user_id == chair_id,
                        stance: item
                            .opinions
                            .iter()
                            .find(|o| o.user_id == m.user_id)
                            .map(|o| o.stance)
                            .map(Stance::label_zh),
                        voted: vote.is_some(),
                        choice: vote
                            .filter(|_| shown.is_some_and(|r| r.choices))
                            .and_then(|x| x.choice.as_deref())
                            .and_then(Choice::parse)
                            .map(Choice::label_zh),
                    }
                })
                .collect();
            let recordable =
                if method.is_some_and(VoteMethod::may_be_recorded_by_secretary) && voting {
                    seats
                        .iter()
                        .filter(|s| !s.voted)
                        .map(|s| (s.user_id, s.name.clone()))
                        .collect()
                } else {
                    Vec::new()
                };
            let totals = match (item.item.yes, item.item.no, item.item.abstain) {
                (Some(y), Some(n), Some(a)) => Some(format!(
                    "赞成 {y} 票,反对 {n} 票,弃权 {a} 票;应到会成员 {} 人,{}",
                    item.item.should_attend.unwrap_or_default(),
                    if item.item.passed == Some(true) {
                        "赞成票超过半数,通过"
                    } else {
                        "赞成票未超过半数,未通过"
                    }
                )),
                _ => None,
            };
            Current {
                index: c.index,
                method_zh: method.map_or("", VoteMethod::label_zh),
                waiting: c.waiting,
                my_stance: item
                    .opinions
                    .iter()
                    .find(|o| o.user_id == user.user_id)
                    .map(|o| o.stance)
                    .map(Stance::label_zh),
                seats,
                my_opinion: c.state_opinion.map_err(why),
                my_vote: c.vote.map_err(why),
                voted: item.votes.iter().any(|x| x.user_id == user.user_id),
                open_vote: c.open_vote.map_err(why),
                recordable,
                totals,
                i_may_remark: c.remark.is_ok(),
            }
        });

    let earlier_decisions = if v.meeting.status == MeetingState::Closed
        && ctx_can_link
        && v.agenda
            .iter()
            .any(|i| i.item.outcome == Some(Outcome::Passed))
    {
        let mut conn = state.pool.acquire().await?;
        db::followup::earlier_decisions(&mut conn, v.meeting.party_group_id, v.meeting.starts_at)
            .await?
    } else {
        Vec::new()
    };
    Ok(MeetingPage {
        layout,
        is_chair,
        is_secretary,
        is_member,
        present,
        can_add,
        queue,
        can_notice,
        notice_blocked: steps.issue_notice.err().map(why),
        can_delegate,
        open_blocked: steps.open.err().map(why),
        start,
        may_ask_leave,
        may_print: allowed(Action::PrintForRoom),
        may_count: allowed(Action::RecordPaperCount),
        non_members,
        current,
        history,
        stances: Stance::ALL,
        choices: Choice::ALL,
        methods: VoteMethod::ALL,
        kinships: Kinship::ALL,
        me: user.user_id,
        earlier_decisions,
        v,
    })
}

// ---- The room display ----

#[derive(Template, WebTemplate)]
#[template(path = "meetings/display.html", blocks = ["content"])]
struct DisplayPage {
    layout: Layout,
    v: MeetingView,
}

impl DisplayPage {
    fn item_state_zh(&self, i: &ItemView) -> String {
        item_state_zh(i)
    }
    fn current(&self) -> Option<&ItemView> {
        self.v
            .agenda
            .iter()
            .find(|i| Some(i.item.item_id) == self.v.current_item)
    }
    fn spoken(&self, i: &ItemView, user: &UserId) -> bool {
        i.opinions.iter().any(|o| o.user_id == *user)
    }
    fn voted(&self, i: &ItemView, user: &UserId) -> bool {
        i.votes.iter().any(|o| o.user_id == *user)
    }
}

/// Read-only large screen: current item, attendance and quorum, who has spoken, vote progress;
/// never a choice of a secret ballot.
async fn display_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<DisplayPage, AppError> {
    let seen = visible_meeting(&state, &user, id).await?;
    let layout = Layout::new(seen.ctx.meeting.title.clone(), Some(&user));
    let v = meeting::view(&seen, &user)?;
    Ok(DisplayPage { layout, v })
}
