//! The record after the meeting (sections E, F and G of rules.md): minutes generated from a
//! meeting played through the API, sealing and amendments, borrowing with expiry, the summary
//! blocked without a lead, distribution with classified items withheld, follow-up, reserved
//! opinions, changed decisions, emergencies, the duty calendar, circulation review, and the
//! exported .docx, .ics and CSV. Every refusal with its code and nothing written.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::fixtures::{
    Room, add, agree_and_open_vote, convene, meeting, ok, post, ready_topic, refused, room,
    seat_all_but,
};
use crate::support::{Binary, TestApp, body_text, docx_part, docx_text, eventually, run_with_in};

/// A closed meeting of seven members with everything the minutes must hold.
struct Played {
    r: Room,
    m: Uuid,
    /// Passed by secret ballot; one recusal, one dissent, a written opinion, a remark.
    i1: Uuid,
    /// A secret (秘密) topic passed by named vote.
    i2: Uuid,
    /// Deferred with a reason before any opinion.
    i3: Uuid,
    attendee: String,
}

const T1: &str = "关于调整门诊慢特病待遇的请示";
const T2: &str = "关于定点医药机构协议管理的请示";
const T3: &str = "关于购置办公设备的请示";

fn path(m: Uuid, i: Uuid, action: &str) -> String {
    format!("/api/v1/meetings/{m}/items/{i}/{action}")
}

/// Plays the meeting: members[5] on leave with a written opinion; members[4] recuses from
/// item 1 (spouse); members[3] disagrees with a reason and votes no; an attendee remarks.
async fn play(app: &TestApp) -> Played {
    let r = room(app, 6).await;
    let t1 = ready_topic(app, &r, T1, json!({})).await;
    let t2 = ready_topic(app, &r, T2, json!({"classification": "secret"})).await;
    let t3 = ready_topic(app, &r, T3, json!({})).await;
    let m = meeting(app, &r, 10).await;
    let i1 = add(app, &r, m, t1).await;
    let i2 = add(app, &r, m, t2).await;
    let i3 = add(app, &r, m, t3).await;
    let (attendee_id, attendee) = app.user("liexi", &["section_head"]).await;
    ok(
        app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/attendees"),
        json!({"item_id": i1, "user_id": attendee_id}),
    )
    .await;
    let sixth = &r.members[5];
    ok(
        app,
        &sixth.token,
        format!("/api/v1/meetings/{m}/leave"),
        json!({"reason": "在省里参加培训"}),
    )
    .await;
    ok(
        app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/leave/{}/decision", sixth.id),
        json!({"approved": true}),
    )
    .await;
    convene(app, &r, m, &[5]).await;
    let (status, _) = app
        .api(
            "PUT",
            &format!("/api/v1/meetings/{m}/attendance/{attendee_id}"),
            Some(&r.secretary.token),
            Some(json!({"present": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Item 1.
    ok(app, &r.shuji.token, path(m, i1, "start"), json!({})).await;
    ok(
        app,
        &r.members[4].token,
        path(m, i1, "recusals"),
        json!({"user_id": r.members[4].id, "relation": "spouse", "note": "配偶在定点医院任职"}),
    )
    .await;
    ok(
        app,
        &sixth.token,
        path(m, i1, "written-opinions"),
        json!({"stance": "defer", "reason": "应先试点"}),
    )
    .await;
    ok(
        app,
        &attendee,
        path(m, i1, "remarks"),
        json!({"text": "测算依据已附后"}),
    )
    .await;
    for (n, p) in r.members[..4].iter().enumerate() {
        let body = if n == 3 {
            json!({"stance": "disagree", "reason": "基金压力大"})
        } else {
            json!({"stance": "agree"})
        };
        ok(app, &p.token, path(m, i1, "opinions"), body).await;
    }
    ok(
        app,
        &r.shuji.token,
        path(m, i1, "opinions"),
        json!({"stance": "agree"}),
    )
    .await;
    ok(
        app,
        &r.shuji.token,
        path(m, i1, "vote"),
        json!({"method": "secret"}),
    )
    .await;
    for (n, p) in r.members[..4].iter().chain([&r.shuji]).enumerate() {
        let choice = if n == 3 { "no" } else { "yes" };
        ok(
            app,
            &p.token,
            path(m, i1, "ballots"),
            json!({"choice": choice}),
        )
        .await;
    }
    let tally = ok(app, &r.shuji.token, path(m, i1, "vote/close"), json!({})).await;
    assert_eq!(
        tally,
        json!({"yes": 4, "no": 1, "abstain": 0, "should_attend": 6, "passed": true})
    );
    ok(
        app,
        &r.shuji.token,
        path(m, i1, "outcome"),
        json!({"outcome": "announce"}),
    )
    .await;

    // Item 2: named vote, all yes.
    ok(app, &r.shuji.token, path(m, i2, "start"), json!({})).await;
    let voters: Vec<&crate::fixtures::Person> = r.members[..5].iter().chain([&r.shuji]).collect();
    for p in &voters {
        ok(
            app,
            &p.token,
            path(m, i2, "opinions"),
            json!({"stance": "agree"}),
        )
        .await;
    }
    ok(
        app,
        &r.shuji.token,
        path(m, i2, "vote"),
        json!({"method": "named"}),
    )
    .await;
    all_yes_and_announce(app, &r.shuji.token, m, i2, voters.iter().copied()).await;

    // Item 3: deferred at once.
    ok(app, &r.shuji.token, path(m, i3, "start"), json!({})).await;
    ok(
        app,
        &r.shuji.token,
        path(m, i3, "outcome"),
        json!({"outcome": "deferred", "reason": "待补充论证"}),
    )
    .await;

    // R-MINUTES: no minutes before the meeting closes.
    let early = app
        .api(
            "GET",
            &format!("/api/v1/meetings/{m}/minutes"),
            Some(&r.shuji.token),
            None,
        )
        .await;
    refused(&early, "R-MINUTES");
    ok(
        app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/close"),
        json!({}),
    )
    .await;
    Played {
        r,
        m,
        i1,
        i2,
        i3,
        attendee,
    }
}

/// Two signatures at once (the signer in two windows): one is accepted, the other refused
/// with a rule; the accepted answer.
async fn sign_twice(app: &TestApp, token: &str, url: String) -> Value {
    let (a, b) = tokio::join!(
        post(app, token, url.clone(), json!({})),
        post(app, token, url, json!({})),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} {}",
        a.1,
        b.1
    );
    if a.0 == StatusCode::OK { a.1 } else { b.1 }
}

/// Every voter votes yes, the chair closes the vote and announces the result.
async fn all_yes_and_announce<'a>(
    app: &TestApp,
    chair: &str,
    m: Uuid,
    i: Uuid,
    voters: impl IntoIterator<Item = &'a crate::fixtures::Person>,
) {
    for p in voters {
        ok(
            app,
            &p.token,
            path(m, i, "ballots"),
            json!({"choice": "yes"}),
        )
        .await;
    }
    ok(app, chair, path(m, i, "vote/close"), json!({})).await;
    ok(
        app,
        chair,
        path(m, i, "outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
}

/// The 书记 gives the first decision of the played meeting a task led by the first member.
async fn first_task(app: &TestApp, p: &Played) -> String {
    let t = ok(
        app,
        &p.r.shuji.token,
        format!("/api/v1/items/{}/tasks", p.i1),
        json!({"lead_user_id": p.r.members[0].id, "due_on": "2099-01-31",
               "description": "制定实施细则"}),
    )
    .await;
    t["task_id"].as_str().unwrap().to_owned()
}

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    app.api("GET", path, Some(token), None).await
}

async fn count_where(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn minutes_hold_the_whole_record_and_no_secret_choice() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let url = format!("/api/v1/meetings/{}/minutes", p.m);
    let reads_before = count_where(
        &app,
        "select count(*) from audit_entry where action = 'minutes.read'",
    )
    .await;
    let (status, doc) = get(&app, &r.members[1].token, &url).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let m = &doc["minutes"];
    assert_eq!(doc["missing"], json!([]), "complete once closed: {doc}");
    assert_eq!(doc["sealed"], Value::Null);
    assert_eq!(m["place"], "三楼会议室");
    assert_eq!(m["chair"], "用户shuji");
    assert_eq!(m["recorder"], "用户mishu");
    assert_eq!(m["present"].as_array().unwrap().len(), 6);
    assert_eq!(
        m["on_leave"],
        json!([{"name": "用户chengyuan5", "reason": "在省里参加培训"}])
    );
    assert_eq!(m["attendees"], json!([{"name": "用户liexi", "item": T1}]));

    let one = &m["items"][0];
    assert_eq!(one["title"], T1);
    assert_eq!(one["outcome"], "passed");
    assert!(one["dissent"].as_bool().unwrap());
    assert_eq!(
        one["recusals"],
        json!([{"name": "用户chengyuan4", "relation": "spouse", "note": "配偶在定点医院任职"}])
    );
    let opinions = one["opinions"].as_array().unwrap();
    assert_eq!(opinions.len(), 5, "every present, non-recused member");
    let dissent = opinions
        .iter()
        .find(|o| o["name"] == "用户chengyuan3")
        .unwrap();
    assert_eq!(dissent["stance"], "disagree");
    assert_eq!(dissent["reason"], "基金压力大");
    assert_eq!(dissent["dissent"], true);
    assert_eq!(
        one["written_opinions"],
        json!([{"name": "用户chengyuan5", "stance": "defer", "reason": "应先试点", "dissent": true}])
    );
    assert_eq!(
        one["remarks"],
        json!([{"name": "用户liexi", "text": "测算依据已附后"}])
    );
    let vote = &one["vote"];
    assert_eq!(vote["method"], "secret");
    assert_eq!(
        (vote["yes"].clone(), vote["no"].clone()),
        (json!(4), json!(1))
    );
    assert_eq!(vote["should_attend"], 6);
    let ballots = vote["ballots"].as_array().unwrap();
    assert_eq!(ballots.len(), 5, "who voted is recorded");
    assert!(
        ballots.iter().all(|b| b["choice"].is_null()),
        "R-SECRET-BALLOT: no choice is linked to a voter: {ballots:?}"
    );
    assert!(one["basis"].as_str().unwrap().contains("赞成 4 票"));

    let two = &m["items"][1];
    assert_eq!(two["vote"]["method"], "named");
    assert!(
        two["vote"]["ballots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["choice"] == "yes"),
        "named votes are recorded per person"
    );
    let three = &m["items"][2];
    assert_eq!(three["outcome"], "deferred");
    assert_eq!(three["basis"], "待补充论证");
    assert_eq!(three["vote"], Value::Null);

    // The recused member reads that item as withheld.
    let (_, theirs) = get(&app, &r.members[4].token, &url).await;
    let hidden = &theirs["minutes"]["items"][0];
    assert_eq!(hidden["withheld"], true);
    assert_ne!(hidden["title"], T1);
    assert_eq!(hidden["opinions"], json!([]));
    assert_eq!(hidden["vote"], Value::Null);

    // Every read is in the audit log.
    let reads = count_where(
        &app,
        "select count(*) from audit_entry where action = 'minutes.read'",
    )
    .await;
    assert_eq!(reads, reads_before + 2);

    // Printable page.
    let page = body_text(
        app.page(
            "GET",
            &format!("/meetings/{}/minutes", p.m),
            Some(&r.members[1].token),
            None,
        )
        .await,
    )
    .await;
    assert!(
        page.contains("基金压力大") && page.contains("〔不同意见〕"),
        "{page}"
    );

    // Two signatures at once, before any draft exists: one seals, the other is told so.
    let signed = sign_twice(&app, &r.shuji.token, format!("{url}/sign")).await;
    assert!(signed["sealed"]["sha256"].is_string());
}

#[tokio::test]
async fn sealed_minutes_take_only_dated_amendments() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let url = format!("/api/v1/meetings/{}/minutes", p.m);
    let put = |token: &str, body: Value| {
        let token = token.to_owned();
        let app = &app;
        let url = url.clone();
        async move { app.api("PUT", &url, Some(&token), Some(body)).await }
    };

    // Drafting: the meeting secretary only; notes only for this meeting's items.
    let (status, _) = put(&r.members[1].token, json!({"narrative": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, bad) = put(
        &r.secretary.token,
        json!({"narrative": "x", "notes": [{"item_id": Uuid::now_v7(), "note": "y"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"][0]["field"], "notes[0].item_id");
    let (status, drafted) = put(
        &r.secretary.token,
        json!({"narrative": "会议传达学习了上级文件精神。",
               "notes": [{"item_id": p.i1, "note": "医保科汇报了测算情况。"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{drafted}");
    assert_eq!(
        drafted["minutes"]["narrative"],
        "会议传达学习了上级文件精神。"
    );
    assert_eq!(
        drafted["minutes"]["items"][0]["note"],
        "医保科汇报了测算情况。"
    );
    // Recorded opinions are not part of the draft input: they cannot be changed.
    assert_eq!(
        drafted["minutes"]["items"][0]["opinions"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    refused(
        &post(
            &app,
            &r.secretary.token,
            format!("{url}/amendments"),
            json!({"text": "更正"}),
        )
        .await,
        "R-MINUTES-SEALED",
    );
    let (status, _) = post(&app, &r.members[1].token, format!("{url}/sign"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the chair or the 书记 signs");
    // Two signatures at once (the 书记 in two windows): one seals, the other is told so.
    let signed = sign_twice(&app, &r.shuji.token, format!("{url}/sign")).await;
    let sha = signed["sealed"]["sha256"].as_str().unwrap().to_owned();
    assert_sealed_with_an_anchor(&app, &signed["sealed"], "minutes").await;
    let body: String = sqlx::query_scalar("select sealed_body from minutes where meeting_id = $1")
        .bind(p.m)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(hex::encode(Sha256::digest(body.as_bytes())), sha);
    let in_chain: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where action = 'minutes.sign' and after->>'sha256' = $1",
    )
    .bind(&sha)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(in_chain, 1, "the sealed text's hash is in the audit chain");

    // Sealed: no edits, no second signature.
    refused(
        &put(&r.secretary.token, json!({"narrative": "改写"})).await,
        "R-MINUTES-SEALED",
    );
    refused(
        &post(&app, &r.shuji.token, format!("{url}/sign"), json!({})).await,
        "R-MINUTES-SEALED",
    );
    let (_, still) = get(&app, &r.members[1].token, &url).await;
    assert_eq!(
        still["minutes"]["narrative"],
        "会议传达学习了上级文件精神。"
    );
    // The database refuses too.
    let direct = sqlx::query("update minutes set narrative = 'x' where meeting_id = $1")
        .bind(p.m)
        .execute(&app.pool)
        .await;
    assert!(
        direct.is_err(),
        "sealed minutes cannot be updated in the database"
    );
    let note = sqlx::query("update minutes_note set note = 'x' where meeting_id = $1")
        .bind(p.m)
        .execute(&app.pool)
        .await;
    assert!(note.is_err());

    // Amendments: by the meeting secretary, dated, beside the original.
    let (status, _) = post(
        &app,
        &r.members[1].token,
        format!("{url}/amendments"),
        json!({"text": "更正"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, bad) = post(
        &app,
        &r.secretary.token,
        format!("{url}/amendments"),
        json!({"text": " "}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (status, amended) = post(
        &app,
        &r.secretary.token,
        format!("{url}/amendments"),
        json!({"text": "第二项议题汇报人应为财务科。"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{amended}");
    assert_eq!(
        amended["amendments"][0]["text"],
        "第二项议题汇报人应为财务科。"
    );
    assert!(amended["amendments"][0]["made_at"].is_string());
    assert_eq!(
        amended["sealed"]["sha256"],
        sha.as_str(),
        "the original stays"
    );
    assert_eq!(
        amended["minutes"]["narrative"],
        "会议传达学习了上级文件精神。"
    );
}

#[tokio::test]
async fn borrowing_the_minutes_is_approved_time_limited_and_audited() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let url = format!("/api/v1/meetings/{}/minutes", p.m);
    let (_, outsider) = app.user("waibu", &["staff"]).await;
    let (_, office) = app.user("zongheke", &["office"]).await;
    assert_eq!(get(&app, &outsider, &url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &office, &url).await.0,
        StatusCode::FORBIDDEN,
        "综合科 borrows too"
    );

    let ask = format!("{url}/borrow-requests");
    let (status, bad) = post(
        &app,
        &outsider,
        ask.clone(),
        json!({"reason": "", "days": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["reason", "days"]);
    assert_eq!(app.count("borrow_request").await, 0);
    let asked = ok(
        &app,
        &outsider,
        ask.clone(),
        json!({"reason": "撰写年度总结", "days": 7}),
    )
    .await;
    let request = asked["id"].as_str().unwrap().to_owned();
    let decide = format!("/api/v1/borrow-requests/{request}/decision");

    // R-MINUTES-ACCESS: the 书记 or a 副书记 decides.
    let (status, _) = post(
        &app,
        &r.members[1].token,
        decide.clone(),
        json!({"approved": true}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(&app, &office, decide.clone(), json!({"approved": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(&app, &r.members[0].token, decide.clone(), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        get(&app, &outsider, &url).await.0,
        StatusCode::NOT_FOUND,
        "still pending"
    );
    let decided = ok(
        &app,
        &r.members[0].token,
        decide.clone(),
        json!({"approved": true}),
    )
    .await;
    assert_eq!(decided["approved"], true);
    assert!(decided["expires_at"].is_string());
    refused(
        &post(&app, &r.shuji.token, decide, json!({"approved": false})).await,
        "R-MINUTES-ACCESS",
    );

    // Within the grant the borrower reads, and the read is audited under their name.
    let (status, doc) = get(&app, &outsider, &url).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["minutes"]["items"][0]["title"], T1);
    let audited = count_where(
        &app,
        "select count(*) from audit_entry e join app_user u on u.user_id = e.actor_id
         where e.action = 'minutes.read' and u.login = 'waibu'",
    )
    .await;
    assert_eq!(audited, 1);

    // The grant ends by itself.
    sqlx::query("update borrow_request set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(get(&app, &outsider, &url).await.0, StatusCode::NOT_FOUND);

    // A refused request grants nothing.
    let again = ok(
        &app,
        &outsider,
        ask,
        json!({"reason": "再次查阅", "days": 3}),
    )
    .await;
    ok(
        &app,
        &r.shuji.token,
        format!(
            "/api/v1/borrow-requests/{}/decision",
            again["id"].as_str().unwrap()
        ),
        json!({"approved": false}),
    )
    .await;
    assert_eq!(get(&app, &outsider, &url).await.0, StatusCode::NOT_FOUND);
    let (_, mine) = get(&app, &outsider, "/api/v1/borrow-requests").await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_summary_needs_a_lead_for_every_passed_decision_and_withholds_secrets() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let url = format!("/api/v1/meetings/{}/summary", p.m);
    let (status, draft) = get(&app, &r.shuji.token, &url).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["summary"]["decisions"].as_array().unwrap().len(), 3);
    assert_eq!(draft["lacking_lead"], json!([T1, T2]));

    // R-FOLLOWUP-OWNER and R-SUMMARY refusals, nothing written.
    refused(
        &post(&app, &r.shuji.token, format!("{url}/sign"), json!({})).await,
        "R-FOLLOWUP-OWNER",
    );
    refused(
        &post(
            &app,
            &r.secretary.token,
            format!("{url}/distribute"),
            json!({}),
        )
        .await,
        "R-SUMMARY",
    );
    assert_eq!(app.count("summary").await, 0);
    let task = |i: Uuid| format!("/api/v1/items/{i}/tasks");
    refused(
        &post(
            &app,
            &r.secretary.token,
            task(p.i3),
            json!({"lead_user_id": r.members[0].id, "due_on": "2027-01-31", "description": "落实"}),
        )
        .await,
        "R-FOLLOWUP-OWNER",
    );
    let (status, _) = post(
        &app,
        &r.members[1].token,
        task(p.i1),
        json!({"lead_user_id": r.members[0].id, "due_on": "2027-01-31", "description": "落实"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the chair or 综合科 assigns");
    let (status, bad) = post(
        &app,
        &r.secretary.token,
        task(p.i1),
        json!({"lead_user_id": "nobody", "section_ids": ["x"], "due_on": "soon", "description": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["lead_user_id", "section_ids[0]", "due_on", "description"]
    );
    assert_eq!(app.count("task").await, 0);

    let admin = app.admin().await;
    let (_, section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": "待遇保障科", "kind": "other"})),
        )
        .await;
    let (status, t1) = post(
        &app,
        &r.secretary.token,
        task(p.i1),
        json!({"lead_user_id": r.members[0].id, "section_ids": [section["section_id"]],
               "due_on": "2027-01-31", "description": "制定实施细则"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{t1}");
    assert_eq!(t1["section_names"], json!(["待遇保障科"]));
    refused(
        &post(&app, &r.shuji.token, format!("{url}/sign"), json!({})).await,
        "R-FOLLOWUP-OWNER",
    );
    ok(
        &app,
        &r.shuji.token,
        task(p.i2),
        json!({"lead_user_id": r.members[1].id, "due_on": "2027-02-28", "description": "修订协议文本"}),
    )
    .await;
    let (status, _) = post(&app, &r.members[1].token, format!("{url}/sign"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Issue 17 (8): each step that waits for someone is on their home page.
    let home = async |token: &str| body_text(app.page("GET", "/", Some(token), None).await).await;
    assert!(home(&r.shuji.token).await.contains("待签发会议纪要"));
    assert!(!home(&r.secretary.token).await.contains("待分发会议纪要"));
    let signed = sign_twice(&app, &r.shuji.token, format!("{url}/sign")).await;
    assert!(!home(&r.shuji.token).await.contains("待签发会议纪要"));
    assert!(home(&r.secretary.token).await.contains("待分发会议纪要"));
    assert!(signed["signed"]["sha256"].is_string());
    assert_sealed_with_an_anchor(&app, &signed["signed"], "summary").await;
    assert_eq!(signed["lacking_lead"], json!([]));
    refused(
        &post(&app, &r.shuji.token, format!("{url}/sign"), json!({})).await,
        "R-MINUTES-SEALED",
    );

    // Distribution by 综合科: members, leaders and section heads, each logged.
    let (_, head) = app.user("kezhang", &["section_head"]).await;
    let (_, staff) = app.user("kuaiji", &["staff"]).await;
    let (status, _) = post(
        &app,
        &r.members[1].token,
        format!("{url}/distribute"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let distributed = ok(
        &app,
        &r.secretary.token,
        format!("{url}/distribute"),
        json!({}),
    )
    .await;
    assert!(!home(&r.secretary.token).await.contains("待分发会议纪要"));
    let receipts = distributed["receipts"].as_array().unwrap();
    // 7 members, the attendee and the new section head (both section heads).
    assert_eq!(receipts.len(), 9, "{receipts:?}");
    refused(
        &post(
            &app,
            &r.secretary.token,
            format!("{url}/distribute"),
            json!({}),
        )
        .await,
        "R-SUMMARY",
    );
    // The section head receives it without the secret decision, and the opening is logged.
    let (status, copy) = get(&app, &head, &url).await;
    assert_eq!(status, StatusCode::OK, "{copy}");
    assert_eq!(copy["withheld"], 1);
    let titles: Vec<&str> = copy["summary"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, [T1, T3]);
    let withheld: i32 = sqlx::query_scalar(
        "select r.withheld from summary_receipt r join app_user u using (user_id) where u.login = 'kezhang'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(withheld, 1);
    // Issue 17 (9): opening it is not signing for it; the recipient signs for it with a
    // button, once, and 综合科 sees when.
    let signed_for = async || {
        count_where(
            &app,
            "select count(*) from summary_receipt r join app_user u using (user_id)
             where u.login = 'kezhang' and r.read_at is not null",
        )
        .await
    };
    assert_eq!(signed_for().await, 0, "opening is not the receipt");
    assert!(copy["my_receipt"]["delivered_at"].is_string(), "{copy}");
    assert_eq!(copy["my_receipt"]["signed_for_at"], Value::Null);
    let page = body_text(
        app.page(
            "GET",
            &format!("/meetings/{}/summary", p.m),
            Some(&head),
            None,
        )
        .await,
    )
    .await;
    assert!(page.contains(">签收</button>"), "{page}");
    let signed = ok(&app, &head, format!("{url}/receipt"), json!({})).await;
    assert!(
        signed["my_receipt"]["signed_for_at"].is_string(),
        "{signed}"
    );
    ok(&app, &head, format!("{url}/receipt"), json!({})).await;
    assert_eq!(signed_for().await, 1);
    let receipts = count_where(
        &app,
        "select count(*) from audit_entry where action = 'summary.receipt'",
    )
    .await;
    assert_eq!(receipts, 1, "signed for once, audited once");
    let (_, office_view) = get(&app, &r.secretary.token, &url).await;
    let kezhang = office_view["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["read_at"].is_string())
        .expect("综合科 sees the time of the receipt");
    assert!(kezhang["name"].is_string());
    let (status, _) = post(
        &app,
        &r.secretary.token,
        format!("{url}/receipt"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "综合科 is not a recipient");
    assert_eq!(
        get(&app, &staff, &url).await.0,
        StatusCode::NOT_FOUND,
        "not a recipient"
    );
    let (_, member_copy) = get(&app, &r.members[2].token, &url).await;
    assert_eq!(member_copy["withheld"], 0);

    // The Word document opens as an Office document: a zip with well-formed XML.
    let res = app
        .page(
            "GET",
            &format!("/meetings/{}/summary.docx", p.m),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("wordprocessingml")
    );
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let document = docx_text(&bytes);
    assert!(
        document.contains("纪要") && document.contains(T1),
        "{document}"
    );
    assert!(
        !document.contains(T2),
        "the secret decision is withheld here too"
    );
    assert!(document.contains("仿宋") && document.contains("黑体"));
    assert!(document.contains("11906"), "A4 page width");
    // Issue 18 (3): the layout of GB/T 9704-2012 — A4, 天头 37 mm, 订口 28 mm, a text block of
    // 156 × 225 mm on a grid of 22 lines × 28 characters.
    for mark in [
        r#"w:w="11906" w:h="16838""#,
        r#"w:top="2098""#,
        r#"w:left="1587""#,
        r#"w:right="1474""#,
        r#"w:bottom="1984""#,
        r#"w:type="linesAndChars" w:linePitch="579" w:charSpace="-848""#,
    ] {
        assert!(document.contains(mark), "{mark}: {document}");
    }
    // Title in 2号小标宋, body in 3号仿宋, 出席 in 3号黑体 before the names in 仿宋.
    let run_with = |font: &str, size: usize, text: &str| {
        document.split("<w:r>").any(|r| {
            r.contains(&format!(r#"w:eastAsia="{font}""#))
                && r.contains(&format!(r#"<w:sz w:val="{size}" />"#))
                && r.contains(text)
        })
    };
    assert!(run_with("方正小标宋简体", 44, "纪要"), "{document}");
    assert!(
        run_with("仿宋_GB2312", 32, "会议研究了以下事项"),
        "{document}"
    );
    assert!(run_with("黑体", 32, "出席:"), "{document}");
    assert!(run_with("黑体", 32, "请假:"), "{document}");
    assert!(run_with("黑体", 32, "列席:"), "{document}");
    assert!(
        document.contains("党组会议纪要") && document.contains("纪〔"),
        "发文字号"
    );
    assert!(
        document.contains("分送:") && document.contains("印发"),
        "版记"
    );
    assert!(
        !document.contains("秘密★"),
        "no secrecy mark without a secret decision shown"
    );
    // Page numbers in 4号宋体, odd and even pages apart.
    let footers = docx_part(&bytes, "footer");
    assert!(
        footers.contains("PAGE") && footers.contains(r#"w:eastAsia="宋体""#),
        "{footers}"
    );
    assert!(footers.contains(r#"<w:sz w:val="28" />"#), "{footers}");
    assert!(docx_part(&bytes, "settings").contains("evenAndOddHeaders"));

    // A reader cleared for the secret decision gets the classified copy: 份号 and 密级★期限.
    let res = app
        .page(
            "GET",
            &format!("/meetings/{}/summary.docx?copy=12", p.m),
            Some(&r.shuji.token),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let classified = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let classified = docx_text(&classified);
    assert!(
        classified.contains(T2),
        "the cleared reader's copy has the secret decision"
    );
    assert!(
        run_with_in(&classified, "黑体", "000012") && run_with_in(&classified, "黑体", "秘密★10年")
    );
    let bad = app
        .page(
            "GET",
            &format!("/meetings/{}/summary.docx?copy=0", p.m),
            Some(&r.shuji.token),
            None,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Issue 18 (4): the year's compilation — the signed summaries of the year in order, a table
    // of contents, the highest classification of its parts on the cover.
    let year = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .year();
    let compiled = |token: String, year: i32| {
        let app = &app;
        let url = format!("/party-groups/{}/summaries.docx?year={year}", r.group);
        async move { app.page("GET", &url, Some(&token), None).await }
    };
    let res = compiled(r.shuji.token.clone(), year + 1).await;
    assert_eq!(res.status(), StatusCode::OK);
    let empty = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let empty = docx_text(&empty);
    assert!(
        empty.contains("尚无已签发的会议纪要") && !empty.contains(T1),
        "another year"
    );
    let res = compiled(r.shuji.token.clone(), year).await;
    assert_eq!(res.status(), StatusCode::OK);
    let book = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let book = docx_text(&book);
    assert!(
        book.contains("目录") && book.contains("(共 1 期)"),
        "{book}"
    );
    assert!(book.contains(T1) && book.contains(T2), "{book}");
    assert!(
        run_with_in(&book, "黑体", "秘密★10年"),
        "the cover carries the highest 密级"
    );
    assert!(
        book.contains(r#"w:type="page""#),
        "each summary from a new page"
    );
    let members_may_not = compiled(r.members[1].token.clone(), year).await;
    assert_eq!(members_may_not.status(), StatusCode::FORBIDDEN);
    let bad_year = compiled(r.shuji.token.clone(), 1900).await;
    assert_eq!(bad_year.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // R-AUDIT: the printed 纪要 anchors the log: its footer holds the chain head and signature.
    let footer = docx_part(&bytes, "footer");
    let anchor = &signed["signed"]["anchor"];
    assert!(footer.contains("留痕锚点"), "{footer}");
    assert!(
        footer.contains(anchor["signature"].as_str().unwrap()),
        "{footer}"
    );
}

/// R-AUDIT, issue 14: a sealed document carries the signed checkpoint of its seal entry — the
/// entry of its chain, its hash, the document's sha256 — and that anchor verifies against the
/// log as a checkpoint the discipline group kept.
async fn assert_sealed_with_an_anchor(app: &TestApp, seal: &Value, kind: &str) {
    let anchor = &seal["anchor"];
    assert_eq!(anchor["body"]["kind"], "seal", "{seal}");
    assert_eq!(anchor["body"]["document"]["kind"], kind);
    assert_eq!(anchor["body"]["document"]["sha256"], seal["sha256"]);
    let mark = &anchor["body"]["chains"][0];
    let (action, hash): (String, Vec<u8>) =
        sqlx::query_as("select action, hash from audit_entry where chain = $1 and seq = $2")
            .bind(mark["chain"].as_str().unwrap())
            .bind(mark["seq"].as_i64().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(action, format!("{kind}.sign"));
    assert_eq!(hex::encode(hash), mark["hash"].as_str().unwrap());
    let (_, jijian) = app.user(&format!("jijian.{kind}"), &["discipline"]).await;
    let (status, v) = app
        .api(
            "POST",
            "/api/v1/audit/verify",
            Some(&jijian),
            Some(anchor.clone()),
        )
        .await;
    assert_eq!((status, &v["ok"]), (StatusCode::OK, &json!(true)), "{v}");
}

#[tokio::test]
async fn follow_up_progress_board_reminders_and_circulars() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let lead = &r.members[0];
    let task = first_task(&app, &p).await;
    ok(
        &app,
        &r.secretary.token,
        format!("/api/v1/items/{}/tasks", p.i2),
        json!({"lead_user_id": r.members[1].id, "due_on": "2099-02-28", "description": "修订协议"}),
    )
    .await;

    // Progress: the lead or 综合科.
    let progress = format!("/api/v1/tasks/{task}/progress");
    let (status, _) = post(
        &app,
        &r.members[2].token,
        progress.clone(),
        json!({"note": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a member, not the lead");
    let (status, _) = post(
        &app,
        lead.token.as_str(),
        progress.clone(),
        json!({"note": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let reported = ok(
        &app,
        &lead.token,
        progress.clone(),
        json!({"note": "已起草细则"}),
    )
    .await;
    assert_eq!(reported["progress"][0]["note"], "已起草细则");
    assert_eq!(reported["overdue"], false);

    // The board: 综合科 and the 书记 see all, a lead their own.
    let (_, all) = get(&app, &r.secretary.token, "/api/v1/tasks").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, shuji_board) = get(&app, &r.shuji.token, "/api/v1/tasks?status=open").await;
    assert_eq!(shuji_board.as_array().unwrap().len(), 2);
    let (_, own) = get(&app, &lead.token, "/api/v1/tasks").await;
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["last_note"], "已起草细则");
    let (status, _) = get(&app, &r.secretary.token, "/api/v1/tasks?status=maybe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // R-SUPERVISION: an unfinished task past its date is overdue on the board and the duties.
    sqlx::query("update task set due_on = current_date - 1 where task_id = $1::uuid")
        .bind(&task)
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, overdue) = get(&app, &r.secretary.token, "/api/v1/tasks?overdue=true").await;
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["overdue"], true);
    let (_, duties) = get(
        &app,
        &r.shuji.token,
        &format!("/api/v1/party-groups/{}/duties", r.group),
    )
    .await;
    assert!(
        duties["duties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["rule"] == "R-SUPERVISION" && d["overdue"] == true),
        "{duties}"
    );
    let csv = body_text(
        app.page("GET", "/tasks.csv", Some(&r.secretary.token), None)
            .await,
    )
    .await;
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].contains("牵头人"));
    assert!(csv.contains("逾期") && csv.contains("制定实施细则"));

    // Reminder (督办通知) to the lead; circular (通报) to the group and the leads.
    let remind = format!("/api/v1/tasks/{task}/reminders");
    let (status, _) = post(&app, &lead.token, remind.clone(), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(&app, &r.secretary.token, remind, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, notes) = get(&app, &lead.token, "/api/v1/notifications").await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"].as_str().unwrap().starts_with("督办通知")),
        "{notes}"
    );
    let circular = format!("/api/v1/party-groups/{}/circulars", r.group);
    let (status, _) = post(
        &app,
        &r.members[2].token,
        circular.clone(),
        json!({"text": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let sent = ok(
        &app,
        &r.secretary.token,
        circular,
        json!({"text": "门诊慢特病实施细则进度滞后,请抓紧办理。"}),
    )
    .await;
    assert_eq!(sent["recipients"], 7);

    // Done; then no more progress on it.
    let done = ok(
        &app,
        &lead.token,
        progress.clone(),
        json!({"note": "细则已印发", "done": true}),
    )
    .await;
    assert!(done["done_at"].is_string());
    assert_eq!(done["overdue"], false);
    refused(
        &post(&app, &lead.token, progress, json!({"note": "补充"})).await,
        "R-SUPERVISION",
    );
    // Every follow-up action is found under the meeting in the audit log.
    let under_meeting = count_where(
        &app,
        &format!(
            "select count(*) from audit_entry where entity_type = 'meeting' and entity_id = '{}'
             and action like 'task.%'",
            p.m
        ),
    )
    .await;
    assert_eq!(under_meeting, 5, "2 tasks, 2 progress reports, 1 reminder");
}

#[tokio::test]
async fn reserved_opinions_and_decisions_changed_only_by_later_decisions() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let reserve = format!("/api/v1/items/{}/reserved-opinions", p.i1);
    refused(
        &post(
            &app,
            &r.members[1].token,
            reserve.clone(),
            json!({"text": "保留"}),
        )
        .await,
        "R-RESERVE",
    );
    let (status, _) = post(&app, &p.attendee, reserve.clone(), json!({"text": "保留"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "attendees are not members");
    let (status, _) = post(
        &app,
        &r.members[3].token,
        reserve.clone(),
        json!({"text": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post(
        &app,
        &r.members[3].token,
        reserve.clone(),
        json!({"text": "基金可持续性存疑,保留意见,但坚决执行。"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    refused(
        &post(&app, &r.members[3].token, reserve, json!({"text": "再次"})).await,
        "R-RESERVE",
    );
    let (_, view) = get(&app, &r.shuji.token, &format!("/api/v1/meetings/{}", p.m)).await;
    assert_eq!(view["reserved_opinions"][0]["name"], "用户chengyuan3");
    assert_eq!(
        view["agenda"][0]["outcome"], "passed",
        "the decision stands"
    );

    // A later meeting passes an item that changes the first decision.
    let t4 = ready_topic(&app, r, "关于调整门诊慢特病待遇的补充请示", json!({})).await;
    let m2 = meeting(&app, r, 20).await;
    let j = add(&app, r, m2, t4).await;
    convene(&app, r, m2, &[]).await;
    ok(&app, &r.shuji.token, path(m2, j, "start"), json!({})).await;
    agree_and_open_vote(&app, r, m2, j, "hands").await;
    all_yes_and_announce(
        &app,
        &r.shuji.token,
        m2,
        j,
        r.members[..5].iter().chain([&r.shuji]),
    )
    .await;

    let link = |new: Uuid| format!("/api/v1/items/{new}/supersedes");
    refused(
        &post(
            &app,
            &r.shuji.token,
            link(p.i1),
            json!({"item_id": j, "reason": "倒置"}),
        )
        .await,
        "R-DECISION-CHANGE",
    );
    refused(
        &post(
            &app,
            &r.shuji.token,
            link(p.i3),
            json!({"item_id": p.i1, "reason": "未通过"}),
        )
        .await,
        "R-DECISION-CHANGE",
    );
    let (status, _) = post(
        &app,
        &r.members[1].token,
        link(j),
        json!({"item_id": p.i1, "reason": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(
        &app,
        &r.shuji.token,
        link(j),
        json!({"item_id": p.i1, "reason": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("decision_change").await, 0);
    let (status, _) = post(
        &app,
        &r.shuji.token,
        link(j),
        json!({"item_id": p.i1, "reason": "待遇标准按补充请示执行"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    refused(
        &post(
            &app,
            &r.secretary.token,
            link(j),
            json!({"item_id": p.i1, "reason": "再次"}),
        )
        .await,
        "R-DECISION-CHANGE",
    );
    // Both decisions link to each other.
    for meeting in [p.m, m2] {
        let (_, v) = get(&app, &r.shuji.token, &format!("/api/v1/meetings/{meeting}")).await;
        let changes = v["decision_changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{v}");
        assert_eq!(changes[0]["old_item_id"], p.i1.to_string());
        assert_eq!(changes[0]["new_item_id"], j.to_string());
    }
    // Follow-up cannot alter a decision, not even in the database.
    let altered = sqlx::query(
        "update agenda_item set outcome = 'rejected', passed = false where item_id = $1",
    )
    .bind(p.i1)
    .execute(&app.pool)
    .await;
    assert!(altered.is_err());
}

#[tokio::test]
async fn emergencies_are_reported_to_the_next_meeting() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let record = |token: String, body: Value| {
        let app = &app;
        async move { post(app, &token, "/api/v1/emergencies".into(), body).await }
    };
    let body = |title: &str| {
        json!({"party_group_id": r.group, "title": title,
               "action_taken": "连夜启动应急预案,结算系统切换至备用线路", "occurred_at": "2026-11-28T22:00:00+08:00"})
    };
    let (status, _) = record(r.secretary.token.clone(), body("结算系统中断")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "members act on the spot");
    let (status, bad) = record(
        r.members[1].token.clone(),
        json!({"party_group_id": r.group, "title": "", "action_taken": "x", "occurred_at": "2999-01-01T00:00:00+08:00"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"].as_array().unwrap().len(), 2, "{bad}");
    let (status, first) = record(r.members[1].token.clone(), body("结算系统中断")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(first["meeting_id"], Value::Null, "no meeting scheduled yet");

    let m = meeting(&app, &r, 10).await;
    let (status, second) = record(r.members[0].token.clone(), body("定点药店聚集性投诉")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(second["meeting_id"], m.to_string());
    let (_, view) = get(&app, &r.members[2].token, &format!("/api/v1/meetings/{m}")).await;
    let reported: Vec<&str> = view["emergencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(reported, ["结算系统中断", "定点药店聚集性投诉"]);
    let (_, duties) = get(
        &app,
        &r.shuji.token,
        &format!("/api/v1/party-groups/{}/duties", r.group),
    )
    .await;
    assert_eq!(duties["emergencies"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_duty_calendar_flags_what_is_due() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let url = format!("/api/v1/party-groups/{}/duties", r.group);
    let (_, outsider) = app.user("waibu", &["staff"]).await;
    assert_eq!(get(&app, &outsider, &url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &r.members[1].token, &url).await.0,
        StatusCode::FORBIDDEN
    );
    let rules = |d: &Value| -> Vec<String> {
        d["duties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, fresh) = get(&app, &r.shuji.token, &url).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let codes = rules(&fresh);
    assert_eq!(
        codes.iter().filter(|c| *c == "R-MONTHLY").count(),
        1,
        "{fresh}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "R-HALF-YEAR").count(),
        4,
        "{fresh}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "R-REPORT-UP").count(),
        1,
        "{fresh}"
    );
    assert!(
        fresh["duties"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["overdue"] == false)
    );

    // R-REPORT-UP: recorded, it is met for the year.
    let reports = format!("/api/v1/party-groups/{}/reports-up", r.group);
    let (status, _) = post(
        &app,
        &r.shuji.token,
        reports.clone(),
        json!({"title": "年度报告", "reported_on": "2999-01-01"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not in the future"
    );
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .date()
        .to_string();
    ok(
        &app,
        &r.secretary.token,
        reports,
        json!({"title": "2026年度工作报告", "reported_on": today}),
    )
    .await;
    // R-MONTHLY and R-HALF-YEAR: a meeting held today that hears a category-18 report.
    let t = ready_topic(
        &app,
        &r,
        "精神文明建设工作情况汇报",
        json!({"category": 18}),
    )
    .await;
    let (status, m) = post(
        &app,
        &r.secretary.token,
        "/api/v1/meetings".into(),
        json!({"party_group_id": r.group, "starts_at": crate::fixtures::days_ahead(0),
               "place": "三楼会议室", "secretary_id": r.secretary.id}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let m = Uuid::parse_str(m["id"].as_str().unwrap()).unwrap();
    let added = ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/agenda"),
        json!({"topic_id": t, "override_reason": "年终集中听取汇报"}),
    )
    .await;
    let i = Uuid::parse_str(added["item_id"].as_str().unwrap()).unwrap();
    ok(
        &app,
        &r.secretary.token,
        format!("/api/v1/meetings/{m}/notice"),
        json!({}),
    )
    .await;
    seat_all_but(&app, &r, m, &[]).await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/open"),
        json!({}),
    )
    .await;
    ok(&app, &r.shuji.token, path(m, i, "start"), json!({})).await;
    agree_and_open_vote(&app, &r, m, i, "voice").await;
    all_yes_and_announce(
        &app,
        &r.shuji.token,
        m,
        i,
        r.members.iter().chain([&r.shuji]),
    )
    .await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/close"),
        json!({}),
    )
    .await;

    let (_, after) = get(&app, &r.secretary.token, &url).await;
    let codes = rules(&after);
    assert!(!codes.contains(&"R-MONTHLY".to_owned()), "{after}");
    assert!(!codes.contains(&"R-REPORT-UP".to_owned()), "{after}");
    assert_eq!(
        codes.iter().filter(|c| *c == "R-HALF-YEAR").count(),
        3,
        "{after}"
    );
    let page = body_text(app.page("GET", "/duties", Some(&r.shuji.token), None).await).await;
    assert!(page.contains("半年听取汇报"), "{page}");
}

#[tokio::test]
async fn circulation_review_needs_every_members_approval() {
    let app = TestApp::new().await;
    let r = room(&app, 3).await;
    let (_, outsider) = app.user("waibu", &["staff"]).await;
    let create = format!("/api/v1/party-groups/{}/circulations", r.group);
    let (status, _) = post(
        &app,
        &r.members[1].token,
        create.clone(),
        json!({"title": "x", "body": "y"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(
        &app,
        &r.shuji.token,
        create.clone(),
        json!({"title": "", "body": "y"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let created = ok(
        &app,
        &r.secretary.token,
        create,
        json!({"title": "党组2026年度工作总结", "body": "一年来,党组……"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let publish = format!("/api/v1/circulations/{id}/publish");
    let signoff = format!("/api/v1/circulations/{id}/signoffs");
    refused(
        &post(&app, &r.shuji.token, publish.clone(), json!({})).await,
        "R-PUBLICATION",
    );
    let (status, _) = post(&app, &outsider, signoff.clone(), json!({"approved": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(
        &app,
        &r.members[2].token,
        signoff.clone(),
        json!({"approved": false}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a comment is needed"
    );
    ok(
        &app,
        &r.members[2].token,
        signoff.clone(),
        json!({"approved": false, "comment": "第三部分数据需核实"}),
    )
    .await;
    for p in r.members.iter().take(2).chain([&r.shuji]) {
        ok(&app, &p.token, signoff.clone(), json!({"approved": true})).await;
    }
    let blocked = post(&app, &r.secretary.token, publish.clone(), json!({})).await;
    refused(&blocked, "R-PUBLICATION");
    assert!(blocked.1["detail"].as_str().unwrap().contains("1 位"));
    let (_, view) = get(&app, &r.shuji.token, &format!("/api/v1/circulations/{id}")).await;
    assert_eq!(view["waiting"], json!(["用户chengyuan2"]));
    ok(
        &app,
        &r.members[2].token,
        signoff.clone(),
        json!({"approved": true, "comment": "已核实"}),
    )
    .await;
    let published = ok(&app, &r.shuji.token, publish.clone(), json!({})).await;
    assert!(published["published_at"].is_string());
    refused(
        &post(
            &app,
            &r.members[0].token,
            signoff,
            json!({"approved": true}),
        )
        .await,
        "R-PUBLICATION",
    );
    refused(
        &post(&app, &r.shuji.token, publish, json!({})).await,
        "R-PUBLICATION",
    );
}

#[tokio::test]
async fn each_meeting_is_an_ics_invitation_for_those_who_may_see_it() {
    let app = TestApp::new().await;
    let r = room(&app, 2).await;
    let m = meeting(&app, &r, 10).await;
    let (_, outsider) = app.user("waibu", &["staff"]).await;
    let res = app
        .page(
            "GET",
            &format!("/meetings/{m}/invite.ics"),
            Some(&r.members[1].token),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = body_text(res).await;
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(text.contains(&format!("UID:{m}@yishi")));
    assert!(text.contains("LOCATION:三楼会议室"));
    let res = app
        .page(
            "GET",
            &format!("/meetings/{m}/invite.ics"),
            Some(&outsider),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Issue 17 (1): a decided topic says so on its page and in the proposer's list, and shows
/// where it went — the meeting, the outcome, the summary once signed, the follow-up task;
/// a deferred one shows its outcome too.
#[tokio::test]
async fn a_decided_topic_shows_its_status_and_where_it_went() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let t = ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/items/{}/tasks", p.i1),
        json!({"lead_user_id": r.members[0].id, "due_on": "2099-01-31", "description": "制定实施细则"}),
    )
    .await;
    let task = t["task_id"].as_str().unwrap().to_owned();
    let (_, view) = get(&app, &r.shuji.token, &format!("/api/v1/meetings/{}", p.m)).await;
    let topic_of = |n: usize| view["agenda"][n]["topic_id"].as_str().unwrap().to_owned();
    let page = async |topic: &str| {
        let res = app
            .page("GET", &format!("/topics/{topic}"), Some(&r.clerk), None)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        body_text(res).await
    };
    let html = page(&topic_of(0)).await;
    assert!(html.contains("<dd>已决定</dd>"), "{html}");
    assert!(html.contains("议题去向"), "{html}");
    assert!(
        html.contains(&format!("href=\"/meetings/{}\"", p.m)),
        "{html}"
    );
    assert!(html.contains("通过"), "{html}");
    assert!(
        html.contains(&format!("href=\"/tasks/{task}\"")) && html.contains("制定实施细则"),
        "{html}"
    );
    let list = body_text(app.page("GET", "/topics", Some(&r.clerk), None).await).await;
    assert!(list.contains("已决定"), "the proposer's list: {list}");
    let (_, api) = get(&app, &r.clerk, &format!("/api/v1/topics/{}", topic_of(0))).await;
    assert_eq!(
        api["placements"][0]["tasks"][0]["description"],
        "制定实施细则"
    );
    let deferred = page(&topic_of(2)).await;
    assert!(deferred.contains("暂缓"), "{deferred}");
}

/// Issue 18 (6), R-SUPERVISION: the task board and the task show blue, yellow and red; the
/// lead gets a reminder three days before the due date and one on the day, each once, from the
/// server itself — also with two instances looking at once.
#[tokio::test]
async fn r_supervision_tasks_are_coloured_and_their_leads_reminded_once() {
    let app = TestApp::new().await;
    let p = play(&app).await;
    let r = &p.r;
    let lead = &r.members[0];
    let task = first_task(&app, &p).await;
    // The date as the bureau counts it (China Standard Time), as the tests cannot wait days.
    let due_in = async |days: i32| {
        sqlx::query(
            "update task set due_on = (now() at time zone 'Asia/Shanghai')::date + $2
             where task_id = $1::uuid",
        )
        .bind(&task)
        .bind(days)
        .execute(&app.pool)
        .await
        .unwrap();
    };
    let urgency = async || {
        let (_, t) = get(&app, &lead.token, &format!("/api/v1/tasks/{task}")).await;
        t["urgency"].as_str().unwrap().to_owned()
    };
    assert_eq!(urgency().await, "on_track");
    let board = body_text(
        app.page("GET", "/tasks", Some(&r.secretary.token), None)
            .await,
    )
    .await;
    assert!(
        board.contains("urgency-on_track") && board.contains("正常推进"),
        "{board}"
    );
    due_in(3).await;
    assert_eq!(urgency().await, "due_soon");
    let board = body_text(
        app.page("GET", "/tasks", Some(&r.secretary.token), None)
            .await,
    )
    .await;
    assert!(board.contains("临近期限"), "{board}");

    let reminders = async || -> Vec<String> {
        sqlx::query_scalar(
            "select text from notification where user_id = $1 and text like '督办提醒%'
             order by created_at",
        )
        .bind(lead.id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
    };
    let a = Binary::start(&app, &[("YISHI_REMINDER_SECONDS", "1")]);
    let b = Binary::start(&app, &[("YISHI_REMINDER_SECONDS", "1")]);
    eventually(10_000, 100, "no reminder three days before", async || {
        reminders().await.len() == 1
    })
    .await;
    assert!(
        reminders().await[0].contains("将于"),
        "{:?}",
        reminders().await
    );
    due_in(0).await;
    eventually(10_000, 100, "no reminder on the due date", async || {
        reminders().await.len() == 2
    })
    .await;
    assert!(
        reminders().await[1].contains("今日"),
        "{:?}",
        reminders().await
    );
    // Several more rounds of both instances send nothing more.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(reminders().await.len(), 2);
    assert_eq!(
        count_where(
            &app,
            "select count(*) from audit_entry where action = 'task.auto_remind' and actor_id is null"
        )
        .await,
        2
    );
    a.kill();
    b.kill();
    due_in(-1).await;
    assert_eq!(urgency().await, "overdue");
    let board = body_text(
        app.page("GET", "/tasks", Some(&r.secretary.token), None)
            .await,
    )
    .await;
    assert!(
        board.contains("urgency-overdue") && board.contains("已逾期"),
        "{board}"
    );

    // The group's next meeting reports on the last one's decisions, by itself.
    let next = crate::fixtures::meeting(&app, r, 20).await;
    let report = async || {
        let (_, v) = get(
            &app,
            &r.members[2].token,
            &format!("/api/v1/meetings/{next}"),
        )
        .await;
        v["followup_report"].clone()
    };
    let before = report().await;
    assert_eq!(before["reports_on"], p.m.to_string(), "{before}");
    assert_eq!(before["tasks"][0]["description"], "制定实施细则");
    assert_eq!(before["tasks"][0]["urgency"], "overdue");
    let page = body_text(
        app.page(
            "GET",
            &format!("/meetings/{next}"),
            Some(&r.members[2].token),
            None,
        )
        .await,
    )
    .await;
    assert!(
        page.contains("汇报事项:上次会议决定事项落实情况") && page.contains("已逾期"),
        "{page}"
    );

    // Closing (销号) needs the closing note and may carry a file: a material of the topic, kept
    // in the same transaction; then the task is no longer coloured.
    let close = format!("/api/v1/tasks/{task}/close");
    let pdf = b"%PDF-1.4 notice";
    let (status, _) = app
        .upload(&close, &lead.token, "细则.pdf", pdf, &[("note", " ")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("material").await,
        0,
        "a refused closing keeps no file"
    );
    let (status, closed) = app
        .upload(
            &close,
            &lead.token,
            "细则.pdf",
            pdf,
            &[("note", "细则已印发")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let last = &closed["progress"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["done"].as_bool(), last["file_name"].as_str()),
        (Some(true), Some("细则.pdf"))
    );
    let file = app
        .page(
            "GET",
            &format!(
                "/topics/{}/materials/{}",
                last["topic_id"].as_str().unwrap(),
                last["material_id"].as_str().unwrap()
            ),
            Some(&r.secretary.token),
            None,
        )
        .await;
    assert_eq!(file.status(), StatusCode::OK);
    refused(
        &app.upload(
            &close,
            &lead.token,
            "再次.pdf",
            pdf,
            &[("note", "再次销号")],
        )
        .await,
        "R-SUPERVISION",
    );
    assert_eq!(urgency().await, "closed");
    // The next meeting's report follows (its read model learns of the task's progress).
    let after = report().await;
    assert_eq!(after["tasks"][0]["urgency"], "closed", "{after}");
    assert_eq!(after["tasks"][0]["last_note"], "细则已印发");
}
