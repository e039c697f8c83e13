//! The browser side: the sign-in form and its cookie, CSRF protection on every form, friendly
//! error pages and escaping of user text.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};

use crate::support::{ADMIN_PASSWORD, TestApp, body_text, test_config};

/// Signs in through the form; returns the session cookie pair (`yishi_session=...`).
async fn browser_login(app: &TestApp, headers: &[(&str, &str)]) -> (String, HeaderMap) {
    let mut req = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .send(
            req.body(Body::from(format!(
                "login=admin&password={ADMIN_PASSWORD}&next=%2Fusers"
            )))
            .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/users");
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    (pair, res.headers().clone())
}

async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let res = app
        .send(
            Request::builder()
                .uri(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    (res.status(), body_text(res).await)
}

async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &str,
    extra: &[(&str, &str)],
) -> StatusCode {
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    app.send(req.body(Body::from(form.to_owned())).unwrap())
        .await
        .status()
}

fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + 32].to_owned()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure_behind_tls() {
    let app = TestApp::new().await;
    let (_, headers) = browser_login(&app, &[]).await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: no Secure flag"
    );

    // A forwarded scheme is believed only from a trusted proxy (the probe's finding).
    let (_, headers) = browser_login(&app, &[("x-forwarded-proto", "https")]).await;
    assert!(
        !headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    let mut config = test_config();
    config.trusted_proxies = vec![yishi::config::IpBlock::parse("127.0.0.1").unwrap()];
    let proxied = TestApp::with_config(config).await;
    let (_, headers) = browser_login(&proxied, &[("x-forwarded-proto", "https")]).await;
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    assert_eq!(
        headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );

    let mut config = test_config();
    config.secure_cookies = true;
    let tls = TestApp::with_config(config).await;
    let (_, headers) = browser_login(&tls, &[]).await;
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_in_chinese() {
    let app = TestApp::new().await;
    let res = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("login=admin&password=nope"))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert!(body_text(res).await.contains("登录名或密码不正确"));
}

#[tokio::test]
async fn pages_send_anonymous_visitors_to_sign_in_and_back() {
    let app = TestApp::new().await;
    let res = app
        .send(
            Request::builder()
                .uri("/audit?page=2")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/login?next=/audit");
}

/// Every state-changing form needs the session's CSRF token; a cross-site post is refused even
/// with it; with the token it works.
#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_write_nothing() {
    let app = TestApp::new().await;
    let (cookie, _) = browser_login(&app, &[]).await;
    let (status, html) = get_with_cookie(&app, "/sections", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf_from(&html);

    assert_eq!(
        post_form(&app, "/sections", &cookie, "name=甲科&kind=other", &[]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_form(
            &app,
            "/sections",
            &cookie,
            "name=甲科&kind=other&csrf_token=00000000000000000000000000000000",
            &[]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    let form = format!("name=甲科&kind=other&csrf_token={token}");
    assert_eq!(
        post_form(
            &app,
            "/sections",
            &cookie,
            &form,
            &[("origin", "http://evil.example"), ("host", "yishi.example")]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_form(
            &app,
            "/sections",
            &cookie,
            &form,
            &[("sec-fetch-site", "cross-site")]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.count("section").await, 0);

    assert_eq!(
        post_form(
            &app,
            "/sections",
            &cookie,
            &form,
            &[("sec-fetch-site", "same-origin")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("section").await, 1);

    // Sign-out is a form too.
    assert_eq!(
        post_form(&app, "/logout", &cookie, "", &[]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_form(
            &app,
            "/logout",
            &cookie,
            &format!("csrf_token={token}"),
            &[]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let (status, _) = get_with_cookie(&app, "/sections", &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out");
}

/// JSON calls that rely on the cookie need the token in a header; bearer calls do not.
#[tokio::test]
async fn cookie_authenticated_api_calls_need_the_csrf_header() {
    let app = TestApp::new().await;
    let (cookie, _) = browser_login(&app, &[]).await;
    let (_, me) = get_with_cookie(&app, "/api/v1/me", &cookie).await;
    let token = serde_json::from_str::<serde_json::Value>(&me).unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |csrf: Option<&str>| {
        let mut req = Request::builder()
            .method("POST")
            .uri("/api/v1/sections")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        req.body(Body::from(r#"{"name": "乙科", "kind": "other"}"#))
            .unwrap()
    };
    assert_eq!(app.send(post(None)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.send(post(Some(&token))).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn user_text_is_escaped_in_pages() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (status, _) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(serde_json::json!({"name": "<script>alert(1)</script>", "kind": "other"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let res = app.page("GET", "/sections", Some(&admin), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let html = body_text(res).await;
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
    assert!(csp.contains("default-src 'self'"));
}

#[tokio::test]
async fn refusals_are_friendly_chinese_pages_with_the_rule() {
    let app = TestApp::new().await;
    let group = app.party_group("党组").await;
    let (shuji, _) = app.user("shuji", &["leader"]).await;
    let admin = app.admin().await;
    let res = app
        .page(
            "POST",
            &format!("/party-groups/{group}/members"),
            Some(&admin),
            Some(&format!(
                "user_id={shuji}&position=secretary&areas=personnel"
            )),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = body_text(res).await;
    assert!(
        html.contains("R-FOUR-NOT") && html.contains("第三条(五)") && html.contains("人事"),
        "{html}"
    );

    let (_, staff) = app.user("staff", &["staff"]).await;
    let res = app.page("GET", "/users", Some(&staff), None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(body_text(res).await.contains("无权操作"));
}

#[tokio::test]
async fn home_page_navigation_follows_the_roles() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let html = body_text(app.page("GET", "/", Some(&admin), None).await).await;
    assert!(html.contains("href=\"/users\"") && !html.contains("href=\"/audit\""));
    let (_, discipline) = app.user("jijian", &["discipline"]).await;
    let html = body_text(app.page("GET", "/", Some(&discipline), None).await).await;
    assert!(html.contains("href=\"/audit\"") && !html.contains("href=\"/users\""));
}

#[tokio::test]
async fn the_discipline_group_filters_the_audit_page_and_sees_the_verification() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.api(
        "POST",
        "/api/v1/sections",
        Some(&admin),
        Some(serde_json::json!({"name": "人事科", "kind": "personnel"})),
    )
    .await;
    let (_, jijian) = app.user("jijian", &["discipline"]).await;
    let res = app
        .page(
            "GET",
            "/audit?action=section.&actor=admin",
            Some(&jijian),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body_text(res).await;
    assert!(
        html.contains("title=\"section.create\"") && html.contains("人事科"),
        "{html}"
    );
    assert!(
        !html.contains("title=\"user.create\""),
        "filtered by action"
    );

    let html = body_text(app.page("GET", "/audit/verify", Some(&jijian), None).await).await;
    assert!(html.contains("校验通过"), "{html}");

    let res = app
        .page("GET", "/audit?from=someday", Some(&jijian), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body_text(res).await;
    assert!(
        html.contains("起始时间") && !html.contains(">from<"),
        "{html}"
    );
}

#[tokio::test]
async fn the_admin_manages_a_party_group_through_the_pages() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let res = app
        .page(
            "POST",
            "/party-groups",
            Some(&admin),
            Some("name=州医疗保障局党组"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let group_page = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let (member, _) = app.user("chen.jing", &["leader"]).await;
    let res = app
        .page(
            "POST",
            &format!("{group_page}/members"),
            Some(&admin),
            Some(&format!(
                "user_id={member}&position=deputy&areas=finance&areas=personnel&started_on="
            )),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = body_text(app.page("GET", &group_page, Some(&admin), None).await).await;
    assert!(
        html.contains("用户chen.jing") && html.contains("副书记") && html.contains("人事、财务"),
        "{html}"
    );
    assert!(
        html.contains("¥5,000.00"),
        "the large-spend threshold is shown in yuan"
    );
}
