//! Topic intake: drafting a topic, its prerequisites, visibility and refusals.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, body_text};

struct Fixture {
    group: Uuid,
    leader: Uuid,
    staff: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let group = app.party_group("州医疗保障局党组").await;
    let (leader, _) = app.user("fenguan", &["leader"]).await;
    let (_, staff) = app.user("keyuan", &["staff"]).await;
    Fixture {
        group,
        leader,
        staff,
    }
}

fn topic(f: &Fixture, extra: Value) -> Value {
    let mut body = json!({
        "party_group_id": f.group,
        "title": "关于调整门诊慢特病待遇的请示",
        "category": 12,
        "content": "拟将门诊慢特病报销比例提高至 80%。",
        "matters_to_decide": "是否同意调整。",
        "consultation_opinions": "已征求财务科、法规科意见。",
        "responsible_user_id": f.leader,
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

#[tokio::test]
async fn a_section_clerk_drafts_a_topic_and_sees_what_it_needs() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let body = topic(
        &f,
        json!({"category": 33, "amount_fen": 500000, "is_major_policy": true}),
    );
    let (status, t) = app
        .api("POST", "/api/v1/topics", Some(&f.staff), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["status"], "draft");
    assert_eq!(t["amount_fen"], 500000);
    assert_eq!(
        t["missing"],
        json!(["stability_risk", "integrity", "legality", "finance_opinion"])
    );
    let finance = t["prerequisites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "finance_opinion")
        .unwrap();
    assert_eq!(finance["rules"], json!(["R-LARGE-SPEND"]));
    assert_eq!(finance["satisfied"], false);

    let entry: (String, String) = sqlx::query_as(
        "select chain, action from audit_entry where entity_type = 'topic' and entity_id = $1",
    )
    .bind(t["topic_id"].as_str().unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        entry,
        (format!("pg:{}", f.group), "topic.create".to_owned())
    );

    let (_, mine) = app.api("GET", "/api/v1/topics", Some(&f.staff), None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

/// R-LARGE-SPEND: 4999.99元 needs no finance review, 5000.00元 does.
#[tokio::test]
async fn r_large_spend_threshold_decides_the_finance_review() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    for (fen, needs) in [(499_999, false), (500_000, true)] {
        let (status, t) = app
            .api(
                "POST",
                "/api/v1/topics",
                Some(&f.staff),
                Some(topic(&f, json!({"category": 33, "amount_fen": fen}))),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let missing: Vec<&str> = t["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(missing.contains(&"finance_opinion"), needs, "{fen} fen");
    }
}

#[tokio::test]
async fn bad_topic_input_names_the_fields_and_writes_nothing() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, not_a_leader) = app.user("putong", &["staff"]).await;
    let me: Value = app
        .api("GET", "/api/v1/me", Some(&not_a_leader), None)
        .await
        .1;
    let body = topic(
        &f,
        json!({
            "title": "",
            "category": 34,
            "amount_fen": -1,
            "classification": "top-secret",
            "is_procurement": true,
            "responsible_user_id": me["user_id"],
        }),
    );
    let (status, problem) = app
        .api("POST", "/api/v1/topics", Some(&f.staff), Some(body))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "title",
            "category",
            "amount_fen",
            "classification",
            "procurement_ref",
            "responsible_user_id"
        ]
    );
    let (status, problem) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({"amount_fen": "5000"}))),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "amount_fen");
    assert_eq!(app.count("topic").await, 0);
}

/// R-ONE-PERSON-ONE-ITEM: a cadre-appointment topic names exactly one cadre.
#[tokio::test]
async fn r_one_person_one_item_a_batch_of_cadres_is_refused() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (status, problem) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(
                &f,
                json!({"category": 24, "cadre_name": "张三、李四"}),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["rule"], "R-ONE-PERSON-ONE-ITEM");
    assert_eq!(app.count("topic").await, 0);
    let (status, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({"category": 24, "cadre_name": "张三"}))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        t["missing"].as_array().unwrap().len(),
        9,
        "R-PREREQ-PERSONNEL"
    );
}

/// R-CONFIDENTIAL: a topic is seen by its proposer, its 分管 leader, 综合科 and the group's
/// members; everyone else (the admin included) is told it does not exist.
#[tokio::test]
async fn r_confidential_topics_are_visible_only_to_those_concerned() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({}))),
        )
        .await;
    let path = format!("/api/v1/topics/{}", t["topic_id"].as_str().unwrap());
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    let (_, office) = app.user("zongheke", &["office"]).await;
    let (member_id, member) = app.user("chengyuan", &["leader"]).await;
    let admin = app.admin().await;
    app.api(
        "POST",
        &format!("/api/v1/party-groups/{}/members", f.group),
        Some(&admin),
        Some(json!({"user_id": member_id, "position": "member"})),
    )
    .await;
    let (_, other_staff) = app.user("biede", &["staff"]).await;
    for (who, token, want) in [
        ("proposer", &f.staff, 200),
        ("分管 leader", &leader, 200),
        ("综合科", &office, 200),
        ("member", &member, 200),
        ("other staff", &other_staff, 404),
        ("admin", &admin, 404),
    ] {
        let (status, _) = app.api("GET", &path, Some(token), None).await;
        assert_eq!(status.as_u16(), want, "{who}");
    }
    let (status, _) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&admin),
            Some(topic(&f, json!({}))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the admin proposes nothing");
}

#[tokio::test]
async fn the_topic_form_takes_yuan_and_shows_the_prerequisites() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let form = |yuan: &str| {
        format!(
            "party_group_id={}&title=%3Cb%3E购置设备%3C%2Fb%3E&category=33&responsible_user_id={}&amount_yuan={yuan}&classification=none",
            f.group, f.leader
        )
    };
    let res = app
        .page("POST", "/topics", Some(&f.staff), Some(&form("5000.00")))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let html = body_text(app.page("GET", &location, Some(&f.staff), None).await).await;
    assert!(
        html.contains("财务意见") && html.contains("R-LARGE-SPEND") && html.contains("¥5,000.00"),
        "{html}"
    );
    assert!(
        html.contains("&#60;b&#62;") || html.contains("&lt;b&gt;"),
        "the title is escaped"
    );

    let res = app
        .page("POST", "/topics", Some(&f.staff), Some(&form("4999.999")))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body_text(res).await;
    assert!(
        html.contains("<strong>金额(元)</strong>")
            && !html.contains(">amount_yuan")
            && !html.contains("amount_yuan:"),
        "the field's Chinese label, not its name (which only the markup keeps): {html}"
    );
    let list = body_text(app.page("GET", "/topics", Some(&f.staff), None).await).await;
    assert!(list.contains("起草议题") && list.contains("大额资金使用方案"));
}

/// Creates a user in a section of `kind` and signs them in.
async fn clerk(app: &TestApp, login: &str, kind: &str) -> String {
    let admin = app.admin().await;
    let (_, section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": format!("{kind}科"), "kind": kind})),
        )
        .await;
    let (status, _) = app
        .api(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(
                json!({"login": login, "name": login, "password": crate::support::PASSWORD,
                         "section_id": section["section_id"], "roles": ["staff"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.login(login, crate::support::PASSWORD).await
}

/// Journeys 3–6 of issue 4 for a procurement: sign-off, the four opinions by their owners,
/// submission, 综合科's return and the resubmission, then withdrawal.
#[tokio::test]
async fn r_prereq_procurement_a_procurement_reaches_the_office_with_every_opinion() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let body = topic(
        &f,
        json!({"category": 31, "is_procurement": true, "procurement_ref": "CG-2026-011"}),
    );
    let (_, t) = app
        .api("POST", "/api/v1/topics", Some(&f.staff), Some(body))
        .await;
    let id = t["topic_id"].as_str().unwrap().to_owned();
    let at = |action: &str| format!("/api/v1/topics/{id}/{action}");

    // R-TOPIC-SOURCE: no submission before the 分管 leader signs off.
    let (status, p) = app.api("POST", &at("submit"), Some(&f.staff), None).await;
    assert_eq!(
        (status, p["rule"].as_str()),
        (StatusCode::CONFLICT, Some("R-TOPIC-SOURCE"))
    );
    let (status, _) = app.api("POST", &at("sign-off"), Some(&f.staff), None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the named leader signs off"
    );
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    let (status, signed) = app.api("POST", &at("sign-off"), Some(&leader), None).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert!(signed["signed_off_at"].is_string());

    // The refusal lists every missing opinion, and nothing changes.
    let (status, p) = app.api("POST", &at("submit"), Some(&f.staff), None).await;
    assert_eq!(p["rule"], "R-PREREQ-PROCUREMENT");
    assert_eq!(status, StatusCode::CONFLICT);
    for label in ["财务意见", "法规意见", "派驻纪检组意见", "法律顾问审核意见"]
    {
        assert!(p["detail"].as_str().unwrap().contains(label), "{label}");
    }

    let finance = clerk(&app, "caiwu", "finance").await;
    let legal = clerk(&app, "fagui", "legal").await;
    let (_, discipline) = app.user("jijian", &["discipline"]).await;
    let (_, counsel) = app.user("guwen", &["counsel"]).await;
    let record = |kind: &str| json!({"kind": kind, "conclusion": "同意", "note": "经审核无异议"});
    // An attachment belongs to a record on file, uploaded by the record's owner.
    let attach = |kind: &str| format!("/api/v1/topics/{id}/prerequisites/{kind}/attachment");
    let pdf = b"%PDF-1.4 signed opinion".as_slice();
    let (status, body) = app
        .upload(&attach("finance_opinion"), &finance, "意见.pdf", pdf, &[])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "kind");
    let (status, _) = app
        .api(
            "POST",
            &at("prerequisites"),
            Some(&finance),
            Some(record("counsel_review")),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a prerequisite recorded by the wrong role"
    );
    for (token, kind) in [
        (&finance, "finance_opinion"),
        (&legal, "legal_opinion"),
        (&discipline, "discipline_opinion"),
        (&counsel, "counsel_review"),
    ] {
        let (status, view) = app
            .api(
                "POST",
                &at("prerequisites"),
                Some(token),
                Some(record(kind)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {view}");
    }
    let (status, file) = app
        .upload(
            &attach("finance_opinion"),
            &finance,
            "财务意见.pdf",
            pdf,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["prerequisite_kind"], "finance_opinion");
    for (token, kind, want) in [
        (&f.staff, "finance_opinion", StatusCode::FORBIDDEN),
        (&finance, "legal_opinion", StatusCode::FORBIDDEN),
        (&finance, "no_such_kind", StatusCode::NOT_FOUND),
    ] {
        let (status, _) = app.upload(&attach(kind), token, "x.pdf", pdf, &[]).await;
        assert_eq!(status, want, "{kind}");
    }
    assert_eq!(app.count("material").await, 1, "nothing else stored");
    let (status, view) = app.api("POST", &at("submit"), Some(&f.staff), None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "submitted");
    assert_eq!(view["missing"], json!([]));
    let finance_row = view["prerequisites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "finance_opinion")
        .unwrap();
    assert_eq!(finance_row["conclusion"], "同意");
    assert_eq!(finance_row["by"], "caiwu");

    // 综合科 sees it, returns it with a reason; the proposer resubmits.
    let (_, office) = app.user("zongheke", &["office"]).await;
    let (status, desk) = app
        .api("GET", "/api/v1/topics/submitted", Some(&office), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(desk[0]["topic_id"], id.as_str());
    let html = body_text(app.page("GET", "/topics", Some(&office), None).await).await;
    assert!(
        html.contains("已报送综合科的议题") && html.contains("关于调整门诊慢特病待遇的请示"),
        "{html}"
    );
    let (status, p) = app
        .api(
            "POST",
            &at("return"),
            Some(&office),
            Some(json!({"reason": " "})),
        )
        .await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (status, returned) = app
        .api(
            "POST",
            &at("return"),
            Some(&office),
            Some(json!({"reason": "请补充采购预算明细"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            returned["status"].as_str(),
            returned["returned_reason"].as_str()
        ),
        (Some("returned"), Some("请补充采购预算明细"))
    );
    let (status, _) = app.api("POST", &at("submit"), Some(&f.staff), None).await;
    assert_eq!(status, StatusCode::OK);

    // The 书记 of the group finds it in the queue of topics ready for an agenda.
    let (shuji_id, shuji) = app.user("shuji", &["leader"]).await;
    let admin = app.admin().await;
    app.api(
        "POST",
        &format!("/api/v1/party-groups/{}/members", f.group),
        Some(&admin),
        Some(json!({"user_id": shuji_id, "position": "secretary"})),
    )
    .await;
    let html = body_text(app.page("GET", "/topics", Some(&shuji), None).await).await;
    assert!(
        html.contains("待列入议程的议题") && html.contains("关于调整门诊慢特病待遇的请示"),
        "{html}"
    );

    // Withdrawal ends it; nothing more can be done.
    let (status, gone) = app.api("POST", &at("withdraw"), Some(&f.staff), None).await;
    assert_eq!(
        (status, gone["status"].as_str()),
        (StatusCode::OK, Some("withdrawn"))
    );
    let (status, _) = app.api("POST", &at("submit"), Some(&f.staff), None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_entry where entity_type = 'topic' order by chain, seq",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.as_str() == "topic.prerequisite")
            .count(),
        4
    );
    assert!(
        [
            "topic.sign_off",
            "topic.submit",
            "topic.return",
            "topic.withdraw"
        ]
        .iter()
        .all(|a| actions.iter().any(|x| x == a))
    );
}

/// R-MATERIALS: a topic without its content or consultation opinions is not submitted.
#[tokio::test]
async fn r_materials_incomplete_materials_block_submission() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(
                &f,
                json!({"content": "", "consultation_opinions": ""}),
            )),
        )
        .await;
    let id = t["topic_id"].as_str().unwrap();
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    app.api(
        "POST",
        &format!("/api/v1/topics/{id}/sign-off"),
        Some(&leader),
        None,
    )
    .await;
    let (status, p) = app
        .api(
            "POST",
            &format!("/api/v1/topics/{id}/submit"),
            Some(&f.staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(p["rule"], "R-MATERIALS");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("主要内容、征求意见情况")
    );
    let (_, still) = app
        .api("GET", &format!("/api/v1/topics/{id}"), Some(&f.staff), None)
        .await;
    assert_eq!(still["status"], "draft");
}

/// Two signatures at the same moment: one wins, the other is told so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_topic_source_simultaneous_sign_offs_conflict_cleanly() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({}))),
        )
        .await;
    let path = format!(
        "/api/v1/topics/{}/sign-off",
        t["topic_id"].as_str().unwrap()
    );
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (app, path, leader) = (app.clone(), path.clone(), leader.clone());
        tasks.spawn(async move { app.api("POST", &path, Some(&leader), None).await.0 });
    }
    let mut statuses = tasks.join_all().await;
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let signed: i64 =
        sqlx::query_scalar("select count(*) from audit_entry where action = 'topic.sign_off'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(signed, 1);
}

#[tokio::test]
async fn the_topic_page_offers_what_each_person_may_do() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({"category": 33, "amount_fen": 800000}))),
        )
        .await;
    let page = format!("/topics/{}", t["topic_id"].as_str().unwrap());
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    let html = body_text(app.page("GET", &page, Some(&leader), None).await).await;
    assert!(
        html.contains("分管领导签字同意") && !html.contains("报送综合科</button>"),
        "{html}"
    );
    let html = body_text(app.page("GET", &page, Some(&f.staff), None).await).await;
    assert!(html.contains("报送综合科</button>") && html.contains("撤回议题"));
    // Everything that blocks, as the refusal would: the sign-off and the finance opinion.
    assert!(
        html.contains("disabled")
            && html.contains("暂不能报送,尚缺")
            && html.contains("须经分管局领导签字同意")
            && html.contains("尚缺前置程序"),
        "the page says all that keeps the topic from being submitted: {html}"
    );
    let finance = clerk(&app, "caiwu", "finance").await;
    let html = body_text(app.page("GET", &page, Some(&finance), None).await).await;
    assert!(
        html.contains("录入前置审查") && html.contains("value=\"finance_opinion\""),
        "{html}"
    );
    let res = app
        .page(
            "POST",
            &format!("{page}/prerequisites"),
            Some(&finance),
            Some("kind=finance_opinion&conclusion=同意&note="),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = body_text(app.page("GET", &page, Some(&finance), None).await).await;
    assert!(html.contains("已完成") && !html.contains("录入前置审查"));
}

/// R-TOPIC-SOURCE: the sign-off approved the topic as it was; changing it voids the sign-off
/// and says so.
#[tokio::test]
async fn r_topic_source_an_edit_voids_the_sign_off() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({}))),
        )
        .await;
    let id = t["topic_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/topics/{id}");
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    app.api("POST", &format!("{path}/sign-off"), Some(&leader), None)
        .await;

    let (status, same) = app
        .api("PUT", &path, Some(&f.staff), Some(topic(&f, json!({}))))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        same["sign_off_voided"], false,
        "no change, the signature stands"
    );
    assert!(same["signed_off_at"].is_string());

    let (status, _) = app
        .api(
            "PUT",
            &path,
            Some(&leader),
            Some(topic(&f, json!({"title": "改"}))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the proposer edits");
    let (status, changed) = app
        .api(
            "PUT",
            &path,
            Some(&f.staff),
            Some(topic(
                &f,
                json!({"title": "关于调整门诊慢特病待遇的请示(修改稿)"}),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["sign_off_voided"], true);
    assert!(changed["signed_off_at"].is_null());
    let (status, p) = app
        .api("POST", &format!("{path}/submit"), Some(&f.staff), None)
        .await;
    assert_eq!(
        (status, p["rule"].as_str()),
        (StatusCode::CONFLICT, Some("R-TOPIC-SOURCE"))
    );

    // Once submitted, it is no longer edited.
    app.api("POST", &format!("{path}/sign-off"), Some(&leader), None)
        .await;
    let (status, _) = app
        .api("POST", &format!("{path}/submit"), Some(&f.staff), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .api(
            "PUT",
            &path,
            Some(&f.staff),
            Some(topic(&f, json!({"title": "再改"}))),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_edit_form_keeps_the_values_and_tells_of_a_voided_sign_off() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({"amount_fen": 123456, "category": 33}))),
        )
        .await;
    let page = format!("/topics/{}", t["topic_id"].as_str().unwrap());
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    app.page("POST", &format!("{page}/sign-off"), Some(&leader), Some(""))
        .await;
    let html = body_text(app.page("GET", &page, Some(&f.staff), None).await).await;
    assert!(
        html.contains("value=\"1234.56\"") && html.contains("<option value=\"33\" selected"),
        "{html}"
    );
    let form = format!(
        "party_group_id={}&title=新标题&category=33&responsible_user_id={}&amount_yuan=1234.56&content=内容&consultation_opinions=意见&matters_to_decide=事项&classification=none",
        f.group, f.leader
    );
    let res = app
        .page("POST", &format!("{page}/edit"), Some(&f.staff), Some(&form))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("?voided=1"));
    let html = body_text(app.page("GET", &location, Some(&f.staff), None).await).await;
    assert!(html.contains("原分管领导签字随之作废") && html.contains("新标题"));
}

/// Each reviewer has an inbox of the topics waiting for them, and only those.
#[tokio::test]
async fn reviewers_see_the_topics_waiting_for_them() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, spend) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({"category": 33, "amount_fen": 600000}))),
        )
        .await;
    let (_, buy) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(
                &f,
                json!({"category": 31, "is_procurement": true, "procurement_ref": "CG-1"}),
            )),
        )
        .await;
    app.api(
        "POST",
        "/api/v1/topics",
        Some(&f.staff),
        Some(topic(&f, json!({}))),
    )
    .await;
    let finance = clerk(&app, "caiwu", "finance").await;
    let (_, discipline) = app.user("jijian", &["discipline"]).await;

    let (status, inbox) = app
        .api("GET", "/api/v1/reviews", Some(&finance), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["topic_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            spend["topic_id"].as_str().unwrap(),
            buy["topic_id"].as_str().unwrap()
        ]
    );
    assert_eq!(inbox[0]["kinds"], json!(["finance_opinion"]));

    let (_, inbox) = app
        .api("GET", "/api/v1/reviews", Some(&discipline), None)
        .await;
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["kinds"], json!(["discipline_opinion"]));

    let path = format!(
        "/api/v1/topics/{}/prerequisites",
        spend["topic_id"].as_str().unwrap()
    );
    app.api(
        "POST",
        &path,
        Some(&finance),
        Some(json!({"kind": "finance_opinion", "conclusion": "同意"})),
    )
    .await;
    let (_, inbox) = app
        .api("GET", "/api/v1/reviews", Some(&finance), None)
        .await;
    assert_eq!(
        inbox.as_array().unwrap().len(),
        1,
        "the recorded one has left the inbox"
    );

    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    let (_, inbox) = app.api("GET", "/api/v1/reviews", Some(&leader), None).await;
    assert_eq!(inbox, json!([]));
    let html = body_text(app.page("GET", "/reviews", Some(&finance), None).await).await;
    assert!(html.contains("财务意见"), "{html}");
}

/// R-PREREQ-POLICY: the policy assessments are recorded by the sections the 书记 assigns.
#[tokio::test]
async fn r_prereq_policy_assessments_come_from_the_sections_the_secretary_assigns() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({"is_major_policy": true}))),
        )
        .await;
    let id = t["topic_id"].as_str().unwrap().to_owned();
    let legal = clerk(&app, "fagui", "legal").await;
    let admin = app.admin().await;
    let (_, sections) = app.api("GET", "/api/v1/sections", Some(&admin), None).await;
    let legal_section = sections[0]["section_id"].as_str().unwrap().to_owned();
    let record = json!({"kind": "legality", "conclusion": "合法合规"});
    let prereq = format!("/api/v1/topics/{id}/prerequisites");
    let (status, _) = app
        .api("POST", &prereq, Some(&legal), Some(record.clone()))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "not yet assigned: the topic is not theirs to see"
    );

    let (shuji_id, shuji) = app.user("shuji", &["leader"]).await;
    let (member_id, member) = app.user("chengyuan", &["leader"]).await;
    for (user, position) in [(shuji_id, "secretary"), (member_id, "member")] {
        app.api(
            "POST",
            &format!("/api/v1/party-groups/{}/members", f.group),
            Some(&admin),
            Some(json!({"user_id": user, "position": position})),
        )
        .await;
    }
    let assign = format!("/api/v1/topics/{id}/assignments");
    let body = json!({"section_id": legal_section});
    let (status, _) = app
        .api("POST", &assign, Some(&member), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the 书记 assigns");
    let (status, view) = app.api("POST", &assign, Some(&shuji), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["assigned_sections"], json!([legal_section]));

    let (status, view) = app.api("POST", &prereq, Some(&legal), Some(record)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (_, inbox) = app.api("GET", "/api/v1/reviews", Some(&legal), None).await;
    assert_eq!(inbox[0]["kinds"], json!(["stability_risk", "integrity"]));
    let (status, _) = app
        .api(
            "POST",
            &prereq,
            Some(&f.staff),
            Some(json!({"kind": "integrity", "conclusion": "无"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the proposer's own section was not assigned"
    );

    let (_, plain) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({}))),
        )
        .await;
    let (status, p) = app
        .api(
            "POST",
            &format!(
                "/api/v1/topics/{}/assignments",
                plain["topic_id"].as_str().unwrap()
            ),
            Some(&shuji),
            Some(json!({"section_id": legal_section})),
        )
        .await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("section_id"))
    );
}

/// The drafting form asks the server what a topic with these facts will need.
#[tokio::test]
async fn the_preview_tells_what_a_draft_will_need() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let ask = |query: String| {
        let app = &app;
        let token = f.staff.clone();
        async move {
            app.api(
                "GET",
                &format!("/api/v1/topics/prerequisites?{query}"),
                Some(&token),
                None,
            )
            .await
        }
    };
    let (status, list) = ask(format!(
        "party_group_id={}&category=33&amount_yuan=5000.00&is_procurement=false",
        f.group
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["kind"], "finance_opinion");
    let (_, list) = ask(format!(
        "party_group_id={}&category=33&amount_yuan=4999.99",
        f.group
    ))
    .await;
    assert_eq!(list, json!([]));
    let (status, p) = ask(format!(
        "party_group_id={}&category=33&amount_yuan=1.234",
        f.group
    ))
    .await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("amount_yuan"))
    );
    let (status, p) = ask(format!("party_group_id={}&category=40", f.group)).await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("category"))
    );
    assert_eq!(app.count("topic").await, 0, "a preview saves nothing");
}

/// The home page is each person's to-do list: the leader's sign-offs, the reviewer's inbox,
/// 综合科's desk.
#[tokio::test]
async fn the_home_page_lists_what_each_person_must_do_next() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({"category": 33, "amount_fen": 700000}))),
        )
        .await;
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    let html = body_text(app.page("GET", "/", Some(&leader), None).await).await;
    assert!(
        html.contains("待我签字:关于调整门诊慢特病待遇的请示"),
        "{html}"
    );
    let finance = clerk(&app, "caiwu", "finance").await;
    let html = body_text(app.page("GET", "/", Some(&finance), None).await).await;
    assert!(html.contains("待我前置审查的议题:1 个"), "{html}");

    let id = t["topic_id"].as_str().unwrap();
    app.api(
        "POST",
        &format!("/api/v1/topics/{id}/sign-off"),
        Some(&leader),
        None,
    )
    .await;
    app.api(
        "POST",
        &format!("/api/v1/topics/{id}/prerequisites"),
        Some(&finance),
        Some(json!({"kind": "finance_opinion", "conclusion": "同意"})),
    )
    .await;
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/topics/{id}/submit"),
            Some(&f.staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, office) = app.user("zongheke", &["office"]).await;
    let html = body_text(app.page("GET", "/", Some(&office), None).await).await;
    assert!(html.contains("待审核的报送议题:1 个"), "{html}");
    let html = body_text(app.page("GET", "/", Some(&leader), None).await).await;
    assert!(
        !html.contains("待我签字") && html.contains("目前没有待办事项"),
        "{html}"
    );
}

/// Issue 17 (8): the proposer is told when a topic is ready to go to 综合科, and 综合科 when it
/// has arrived.
#[tokio::test]
async fn the_proposer_is_told_when_a_topic_is_ready_to_submit() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (_, t) = app
        .api(
            "POST",
            "/api/v1/topics",
            Some(&f.staff),
            Some(topic(&f, json!({}))),
        )
        .await;
    let id = t["topic_id"].as_str().unwrap().to_owned();
    let home = async |token: &str| body_text(app.page("GET", "/", Some(token), None).await).await;
    let ready = "可以报送综合科:关于调整门诊慢特病待遇的请示";
    assert!(!home(&f.staff).await.contains(ready), "not signed off yet");
    let leader = app.login("fenguan", crate::support::PASSWORD).await;
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/topics/{id}/sign-off"),
            Some(&leader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(home(&f.staff).await.contains(ready));
    assert!(
        !home(&leader).await.contains(ready),
        "the proposer's step only"
    );
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/topics/{id}/submit"),
            Some(&f.staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!home(&f.staff).await.contains(ready));
}
