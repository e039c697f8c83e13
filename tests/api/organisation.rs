//! Sections, users, party groups, settings and memberships, with R-FOUR-NOT.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn admin_creates_sections_and_users_and_lists_them() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (status, section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": "综合科", "kind": "office"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, user) = app
        .api(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"login": "Zhao.Min", "name": "赵敏", "password": "office-pass-1",
                        "section_id": section["section_id"], "roles": ["office", "staff", "office"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["login"], "zhao.min", "logins are folded to lower case");
    assert_eq!(user["roles"], json!(["office", "staff"]));
    assert!(user.get("password_hash").is_none());

    let (_, users) = app.api("GET", "/api/v1/users", Some(&admin), None).await;
    let logins: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert!(logins.contains(&"admin") && logins.contains(&"zhao.min"));
    let (_, sections) = app.api("GET", "/api/v1/sections", Some(&admin), None).await;
    assert_eq!(sections[0]["name"], "综合科");
}

#[tokio::test]
async fn admin_changes_roles_section_and_resets_a_password() {
    let app = TestApp::new().await;
    let (id, _) = app.user("qian.li", &["staff"]).await;
    let admin = app.admin().await;
    let (status, user) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"roles": ["section_head"], "name": "钱丽", "password": "reset-pass-99"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["roles"], json!(["section_head"]));
    assert_eq!(user["name"], "钱丽");
    app.login("qian.li", "reset-pass-99").await;
    let after: String = sqlx::query_scalar(
        "select after::text from audit_entry where action = 'user.update' order by seq desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        after.contains("password_reset")
            && !after.contains("reset-pass-99")
            && !after.contains("argon2")
    );
}

#[tokio::test]
async fn admin_cannot_lock_themselves_out() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (_, me) = app.api("GET", "/api/v1/me", Some(&admin), None).await;
    let path = format!("/api/v1/users/{}", me["user_id"].as_str().unwrap());
    let (status, body) = app
        .api("PATCH", &path, Some(&admin), Some(json!({"active": false})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "active");
    let (status, body) = app
        .api(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({"roles": ["office"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "roles");
}

#[tokio::test]
async fn party_group_has_default_settings_that_the_admin_changes() {
    let app = TestApp::new().await;
    let group = app.party_group("州医疗保障局党组").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/party-groups/{group}/settings");
    let (status, settings) = app.api("GET", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        settings,
        json!({"quorum_num": 2, "quorum_den": 3, "large_spend_fen": 500000, "topic_lead_days": 7, "materials_lead_days": 1})
    );
    let (status, settings) = app
        .api(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({"quorum_num": 3, "quorum_den": 4, "large_spend_fen": 1000000})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["quorum_num"], 3);
    assert_eq!(settings["large_spend_fen"], 1000000);
    assert_eq!(settings["topic_lead_days"], 7, "untouched fields stay");

    let (status, body) = app
        .api(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({"quorum_num": 1, "topic_lead_days": -2})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["quorum_num", "topic_lead_days"]);
    let (_, unchanged) = app.api("GET", &path, Some(&admin), None).await;
    assert_eq!(
        unchanged["quorum_num"], 3,
        "a refused change writes nothing"
    );
}

#[tokio::test]
async fn memberships_are_kept_as_history() {
    let app = TestApp::new().await;
    let group = app.party_group("党组").await;
    let (member, member_token) = app.user("sun.yang", &["leader"]).await;
    let admin = app.admin().await;
    let members = format!("/api/v1/party-groups/{group}/members");
    let (status, m) = app
        .api("POST", &members, Some(&admin),
             Some(json!({"user_id": member, "position": "member", "areas": ["finance"], "started_on": "2026-01-05"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["started_on"], "2026-01-05");
    assert_eq!(m["areas"], json!(["finance"]));

    // A change of position ends the old row and starts a new one.
    let (status, _) = app
        .api("POST", &members, Some(&admin),
             Some(json!({"user_id": member, "position": "deputy", "areas": ["personnel"], "started_on": "2026-06-01"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, detail) = app
        .api(
            "GET",
            &format!("/api/v1/party-groups/{group}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(detail["members"].as_array().unwrap().len(), 1);
    assert_eq!(detail["members"][0]["position"], "deputy");
    assert_eq!(detail["history"][0]["position"], "member");
    assert_eq!(detail["history"][0]["ended_on"], "2026-06-01");

    // The member reads the group's settings; /me lists the membership.
    let (status, _) = app
        .api(
            "GET",
            &format!("/api/v1/party-groups/{group}/settings"),
            Some(&member_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = app
        .api("GET", "/api/v1/me", Some(&member_token), None)
        .await;
    assert_eq!(me["memberships"][0]["position"], "deputy");

    let (status, _) = app
        .api("DELETE", &format!("{members}/{member}"), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, detail) = app
        .api(
            "GET",
            &format!("/api/v1/party-groups/{group}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(detail["members"].as_array().unwrap().is_empty());
    assert_eq!(detail["history"].as_array().unwrap().len(), 2);
    // No longer a member: the group is no longer visible to them.
    let (status, _) = app
        .api(
            "GET",
            &format!("/api/v1/party-groups/{group}/settings"),
            Some(&member_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .api("DELETE", &format!("{members}/{member}"), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_group_has_one_current_secretary() {
    let app = TestApp::new().await;
    let group = app.party_group("党组").await;
    let (a, _) = app.user("shuji.a", &["leader"]).await;
    let (b, _) = app.user("shuji.b", &["leader"]).await;
    let admin = app.admin().await;
    let members = format!("/api/v1/party-groups/{group}/members");
    let (status, _) = app
        .api(
            "POST",
            &members,
            Some(&admin),
            Some(json!({"user_id": a, "position": "secretary"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app
        .api(
            "POST",
            &members,
            Some(&admin),
            Some(json!({"user_id": b, "position": "secretary"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "position");
}

/// R-FOUR-NOT: the 书记 may not take charge of personnel, finance, construction or
/// procurement; the refusal carries the code and writes nothing but the refusal's audit entry.
#[tokio::test]
async fn r_four_not_secretary_with_finance_is_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    let group = app.party_group("党组").await;
    let (shuji, _) = app.user("shuji", &["leader"]).await;
    let admin = app.admin().await;
    let memberships = app.count("membership").await;
    let entries = app.count("audit_entry").await;
    let (status, body) = app
        .api("POST", &format!("/api/v1/party-groups/{group}/members"), Some(&admin),
             Some(json!({"user_id": shuji, "position": "secretary", "areas": ["party_building", "finance"]})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["rule"], "R-FOUR-NOT");
    assert_eq!(body["article"], "第三条(五)");
    assert!(body["detail"].as_str().unwrap().contains("财务"));
    assert_eq!(app.count("membership").await, memberships);
    assert_eq!(app.count("audit_entry").await, entries + 1);
    let (action, rule): (String, String) = sqlx::query_as(
        "select action, entity_id from audit_entry where chain = 'org' order by seq desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (action.as_str(), rule.as_str()),
        ("rule.refused", "R-FOUR-NOT")
    );

    // The same person as 书记 with other areas is fine.
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/party-groups/{group}/members"),
            Some(&admin),
            Some(json!({"user_id": shuji, "position": "secretary", "areas": ["party_building"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// R-FOUR-NOT for the 局长: as a member with procurement, and by becoming 局长 while holding it.
#[tokio::test]
async fn r_four_not_director_cannot_hold_procurement() {
    let app = TestApp::new().await;
    let group = app.party_group("党组").await;
    let (director, _) = app.user("juzhang", &["director", "leader"]).await;
    let (deputy, _) = app.user("fu.juzhang", &["leader"]).await;
    let admin = app.admin().await;
    let members = format!("/api/v1/party-groups/{group}/members");
    let (status, body) = app
        .api(
            "POST",
            &members,
            Some(&admin),
            Some(json!({"user_id": director, "position": "member", "areas": ["procurement"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["rule"], "R-FOUR-NOT");

    let (status, _) = app
        .api(
            "POST",
            &members,
            Some(&admin),
            Some(json!({"user_id": deputy, "position": "deputy", "areas": ["procurement"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let entries = app.count("audit_entry").await;
    let (status, body) = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{deputy}"),
            Some(&admin),
            Some(json!({"roles": ["director"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["rule"], "R-FOUR-NOT");
    assert_eq!(
        app.count("audit_entry").await,
        entries + 1,
        "only the refusal is recorded"
    );
    let (_, user) = app
        .api(
            "GET",
            &format!("/api/v1/users/{deputy}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(user["roles"], json!(["leader"]));
}
