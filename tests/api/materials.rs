//! Topic materials: content-checked uploads with limits, sha256, downloads for those entitled
//! only, and audited reads of classified files.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{PASSWORD, TestApp, test_config};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

struct Fixture {
    topic: String,
    group: String,
    staff: String,
}

async fn fixture(app: &TestApp, extra: serde_json::Value) -> Fixture {
    let group = app.party_group("党组").await;
    let (leader, _) = app.user("fenguan", &["leader"]).await;
    let (_, staff) = app.user("keyuan", &["staff"]).await;
    let mut body = json!({"party_group_id": group, "title": "购置设备", "category": 33, "responsible_user_id": leader});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, t) = app
        .api("POST", "/api/v1/topics", Some(&staff), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    Fixture {
        topic: t["topic_id"].as_str().unwrap().to_owned(),
        group: group.to_string(),
        staff,
    }
}

async fn download(app: &TestApp, path: &str, token: &str) -> (StatusCode, Vec<u8>, Option<String>) {
    let res = app
        .send(
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let status = res.status();
    let disposition = res
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
        disposition,
    )
}

#[tokio::test]
async fn the_proposer_uploads_a_pdf_and_those_entitled_download_it() {
    let app = TestApp::new().await;
    let f = fixture(&app, json!({})).await;
    let path = format!("/api/v1/topics/{}/materials", f.topic);
    let (status, m) = app.upload(&path, &f.staff, "采购方案.pdf", PDF, &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["content_type"], "application/pdf");
    assert_eq!(m["size_bytes"], PDF.len());
    assert_eq!(m["sha256"], hex::encode(Sha256::digest(PDF)));

    let (_, view) = app
        .api(
            "GET",
            &format!("/api/v1/topics/{}", f.topic),
            Some(&f.staff),
            None,
        )
        .await;
    assert_eq!(view["materials"][0]["file_name"], "采购方案.pdf");
    let file = format!("{path}/{}", m["material_id"].as_str().unwrap());
    let (status, bytes, disposition) = download(&app, &file, &f.staff).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PDF);
    assert!(disposition.unwrap().starts_with("attachment;"));

    let (_, outsider) = app.user("wairen", &["staff"]).await;
    assert_eq!(
        download(&app, &file, &outsider).await.0,
        StatusCode::NOT_FOUND
    );
    let admin = app.admin().await;
    assert_eq!(download(&app, &file, &admin).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn forbidden_empty_and_oversized_files_are_refused_and_nothing_is_stored() {
    let mut config = test_config();
    config.upload_limit_bytes = 1024 * 1024;
    let app = TestApp::with_config(config).await;
    let f = fixture(&app, json!({})).await;
    let path = format!("/api/v1/topics/{}/materials", f.topic);
    let big = [PDF, &vec![b' '; 1024 * 1024]].concat();
    for (name, data) in [
        ("virus.pdf", b"MZ\x90\x00\x03".as_slice()),
        ("empty.pdf", b"".as_slice()),
        ("page.html", b"<script>alert(1)</script>".as_slice()),
        ("big.pdf", big.as_slice()),
    ] {
        let (status, problem) = app.upload(&path, &f.staff, name, data, &[]).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], "file", "{name}");
    }
    assert_eq!(app.count("material").await, 0);
    let (status, problem) = app
        .upload(&path, &f.staff, "a.pdf", PDF, &[("classification", "top")])
        .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("classification"))
    );
    assert_eq!(app.count("material").await, 0);
}

#[tokio::test]
async fn only_the_proposer_uploads_and_only_while_the_topic_is_open() {
    let app = TestApp::new().await;
    let f = fixture(&app, json!({})).await;
    let path = format!("/api/v1/topics/{}/materials", f.topic);
    let leader = app.login("fenguan", PASSWORD).await;
    assert_eq!(
        app.upload(&path, &leader, "a.pdf", PDF, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, outsider) = app.user("wairen", &["staff"]).await;
    assert_eq!(
        app.upload(&path, &outsider, "a.pdf", PDF, &[]).await.0,
        StatusCode::NOT_FOUND
    );
    app.api(
        "POST",
        &format!("/api/v1/topics/{}/withdraw", f.topic),
        Some(&f.staff),
        None,
    )
    .await;
    assert_eq!(
        app.upload(&path, &f.staff, "a.pdf", PDF, &[]).await.0,
        StatusCode::CONFLICT
    );
}

/// R-CONFIDENTIAL: a secret material is not listed to, nor served to, a reviewer; a member
/// reads it and the read is audited.
#[tokio::test]
async fn r_confidential_secret_materials_are_for_fewer_eyes_and_reads_are_audited() {
    let app = TestApp::new().await;
    let f = fixture(&app, json!({"amount_fen": 900000})).await;
    let path = format!("/api/v1/topics/{}/materials", f.topic);
    let (_, open) = app
        .upload(
            &path,
            &f.staff,
            "公开.pdf",
            PDF,
            &[("classification", "none")],
        )
        .await;
    let (_, secret) = app
        .upload(
            &path,
            &f.staff,
            "秘密.pdf",
            PDF,
            &[("classification", "secret")],
        )
        .await;

    // The finance clerk reviews the topic (large spend) but is not entitled to the secret file.
    let admin = app.admin().await;
    let (_, section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": "财务科", "kind": "finance"})),
        )
        .await;
    app.api("POST", "/api/v1/users", Some(&admin),
            Some(json!({"login": "caiwu", "name": "财务", "password": PASSWORD, "section_id": section["section_id"], "roles": ["staff"]}))).await;
    let finance = app.login("caiwu", PASSWORD).await;
    let (status, view) = app
        .api(
            "GET",
            &format!("/api/v1/topics/{}", f.topic),
            Some(&finance),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = view["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["公开.pdf"]);
    let secret_path = format!("{path}/{}", secret["material_id"].as_str().unwrap());
    assert_eq!(
        download(&app, &secret_path, &finance).await.0,
        StatusCode::NOT_FOUND
    );
    let open_path = format!("{path}/{}", open["material_id"].as_str().unwrap());
    assert_eq!(download(&app, &open_path, &finance).await.0, StatusCode::OK);

    let (member_id, member) = app.user("chengyuan", &["leader"]).await;
    app.api(
        "POST",
        &format!("/api/v1/party-groups/{}/members", f.group),
        Some(&admin),
        Some(json!({"user_id": member_id, "position": "member"})),
    )
    .await;
    let reads = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from audit_entry where action = 'material.read'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(
        reads(&app).await,
        0,
        "the unclassified download was not a restricted read"
    );
    let (status, bytes, _) = download(&app, &secret_path, &member).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PDF));
    assert_eq!(reads(&app).await, 1);
}

#[tokio::test]
async fn the_page_uploads_with_the_csrf_token_in_the_address() {
    let app = TestApp::new().await;
    let f = fixture(&app, json!({})).await;
    // Sign in through the form to get a cookie session.
    let res = app
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("login=keyuan&password={PASSWORD}")))
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
    let page = format!("/topics/{}", f.topic);
    let html = String::from_utf8(
        app.send(
            Request::get(&page)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec(),
    )
    .unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("an upload form") + marker.len();
    let token = html[start..start + 32].to_owned();
    let post = |uri: String, fields: &[(&str, &str)]| {
        let (content_type, body) =
            crate::support::multipart("图.png", b"\x89PNG\r\n\x1a\n....", fields);
        Request::post(uri)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let materials = format!("{page}/materials");
    assert_eq!(
        app.send(post(materials.clone(), &[])).await.status(),
        StatusCode::FORBIDDEN
    );
    // The probe's finding: a token in the address leaks through logs and Referer — refused.
    assert_eq!(
        app.send(post(format!("{materials}?csrf_token={token}"), &[]))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.count("material").await, 0);
    // As the page sends it: the form's first field.
    assert_eq!(
        app.send(post(materials, &[("csrf_token", &token)]))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("material").await, 1);
}
