//! Signing in and out, throttling, expiry and password changes.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{ADMIN_PASSWORD, PASSWORD, TestApp, eventually};

#[tokio::test]
async fn sign_in_returns_a_token_that_works_until_sign_out() {
    let app = TestApp::new().await;
    let token = app.admin().await;
    let (status, me) = app.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["login"], "admin");
    assert_eq!(me["roles"], json!(["admin"]));

    let (status, _) = app
        .api("DELETE", "/api/v1/session", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], 401);
}

#[tokio::test]
async fn each_sign_in_is_a_new_session_and_only_its_hash_is_stored() {
    let app = TestApp::new().await;
    let a = app.admin().await;
    let b = app.admin().await;
    assert_ne!(a, b);
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select session_hash from user_session")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|h| h.len() == 32 && h != a.as_bytes()));
}

#[tokio::test]
async fn wrong_password_and_unknown_login_answer_the_same_401() {
    let app = TestApp::new().await;
    let (s1, b1) = app.try_login("admin", "wrong-password-1").await;
    let (s2, b2) = app.try_login("nobody", "wrong-password-1").await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(
        b1, b2,
        "the answers must not tell a known login from an unknown one"
    );
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    // Both failures are audited, without the password.
    let failures: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where action = 'session.login_failed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(failures, 2);
    let text: String =
        sqlx::query_scalar("select string_agg(coalesce(after::text, ''), ' ') from audit_entry")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!text.contains("wrong-password-1"));
}

/// Failures of one login from one address make each further attempt from there wait, the
/// right password included; the wait doubles with each failure.
#[tokio::test]
async fn repeated_failures_for_one_login_answer_429_even_with_the_right_password() {
    let app = TestApp::new().await;
    for _ in 0..3 {
        let (status, _) = app.try_login("admin", "guess-guess-1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = app.try_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let throttled: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where action = 'session.throttled' and after->>'login' = 'admin'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(throttled, 1);

    // Once the window has passed, the right password works again.
    sqlx::query("update login_failure set failed_at = failed_at - interval '16 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.admin().await;
}

/// One address guessing a hundred logins waits too — but a user of the same address (a
/// shared proxy) is not locked out by twenty failures of someone else's login.
#[tokio::test]
async fn repeated_failures_from_one_address_answer_429_for_any_login() {
    let app = TestApp::new().await;
    for i in 0..20 {
        let (status, _) = app.try_login(&format!("user{i}"), "x-guess-123").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = app.try_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "twenty others' failures lock nobody out"
    );
    for i in 20..101 {
        app.try_login(&format!("user{i}"), "x-guess-123").await;
    }
    let (status, _) = app.try_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn idle_and_old_sessions_expire() {
    let app = TestApp::new().await;
    let idle = app.admin().await;
    let old = app.admin().await;
    let fresh = app.admin().await;
    let hash = |t: &str| yishi::auth::session::token_hash(t);
    sqlx::query("update user_session set last_seen_at = now() - interval '31 minutes' where session_hash = $1")
        .bind(hash(&idle))
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "update user_session set created_at = now() - interval '13 hours' where session_hash = $1",
    )
    .bind(hash(&old))
    .execute(&app.pool)
    .await
    .unwrap();
    for (token, expected) in [(&idle, 401), (&old, 401), (&fresh, 200)] {
        let (status, _) = app.api("GET", "/api/v1/me", Some(token), None).await;
        assert_eq!(status.as_u16(), expected);
    }
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions() {
    let app = TestApp::new().await;
    let (id, token) = app.user("li.na", &["staff"]).await;
    let admin = app.admin().await;
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.try_login("li.na", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_ends_other_sessions() {
    let app = TestApp::new().await;
    let (_, token) = app.user("zhang.wei", &["staff"]).await;
    let other = app.login("zhang.wei", PASSWORD).await;

    let change =
        |current: &str, new: &str| Some(json!({"current_password": current, "new_password": new}));
    let (status, body) = app
        .api(
            "POST",
            "/api/v1/me/password",
            Some(&token),
            change("not-my-password-1", "brand-new-pass-1"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "current_password");

    let (status, body) = app
        .api(
            "POST",
            "/api/v1/me/password",
            Some(&token),
            change(PASSWORD, "short"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "new_password");

    let (status, _) = app
        .api(
            "POST",
            "/api/v1/me/password",
            Some(&token),
            change(PASSWORD, "brand-new-pass-1"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // This session stays, the other one ended, and only the new password works.
    assert_eq!(
        app.api("GET", "/api/v1/me", Some(&token), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.api("GET", "/api/v1/me", Some(&other), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.login("zhang.wei", "brand-new-pass-1").await;
    let (status, _) = app.try_login("zhang.wei", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let stored: String =
        sqlx::query_scalar("select password_hash from app_user where login = 'zhang.wei'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(stored.starts_with("$argon2id$"));
}

/// Each instance keeps the sessions it served lately: signing out on one instance and a role
/// change take effect on the other within a second (the session notification), and the
/// unread count is read again when a notification arrives.
#[tokio::test]
async fn sign_out_and_role_changes_reach_every_instance_within_a_second() {
    let app = TestApp::new().await;
    let other = app.other_instance().await;
    let (id, token) = app.user("zhangsan", &["staff"]).await;
    let me = async |token: &str| {
        app.api_via(&other, "GET", "/api/v1/me", Some(token), None)
            .await
    };
    let (status, body) = me(&token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["roles"], json!(["staff"]));
    // Within a second of a change on the first instance, `ok` holds on the second.
    let within_a_second =
        async |token: &str, ok: &dyn Fn(StatusCode, &serde_json::Value) -> bool| {
            eventually(
                1000,
                50,
                "the second instance still serves the old session",
                async || {
                    let (status, body) = me(token).await;
                    ok(status, &body)
                },
            )
            .await
        };

    let admin = app.admin().await;
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"roles": ["staff", "office"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    within_a_second(&token, &|s, b| {
        s == StatusCode::OK && b["roles"] == json!(["office", "staff"])
    })
    .await;

    let (status, _) = app
        .api("DELETE", "/api/v1/session", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    within_a_second(&token, &|s, _| s == StatusCode::UNAUTHORIZED).await;
    // And at once on the instance that signed out.
    let (status, _) = app.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
