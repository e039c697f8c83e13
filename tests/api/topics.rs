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
    assert!(body_text(res).await.contains("amount_yuan"));
    let list = body_text(app.page("GET", "/topics", Some(&f.staff), None).await).await;
    assert!(list.contains("起草议题") && list.contains("大额资金使用方案"));
}
