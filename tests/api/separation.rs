//! 三员分立 (issue 14, 5): the admin manages accounts and the organisation and nothing else —
//! never another role, never a membership, never another person's session; a password reset
//! is seen by its owner and by the discipline group's 权限变更 list.

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::{ADMIN_PASSWORD, PASSWORD, TestApp, body_text};

async fn admin_id(app: &TestApp) -> Uuid {
    sqlx::query_scalar("select user_id from app_user where login = 'admin'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The admin cannot give itself the discipline group's or 综合科's role, cannot create or make
/// an admin who holds another role, cannot join a party group, and so never reads the audit log.
#[tokio::test]
async fn the_admin_cannot_take_another_role_or_a_membership() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let me = admin_id(&app).await;
    for roles in [
        json!(["admin", "discipline"]),
        json!(["admin", "office"]),
        json!(["discipline"]),
    ] {
        let (status, body) = app
            .api(
                "PATCH",
                &format!("/api/v1/users/{me}"),
                Some(&admin),
                Some(json!({"roles": roles})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{roles}: {body}");
        assert_eq!(body["errors"][0]["field"], "roles", "{body}");
    }
    let (status, body) = app
        .api("POST", "/api/v1/users", Some(&admin),
             Some(json!({"login": "admin2", "name": "第二管理员", "password": PASSWORD, "roles": ["admin", "office"]})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("三员分立"),
        "{body}"
    );
    let (other, _) = app.user("zhangsan", &["staff"]).await;
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{other}"),
            Some(&admin),
            Some(json!({"roles": ["admin", "staff"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let group = app.party_group("测试党组").await;
    let (status, body) = app
        .api(
            "POST",
            &format!("/api/v1/party-groups/{group}/members"),
            Some(&admin),
            Some(json!({"user_id": me, "position": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A member of a group cannot be made an admin either.
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/party-groups/{group}/members"),
            Some(&admin),
            Some(json!({"user_id": other, "position": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{other}"),
            Some(&admin),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was written, and the database refuses what the application would not do.
    let roles: Vec<String> = sqlx::query_scalar("select role from user_role where user_id = $1")
        .bind(me)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(roles, ["admin"]);
    let refused = sqlx::query("insert into user_role values ($1, 'discipline')")
        .bind(me)
        .execute(&app.pool)
        .await;
    assert!(refused.is_err(), "the database keeps the rule");
    for path in [
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/audit/permission-changes",
    ] {
        assert_eq!(
            app.api("GET", path, Some(&admin), None).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
}

/// A password the admin resets ends the owner's sessions, tells the owner, and must be
/// replaced before anything else — so signing in as the 书记 with it shows nothing of the
/// 书记's; the discipline group sees the reset and every role change in 权限变更.
#[tokio::test]
async fn a_reset_password_revokes_sessions_notifies_and_must_be_changed_first() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (shuji, old_token) = app.user("shuji", &["leader"]).await;
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{shuji}"),
            Some(&admin),
            Some(json!({"password": "admin-chose-9x"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.api("GET", "/api/v1/me", Some(&old_token), None).await.0,
        StatusCode::UNAUTHORIZED
    );

    let token = app.login("shuji", "admin-chose-9x").await;
    for path in [
        "/api/v1/meetings",
        "/api/v1/topics",
        "/api/v1/notifications",
    ] {
        let (status, body) = app.api("GET", path, Some(&token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["title"], "须先修改密码", "{body}");
    }
    let res = app.page("GET", "/meetings", Some(&token), None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/me/password");
    assert_eq!(
        app.api("GET", "/api/v1/me", Some(&token), None).await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .api(
            "POST",
            "/api/v1/me/password",
            Some(&token),
            Some(
                json!({"current_password": "admin-chose-9x", "new_password": "only-shuji-knows-7"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let token = app.login("shuji", "only-shuji-knows-7").await;
    let (status, notes) = app
        .api("GET", "/api/v1/notifications", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{notes}");
    assert!(
        notes.to_string().contains("密码已被系统管理员重置"),
        "{notes}"
    );

    // The admin may not reset its own password this way (it changes it as its owner does).
    let me = admin_id(&app).await;
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{me}"),
            Some(&admin),
            Some(json!({"password": "new-admin-pass-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let _ = ADMIN_PASSWORD;

    let (other, _) = app.user("lisi", &["staff"]).await;
    app.api(
        "PATCH",
        &format!("/api/v1/users/{other}"),
        Some(&admin),
        Some(json!({"roles": ["staff", "office"]})),
    )
    .await;
    let (_, jijian) = app.user("jijian", &["discipline"]).await;
    let (status, changes) = app
        .api(
            "GET",
            "/api/v1/audit/permission-changes",
            Some(&jijian),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changes}");
    let text = changes.to_string();
    assert!(text.contains("重置密码"), "{text}");
    assert!(
        text.contains("角色:科室工作人员 → 综合科、科室工作人员"),
        "{text}"
    );
    assert!(text.contains("新建账号"), "{text}");
    let page = body_text(
        app.page("GET", "/audit/permissions", Some(&jijian), None)
            .await,
    )
    .await;
    assert!(
        page.contains("权限变更") && page.contains("重置密码"),
        "{page}"
    );
}
