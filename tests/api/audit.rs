//! R-AUDIT: one entry per change in the same transaction, hash chains that reveal alteration
//! and deletion, concurrent writers, search and the command-line verification.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

async fn verify(app: &TestApp, token: &str) -> Value {
    let (status, v) = app
        .api("GET", "/api/v1/audit/verify", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Lets the test tamper with the append-only table, as an attacker with database access would.
async fn tamper(app: &TestApp, sql: &str) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("alter table audit_entry disable trigger audit_entry_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    sqlx::query("alter table audit_entry enable trigger audit_entry_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn r_audit_every_change_is_one_entry_with_actor_entity_and_after() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = app.count("audit_entry").await;
    let (_, section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": "财务科", "kind": "finance"})),
        )
        .await;
    assert_eq!(app.count("audit_entry").await, before + 1);
    let row: (String, String, Option<String>, Value, String) = sqlx::query_as(
        "select e.action, e.entity_type, e.entity_id, e.after, u.login
         from audit_entry e join app_user u on u.user_id = e.actor_id order by e.seq desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row.0, "section.create");
    assert_eq!(row.1, "section");
    assert_eq!(row.2.as_deref(), section["section_id"].as_str());
    assert_eq!(row.3["name"], "财务科");
    assert_eq!(row.4, "admin");
}

#[tokio::test]
async fn r_audit_a_refused_action_leaves_no_entry() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let body = json!({"name": "法规科", "kind": "legal"});
    app.api("POST", "/api/v1/sections", Some(&admin), Some(body.clone()))
        .await;
    let entries = app.count("audit_entry").await;
    let (status, problem) = app
        .api("POST", "/api/v1/sections", Some(&admin), Some(body))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "name");
    assert_eq!(app.count("audit_entry").await, entries);
    assert_eq!(app.count("section").await, 1);
}

#[tokio::test]
async fn r_audit_entries_cannot_be_updated_or_deleted_through_sql() {
    let app = TestApp::new().await;
    assert!(
        sqlx::query("update audit_entry set action = 'x'")
            .execute(&app.pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("delete from audit_entry")
            .execute(&app.pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("truncate audit_entry cascade")
            .execute(&app.pool)
            .await
            .is_err()
    );
}

async fn discipline_with_history(app: &TestApp) -> String {
    let (_, token) = app.user("jijian", &["discipline"]).await;
    let admin = app.admin().await;
    for name in ["综合科", "财务科", "人事科"] {
        app.api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": name, "kind": "other"})),
        )
        .await;
    }
    token
}

#[tokio::test]
async fn r_audit_verification_passes_on_an_untouched_log() {
    let app = TestApp::new().await;
    let token = discipline_with_history(&app).await;
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(
        v["entries"].as_i64().unwrap(),
        app.count("audit_entry").await
    );
    assert_eq!(v["head"].as_str().unwrap().len(), 64);
    assert!(v["broken"].is_null());
}

#[tokio::test]
async fn r_audit_an_altered_entry_is_named() {
    let app = TestApp::new().await;
    let token = discipline_with_history(&app).await;
    let (id, seq): (uuid::Uuid, i64) = sqlx::query_as(
        "select audit_entry_id, seq from audit_entry where action = 'section.create' and after->>'name' = '财务科'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    tamper(&app, &format!(
        "update audit_entry set after = jsonb_set(after, '{{name}}', '\"秘书科\"') where audit_entry_id = '{id}'"
    ))
    .await;
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken"]["chain"], "org");
    assert_eq!(v["broken"]["seq"], seq);
    assert_eq!(v["broken"]["audit_entry_id"], id.to_string());
}

#[tokio::test]
async fn r_audit_a_deleted_entry_is_named() {
    let app = TestApp::new().await;
    let token = discipline_with_history(&app).await;
    let seq: i64 = sqlx::query_scalar(
        "select seq from audit_entry where action = 'section.create' and after->>'name' = '财务科'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    tamper(
        &app,
        &format!("delete from audit_entry where chain = 'org' and seq = {seq}"),
    )
    .await;
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken"]["seq"], seq);
    assert!(v["broken"]["audit_entry_id"].is_null());
    assert!(v["broken"]["problem_zh"].as_str().unwrap().contains("缺失"));
}

/// A cut-off tail leaves a shorter, consistent chain: the checkpoint kept outside the database
/// shows it.
#[tokio::test]
async fn r_audit_a_cut_off_tail_is_detected() {
    let app = TestApp::new().await;
    let token = discipline_with_history(&app).await;
    let (status, _) = app
        .api("POST", "/api/v1/audit/checkpoints", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let last: i64 = sqlx::query_scalar("select max(seq) from audit_entry where chain = 'org'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    tamper(
        &app,
        &format!("delete from audit_entry where chain = 'org' and seq = {last}"),
    )
    .await;
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken"]["seq"], last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_audit_twenty_concurrent_writers_leave_one_unbroken_chain() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let admin = app.admin().await;
    let before: i64 = sqlx::query_scalar("select max(seq) from audit_entry where chain = 'org'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut writers = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (app, admin) = (app.clone(), admin.clone());
        writers.spawn(async move {
            let body = json!({"name": format!("科室{i}"), "kind": "other"});
            app.api("POST", "/api/v1/sections", Some(&admin), Some(body))
                .await
                .0
        });
    }
    let statuses = writers.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let seqs: Vec<i64> =
        sqlx::query_scalar("select seq from audit_entry where chain = 'org' order by seq")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        seqs,
        (1..=before + 20).collect::<Vec<_>>(),
        "no gaps, no forks"
    );
    let (_, token) = app.user("jijian", &["discipline"]).await;
    assert_eq!(verify(&app, &token).await["ok"], true);
}

#[tokio::test]
async fn r_audit_search_filters_by_actor_entity_action_and_time() {
    let app = TestApp::new().await;
    let token = discipline_with_history(&app).await;
    let get = |query: &str| {
        let app = &app;
        let token = token.clone();
        let path = format!("/api/v1/audit?{query}");
        async move { app.api("GET", &path, Some(&token), None).await }
    };
    let (status, page) = get("action=section.&per_page=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 3);
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    assert_eq!(
        page["entries"][0]["after"]["name"], "人事科",
        "newest first"
    );
    let (_, page2) = get("action=section.&per_page=2&page=2").await;
    assert_eq!(page2["entries"][0]["after"]["name"], "综合科");

    let (_, by_actor) = get("actor=jijian").await;
    assert!(
        by_actor["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor_login"] == "jijian")
    );
    assert!(by_actor["total"].as_i64().unwrap() >= 1);

    let (_, users) = get("entity=user").await;
    assert!(
        users["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["entity_type"] == "user")
    );
    let id = users["entries"][0]["entity_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, one) = get(&format!("entity=user:{id}")).await;
    assert!(
        one["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["entity_id"] == id.as_str())
    );

    let (_, none) = get("from=2000-01-01&to=2000-01-31").await;
    assert_eq!(none["total"], 0);
    let (_, today) = get("from=2000-01-01&to=2999-12-31").await;
    assert_eq!(
        today["total"].as_i64().unwrap(),
        app.count("audit_entry").await
    );

    let (status, bad) = get("from=yesterday&per_page=1000").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"][0]["field"], "from");
    assert_eq!(bad["errors"][1]["field"], "per_page");
}

#[tokio::test]
async fn r_audit_command_line_verification_reports_and_exits_non_zero_when_broken() {
    let app = TestApp::new().await;
    discipline_with_history(&app).await;
    let run = || app.command(&["audit", "verify"]).output().unwrap();
    let ok = run();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["ok"], true);

    tamper(
        &app,
        "update audit_entry set client_addr = '10.0.0.1' where chain = 'org' and seq = 2",
    )
    .await;
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(report["broken"]["seq"], 2);
}

#[tokio::test]
async fn r_audit_passwords_hashes_and_tokens_never_enter_the_log() {
    let app = TestApp::new().await;
    let (id, token) = app.user("secretive", &["staff"]).await;
    let (status, _) = app
        .api("POST", "/api/v1/me/password", Some(&token),
             Some(json!({"current_password": crate::support::PASSWORD, "new_password": "fresh-secret-77"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let admin = app.admin().await;
    app.api(
        "PATCH",
        &format!("/api/v1/users/{id}"),
        Some(&admin),
        Some(json!({"password": "admin-set-secret-88"})),
    )
    .await;
    let log: String = sqlx::query_scalar(
        "select string_agg(concat_ws(' ', action, entity_id, before::text, after::text), E'\\n') from audit_entry",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    for secret in [
        crate::support::PASSWORD,
        "fresh-secret-77",
        "admin-set-secret-88",
        "$argon2",
        &token,
        &admin,
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the audit log");
    }
    assert!(log.contains("user.password_change") && log.contains("password_reset"));
}
