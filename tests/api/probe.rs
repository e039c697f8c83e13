//! The security probe's findings (issue 14, 6), each played as the probe did: every test here
//! failed before its fix.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{add, convene, meeting, ok, ready_topic, room};
use crate::support::{ADMIN_PASSWORD, Binary, PASSWORD, TestApp, test_config};

async fn sign_in_from(app: &TestApp, peer: [u8; 4], login: &str, password: &str) -> StatusCode {
    sign_in_with(app, peer, &[], login, password).await.0
}

async fn sign_in_with(
    app: &TestApp,
    peer: [u8; 4],
    headers: &[(&str, &str)],
    login: &str,
    password: &str,
) -> (StatusCode, Value) {
    let mut req = Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = json!({"login": login, "password": password}).to_string();
    let res = app
        .send_from(peer, req.body(Body::from(body)).unwrap())
        .await;
    let status = res.status();
    (status, crate::support::body_json(res).await)
}

/// A login of 3 KB, or one holding NUL, was a 500 after argon2 had run, and was not counted:
/// now a 422, counted, and only a bounded prefix is kept.
#[tokio::test]
async fn a_3_kb_or_nul_login_is_refused_with_422_and_counted() {
    let app = TestApp::new().await;
    let long = "a".repeat(3000);
    for login in [long.as_str(), "zhang\u{0}wei"] {
        let (status, body) = app.try_login(login, "whatever-1").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "login", "{body}");
    }
    let kept: Vec<String> = sqlx::query_scalar("select login from login_failure")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2, "both counted");
    assert!(
        kept.iter()
            .all(|l| l.chars().count() <= 64 && !l.contains('\0')),
        "{kept:?}"
    );
    // Counted means throttled: the same long login soon has to wait.
    app.try_login(&long, "whatever-1").await;
    app.try_login(&long, "whatever-1").await;
    assert_eq!(
        app.try_login(&long, "whatever-1").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A throttled login stored the whole submitted string in the append-only log (900 KB each):
/// now a prefix of at most 64 characters.
#[tokio::test]
async fn a_throttled_login_is_audited_as_a_bounded_prefix() {
    let app = TestApp::new().await;
    let huge = "b".repeat(900_000);
    for _ in 0..5 {
        app.try_login(&huge, "whatever-1").await;
    }
    let longest: i32 = sqlx::query_scalar(
        "select coalesce(max(length(after->>'login')), 0) from audit_entry
         where action in ('session.throttled', 'session.login_failed')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(longest > 0 && longest <= 64, "{longest}");
    let throttled: i64 =
        sqlx::query_scalar("select count(*) from audit_entry where action = 'session.throttled'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(throttled > 0);
}

/// NUL in a text field was a 500 with a backtrace in the log: now a 422 naming the field —
/// in JSON bodies, page forms and query strings alike, and nothing is written.
#[tokio::test]
async fn nul_bytes_in_text_fields_answer_422_naming_the_field() {
    let app = TestApp::new().await;
    let r = room(&app, 2).await;
    let m = meeting(&app, &r, 10).await;
    let (_, jijian) = app.user("jijian", &["discipline"]).await;
    let entries = app.count("audit_entry").await;
    for (path, body, field) in [
        (
            "/api/v1/topics".to_owned(),
            json!({"party_group_id": r.group, "title": "标题\u{0}", "category": 1, "responsible_user_id": r.shuji.id}),
            "title",
        ),
        (
            format!("/api/v1/meetings/{m}/minutes/borrow-requests"),
            json!({"reason": "查\u{0}阅", "days": 3}),
            "reason",
        ),
        (
            format!("/api/v1/meetings/{m}/minutes/amendments"),
            json!({"text": "更正\u{0}"}),
            "text",
        ),
        (
            "/api/v1/emergencies".to_owned(),
            json!({"party_group_id": r.group, "title": "临机", "action_taken": "处置\u{0}", "occurred_at": "2026-11-30T10:00:00+08:00"}),
            "action_taken",
        ),
    ] {
        let (status, answer) = app
            .api("POST", &path, Some(&r.shuji.token), Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{path}: {answer}");
    }
    let (status, answer) = app
        .api("GET", "/api/v1/audit?action=user%00", Some(&jijian), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "action");
    let res = app
        .page(
            "POST",
            "/me/password",
            Some(&r.shuji.token),
            Some("current_password=a%00b&new_password=x"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was written.
    assert_eq!(app.count("audit_entry").await, entries);
}

/// Five wrong passwords from anywhere locked an account for 15 minutes, even for its owner:
/// now failures count per login and address, so the owner elsewhere signs in at once; and
/// `X-Forwarded-For` names the client only when a configured proxy sent it.
#[tokio::test]
async fn a_stranger_elsewhere_cannot_lock_a_user_out() {
    let app = TestApp::new().await;
    app.user("zhangwei", &["staff"]).await;
    for _ in 0..10 {
        let status = sign_in_from(&app, [10, 0, 0, 66], "zhangwei", "wrong-guess-1").await;
        assert!(matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
        ));
    }
    assert_eq!(
        sign_in_from(&app, [10, 0, 0, 66], "zhangwei", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guesser waits"
    );
    assert_eq!(
        sign_in_from(&app, [192, 168, 1, 20], "zhangwei", PASSWORD).await,
        StatusCode::CREATED,
        "the owner, elsewhere, does not"
    );
    // Failures are still audited, each with its address.
    let addrs: Vec<Option<String>> = sqlx::query_scalar(
        "select distinct client_addr from audit_entry where action = 'session.login_failed'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(addrs, [Some("10.0.0.66".to_owned())]);

    // A forwarded address from an untrusted peer is ignored; from a trusted proxy, believed.
    let spoofed = [("x-forwarded-for", "203.0.113.9")];
    sign_in_with(&app, [10, 0, 0, 77], &spoofed, "nobody", "wrong-guess-1").await;
    let mut config = test_config();
    config.trusted_proxies = vec![yishi::config::IpBlock::parse("10.1.0.0/16").unwrap()];
    let proxied = TestApp::with_config(config).await;
    let forwarded = [("x-forwarded-for", "203.0.113.9, 10.1.2.3")];
    sign_in_with(
        &proxied,
        [10, 1, 0, 1],
        &forwarded,
        "nobody",
        "wrong-guess-1",
    )
    .await;
    let seen = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>(
                "select client_addr from login_failure where login = 'nobody'",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(seen(&app).await, [Some("10.0.0.77".to_owned())]);
    assert_eq!(seen(&proxied).await, [Some("203.0.113.9".to_owned())]);
}

/// `next=/%09/evil.example` after sign-in led off-site (browsers drop the tab): only this
/// site's paths are followed.
#[tokio::test]
async fn next_with_a_tab_stays_on_this_site() {
    let app = TestApp::new().await;
    for next in [
        "/%09/evil.example",
        "/%0A/evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
    ] {
        let res = app
            .send(
                Request::post("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!(
                        "login=admin&password={ADMIN_PASSWORD}&next={next}"
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(res.headers()[header::LOCATION], "/", "{next}");
    }
}

/// Signed-in pages were cacheable and TLS had no HSTS: now `Cache-Control: no-store` on
/// every signed-in answer (static files keep theirs) and HSTS behind TLS.
#[tokio::test]
async fn signed_in_answers_are_not_cached_and_tls_gets_hsts() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for path in ["/", "/users", "/api/v1/me"] {
        let res = app.page("GET", path, Some(&admin), None).await;
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store", "{path}");
        assert!(
            !res.headers()
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
    }
    let css = app.page("GET", "/static/app.css", Some(&admin), None).await;
    assert_eq!(css.headers()[header::CACHE_CONTROL], "public, max-age=3600");
    let mut config = test_config();
    config.secure_cookies = true;
    let tls = TestApp::with_config(config).await;
    let res = tls.page("GET", "/login", None, None).await;
    assert_eq!(
        res.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
}

/// Reads a stream until it ends; false if it is still open after `secs`.
async fn ends_within(body: &mut Body, secs: u64) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn open_stream(router: &axum::Router, token: &str, m: Uuid) -> Body {
    use tower::ServiceExt;
    let req = Request::get(format!("/api/v1/meetings/{m}/events"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    body.frame().await.expect("the first snapshot").unwrap();
    body
}

/// An event stream went on after sign-out or expiry: now it ends — at sign-out on this
/// instance and on another, and when the session expires.
#[tokio::test]
async fn an_event_stream_ends_at_sign_out_and_at_expiry() {
    let app = TestApp::new().await;
    let r = room(&app, 2).await;
    let m = meeting(&app, &r, 10).await;
    let member = &r.members[0];
    let mut here = open_stream(&app.router, &member.token, m).await;
    let pool = sqlx::PgPool::connect(&app.runtime_url).await.unwrap();
    let other = yishi::app(yishi::AppState::new(pool, test_config()).unwrap());
    let mut there = open_stream(&other, &member.token, m).await;
    assert!(!ends_within(&mut here, 1).await, "open while signed in");
    let (status, _) = app
        .api("DELETE", "/api/v1/session", Some(&member.token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(ends_within(&mut here, 5).await, "ended on this instance");
    assert!(
        ends_within(&mut there, 5).await,
        "ended on the other instance"
    );

    // A session about to reach its 12 hours: the stream ends with it.
    let token = app.login("chengyuan1", PASSWORD).await;
    sqlx::query(
        "update user_session set created_at = now() - interval '12 hours' + interval '2 seconds'
         where session_hash = $1",
    )
    .bind(yishi::auth::session::token_hash(&token))
    .execute(&app.pool)
    .await
    .unwrap();
    let mut expiring = open_stream(&app.router, &token, m).await;
    assert!(ends_within(&mut expiring, 8).await, "ended at expiry");
}

/// Eight parallel 19 MB uploads and downloads took the server from 108 to 424 MB RSS: the
/// bodies now stream in chunks, and the peak stays under 150 MB.
#[tokio::test]
async fn eight_parallel_19_mb_uploads_and_downloads_stay_under_150_mb() {
    let app = TestApp::new().await;
    let r = room(&app, 1).await;
    let mut topics = Vec::new();
    for n in 0..8 {
        let (status, t) = app
            .api("POST", "/api/v1/topics", Some(&r.clerk),
                 Some(json!({"party_group_id": r.group, "title": format!("大文件议题{n}"), "category": 12,
                             "responsible_user_id": r.shuji.id})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{t}");
        topics.push(t["topic_id"].as_str().unwrap().to_owned());
    }
    let server = Binary::start(&app, &[]);
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(19 * 1024 * 1024, b'x');
    let (content_type, body) = crate::support::multipart("大文件.pdf", &pdf, &[]);
    let body = std::sync::Arc::new(body);
    let server = std::sync::Arc::new(server);
    let uploads: Vec<_> = topics
        .iter()
        .map(|t| {
            let (server, body, token, ct) = (
                server.clone(),
                body.clone(),
                r.clerk.clone(),
                content_type.clone(),
            );
            let path = format!("/api/v1/topics/{t}/materials");
            std::thread::spawn(move || server.request("POST", &path, &token, &ct, &body))
        })
        .collect();
    let mut materials = Vec::new();
    for (t, u) in topics.iter().zip(uploads) {
        let (status, answer) = u.join().unwrap();
        assert_eq!(
            status,
            201,
            "{}",
            String::from_utf8_lossy(&answer[..answer.len().min(500)])
        );
        let text = String::from_utf8_lossy(&answer);
        let json: Value =
            serde_json::from_str(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap();
        materials.push(format!(
            "/api/v1/topics/{t}/materials/{}",
            json["material_id"].as_str().unwrap()
        ));
    }
    let downloads: Vec<_> = materials
        .iter()
        .map(|path| {
            let (server, token, path) = (server.clone(), r.clerk.clone(), path.clone());
            std::thread::spawn(move || server.request("GET", &path, &token, "text/plain", b""))
        })
        .collect();
    for d in downloads {
        let (status, answer) = d.join().unwrap();
        assert_eq!(status, 200);
        assert!(answer.len() > pdf.len(), "the whole file came");
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    std::sync::Arc::into_inner(server).unwrap().kill();
    assert!(peak_kib < 150 * 1024, "peak RSS {} MiB", peak_kib / 1024);
    let stored: i64 =
        sqlx::query_scalar("select sum(octet_length(data))::bigint from material_chunk")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 8 * pdf.len() as i64);
}

/// 综合科 of one bureau read another party group's meetings, topics, secret materials and
/// tasks: the office role now reaches only the groups its section serves.
#[tokio::test]
async fn the_office_of_one_group_reads_nothing_of_another() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = room(&app, 2).await;
    let (status, created) = app
        .api("POST", "/api/v1/topics", Some(&r.clerk),
             Some(json!({"party_group_id": r.group, "title": "关于采购的议题", "category": 12,
                         "content": "内容", "matters_to_decide": "是否同意", "consultation_opinions": "已征求意见",
                         "responsible_user_id": r.members[0].id, "classification": "secret"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let t = Uuid::parse_str(created["topic_id"].as_str().unwrap()).unwrap();
    let (status, _) = app
        .upload(
            &format!("/api/v1/topics/{t}/materials"),
            &r.clerk,
            "秘密.pdf",
            b"%PDF-1.4 x",
            &[("classification", "secret")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    ok(
        &app,
        &r.members[0].token,
        format!("/api/v1/topics/{t}/sign-off"),
        json!({}),
    )
    .await;
    ok(
        &app,
        &r.clerk,
        format!("/api/v1/topics/{t}/submit"),
        json!({}),
    )
    .await;
    let waiting = ready_topic(&app, &r, "尚未上会的议题", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i = add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    let material: String = sqlx::query_scalar("select material_id::text from material")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let task = Uuid::now_v7();
    sqlx::query(
        "insert into task (task_id, item_id, lead_user_id, description, due_on, created_by)
                 values ($1, $2, $3, '落实', date '2030-02-01', $3)",
    )
    .bind(task)
    .bind(i)
    .bind(r.members[0].id)
    .execute(&app.pool)
    .await
    .unwrap();
    // Another bureau's group, with its own 综合科.
    let other_group = app.party_group("另一局党组").await;
    let (_, section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(
                json!({"name": "另一局综合科", "kind": "office", "party_group_ids": [other_group]}),
            ),
        )
        .await;
    let (status, _) = app
        .api(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(
                json!({"login": "lingyiju", "name": "另一局综合科干部", "password": PASSWORD,
                         "section_id": section["section_id"], "roles": ["office"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let stranger = app.login("lingyiju", PASSWORD).await;
    for path in [
        format!("/api/v1/meetings/{m}"),
        format!("/api/v1/topics/{t}"),
        format!("/api/v1/topics/{t}/materials/{material}"),
        format!("/api/v1/tasks/{task}"),
        format!("/api/v1/meetings/{m}/minutes"),
    ] {
        let (status, body) = app.api("GET", &path, Some(&stranger), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        let (status, body) = app.api("GET", &path, Some(&r.secretary.token), None).await;
        assert!(
            status.is_success() || path.ends_with("/minutes"),
            "{path}: {status} {body}"
        );
    }
    for (path, id) in [
        ("/api/v1/meetings", m),
        ("/api/v1/topics/submitted", waiting),
        ("/api/v1/tasks", task),
    ] {
        let (status, list) = app.api("GET", path, Some(&stranger), None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        assert!(
            !list.to_string().contains(&id.to_string()),
            "{path}: {list}"
        );
        let (_, own) = app.api("GET", path, Some(&r.secretary.token), None).await;
        assert!(own.to_string().contains(&id.to_string()), "{path}: {own}");
    }
    // Nor may they be this group's meeting secretary.
    let (status, body) = app
        .api(
            "POST",
            "/api/v1/meetings",
            Some(&r.secretary.token),
            Some(
                json!({"party_group_id": r.group, "starts_at": crate::fixtures::days_ahead(20),
                         "place": "会议室", "secretary_id": app_user_id(&app, "lingyiju").await}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["rule"], "R-SECRETARY");
    let _ = ok;
}

async fn app_user_id(app: &TestApp, login: &str) -> Uuid {
    sqlx::query_scalar("select user_id from app_user where login = $1")
        .bind(login)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The CSRF Origin check ignored the scheme, and the token was accepted in the query string:
/// now the whole origin must match, and the token comes only from the body or a header.
#[tokio::test]
async fn csrf_compares_the_whole_origin_and_never_reads_the_address() {
    let mut config = test_config();
    config.secure_cookies = true;
    let app = TestApp::with_config(config).await;
    let res = app
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "login=admin&password={ADMIN_PASSWORD}&next=%2F"
                )))
                .unwrap(),
        )
        .await;
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (_, me) = {
        let res = app
            .send(
                Request::get("/api/v1/me")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        (res.status(), crate::support::body_json(res).await)
    };
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let section = |origin: Option<&str>, uri: &str, body: String| {
        let mut req = Request::post(uri.to_owned())
            .header(header::HOST, "yishi.example")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        req.body(Body::from(body)).unwrap()
    };
    let form = |n: u32| format!("name=科室{n}&kind=other&csrf_token={csrf}");
    // The same host over plain http is another origin for an https site.
    let res = app
        .send(section(Some("http://yishi.example"), "/sections", form(1)))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .send(section(Some("https://yishi.example"), "/sections", form(2)))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The token in the address does not count.
    let res = app
        .send(section(
            None,
            &format!("/sections?csrf_token={csrf}"),
            "name=科室3&kind=other".into(),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("section").await, 1);
}
