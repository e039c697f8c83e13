//! Issue 17 (8): every step of the journeys that waits for someone is on that person's home
//! page. One walk through topic intake, the meeting, the records and follow-up; at each step
//! the person it waits for finds it on their home page, and it leaves once done. The walk must
//! meet every step of the catalogue (`domain::waiting`).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;
use yishi::domain::waiting::Waiting;

use crate::fixtures::{Room, add, meeting, ok, room};
use crate::support::{PASSWORD, TestApp, body_text};

/// The walk: what each home page showed, and every step met so far.
struct Walk<'a> {
    app: &'a TestApp,
    met: BTreeSet<&'static str>,
}

impl Walk<'_> {
    /// The waiting steps on the home page of the person signed in with `token`.
    async fn home(&self, token: &str) -> Vec<String> {
        let html = body_text(self.app.page("GET", "/", Some(token), None).await).await;
        html.split("data-waiting=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
            .collect()
    }

    /// `step` waits for the holder of `token`: it is on their home page.
    async fn waits(&mut self, token: &str, step: Waiting) {
        let shown = self.home(token).await;
        assert!(
            shown.iter().any(|s| s == step.code()),
            "{} not on the home page; it shows {shown:?}",
            step.code()
        );
        self.met.insert(step.code());
    }

    /// `step` does not wait for the holder of `token` (done, or never theirs).
    async fn not_for(&self, token: &str, step: Waiting) {
        let shown = self.home(token).await;
        assert!(
            !shown.iter().any(|s| s == step.code()),
            "{} still on the home page: {shown:?}",
            step.code()
        );
    }
}

fn at(path: impl std::fmt::Display) -> String {
    format!("/api/v1{path}")
}

/// A member of a finance section, who writes the finance opinions.
async fn finance_reviewer(app: &TestApp) -> String {
    let admin = app.admin().await;
    let (_, section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": "财务科", "kind": "finance"})),
        )
        .await;
    let (status, _) = app
        .api(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(
                json!({"login": "caiwu", "name": "财务", "password": PASSWORD,
                        "section_id": section["section_id"], "roles": ["staff"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.login("caiwu", PASSWORD).await
}

/// Topic intake: the 分管 leader's sign-off and the finance review wait in parallel; then the
/// proposer may submit; 综合科 returns it once; the 书记 finds it in the queue.
async fn intake(w: &mut Walk<'_>, r: &Room) -> Uuid {
    let app = w.app;
    let finance = finance_reviewer(app).await;
    let topic = ok(
        app,
        &r.clerk,
        at("/topics"),
        json!({"party_group_id": r.group, "title": "关于购置业务用车的请示", "category": 33,
               "amount_fen": 700000, "content": "拟购置业务用车一辆。",
               "matters_to_decide": "是否同意购置", "consultation_opinions": "已征求意见",
               "responsible_user_id": r.members[0].id}),
    )
    .await;
    let id = topic["topic_id"].as_str().unwrap().to_owned();
    let leader = &r.members[0].token;
    w.waits(leader, Waiting::TopicSignOff).await;
    w.waits(&finance, Waiting::TopicReviews).await;
    w.not_for(&r.clerk, Waiting::TopicReadyToSubmit).await;
    ok(app, leader, at(format!("/topics/{id}/sign-off")), json!({})).await;
    w.not_for(leader, Waiting::TopicSignOff).await;
    w.not_for(&r.clerk, Waiting::TopicReadyToSubmit).await;
    ok(
        app,
        &finance,
        at(format!("/topics/{id}/prerequisites")),
        json!({"kind": "finance_opinion", "conclusion": "同意"}),
    )
    .await;
    w.not_for(&finance, Waiting::TopicReviews).await;
    w.waits(&r.clerk, Waiting::TopicReadyToSubmit).await;

    ok(app, &r.clerk, at(format!("/topics/{id}/submit")), json!({})).await;
    w.not_for(&r.clerk, Waiting::TopicReadyToSubmit).await;
    w.waits(&r.secretary.token, Waiting::TopicsAtDesk).await;
    w.waits(&r.shuji.token, Waiting::TopicsToSchedule).await;
    ok(
        app,
        &r.secretary.token,
        at(format!("/topics/{id}/return")),
        json!({"reason": "请补充采购预算明细"}),
    )
    .await;
    w.not_for(&r.secretary.token, Waiting::TopicsAtDesk).await;
    w.waits(&r.clerk, Waiting::TopicReturned).await;
    ok(app, &r.clerk, at(format!("/topics/{id}/submit")), json!({})).await;
    w.not_for(&r.clerk, Waiting::TopicReturned).await;
    w.waits(&r.shuji.token, Waiting::TopicsToSchedule).await;
    Uuid::parse_str(&id).unwrap()
}

/// The meeting: the notice, a request for leave, the opinion and the ballot each member owes.
async fn the_meeting(w: &mut Walk<'_>, r: &Room, topic: Uuid) -> (Uuid, Uuid) {
    let app = w.app;
    let m = meeting(app, r, 10).await;
    let i = add(app, r, m, topic).await;
    w.not_for(&r.shuji.token, Waiting::TopicsToSchedule).await;
    ok(
        app,
        &r.secretary.token,
        at(format!("/meetings/{m}/notice")),
        json!({}),
    )
    .await;
    w.waits(&r.members[1].token, Waiting::MeetingNotice).await;
    let away = &r.members[2];
    ok(
        app,
        &away.token,
        at(format!("/meetings/{m}/leave")),
        json!({"reason": "在省里参加培训"}),
    )
    .await;
    w.waits(&r.shuji.token, Waiting::LeaveToDecide).await;
    ok(
        app,
        &r.shuji.token,
        at(format!("/meetings/{m}/leave/{}/decision", away.id)),
        json!({"approved": true}),
    )
    .await;
    w.not_for(&r.shuji.token, Waiting::LeaveToDecide).await;

    crate::fixtures::seat_all_but(app, r, m, &[2]).await;
    ok(
        app,
        &r.shuji.token,
        at(format!("/meetings/{m}/open")),
        json!({}),
    )
    .await;
    w.waits(&r.members[1].token, Waiting::MeetingInSession)
        .await;
    let item = |action: &str| at(format!("/meetings/{m}/items/{i}/{action}"));
    ok(app, &r.shuji.token, item("start"), json!({})).await;
    let voters = [&r.members[0], &r.members[1], &r.shuji];
    for p in voters {
        if p.id != r.shuji.id {
            w.waits(&p.token, Waiting::Opinion).await;
        }
        ok(app, &p.token, item("opinions"), json!({"stance": "agree"})).await;
        w.not_for(&p.token, Waiting::Opinion).await;
    }
    ok(
        app,
        &r.shuji.token,
        item("vote"),
        json!({"method": "named"}),
    )
    .await;
    for p in voters {
        w.waits(&p.token, Waiting::Ballot).await;
        ok(app, &p.token, item("ballots"), json!({"choice": "yes"})).await;
        w.not_for(&p.token, Waiting::Ballot).await;
    }
    ok(app, &r.shuji.token, item("vote/close"), json!({})).await;
    ok(
        app,
        &r.shuji.token,
        item("outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
    ok(
        app,
        &r.shuji.token,
        at(format!("/meetings/{m}/close")),
        json!({}),
    )
    .await;
    w.not_for(&r.members[1].token, Waiting::MeetingInSession)
        .await;
    (m, i)
}

/// The records: minutes drafted and signed, a lead named, the summary signed, distributed and
/// signed for; a request to borrow the minutes; the task falls due, then overdue.
async fn the_records(w: &mut Walk<'_>, r: &Room, m: Uuid, i: Uuid) {
    let app = w.app;
    let minutes = at(format!("/meetings/{m}/minutes"));
    w.waits(&r.secretary.token, Waiting::MinutesToDraft).await;
    w.waits(&r.shuji.token, Waiting::MinutesToSign).await;
    let (status, drafted) = app
        .api(
            "PUT",
            &minutes,
            Some(&r.secretary.token),
            Some(json!({"narrative": "会议传达学习了上级文件精神。"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{drafted}");
    ok(app, &r.shuji.token, format!("{minutes}/sign"), json!({})).await;
    w.not_for(&r.secretary.token, Waiting::MinutesToDraft).await;
    w.not_for(&r.shuji.token, Waiting::MinutesToSign).await;

    let (_, outsider) = app.user("waibu", &["staff"]).await;
    ok(
        app,
        &outsider,
        format!("{minutes}/borrow-requests"),
        json!({"reason": "撰写年度总结", "days": 7}),
    )
    .await;
    w.waits(&r.shuji.token, Waiting::BorrowToDecide).await;

    let summary = at(format!("/meetings/{m}/summary"));
    w.waits(&r.shuji.token, Waiting::SummaryToSign).await;
    let lead = &r.members[0];
    // Due two days after the meeting, which is ten days ahead.
    let due = crate::fixtures::days_ahead(12)[..10].to_owned();
    let task = ok(
        app,
        &r.secretary.token,
        at(format!("/items/{i}/tasks")),
        json!({"lead_user_id": lead.id, "due_on": due, "description": "完成车辆采购"}),
    )
    .await;
    ok(app, &r.shuji.token, format!("{summary}/sign"), json!({})).await;
    w.not_for(&r.shuji.token, Waiting::SummaryToSign).await;
    w.waits(&r.secretary.token, Waiting::SummaryToDistribute)
        .await;
    ok(
        app,
        &r.secretary.token,
        format!("{summary}/distribute"),
        json!({}),
    )
    .await;
    w.not_for(&r.secretary.token, Waiting::SummaryToDistribute)
        .await;
    w.waits(&r.members[1].token, Waiting::SummaryReceipt).await;
    ok(
        app,
        &r.members[1].token,
        format!("{summary}/receipt"),
        json!({}),
    )
    .await;
    w.not_for(&r.members[1].token, Waiting::SummaryReceipt)
        .await;

    // Time passes, as the tests cannot wait for it: the due date comes near, then goes by.
    let task_id = Uuid::parse_str(task["task_id"].as_str().unwrap()).unwrap();
    let due_in = async |days: i32| {
        sqlx::query("update task set due_on = (now() at time zone 'Asia/Shanghai')::date + $2 where task_id = $1")
            .bind(task_id)
            .bind(days)
            .execute(&app.pool)
            .await
            .unwrap();
    };
    w.waits(&lead.token, Waiting::TaskOpen).await;
    w.not_for(&lead.token, Waiting::TaskDueSoon).await;
    due_in(3).await;
    w.waits(&lead.token, Waiting::TaskDueSoon).await;
    w.not_for(&r.secretary.token, Waiting::DutiesOverdue).await;
    due_in(-1).await;
    w.not_for(&lead.token, Waiting::TaskDueSoon).await;
    w.waits(&lead.token, Waiting::TaskOverdue).await;
    // The overdue task is on the group's duty calendar, which 综合科 keeps.
    w.waits(&r.secretary.token, Waiting::DutiesOverdue).await;
}

#[tokio::test]
async fn every_step_that_waits_for_someone_is_on_their_home_page() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let mut w = Walk {
        app: &app,
        met: BTreeSet::new(),
    };
    let topic = intake(&mut w, &r).await;
    let (m, i) = the_meeting(&mut w, &r, topic).await;
    the_records(&mut w, &r, m, i).await;

    // A document in circulation waits for each member's review.
    let circulation = ok(
        &app,
        &r.secretary.token,
        at(format!("/party-groups/{}/circulations", r.group)),
        json!({"title": "党组2026年度工作总结", "body": "一年来,党组……"}),
    )
    .await;
    w.waits(&r.members[1].token, Waiting::CirculationToReview)
        .await;
    ok(
        &app,
        &r.members[1].token,
        at(format!(
            "/circulations/{}/signoffs",
            circulation["id"].as_str().unwrap()
        )),
        json!({"approved": true}),
    )
    .await;
    w.not_for(&r.members[1].token, Waiting::CirculationToReview)
        .await;

    let all: BTreeSet<&str> = Waiting::ALL.iter().map(|s| s.code()).collect();
    let missed: Vec<_> = all.difference(&w.met).collect();
    assert!(missed.is_empty(), "steps no journey met: {missed:?}");
}
