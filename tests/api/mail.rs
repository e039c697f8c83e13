//! Notifications by mail (issue 18): sent by the server to a local SMTP sink, with the meeting's
//! title, time and place only, the title withheld when a secret topic is on the agenda, and
//! nothing for those who opted out or have no address. In-app notifications stay as they were.

use axum::http::StatusCode;
use serde_json::json;

use crate::fixtures::{add, meeting, ok, ready_topic, room};
use crate::support::{Binary, SmtpSink, TestApp, eventually};

const FROM: &str = "议事系统 <yishi@example.gov.cn>";

fn mail_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("YISHI_SMTP_URL", format!("smtp://127.0.0.1:{port}")),
        ("YISHI_MAIL_FROM", FROM.to_owned()),
        ("YISHI_MAIL_SECONDS", "1".to_owned()),
        (
            "YISHI_PUBLIC_URL",
            "https://yishi.example.gov.cn".to_owned(),
        ),
    ]
}

fn start(app: &TestApp, env: &[(&'static str, String)]) -> Binary {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Binary::start(app, &env)
}

#[tokio::test]
async fn a_notice_goes_by_mail_with_title_time_and_place_only() {
    let app = TestApp::new().await;
    let sink = SmtpSink::start().await;
    let r = room(&app, 3).await;
    let admin = app.admin().await;
    // The 书记 gives his own address; the admin the deputy's; one member opts out; the last
    // has none.
    let (status, view) = app
        .api(
            "PUT",
            "/api/v1/me/mail",
            Some(&r.shuji.token),
            Some(json!({"email": "shuji@example.gov.cn"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        (view["mail_opt_out"].clone(), view["mail_enabled"].clone()),
        (json!(false), json!(false))
    );
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{}", r.members[0].id),
            Some(&admin),
            Some(json!({"email": "deputy@example.gov.cn"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .api(
            "PUT",
            "/api/v1/me/mail",
            Some(&r.members[1].token),
            Some(json!({"email": "member1@example.gov.cn", "mail_opt_out": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, bad) = app
        .api(
            "PUT",
            "/api/v1/me/mail",
            Some(&r.members[2].token),
            Some(json!({"email": "no-at-sign"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"][0]["label"], "邮箱");

    let secret = ready_topic(
        &app,
        &r,
        "涉密人事调整事项",
        json!({"classification": "secret"}),
    )
    .await;
    let open = ready_topic(&app, &r, "年度预算调整", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    add(&app, &r, m, open).await;
    add(&app, &r, m, secret).await;
    ok(
        &app,
        &r.secretary.token,
        format!("/api/v1/meetings/{m}/notice"),
        json!({}),
    )
    .await;

    let server = start(&app, &mail_env(sink.port));
    eventually(
        30_000,
        200,
        "the notice mailed to the two with addresses",
        async || sink.mails().len() >= 2,
    )
    .await;
    let mails = sink.mails();
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["deputy@example.gov.cn", "shuji@example.gov.cn"]);
    let title: String = sqlx::query_scalar("select title from meeting where meeting_id = $1")
        .bind(m)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for mail in &mails {
        let (subject, body) = (mail.subject(), mail.body());
        assert_eq!(
            subject, "【议事】会议通知",
            "a secret topic withholds the title"
        );
        assert!(mail.data.contains("yishi@example.gov.cn"));
        for part in [
            "地点:三楼会议室",
            "时间:",
            &format!("https://yishi.example.gov.cn/meetings/{m}"),
        ] {
            assert!(body.contains(part), "{part}: {body}");
        }
        for never in [
            title.as_str(),
            "涉密人事调整事项",
            "年度预算调整",
            "议题 2 项",
        ] {
            assert!(
                !body.contains(never) && !subject.contains(never),
                "{never} in {body}"
            );
        }
    }
    // Everyone still has the notice in the app; the opted-out member's was never mailed.
    let (pending, mailed): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where mail_pending), count(*) filter (where mailed_at is not null)
         from notification where link = $1",
    )
    .bind(format!("/meetings/{m}"))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((pending, mailed), (0, 2));
    let (_, notes) = app
        .api(
            "GET",
            "/api/v1/notifications",
            Some(&r.members[1].token),
            None,
        )
        .await;
    assert!(notes.to_string().contains("会议通知"), "{notes}");

    // A meeting without a secret topic is named.
    let plain = ready_topic(&app, &r, "机关食堂改造", json!({})).await;
    let m2 = meeting(&app, &r, 12).await;
    add(&app, &r, m2, plain).await;
    ok(
        &app,
        &r.secretary.token,
        format!("/api/v1/meetings/{m2}/notice"),
        json!({}),
    )
    .await;
    eventually(30_000, 200, "the second notice mailed", async || {
        sink.mails().len() >= 4
    })
    .await;
    let title2: String = sqlx::query_scalar("select title from meeting where meeting_id = $1")
        .bind(m2)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let named = &sink.mails()[2];
    assert_eq!(named.subject(), format!("【议事】会议通知:{title2}"));
    assert!(named.body().contains(&format!("会议:{title2}")));
    assert!(!named.body().contains("机关食堂改造"));
    assert_eq!(sink.mails().len(), 4, "nobody mailed twice");
    server.kill();
}

#[tokio::test]
async fn with_the_mail_server_down_nothing_is_lost_and_it_is_tried_again() {
    let app = TestApp::new().await;
    let (shuji, token) = app.user("shuji", &["leader"]).await;
    let (status, _) = app
        .api(
            "PUT",
            "/api/v1/me/mail",
            Some(&token),
            Some(json!({"email": "shuji@example.gov.cn"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A password reset notifies its owner.
    let admin = app.admin().await;
    let (status, _) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{shuji}"),
            Some(&admin),
            Some(json!({"password": "reset-by-admin-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = start(&app, &mail_env(closed));
    eventually(30_000, 200, "a failed attempt recorded", async || {
        let (attempts, pending): (i32, bool) = sqlx::query_as(
            "select mail_attempts, mail_pending from notification where user_id = $1",
        )
        .bind(shuji)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        attempts >= 1 && pending
    })
    .await;
    server.kill();
    // The mail server is back: the same notification goes out.
    let sink = SmtpSink::start().await;
    let server = start(&app, &mail_env(sink.port));
    eventually(30_000, 200, "mailed once the server is back", async || {
        !sink.mails().is_empty()
    })
    .await;
    let mail = &sink.mails()[0];
    assert_eq!(mail.subject(), "【议事】账号安全通知");
    assert!(
        !mail.body().contains("重置"),
        "the notification's text is not mailed"
    );
    server.kill();
}
