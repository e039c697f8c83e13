//! The meeting: scheduling, notice, attendance and quorum, each item with opinions, votes and
//! the announced outcome; every refusal of sections C and D with its code and nothing written;
//! races between simultaneous requests; secret-ballot storage; the live event stream.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{
    add, agree_and_open_vote, convene, days_ahead, meeting, ok, post, present, ready_topic,
    refused, room, seat_all_but,
};
use crate::support::{TestApp, eventually};

/// The meeting as `token`'s holder sees it through the API.
async fn meeting_view(app: &TestApp, token: &str, m: Uuid) -> Value {
    let (_, view) = app
        .api("GET", &format!("/api/v1/meetings/{m}"), Some(token), None)
        .await;
    view
}

async fn audit_entries(app: &TestApp) -> i64 {
    app.count("audit_entry").await
}

/// The roster every meeting screen shows: the 书记 first, then the 副书记, then members in
/// pinyin order (陈 chen, 李 li, 王 wang, 张 zhang, 赵 zhao — not their code point order).
/// R-QUORUM: the members who should attend are those of the group on the meeting's date — not
/// one whose membership ended before it, not one who joins after it.
#[tokio::test]
async fn r_quorum_the_roster_is_the_membership_on_the_meeting_date() {
    let app = TestApp::new().await;
    let r = room(&app, 6).await;
    let m = meeting(&app, &r, 10).await;
    let admin = app.admin().await;
    let members = format!("/api/v1/party-groups/{}/members", r.group);
    let (status, body) = app
        .api(
            "DELETE",
            &format!("{members}/{}", r.members[5].id),
            Some(&admin),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (later, _) = app.user("xinren", &["leader"]).await;
    let starts = &days_ahead(20)[..10];
    let (status, body) = app
        .api(
            "POST",
            &members,
            Some(&admin),
            Some(json!({"user_id": later, "position": "member", "started_on": starts})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v = meeting_view(&app, &r.shuji.token, m).await;
    let roster: Vec<&str> = v["roster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(roster.len(), 6, "{roster:?}");
    assert!(!roster.contains(&r.members[5].id.to_string().as_str()));
    assert!(!roster.contains(&later.to_string().as_str()));
    assert_eq!(v["quorum"]["members"], 6);
    // A meeting after the newcomer joins counts them.
    let m2 = meeting(&app, &r, 30).await;
    let v = meeting_view(&app, &r.shuji.token, m2).await;
    assert_eq!(v["quorum"]["members"], 7);
}

#[tokio::test]
async fn the_roster_lists_the_shuji_the_deputy_then_members_by_pinyin() {
    let app = TestApp::new().await;
    let r = room(&app, 6).await;
    let names = [
        (r.shuji.id, "赵书记"),
        (r.members[0].id, "周副书记"),
        (r.members[1].id, "张三"),
        (r.members[2].id, "李四"),
        (r.members[3].id, "王五"),
        (r.members[4].id, "赵七"),
        (r.members[5].id, "陈六"),
    ];
    for (id, name) in names {
        sqlx::query("update app_user set name = $2 where user_id = $1")
            .bind(id)
            .bind(name)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let m = meeting(&app, &r, 10).await;
    let view = meeting_view(&app, &r.shuji.token, m).await;
    let order: Vec<&str> = view["roster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["赵书记", "周副书记", "陈六", "李四", "王五", "张三", "赵七"]
    );
}

/// A full meeting of seven members through the API: schedule, agenda, notice, leave,
/// attendance, two items (a secret ballot that passes, a hands vote recorded by the secretary
/// that is rejected), closing; the audit chain verifies.
#[tokio::test]
async fn a_full_meeting_of_seven_members() {
    let app = TestApp::new().await;
    let r = room(&app, 6).await;
    let t1 = ready_topic(&app, &r, "关于调整门诊慢特病待遇的请示", json!({})).await;
    let t2 = ready_topic(&app, &r, "关于购置办公设备的请示", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let view = meeting_view(&app, &r.shuji.token, m).await;
    assert!(
        view["title"].as_str().unwrap().ends_with("年第1次党组会议"),
        "{view}"
    );
    assert_eq!(view["chair_id"], r.shuji.id.to_string());
    let i1 = add(&app, &r, m, t1).await;
    let i2 = add(&app, &r, m, t2).await;

    // Leave before the notice, decided by the chair.
    let sixth = &r.members[5];
    ok(
        &app,
        &sixth.token,
        format!("/api/v1/meetings/{m}/leave"),
        json!({"reason": "在省里参加培训"}),
    )
    .await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/leave/{}/decision", sixth.id),
        json!({"approved": true}),
    )
    .await;

    let noticed = ok(
        &app,
        &r.secretary.token,
        format!("/api/v1/meetings/{m}/notice"),
        json!({}),
    )
    .await;
    assert_eq!(noticed["status"], "noticed");
    // Everyone invited got the notice.
    let (_, notes) = app
        .api(
            "GET",
            "/api/v1/notifications",
            Some(&r.members[2].token),
            None,
        )
        .await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"].as_str().unwrap().starts_with("会议通知")),
        "{notes}"
    );
    let (_, me) = app
        .api("GET", "/api/v1/me", Some(&r.members[2].token), None)
        .await;
    assert!(me.is_object());

    seat_all_but(&app, &r, m, &[5]).await;
    let opened = ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/open"),
        json!({}),
    )
    .await;
    assert_eq!(opened["quorum"]["present"], 6);
    assert_eq!(opened["quorum"]["members"], 7);

    // Item 1: opinions with the chair last, then a secret ballot.
    let item = |i: Uuid, action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    ok(&app, &r.shuji.token, item(i1, "start"), json!({})).await;
    // Each member's home page says what waits for them.
    let home = |token: String| {
        let app = &app;
        async move { crate::support::body_text(app.page("GET", "/", Some(&token), None).await).await }
    };
    assert!(home(r.members[1].token.clone()).await.contains("待我表态:"));
    assert!(
        home(sixth.token.clone()).await.contains("会议进行中:"),
        "absent: nothing to state"
    );
    // R-CHAIR-LAST: the chair's turn comes after every other member present.
    assert!(!home(r.shuji.token.clone()).await.contains("待我表态:"));
    ok(
        &app,
        &sixth.token,
        item(i1, "written-opinions"),
        json!({"stance": "disagree", "reason": "应先试点"}),
    )
    .await;
    for p in &r.members[..5] {
        ok(
            &app,
            &p.token,
            item(i1, "opinions"),
            json!({"stance": "agree"}),
        )
        .await;
    }
    assert!(home(r.shuji.token.clone()).await.contains("待我表态:"));
    ok(
        &app,
        &r.shuji.token,
        item(i1, "opinions"),
        json!({"stance": "agree", "reason": "同意各位意见"}),
    )
    .await;
    ok(
        &app,
        &r.shuji.token,
        item(i1, "vote"),
        json!({"method": "secret"}),
    )
    .await;
    assert!(home(r.members[1].token.clone()).await.contains("待我投票:"));
    for (n, p) in r.members[..5].iter().enumerate() {
        let choice = if n < 3 { "yes" } else { "no" };
        ok(
            &app,
            &p.token,
            item(i1, "ballots"),
            json!({"choice": choice}),
        )
        .await;
    }
    ok(
        &app,
        &r.shuji.token,
        item(i1, "ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    // Before closing, nobody sees totals.
    let live = meeting_view(&app, &r.members[1].token, m).await;
    assert_eq!(live["agenda"][0]["yes"], Value::Null);
    assert_eq!(live["agenda"][0]["votes"].as_array().unwrap().len(), 6);
    assert!(
        live["agenda"][0]["votes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["choice"].is_null())
    );
    let tally = ok(&app, &r.shuji.token, item(i1, "vote/close"), json!({})).await;
    // 4 yes of 7 who should attend: 4 × 2 > 7 (R-PASS).
    assert_eq!(
        tally,
        json!({"yes": 4, "no": 2, "abstain": 0, "should_attend": 7, "passed": true})
    );
    let announced = ok(
        &app,
        &r.shuji.token,
        item(i1, "outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
    assert_eq!(announced["agenda"][0]["outcome"], "passed");
    assert_eq!(
        announced["agenda"][0]["written_opinions"][0]["stance"],
        "disagree"
    );

    // Item 2: a hands vote, three recorded by the secretary; 3 yes of 7 is rejected.
    ok(&app, &r.shuji.token, item(i2, "start"), json!({})).await;
    for p in &r.members[..5] {
        ok(
            &app,
            &p.token,
            item(i2, "opinions"),
            json!({"stance": "defer", "reason": "再论证"}),
        )
        .await;
    }
    ok(
        &app,
        &r.shuji.token,
        item(i2, "opinions"),
        json!({"stance": "agree"}),
    )
    .await;
    ok(
        &app,
        &r.shuji.token,
        item(i2, "vote"),
        json!({"method": "hands"}),
    )
    .await;
    for (n, p) in r.members[..5].iter().enumerate() {
        let choice = if n < 2 { "yes" } else { "abstain" };
        if n < 3 {
            ok(
                &app,
                &r.secretary.token,
                item(i2, "ballots"),
                json!({"choice": choice, "user_id": p.id}),
            )
            .await;
        } else {
            ok(
                &app,
                &p.token,
                item(i2, "ballots"),
                json!({"choice": choice}),
            )
            .await;
        }
    }
    ok(
        &app,
        &r.shuji.token,
        item(i2, "ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    let tally = ok(&app, &r.shuji.token, item(i2, "vote/close"), json!({})).await;
    assert_eq!(tally["passed"], false);
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i2, "outcome"),
            json!({"outcome": "passed"}),
        )
        .await,
        "R-ANNOUNCE",
    );
    ok(
        &app,
        &r.shuji.token,
        item(i2, "outcome"),
        json!({"outcome": "announce"}),
    )
    .await;

    let closed = ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/close"),
        json!({}),
    )
    .await;
    assert_eq!(closed["status"], "closed");
    let votes = closed["agenda"][1]["votes"].as_array().unwrap();
    assert!(
        votes.iter().all(|v| v["choice"].is_string()),
        "open votes show choices"
    );
    let (_, t) = app
        .api(
            "GET",
            &format!("/api/v1/topics/{t1}"),
            Some(&r.shuji.token),
            None,
        )
        .await;
    assert_eq!(t["status"], "decided");

    // The discipline group finds every action of the meeting and the chain holds.
    let (_, d) = app.user("jijian", &["discipline"]).await;
    let (_, entries) = app
        .api(
            "GET",
            &format!("/api/v1/audit?entity=meeting:{m}"),
            Some(&d),
            None,
        )
        .await;
    assert!(entries["total"].as_i64().unwrap() >= 40, "{entries}");
    let (_, verified) = app.api("GET", "/api/v1/audit/verify", Some(&d), None).await;
    assert_eq!(verified["ok"], true);
}

/// Section C refusals: R-SECRETARY, R-CHAIR, R-NOTICE, R-QUORUM, R-LEAVE, R-TOPIC-LEAD-TIME,
/// R-AD-HOC, each with its code and nothing written.
#[tokio::test]
async fn notice_attendance_and_quorum_refusals() {
    let app = TestApp::new().await;
    let r = room(&app, 6).await;
    // R-SECRETARY: the secretary must come from 综合科.
    let (status, body) = app
        .api("POST", "/api/v1/meetings", Some(&r.shuji.token),
             Some(json!({"party_group_id": r.group, "starts_at": days_ahead(10), "place": "会议室", "secretary_id": r.members[1].id})))
        .await;
    refused(&(status, body), "R-SECRETARY");
    assert_eq!(app.count("meeting").await, 0);
    // Bad input names the field.
    let (status, body) = app
        .api("POST", "/api/v1/meetings", Some(&r.shuji.token),
             Some(json!({"party_group_id": r.group, "starts_at": "下周三", "place": "", "secretary_id": r.secretary.id})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["starts_at", "place"]);

    let m = meeting(&app, &r, 10).await;
    // R-CHAIR: only to a member, only by the 书记.
    let outsider = app.user("waibu", &["leader"]).await.0;
    refused(
        &post(
            &app,
            &r.shuji.token,
            format!("/api/v1/meetings/{m}/chair"),
            json!({"user_id": outsider, "reason": "出差"}),
        )
        .await,
        "R-CHAIR",
    );
    // R-NOTICE: an empty agenda is not notified; no opening before the notice.
    refused(
        &post(
            &app,
            &r.secretary.token,
            format!("/api/v1/meetings/{m}/notice"),
            json!({}),
        )
        .await,
        "R-NOTICE",
    );
    refused(
        &post(
            &app,
            &r.shuji.token,
            format!("/api/v1/meetings/{m}/open"),
            json!({}),
        )
        .await,
        "R-NOTICE",
    );
    // R-TOPIC-LEAD-TIME: a meeting in three days needs the 书记's reason.
    let soon = meeting(&app, &r, 3).await;
    let t = ready_topic(&app, &r, "关于调整内设机构职责的请示", json!({})).await;
    let before = audit_entries(&app).await;
    refused(
        &post(
            &app,
            &r.shuji.token,
            format!("/api/v1/meetings/{soon}/agenda"),
            json!({"topic_id": t}),
        )
        .await,
        "R-TOPIC-LEAD-TIME",
    );
    assert_eq!(app.count("agenda_item").await, 0);
    assert_eq!(
        audit_entries(&app).await,
        before + 1,
        "only the refusal is recorded"
    );
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{soon}/agenda"),
        json!({"topic_id": t, "override_reason": "上级要求本周报送"}),
    )
    .await;

    let t1 = ready_topic(&app, &r, "关于医保基金监管的意见", json!({})).await;
    add(&app, &r, m, t1).await;
    ok(
        &app,
        &r.secretary.token,
        format!("/api/v1/meetings/{m}/notice"),
        json!({}),
    )
    .await;
    // R-AD-HOC: after the notice only urgent items with a reason, never personnel.
    let t2 = ready_topic(&app, &r, "关于门诊统筹的请示", json!({})).await;
    refused(
        &post(
            &app,
            &r.shuji.token,
            format!("/api/v1/meetings/{m}/agenda"),
            json!({"topic_id": t2}),
        )
        .await,
        "R-AD-HOC",
    );
    let person = ready_topic(
        &app,
        &r,
        "关于张三同志任职的建议",
        json!({"category": 23, "cadre_name": "张三"}),
    )
    .await;
    refused(
        &post(
            &app,
            &r.shuji.token,
            format!("/api/v1/meetings/{m}/agenda"),
            json!({"topic_id": person, "urgent": true, "override_reason": "急需"}),
        )
        .await,
        "R-AD-HOC",
    );
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/agenda"),
        json!({"topic_id": t2, "urgent": true, "override_reason": "省局限期答复"}),
    )
    .await;

    // R-QUORUM: 4 of 7 do not open (4 × 3 < 7 × 2); 5 of 7 do.
    seat_all_but(&app, &r, m, &[3, 4, 5]).await;
    let before = audit_entries(&app).await;
    let answer = post(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/open"),
        json!({}),
    )
    .await;
    refused(&answer, "R-QUORUM");
    assert!(
        answer.1["detail"].as_str().unwrap().contains("出席 4 人"),
        "{}",
        answer.1
    );
    let view = meeting_view(&app, &r.shuji.token, m).await;
    assert_eq!(view["status"], "noticed");
    assert_eq!(audit_entries(&app).await, before + 1);
    present(&app, &r, m, r.members[3].id, true).await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/open"),
        json!({}),
    )
    .await;
    // R-LEAVE: not once the meeting is open.
    refused(
        &post(
            &app,
            &r.members[4].token,
            format!("/api/v1/meetings/{m}/leave"),
            json!({"reason": "临时有事"}),
        )
        .await,
        "R-LEAVE",
    );
    // Only the meeting secretary records attendance.
    let (status, _) = app
        .api(
            "PUT",
            &format!("/api/v1/meetings/{m}/attendance/{}", r.members[4].id),
            Some(&r.members[4].token),
            Some(json!({"present": true})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Section D refusals: R-ONE-AT-A-TIME, R-ABSENT-RESPONSIBLE, R-OPINION, R-CHAIR-LAST,
/// R-RECUSAL, R-ATTENDEE-SCOPE, R-ATTENDEE-VOICE, R-WRITTEN-OPINION, R-VOTE-OPEN, R-ITEM-QUORUM,
/// R-ONE-VOTE, R-SECRET-BALLOT, R-DISAGREEMENT, R-ANNOUNCE.
#[tokio::test]
async fn deliberation_refusals() {
    let app = TestApp::new().await;
    let r = room(&app, 6).await;
    let t1 = ready_topic(&app, &r, "议题一", json!({})).await;
    let t2 = ready_topic(&app, &r, "议题二", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i1 = add(&app, &r, m, t1).await;
    let i2 = add(&app, &r, m, t2).await;
    let (guest, guest_token) = app.user("liexi", &["section_head"]).await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/attendees"),
        json!({"item_id": i2, "user_id": guest}),
    )
    .await;
    // R-ATTENDEE-SCOPE, R-CONFIDENTIAL: the guest reads the topic of their item, not the other.
    let topic = |t: Uuid| format!("/api/v1/topics/{t}");
    assert_eq!(
        app.api("GET", &topic(t2), Some(&guest_token), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.api("GET", &topic(t1), Some(&guest_token), None).await.0,
        StatusCode::NOT_FOUND
    );
    // Member 0, responsible for both topics, is absent at first.
    convene(&app, &r, m, &[0]).await;
    let item = |i: Uuid, action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");

    // R-ABSENT-RESPONSIBLE: the 分管 member is absent; the chair must say why.
    refused(
        &post(&app, &r.shuji.token, item(i1, "start"), json!({})).await,
        "R-ABSENT-RESPONSIBLE",
    );
    present(&app, &r, m, r.members[0].id, true).await;
    ok(&app, &r.shuji.token, item(i1, "start"), json!({})).await;
    // R-ONE-AT-A-TIME
    refused(
        &post(&app, &r.shuji.token, item(i2, "start"), json!({})).await,
        "R-ONE-AT-A-TIME",
    );
    // R-ATTENDEE-SCOPE: the guest is invited to item 2 only.
    refused(
        &post(
            &app,
            &guest_token,
            item(i1, "remarks"),
            json!({"text": "补充说明"}),
        )
        .await,
        "R-ATTENDEE-SCOPE",
    );
    // R-RECUSAL: member 1 recuses (spouse concerned) and may not speak.
    ok(
        &app,
        &r.members[1].token,
        item(i1, "recusals"),
        json!({"relation": "spouse", "note": "配偶在申报单位"}),
    )
    .await;
    refused(
        &post(
            &app,
            &r.members[1].token,
            item(i1, "opinions"),
            json!({"stance": "agree"}),
        )
        .await,
        "R-RECUSAL",
    );
    // The recused member's screen withholds the item.
    let hidden = meeting_view(&app, &r.members[1].token, m).await;
    assert_eq!(hidden["agenda"][0]["withheld"], true);
    assert_eq!(hidden["agenda"][0]["opinions"], json!([]));
    assert_ne!(hidden["agenda"][0]["title"], "议题一");
    // R-CHAIR-LAST
    let before = app.count("opinion").await;
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i1, "opinions"),
            json!({"stance": "agree"}),
        )
        .await,
        "R-CHAIR-LAST",
    );
    assert_eq!(app.count("opinion").await, before);
    // R-OPINION: a reason for 不同意; and no vote before everyone spoke.
    refused(
        &post(
            &app,
            &r.members[2].token,
            item(i1, "opinions"),
            json!({"stance": "disagree", "reason": " "}),
        )
        .await,
        "R-OPINION",
    );
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i1, "vote"),
            json!({"method": "named"}),
        )
        .await,
        "R-OPINION",
    );
    // R-WRITTEN-OPINION: present members speak in the room.
    refused(
        &post(
            &app,
            &r.members[2].token,
            item(i1, "written-opinions"),
            json!({"stance": "agree"}),
        )
        .await,
        "R-WRITTEN-OPINION",
    );
    for p in [0, 2, 3, 4, 5] {
        ok(
            &app,
            &r.members[p].token,
            item(i1, "opinions"),
            json!({"stance": "agree"}),
        )
        .await;
    }
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i1, "vote"),
            json!({"method": "named"}),
        )
        .await,
        "R-CHAIR-LAST",
    );
    ok(
        &app,
        &r.shuji.token,
        item(i1, "opinions"),
        json!({"stance": "agree"}),
    )
    .await;
    // R-ANNOUNCE: nothing to announce before the tally.
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i1, "outcome"),
            json!({"outcome": "announce"}),
        )
        .await,
        "R-ANNOUNCE",
    );
    // R-ITEM-QUORUM: with three of the six non-recused members gone, no vote.
    for p in [3, 4, 5] {
        present(&app, &r, m, r.members[p].id, false).await;
    }
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i1, "vote"),
            json!({"method": "secret"}),
        )
        .await,
        "R-ITEM-QUORUM",
    );
    for p in [3, 4, 5] {
        present(&app, &r, m, r.members[p].id, true).await;
    }
    ok(
        &app,
        &r.shuji.token,
        item(i1, "vote"),
        json!({"method": "secret"}),
    )
    .await;
    // R-VOTE-OPEN: not twice.
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i1, "vote"),
            json!({"method": "secret"}),
        )
        .await,
        "R-VOTE-OPEN",
    );
    // R-SECRET-BALLOT: the secretary records no secret ballot.
    refused(
        &post(
            &app,
            &r.secretary.token,
            item(i1, "ballots"),
            json!({"choice": "yes", "user_id": r.members[2].id}),
        )
        .await,
        "R-SECRET-BALLOT",
    );
    // R-RECUSAL, R-ONE-VOTE
    refused(
        &post(
            &app,
            &r.members[1].token,
            item(i1, "ballots"),
            json!({"choice": "yes"}),
        )
        .await,
        "R-RECUSAL",
    );
    ok(
        &app,
        &r.members[2].token,
        item(i1, "ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    let before = (app.count("vote_cast").await, audit_entries(&app).await);
    refused(
        &post(
            &app,
            &r.members[2].token,
            item(i1, "ballots"),
            json!({"choice": "no"}),
        )
        .await,
        "R-ONE-VOTE",
    );
    assert_eq!(app.count("vote_cast").await, before.0);
    assert_eq!(audit_entries(&app).await, before.1 + 1);
    let (status, body) = post(
        &app,
        &r.members[3].token,
        item(i1, "ballots"),
        json!({"choice": "maybe"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "choice");
    // R-PASS: should attend = 7 − 1 recused = 6; one yes does not pass.
    let tally = ok(&app, &r.shuji.token, item(i1, "vote/close"), json!({})).await;
    assert_eq!(tally["should_attend"], 6);
    assert_eq!(tally["passed"], false);
    // Item 2: R-ATTENDEE-VOICE (no remarks once the vote is open), R-DISAGREEMENT.
    ok(
        &app,
        &r.shuji.token,
        item(i1, "outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
    ok(&app, &r.shuji.token, item(i2, "start"), json!({})).await;
    ok(
        &app,
        &guest_token,
        item(i2, "remarks"),
        json!({"text": "<script>alert(1)</script>建议分步实施"}),
    )
    .await;
    let (status, _) = post(
        &app,
        &guest_token,
        item(i2, "ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "attendees do not vote");
    refused(
        &post(
            &app,
            &r.shuji.token,
            item(i2, "outcome"),
            json!({"outcome": "deferred"}),
        )
        .await,
        "R-DISAGREEMENT",
    );
    ok(
        &app,
        &r.shuji.token,
        item(i2, "outcome"),
        json!({"outcome": "deferred", "reason": "分歧较大,会后再论证"}),
    )
    .await;
    refused(
        &post(
            &app,
            &guest_token,
            item(i2, "remarks"),
            json!({"text": "再补充"}),
        )
        .await,
        "R-ATTENDEE-VOICE",
    );
    // A deferred topic goes back to the 书记's queue.
    let (_, t) = app
        .api(
            "GET",
            &format!("/api/v1/topics/{t2}"),
            Some(&r.shuji.token),
            None,
        )
        .await;
    assert_eq!(t["status"], "submitted");
    // The remark is shown as text on the page.
    let page = app
        .page("GET", &format!("/meetings/{m}"), Some(&r.shuji.token), None)
        .await;
    let html = crate::support::body_text(page).await;
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;建议分步实施")
            && !html.contains("<script>alert"),
        "escaped"
    );
}

/// Races: 16 simultaneous ballots by one member — exactly one accepted; a ballot racing the
/// vote's close is either counted or refused, never lost; two items started together.
#[tokio::test]
async fn simultaneous_requests_cannot_both_pass_a_rule() {
    let app = TestApp::new().await;
    let r = room(&app, 6).await;
    let t1 = ready_topic(&app, &r, "议题一", json!({})).await;
    let t2 = ready_topic(&app, &r, "议题二", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i1 = add(&app, &r, m, t1).await;
    let i2 = add(&app, &r, m, t2).await;
    convene(&app, &r, m, &[]).await;
    let item = |i: Uuid, action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");

    let starts = futures_join(vec![
        post(&app, &r.shuji.token, item(i1, "start"), json!({})),
        post(&app, &r.shuji.token, item(i2, "start"), json!({})),
    ])
    .await;
    assert_eq!(
        starts.iter().filter(|(s, _)| s.is_success()).count(),
        1,
        "{starts:?}"
    );
    let view = meeting_view(&app, &r.shuji.token, m).await;
    let current = Uuid::parse_str(view["current_item"].as_str().unwrap()).unwrap();
    agree_and_open_vote(&app, &r, m, current, "secret").await;

    let ballots = futures_join(
        (0..16)
            .map(|n| {
                let choice = ["yes", "no", "abstain"][n % 3];
                post(
                    &app,
                    &r.members[1].token,
                    item(current, "ballots"),
                    json!({"choice": choice}),
                )
            })
            .collect(),
    )
    .await;
    let accepted = ballots.iter().filter(|(s, _)| s.is_success()).count();
    assert_eq!(accepted, 1, "{ballots:?}");
    assert!(
        ballots
            .iter()
            .filter(|(s, _)| !s.is_success())
            .all(|(s, b)| *s == StatusCode::CONFLICT && b["rule"] == "R-ONE-VOTE")
    );
    let counted: i64 = sqlx::query_scalar("select count(*) from secret_ballot")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(counted, 1);

    // A ballot racing the close: counted in the tally or refused, never half-done.
    let raced = futures_join(vec![
        post(
            &app,
            &r.members[2].token,
            item(current, "ballots"),
            json!({"choice": "yes"}),
        ),
        post(&app, &r.shuji.token, item(current, "vote/close"), json!({})),
    ])
    .await;
    assert!(raced[1].0.is_success(), "{raced:?}");
    let tally = &raced[1].1;
    let total = tally["yes"].as_i64().unwrap()
        + tally["no"].as_i64().unwrap()
        + tally["abstain"].as_i64().unwrap();
    let ballot_counted = raced[0].0.is_success();
    assert_eq!(total, if ballot_counted { 2 } else { 1 }, "{raced:?}");
    if !ballot_counted {
        refused(&raced[0], "R-ONE-VOTE");
    }
}

async fn futures_join<F: std::future::Future<Output = (StatusCode, Value)>>(
    all: Vec<F>,
) -> Vec<(StatusCode, Value)> {
    futures_util::future::join_all(all).await
}

/// R-SECRET-BALLOT: the database itself holds no link from a ballot to a voter's choice — the
/// voter's row has no choice, time or recorder; the ballot box names nobody; the audit entry
/// says who voted, never how.
#[tokio::test]
async fn secret_ballots_cannot_be_linked_to_voters_in_the_database() {
    let app = TestApp::new().await;
    let r = room(&app, 4).await;
    let t = ready_topic(&app, &r, "关于评选先进集体的议题", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i = add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    ok(&app, &r.shuji.token, item("start"), json!({})).await;
    agree_and_open_vote(&app, &r, m, i, "secret").await;
    let choices = ["yes", "no", "yes", "abstain"];
    for (p, c) in r.members.iter().zip(choices) {
        ok(&app, &p.token, item("ballots"), json!({"choice": c})).await;
    }

    let rows: Vec<VoteRow> =
        sqlx::query_as("select user_id, secret, choice, recorded_by, cast_at from vote_cast")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|(_, secret, choice, by, at)| *secret
        && choice.is_none()
        && by.is_none()
        && at.is_none()));
    let columns: Vec<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.columns where table_name = 'secret_ballot' order by ordinal_position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        columns,
        ["item_id", "tracker", "ballot"],
        "the ballot box has nothing naming a voter"
    );
    let tally = ok(&app, &r.shuji.token, item("vote/close"), json!({})).await;
    assert_eq!(
        (&tally["yes"], &tally["no"], &tally["abstain"]),
        (&json!(2), &json!(1), &json!(1))
    );
    let ballots: Vec<Value> =
        sqlx::query_scalar("select after from audit_entry where action = 'item.ballot'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(ballots.len(), 4);
    for b in &ballots {
        assert_eq!(b, &json!({"item_id": i, "method": "secret"}));
    }
    // No column anywhere holds a choice for this item's voters.
    let view = meeting_view(&app, &r.shuji.token, m).await;
    assert!(!view.to_string().contains("\"choice\":\"yes\""));
}

/// A `vote_cast` row as stored: voter, secret, choice, recorder, time.
type VoteRow = (
    Uuid,
    bool,
    Option<String>,
    Option<Uuid>,
    Option<time::OffsetDateTime>,
);

/// The events stream: a second participant sees a ballot's effect, on this server instance and
/// on another one started mid-meeting on the same database.
#[tokio::test]
async fn a_second_screen_sees_a_ballot_through_the_event_stream() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t = ready_topic(&app, &r, "议题", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i = add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    ok(&app, &r.shuji.token, item("start"), json!({})).await;
    agree_and_open_vote(&app, &r, m, i, "named").await;

    // A stranger sees no stream.
    let (_, stranger) = app.user("moshengren", &["staff"]).await;
    let (status, _) = app
        .api(
            "GET",
            &format!("/api/v1/meetings/{m}/events"),
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut here = stream(&app.router, &r.members[2].token, m).await;
    // A second server instance on the same database, started in the middle of the meeting:
    // its screens start from the database and follow the first instance's changes.
    let other = app.other_instance().await;
    let mut there = stream(&other, &r.members[1].token, m).await;
    let synced = next_event(&mut there).await;
    assert_eq!(synced["kind"], "sync");
    assert_eq!(synced["item"]["state"], "voting");
    let mut next = async || next_event(&mut here).await;
    let first = next().await;
    assert_eq!(first["kind"], "sync");
    assert_eq!(first["item"]["voted"], json!([]));
    ok(
        &app,
        &r.members[0].token,
        item("ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    let change = next().await;
    assert_eq!(change["kind"], "item.ballot");
    assert_eq!(change["item"]["voted"], json!([r.members[0].id]));
    assert_eq!(
        next_event(&mut there).await,
        change,
        "both instances send the same snapshot"
    );
    assert_eq!(
        change["item"]["yes"],
        Value::Null,
        "totals only after closing"
    );
}

/// R-PROCUREMENT-ONCE: once a meeting passed a procurement, a topic under the same project
/// reference is refused at submission.
#[tokio::test]
async fn an_approved_procurement_is_not_proposed_again() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t = ready_topic(&app, &r, "关于采购业务用房的请示", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i = add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    ok(&app, &r.shuji.token, item("start"), json!({})).await;
    agree_and_open_vote(&app, &r, m, i, "named").await;
    for p in r.members.iter().chain([&r.shuji]) {
        ok(&app, &p.token, item("ballots"), json!({"choice": "yes"})).await;
    }
    ok(&app, &r.shuji.token, item("vote/close"), json!({})).await;
    ok(
        &app,
        &r.shuji.token,
        item("outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
    // The passed topic was the procurement CG-2026-07 (its opinions are beside the point here).
    sqlx::query("update topic set is_procurement = true, procurement_ref = 'CG-2026-07' where topic_id = $1")
        .bind(t)
        .execute(&app.pool)
        .await
        .unwrap();

    let mut again = json!({"party_group_id": r.group, "title": "关于采购业务用房的请示(再报)", "category": 12,
        "content": "内容", "matters_to_decide": "是否同意", "consultation_opinions": "已征求意见",
        "responsible_user_id": r.members[0].id, "is_procurement": true, "procurement_ref": " cg-2026-07 "});
    let (status, created) = app
        .api("POST", "/api/v1/topics", Some(&r.clerk), Some(again.take()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["topic_id"].as_str().unwrap().to_owned();
    // Its own prerequisites are on file (R-PREREQ-PROCUREMENT is tested with topics).
    for kind in created["missing"].as_array().unwrap() {
        sqlx::query("insert into topic_prerequisite (topic_id, kind, conclusion, recorded_by) values ($1::uuid, $2, '同意', $3)")
            .bind(&id)
            .bind(kind.as_str().unwrap())
            .bind(r.shuji.id)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    ok(
        &app,
        &r.members[0].token,
        format!("/api/v1/topics/{id}/sign-off"),
        json!({}),
    )
    .await;
    let answer = post(
        &app,
        &r.clerk,
        format!("/api/v1/topics/{id}/submit"),
        json!({}),
    )
    .await;
    refused(&answer, "R-PROCUREMENT-ONCE");
    let (_, topic) = app
        .api("GET", &format!("/api/v1/topics/{id}"), Some(&r.clerk), None)
        .await;
    assert_eq!(topic["status"], "draft");
}

/// Opens a meeting's event stream on `router` as the holder of `token`.
async fn stream(router: &axum::Router, token: &str, m: Uuid) -> Body {
    use tower::ServiceExt;
    let req = Request::builder()
        .uri(format!("/api/v1/meetings/{m}/events"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    res.into_body()
}

/// The next event's JSON, within 10 s.
async fn next_event(body: &mut Body) -> Value {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            let text = String::from_utf8(data.to_vec()).unwrap();
            if let Some(json) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
                return serde_json::from_str(json).unwrap();
            }
        }
    }
}

/// The 书记 orders the agenda until the notice fixes it (R-NOTICE); materials that reach
/// 综合科 less than a day before the meeting need the chair's recorded reason
/// (R-MATERIALS-DEADLINE), and each recipient's copy is logged.
#[tokio::test]
async fn agenda_order_and_late_materials() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t1 = ready_topic(&app, &r, "议题一", json!({})).await;
    let t2 = ready_topic(&app, &r, "议题二", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    add(&app, &r, m, t1).await;
    let i2 = add(&app, &r, m, t2).await;
    let moved = ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/agenda/{i2}/move"),
        json!({"direction": "up"}),
    )
    .await;
    assert_eq!(moved["agenda"][0]["title"], "议题二");
    assert_eq!(moved["agenda"][1]["title"], "议题一");
    let (status, _) = post(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/agenda/{i2}/move"),
        json!({"direction": "up"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "already first");
    let (status, body) = post(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/agenda/{i2}/move"),
        json!({"direction": "sideways"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "direction");
    let (status, _) = post(
        &app,
        &r.members[1].token,
        format!("/api/v1/meetings/{m}/agenda/{i2}/move"),
        json!({"direction": "down"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the 书记 orders the agenda"
    );

    // A topic whose material reaches 综合科 on the day of a meeting held today.
    let (_, created) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&r.clerk),
            Some(json!({"party_group_id": r.group, "title": "关于应急采购防疫物资的请示",
                        "category": 12, "content": "内容", "matters_to_decide": "是否同意",
                        "consultation_opinions": "已征求意见", "responsible_user_id": r.members[0].id})),
        )
        .await;
    let t3 = created["topic_id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .upload(
            &format!("/api/v1/topics/{t3}/materials"),
            &r.clerk,
            "请示.pdf",
            b"%PDF-1.4 late",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    ok(
        &app,
        &r.members[0].token,
        format!("/api/v1/topics/{t3}/sign-off"),
        json!({}),
    )
    .await;
    ok(
        &app,
        &r.clerk,
        format!("/api/v1/topics/{t3}/submit"),
        json!({}),
    )
    .await;
    let today = meeting(&app, &r, 0).await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{today}/agenda"),
        json!({"topic_id": t3, "override_reason": "疫情防控急需"}),
    )
    .await;
    let notice = format!("/api/v1/meetings/{today}/notice");
    refused(
        &post(
            &app,
            &r.secretary.token,
            notice.clone(),
            json!({"override_reason": "来不及"}),
        )
        .await,
        "R-MATERIALS-DEADLINE",
    );
    refused(
        &post(&app, &r.shuji.token, notice.clone(), json!({})).await,
        "R-MATERIALS-DEADLINE",
    );
    assert_eq!(app.count("material_distribution").await, 0);
    let noticed = ok(
        &app,
        &r.shuji.token,
        notice,
        json!({"override_reason": "材料当日形成,会上说明"}),
    )
    .await;
    assert_eq!(noticed["materials_late_reason"], "材料当日形成,会上说明");
    // Four members and the meeting secretary each received the one material.
    assert_eq!(app.count("material_distribution").await, 5);
    // R-NOTICE: the notified agenda keeps its order.
    let i3 = noticed["agenda"][0]["item_id"].as_str().unwrap().to_owned();
    refused(
        &post(
            &app,
            &r.shuji.token,
            format!("/api/v1/meetings/{today}/agenda/{i3}/move"),
            json!({"direction": "down"}),
        )
        .await,
        "R-NOTICE",
    );
}

/// Closing: not while an item is open (R-ONE-AT-A-TIME); items never reached go back to the
/// 书记's queue with the deferred ones.
#[tokio::test]
async fn closing_returns_unreached_topics_to_the_queue() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t1 = ready_topic(&app, &r, "议题一", json!({})).await;
    let t2 = ready_topic(&app, &r, "议题二", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i1 = add(&app, &r, m, t1).await;
    add(&app, &r, m, t2).await;
    convene(&app, &r, m, &[]).await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/items/{i1}/start"),
        json!({}),
    )
    .await;
    let close = format!("/api/v1/meetings/{m}/close");
    refused(
        &post(&app, &r.shuji.token, close.clone(), json!({})).await,
        "R-ONE-AT-A-TIME",
    );
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/items/{i1}/outcome"),
        json!({"outcome": "deferred", "reason": "待补充论证"}),
    )
    .await;
    let (status, _) = post(&app, &r.members[0].token, close.clone(), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the chair closes");
    let closed = ok(&app, &r.shuji.token, close, json!({})).await;
    assert_eq!(closed["status"], "closed");
    for t in [t1, t2] {
        let (_, topic) = app
            .api(
                "GET",
                &format!("/api/v1/topics/{t}"),
                Some(&r.shuji.token),
                None,
            )
            .await;
        assert_eq!(topic["status"], "submitted", "{t}");
    }
}

/// Each instance shows a meeting from its read model: a change made on another instance is
/// shown within a second (its notification), and a change whose notification was lost is shown
/// once the instance listens again after losing its listener connection (as when the database
/// restarts).
#[tokio::test]
async fn another_instance_shows_every_change_even_across_a_lost_listener() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t = ready_topic(&app, &r, "议题", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i = add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    ok(&app, &r.shuji.token, item("start"), json!({})).await;

    let other = app.other_instance().await;
    let viewer = &r.members[2].token;
    // The meeting's JSON as the other instance shows it to a member.
    let view = async || {
        let (status, v) = app
            .api_via(
                &other,
                "GET",
                &format!("/api/v1/meetings/{m}"),
                Some(viewer),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    };
    let spoken = async || {
        let v = view().await;
        v["agenda"][0]["opinions"].as_array().unwrap().len()
    };
    assert_eq!(
        spoken().await,
        0,
        "held in the other instance's read model now"
    );
    let opinion = |n: usize| {
        ok(
            &app,
            &r.members[n].token,
            item("opinions"),
            json!({"stance": "agree"}),
        )
    };
    opinion(0).await;
    eventually(
        1000,
        50,
        "the other instance still shows the meeting before the opinion",
        async || spoken().await == 1,
    )
    .await;
    // The rest of what the item goes through reaches it too: the vote's opening (the whole
    // meeting read again), then a ballot (its list read again alone, with the change log).
    for n in 1..r.members.len() {
        opinion(n).await;
    }
    let chair = |action: &'static str, body: Value| ok(&app, &r.shuji.token, item(action), body);
    chair("opinions", json!({"stance": "agree"})).await;
    chair("vote", json!({"method": "secret"})).await;
    let shown = async || {
        let v = view().await;
        let agenda = &v["agenda"][0];
        let page = app
            .page_via(&other, &format!("/meetings/{m}"), viewer)
            .await;
        (
            agenda["state"].as_str().unwrap_or_default().to_owned(),
            agenda["votes"].as_array().map_or(0, Vec::len),
            // The meeting's change log on its page: the ballot's entry.
            page.contains("投票</li>"),
        )
    };
    eventually(
        1000,
        50,
        "the other instance does not show the vote open",
        async || shown().await == ("voting".to_owned(), 0, false),
    )
    .await;
    ok(
        &app,
        &r.members[0].token,
        item("ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    eventually(
        1000,
        50,
        "the other instance does not show the ballot",
        async || shown().await == ("voting".to_owned(), 1, true),
    )
    .await;

    // A change whose notification is lost (made here with the triggers off, as if the
    // listener had been down when it was sent) is not seen through the read model …
    let place = async || {
        let v = view().await;
        v["place"].as_str().unwrap().to_owned()
    };
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("update meeting set place = '五楼会议室' where meeting_id = $1")
        .bind(m)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(place().await, "三楼会议室", "shown from the read model");
    // … until the listener connection drops (as a restarted database drops it): once the
    // instance listens again it reads every meeting anew.
    let runtime = sqlx::PgPool::connect(&app.runtime_url).await.unwrap();
    let ended: i64 = sqlx::query_scalar(
        "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity
         where datname = current_database() and query like 'LISTEN%'",
    )
    .fetch_one(&runtime)
    .await
    .unwrap();
    assert_eq!(ended, 2, "both instances' listeners");
    eventually(
        5000,
        50,
        "the instance still shows what it read before",
        async || place().await == "五楼会议室",
    )
    .await;
}

/// What a meeting page's script swaps in after each change: the page's live part alone, the
/// same as the page shows it, for the meeting page and the room display.
#[tokio::test]
async fn the_live_part_of_a_meeting_page_is_served_alone() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t = ready_topic(&app, &r, "议题", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    for page in [format!("/meetings/{m}"), format!("/meetings/{m}/display")] {
        let html = async |path: &str| {
            let res = app.page("GET", path, Some(&r.members[0].token), None).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            crate::support::body_text(res).await
        };
        let whole = html(&page).await;
        let part = html(&format!("{page}/live")).await;
        assert!(part.trim_start().starts_with("<div"), "{part}");
        assert!(part.contains(&format!("data-live=\"{m}\"")));
        assert!(
            !part.contains("<html") && !part.contains("<nav"),
            "no layout: {part}"
        );
        assert!(whole.contains(part.trim()), "the page's own live part");
    }
}

/// Issue 17 (10): without JavaScript a vote is not cast on one tap: the form's first post
/// answers with a page that asks, shows the choice, and posts it again with the answer.
#[tokio::test]
async fn an_irreversible_step_is_confirmed_on_a_page_without_javascript() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let (m, i) = crate::fixtures::item_under_discussion(&app, &r, "议题").await;
    crate::fixtures::agree_and_open_vote(&app, &r, m, i, "secret").await;
    let ballots = async || -> i64 {
        sqlx::query_scalar("select count(*) from vote_cast where item_id = $1")
            .bind(i)
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let path = format!("/meetings/{m}/items/{i}/ballots");
    let question = "confirm=%E6%8A%95%E7%A5%A8%E5%90%8E%E4%B8%8D%E8%83%BD%E6%9B%B4%E6%94%B9";
    let res = app
        .page(
            "POST",
            &path,
            Some(&r.members[0].token),
            Some(&format!("{question}&choice=no")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = crate::support::body_text(res).await;
    assert!(
        html.contains("请确认") && html.contains("投票后不能更改"),
        "{html}"
    );
    assert!(
        html.contains("<strong>反对</strong>"),
        "the choice in words: {html}"
    );
    assert!(html.contains("name=\"confirmed\" value=\"yes\""), "{html}");
    assert_eq!(ballots().await, 0, "nothing is cast before the answer");
    let res = app
        .page(
            "POST",
            &path,
            Some(&r.members[0].token),
            Some(&format!("{question}&choice=no&confirmed=yes")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(ballots().await, 1);
}

/// Issue 17 (7): a refusal is recorded against the meeting (or topic) it concerns, in its
/// group's chain, so the meeting's history shows it.
#[tokio::test]
async fn a_refusal_is_in_the_history_of_the_meeting_it_concerns() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t = ready_topic(&app, &r, "议题", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i = add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    ok(&app, &r.shuji.token, item("start"), json!({})).await;
    // R-CHAIR-LAST: the chair may not speak first.
    let answer = crate::fixtures::post(
        &app,
        &r.shuji.token,
        item("opinions"),
        json!({"stance": "agree"}),
    )
    .await;
    crate::fixtures::refused(&answer, "R-CHAIR-LAST");
    let row: (String, String, Value) = sqlx::query_as(
        "select chain, entity_type, after from audit_entry where action = 'rule.refused'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row.0, format!("pg:{}", r.group), "the group's chain");
    assert_eq!(row.1, "meeting");
    assert_eq!(row.2["rule"], "R-CHAIR-LAST");
    let page = crate::support::body_text(
        app.page("GET", &format!("/meetings/{m}"), Some(&r.shuji.token), None)
            .await,
    )
    .await;
    assert!(page.contains("操作未获准许"), "{page}");
    let (_, jijian) = app.user("jijian", &["discipline"]).await;
    let (_, found) = app
        .api(
            "GET",
            &format!("/api/v1/audit?entity=meeting:{m}&action=rule."),
            Some(&jijian),
            None,
        )
        .await;
    assert_eq!(found["total"], 1, "{found}");
}

/// Issue 17 (6): the audit page reads as Chinese: action names, entity names as links, the
/// recorded fields with their labels and people's names instead of ids; a meeting's whole
/// timeline is picked from a list, and a bare id finds its entity.
#[tokio::test]
async fn the_audit_page_reads_as_chinese_and_finds_a_meeting_by_its_id() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let t = ready_topic(&app, &r, "关于调整门诊慢特病待遇的请示", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    let (_, jijian) = app.user("jijian", &["discipline"]).await;
    let page = async |query: &str| {
        let res = app
            .page("GET", &format!("/audit{query}"), Some(&jijian), None)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        crate::support::body_text(res).await
    };
    let html = page(&format!("?entity={m}&per_page=200")).await;
    // A bare id: every entry of the meeting, and nothing else.
    assert!(
        html.contains("宣布开会") && html.contains("登记到会"),
        "{html}"
    );
    assert!(!html.contains("title=\"membership.add\""), "{html}");
    assert!(
        !html.contains(">meeting.open<"),
        "no action codes shown: {html}"
    );
    assert!(
        html.contains(&format!("<a href=\"/meetings/{m}\">")),
        "the meeting as a link: {html}"
    );
    // 登记到会 records whom: the person's name, not their id.
    let member = r.members[0].id.to_string();
    assert!(html.contains("用户chengyuan0"), "{html}");
    assert!(
        !html.contains(&format!(" {member}<")),
        "no bare ids: {html}"
    );
    // The meeting is offered as a timeline to pick.
    let all = page("").await;
    assert!(
        all.contains(&format!("value=\"meeting:{m}\"")) && all.contains("会议:"),
        "{all}"
    );
}
