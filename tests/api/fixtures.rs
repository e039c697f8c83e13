//! A party group ready for meetings, shared by the HTTP and the browser tests: its 书记 and
//! members, 综合科's meeting secretary, a clerk who proposes topics; complete topics, meetings
//! and agenda items made through the API.

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

pub struct Person {
    pub id: Uuid,
    pub token: String,
}

/// A party group with its 书记 and `others` further members (all leaders), 综合科's meeting
/// secretary and a section clerk who proposes topics.
pub struct Room {
    pub group: Uuid,
    pub shuji: Person,
    pub members: Vec<Person>,
    pub secretary: Person,
    pub clerk: String,
}

pub async fn room(app: &TestApp, others: usize) -> Room {
    let group = app.party_group("州医疗保障局党组").await;
    let admin = app.admin().await;
    let join = |id: Uuid, position: &'static str| {
        let admin = admin.clone();
        async move {
            let (status, body) = app
                .api(
                    "POST",
                    &format!("/api/v1/party-groups/{group}/members"),
                    Some(&admin),
                    Some(json!({"user_id": id, "position": position})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    };
    let (id, token) = app.user("shuji", &["leader"]).await;
    join(id, "secretary").await;
    let shuji = Person { id, token };
    let mut members = Vec::new();
    for n in 0..others {
        let (id, token) = app.user(&format!("chengyuan{n}"), &["leader"]).await;
        join(id, if n == 0 { "deputy" } else { "member" }).await;
        members.push(Person { id, token });
    }
    let (id, token) = app.user("mishu", &["office"]).await;
    let (_, clerk) = app.user("keyuan", &["staff"]).await;
    Room {
        group,
        shuji,
        members,
        secretary: Person { id, token },
        clerk,
    }
}

/// A complete topic submitted to 综合科, signed off by the first member as its 分管 leader.
pub async fn ready_topic(app: &TestApp, r: &Room, title: &str, extra: Value) -> Uuid {
    let mut body = json!({
        "party_group_id": r.group, "title": title, "category": 12,
        "content": "内容", "matters_to_decide": "是否同意", "consultation_opinions": "已征求意见",
        "responsible_user_id": r.members[0].id,
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, t) = app
        .api("POST", "/api/v1/topics", Some(&r.clerk), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let id = t["topic_id"].as_str().unwrap().to_owned();
    let signed = app
        .api(
            "POST",
            &format!("/api/v1/topics/{id}/sign-off"),
            Some(&r.members[0].token),
            None,
        )
        .await;
    assert_eq!(signed.0, StatusCode::OK, "{}", signed.1);
    let submitted = app
        .api(
            "POST",
            &format!("/api/v1/topics/{id}/submit"),
            Some(&r.clerk),
            None,
        )
        .await;
    assert_eq!(submitted.0, StatusCode::OK, "{}", submitted.1);
    Uuid::parse_str(&id).unwrap()
}

pub fn days_ahead(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    t.to_offset(time::macros::offset!(+8))
        .replace_time(time::macros::time!(9:00))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A meeting scheduled by 综合科 `days` from now.
pub async fn meeting(app: &TestApp, r: &Room, days: i64) -> Uuid {
    let (status, m) = app
        .api(
            "POST",
            "/api/v1/meetings",
            Some(&r.secretary.token),
            Some(
                json!({"party_group_id": r.group, "starts_at": days_ahead(days),
                        "place": "三楼会议室", "secretary_id": r.secretary.id}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    Uuid::parse_str(m["id"].as_str().unwrap()).unwrap()
}

/// Adds a topic to the agenda as the 书记; the new item's id.
pub async fn add(app: &TestApp, r: &Room, m: Uuid, topic: Uuid) -> Uuid {
    let (status, body) = app
        .api(
            "POST",
            &format!("/api/v1/meetings/{m}/agenda"),
            Some(&r.shuji.token),
            Some(json!({"topic_id": topic})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Uuid::parse_str(body["item_id"].as_str().unwrap()).unwrap()
}

/// A POST with a bearer token: the status and the answer.
pub async fn post(app: &TestApp, token: &str, path: String, body: Value) -> (StatusCode, Value) {
    app.api("POST", &path, Some(token), Some(body)).await
}

/// A POST that must succeed; its answer.
pub async fn ok(app: &TestApp, token: &str, path: String, body: Value) -> Value {
    let (status, answer) = post(app, token, path.clone(), body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

pub fn refused(answer: &(StatusCode, Value), rule: &str) {
    assert_eq!(answer.0, StatusCode::CONFLICT, "{}", answer.1);
    assert_eq!(answer.1["rule"], rule, "{}", answer.1);
}

pub async fn present(
    app: &TestApp,
    r: &Room,
    m: Uuid,
    who: Uuid,
    here: bool,
) -> (StatusCode, Value) {
    app.api(
        "PUT",
        &format!("/api/v1/meetings/{m}/attendance/{who}"),
        Some(&r.secretary.token),
        Some(json!({"present": here})),
    )
    .await
}

/// Everyone of the room present except the members named.
pub async fn seat_all_but(app: &TestApp, r: &Room, m: Uuid, absent: &[usize]) {
    let (s, b) = present(app, r, m, r.shuji.id, true).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for (n, p) in r.members.iter().enumerate() {
        if !absent.contains(&n) {
            let (s, b) = present(app, r, m, p.id, true).await;
            assert_eq!(s, StatusCode::OK, "{b}");
        }
    }
}

/// 综合科 issues the notice, everyone but the `absent` members arrives, the chair opens.
pub async fn convene(app: &TestApp, r: &Room, m: Uuid, absent: &[usize]) {
    ok(
        app,
        &r.secretary.token,
        format!("/api/v1/meetings/{m}/notice"),
        json!({}),
    )
    .await;
    seat_all_but(app, r, m, absent).await;
    ok(
        app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/open"),
        json!({}),
    )
    .await;
}

/// A meeting in session with one item, `title`, under discussion: (meeting, item).
pub async fn item_under_discussion(app: &TestApp, r: &Room, title: &str) -> (Uuid, Uuid) {
    let t = ready_topic(app, r, title, json!({})).await;
    let m = meeting(app, r, 10).await;
    let i = add(app, r, m, t).await;
    convene(app, r, m, &[]).await;
    ok(
        app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/items/{i}/start"),
        json!({}),
    )
    .await;
    (m, i)
}

/// Every member agrees to the item under discussion, the chair last, and the chair opens the
/// vote by `method`.
pub async fn agree_and_open_vote(app: &TestApp, r: &Room, m: Uuid, i: Uuid, method: &str) {
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    for p in r.members.iter().chain([&r.shuji]) {
        ok(app, &p.token, item("opinions"), json!({"stance": "agree"})).await;
    }
    ok(app, &r.shuji.token, item("vote"), json!({"method": method})).await;
}
