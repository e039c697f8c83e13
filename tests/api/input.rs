//! Bad input answers 422 naming the field (or 415 for a wrong media type), writes nothing and
//! never answers 500.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, body_json};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn missing_overlong_and_unknown_values_name_their_fields() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let users_before = app.count("app_user").await;
    let entries_before = app.count("audit_entry").await;
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "/api/v1/users",
            json!({}),
            vec!["login", "name", "password"],
        ),
        (
            "/api/v1/users",
            json!({"login": "ok.login", "name": "张".repeat(51), "password": "long-enough-1"}),
            vec!["name"],
        ),
        (
            "/api/v1/users",
            json!({"login": "ok.login", "name": "张三", "password": "long-enough-1", "roles": ["emperor"]}),
            vec!["roles"],
        ),
        (
            "/api/v1/users",
            json!({"login": "ok.login", "name": "张三", "password": "long-enough-1", "roles": "admin"}),
            vec!["roles"],
        ),
        (
            "/api/v1/users",
            json!({"login": "ok.login", "name": "张三", "password": "long-enough-1", "section_id": "not-a-uuid"}),
            vec!["section_id"],
        ),
        (
            "/api/v1/users",
            json!({"login": "a b", "name": "张三", "password": "long-enough-1"}),
            vec!["login"],
        ),
        (
            "/api/v1/sections",
            json!({"name": "", "kind": "kitchen"}),
            vec!["name", "kind"],
        ),
        (
            "/api/v1/sections",
            json!({"name": 42, "kind": "office"}),
            vec!["name"],
        ),
        (
            "/api/v1/party-groups",
            json!({"name": "党".repeat(101)}),
            vec!["name"],
        ),
    ];
    for (path, body, want) in cases {
        let (status, problem) = app
            .api("POST", path, Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {problem}"
        );
        assert_eq!(fields(&problem), want, "{path} {body}");
        assert_eq!(problem["status"], 422);
    }
    assert_eq!(app.count("app_user").await, users_before);
    assert_eq!(app.count("audit_entry").await, entries_before);
}

#[tokio::test]
async fn membership_input_names_position_areas_date_and_user() {
    let app = TestApp::new().await;
    let group = app.party_group("党组").await;
    let admin = app.admin().await;
    let (status, problem) = app
        .api("POST", &format!("/api/v1/party-groups/{group}/members"), Some(&admin),
             Some(json!({"user_id": "nobody", "position": "king", "areas": ["moon"], "started_on": "2026-13-01"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&problem),
        ["position", "areas", "started_on", "user_id"]
    );
    let (status, problem) = app
        .api(
            "POST",
            &format!("/api/v1/party-groups/{group}/members"),
            Some(&admin),
            Some(json!({"user_id": uuid::Uuid::now_v7(), "position": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["user_id"]);
    let (status, problem) = app
        .api(
            "PATCH",
            &format!("/api/v1/party-groups/{group}/settings"),
            Some(&admin),
            Some(json!({"quorum_den": 99999999999_i64})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["quorum_den"]);
}

#[tokio::test]
async fn malformed_json_and_wrong_media_type_are_refused_clearly() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let send = |content_type: &'static str, body: &'static str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/sections")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let res = app
        .send(send("application/json", r#"{"name": "综合科", "#))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(fields(&body_json(res).await), ["body"]);

    let res = app
        .send(send(
            "text/plain",
            r#"{"name": "综合科", "kind": "office"}"#,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.count("section").await, 0);
}

#[tokio::test]
async fn duplicate_login_is_a_clear_422() {
    let app = TestApp::new().await;
    app.user("wang.fang", &["staff"]).await;
    let admin = app.admin().await;
    let (status, problem) = app
        .api(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"login": "WANG.FANG", "name": "王芳", "password": "another-pass-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["login"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("已被使用")
    );
}

#[tokio::test]
async fn unknown_ids_and_paths_are_404_problems() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for path in [
        "/api/v1/users/not-a-uuid",
        "/api/v1/party-groups/00000000-0000-0000-0000-000000000000",
        "/api/v1/nothing",
    ] {
        let (status, problem) = app.api("GET", path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(problem["status"], 404);
    }
}
