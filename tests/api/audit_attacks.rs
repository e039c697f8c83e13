//! R-AUDIT against the database's administrator (issue 14): each attack a superuser connection
//! can make on the audit log, played here and caught — by the keyed hashes alone, or by the
//! checkpoint the server keeps outside the database, or by one the discipline group kept — and
//! the server's own role, which owns nothing, unable even to try.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{TestApp, test_config};

/// The discipline group's token, after enough organisation changes for a chain of 20 entries.
async fn history(app: &TestApp) -> String {
    let (_, token) = app.user("jijian", &["discipline"]).await;
    let admin = app.admin().await;
    for n in 0..16 {
        let (status, _) = app
            .api(
                "POST",
                "/api/v1/sections",
                Some(&admin),
                Some(json!({"name": format!("科室{n}"), "kind": "other"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    token
}

async fn verify(app: &TestApp, token: &str) -> Value {
    let (status, v) = app
        .api("GET", "/api/v1/audit/verify", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn checkpoint(app: &TestApp, token: &str) -> Value {
    let (status, c) = app
        .api("POST", "/api/v1/audit/checkpoints", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c
}

async fn org_head(app: &TestApp) -> i64 {
    sqlx::query_scalar("select max(seq) from audit_entry where chain = 'org'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Runs SQL as a superuser with the triggers off, as an attacker with the database would.
async fn as_attacker(app: &TestApp, statements: &[String]) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    for sql in statements {
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The unkeyed recipe the log used before its key (public, so anyone could follow it):
/// sha256(previous hash ‖ canonical JSON array of the entry's fields).
#[allow(clippy::too_many_arguments)]
fn public_recipe(
    prev: &[u8],
    chain: &str,
    seq: i64,
    id: &str,
    micros: i64,
    action: &str,
    after: &Value,
) -> Vec<u8> {
    let text = yishi::audit::canonical_json(&json!([
        chain,
        seq,
        id,
        micros.to_string(),
        null,
        action,
        "section",
        null,
        null,
        after,
        null
    ]));
    let mut h = Sha256::new();
    h.update(prev);
    h.update(text.as_bytes());
    h.finalize().to_vec()
}

/// Attack 1: the newest entries deleted. No chain row holds a head any more; the checkpoint
/// kept outside the database names the chain and the entry that is gone.
#[tokio::test]
async fn r_audit_deleting_the_newest_entries_is_caught_by_the_kept_checkpoint() {
    let app = TestApp::new().await;
    let token = history(&app).await;
    checkpoint(&app, &token).await;
    let last = org_head(&app).await;
    as_attacker(
        &app,
        &[format!(
            "delete from audit_entry where chain = 'org' and seq > {}",
            last - 3
        )],
    )
    .await;
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["broken"]["chain"], "org");
    assert_eq!(v["broken"]["seq"], last);
    assert!(
        v["broken"]["problem_zh"]
            .as_str()
            .unwrap()
            .contains("检查点"),
        "{v}"
    );
    let local = &v["checkpoints"][0];
    assert_eq!(
        (local["source"].as_str(), local["ok"].as_bool()),
        (Some("local"), Some(false))
    );
    // And the server refuses to sign a new checkpoint over the cut log.
    let (status, body) = app
        .api("POST", "/api/v1/audit/checkpoints", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

/// Attack 2: a forged entry appended with its sha256 recomputed by the public recipe. Its hash
/// is not the keyed one: caught with no checkpoint at all.
#[tokio::test]
async fn r_audit_a_forged_entry_with_its_sha256_recomputed_is_caught() {
    let app = TestApp::new().await;
    let token = history(&app).await;
    let (seq, prev): (i64, Vec<u8>) = sqlx::query_as(
        "select seq, hash from audit_entry where chain = 'org' order by seq desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let id = uuid::Uuid::now_v7().to_string();
    let micros = 1_800_000_000_000_000i64;
    let after = json!({"name": "伪造科室"});
    let hash = public_recipe(&prev, "org", seq + 1, &id, micros, "section.create", &after);
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query(
        "insert into audit_entry (audit_entry_id, chain, seq, occurred_at, action, entity_type,
             after, prev_hash, hash)
         values ($1::uuid, 'org', $2, to_timestamp($3::double precision / 1e6), 'section.create',
                 'section', $4, $5, $6)",
    )
    .bind(&id)
    .bind(seq + 1)
    .bind(micros)
    .bind(&after)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["broken"]["chain"], "org");
    assert_eq!(v["broken"]["seq"], seq + 1);
    assert_eq!(v["broken"]["audit_entry_id"], id.as_str());
}

/// Attack 3: entry 10 rewritten and every later entry re-hashed so the links hold. Without the
/// key the re-hashed entries cannot carry keyed hashes: entry 10 is named.
#[tokio::test]
async fn r_audit_rewriting_entry_10_and_rehashing_the_rest_is_caught() {
    let app = TestApp::new().await;
    let token = history(&app).await;
    let last = org_head(&app).await;
    assert!(last > 12);
    // The attacker rewrites entry 10's content, then recomputes each hash from 10 on with the
    // best recipe they have and relinks every successor.
    let mut statements = vec![
        "update audit_entry set client_addr = '10.6.6.6' where chain = 'org' and seq = 10"
            .to_owned(),
    ];
    for seq in 10..=last {
        statements.push(format!(
            "update audit_entry e set hash = sha256(e.prev_hash || convert_to(e.after::text || e.seq::text, 'UTF8'))
             where chain = 'org' and seq = {seq}"
        ));
        statements.push(format!(
            "update audit_entry e set prev_hash = p.hash from audit_entry p
             where e.chain = 'org' and e.seq = {} and p.chain = 'org' and p.seq = {seq}",
            seq + 1
        ));
    }
    as_attacker(&app, &statements).await;
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["broken"]["chain"], "org");
    assert_eq!(v["broken"]["seq"], 10);
}

/// Attack 4: an earlier, internally consistent copy of the audit tables restored (a
/// roll-back). Every chain verifies on its own; the kept checkpoint does not — both when the
/// copy is just shorter and when the server has written new entries over it since.
#[tokio::test]
async fn r_audit_restoring_an_earlier_copy_of_the_log_is_caught() {
    let app = TestApp::new().await;
    let token = history(&app).await;
    as_attacker(
        &app,
        &[
            "create table copy_entry as select * from audit_entry".to_owned(),
            "create table copy_chain as select * from audit_chain".to_owned(),
        ],
    )
    .await;
    let admin = app.admin().await;
    for n in 0..3 {
        app.api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": format!("后来的科室{n}"), "kind": "other"})),
        )
        .await;
    }
    checkpoint(&app, &token).await;
    let checkpointed = org_head(&app).await;
    let restore = [
        "delete from audit_entry".to_owned(),
        "delete from audit_chain".to_owned(),
        "insert into audit_chain select * from copy_chain".to_owned(),
        "insert into audit_entry select * from copy_entry".to_owned(),
    ];
    as_attacker(&app, &restore).await;
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(v["broken"]["audit_entry_id"].is_null());
    assert_eq!(v["broken"]["seq"], checkpointed);
    // New entries written over the restored copy reach the same place with other hashes.
    for n in 0..6 {
        app.api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": format!("回滚后的科室{n}"), "kind": "other"})),
        )
        .await;
    }
    assert!(org_head(&app).await >= checkpointed);
    let v = verify(&app, &token).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["broken"]["seq"], checkpointed);
    assert!(
        v["broken"]["problem_zh"].as_str().unwrap().contains("回滚"),
        "{v}"
    );
}

/// Issue 14, 2: the discipline group downloads a checkpoint and later proves the log still
/// holds everything up to it — by the command (`--checkpoint FILE`), the API and the page's
/// upload; a checkpoint altered after download is refused as such.
#[tokio::test]
async fn r_audit_a_downloaded_checkpoint_proves_the_log_still_holds_everything_up_to_it() {
    let app = TestApp::new().await;
    let token = history(&app).await;
    let kept = checkpoint(&app, &token).await;
    assert_eq!(kept["body"]["suite"], "standard");
    assert_eq!(kept["body"]["signature_algorithm"], "ed25519");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), kept.to_string()).unwrap();
    let path = file.path().to_str().unwrap();

    let out = app
        .command(&["audit", "verify", "--checkpoint", path])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (status, v) = app
        .api(
            "POST",
            "/api/v1/audit/verify",
            Some(&token),
            Some(kept.clone()),
        )
        .await;
    assert_eq!((status, &v["ok"]), (StatusCode::OK, &json!(true)), "{v}");
    assert!(
        v["checkpoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["source"] == "given")
    );

    // The server's own file is gone with the machine, say; the kept download still catches a cut.
    std::fs::remove_file(&app.config.checkpoint_file).unwrap();
    let last = org_head(&app).await;
    as_attacker(
        &app,
        &[format!(
            "delete from audit_entry where chain = 'org' and seq = {last}"
        )],
    )
    .await;
    let out = app
        .command(&["audit", "verify", "--checkpoint", path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["broken"]["seq"], last, "{report}");
    let given = report["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "given")
        .unwrap();
    assert_eq!(given["ok"], false, "{report}");
    // The page takes the file as an upload.
    let (content_type, body) =
        crate::support::multipart("checkpoint.json", kept.to_string().as_bytes(), &[]);
    let req = axum::http::Request::post("/audit/verify")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .unwrap();
    let page = crate::support::body_text(app.send(req).await).await;
    assert!(
        page.contains("发现断裂") && page.contains("检查点"),
        "{page}"
    );

    // A checkpoint changed after download does not pass as one.
    let mut forged = kept.clone();
    forged["body"]["chains"][0]["seq"] = json!(1);
    let (_, v) = app
        .api("POST", "/api/v1/audit/verify", Some(&token), Some(forged))
        .await;
    let given = v["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "given")
        .unwrap()
        .clone();
    assert_eq!(given["ok"], false, "{v}");
    assert!(
        given["problem_zh"].as_str().unwrap().contains("签名无效"),
        "{v}"
    );
}

/// Issue 14, 4: the server's role owns nothing: it may read and add audit rows, but not change
/// or remove them, nor disable the trigger, nor turn triggers off for its session.
#[tokio::test]
async fn r_audit_the_runtime_role_cannot_disable_the_trigger_or_change_the_log() {
    let app = TestApp::new().await;
    history(&app).await;
    let runtime = sqlx::PgPool::connect(&app.runtime_url).await.unwrap();
    for sql in [
        "alter table audit_entry disable trigger audit_entry_append_only",
        "alter table audit_entry disable trigger all",
        "set session_replication_role = replica",
        "update audit_entry set action = 'x'",
        "delete from audit_entry",
        "truncate audit_entry",
        "delete from audit_checkpoint",
        "update audit_chain set keyed_from = 100",
        "delete from secret_ballot",
        "drop trigger audit_entry_append_only on audit_entry",
        "create table intruder (x int)",
    ] {
        let err = sqlx::query(sql).execute(&runtime).await.err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("permission denied") || msg.contains("must be owner"),
            "{sql}: {msg}"
        );
    }
    // It still reads the log and does its ordinary work.
    let n: i64 = sqlx::query_scalar("select count(*) from audit_entry")
        .fetch_one(&runtime)
        .await
        .unwrap();
    assert!(n > 0);
    sqlx::query("update app_user set name = name where login = 'admin'")
        .execute(&runtime)
        .await
        .unwrap();
    let owns: i64 = sqlx::query_scalar(
        "select count(*) from pg_tables where schemaname = 'public' and tableowner = current_user",
    )
    .fetch_one(&runtime)
    .await
    .unwrap();
    assert_eq!(owns, 0);
}

/// Issue 14, 3: the 国密 suite, chosen at the first start of a deployment: entries chained with
/// HMAC-SM3, checkpoints signed with SM2; verification reads which was used, and catches the
/// same attacks.
#[tokio::test]
async fn r_audit_the_gm_suite_chains_with_hmac_sm3_and_signs_with_sm2() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let checkpoint_file = dir.path().join("checkpoint.json").display().to_string();
    let config = yishi::config::Config::from_lookup(|name| match name {
        "YISHI_DATA_DIR" => Some(data_dir.clone()),
        "YISHI_CHECKPOINT_FILE" => Some(checkpoint_file.clone()),
        "YISHI_CRYPTO_SUITE" => Some("gm".into()),
        _ => None,
    })
    .unwrap();
    let app = TestApp::fresh(config).await;
    let token = history(&app).await;
    let kept = checkpoint(&app, &token).await;
    assert_eq!(kept["body"]["suite"], "gm");
    assert_eq!(kept["body"]["mac"], "hmac-sm3");
    assert_eq!(kept["body"]["signature_algorithm"], "sm2");
    let key = std::fs::read_to_string(dir.path().join("keys/checkpoint-signing.key")).unwrap();
    assert!(key.contains("algorithm: sm2"), "{key}");
    let v = verify(&app, &token).await;
    assert_eq!((&v["ok"], &v["suite"]), (&json!(true), &json!("gm")), "{v}");
    // An entry changed in the database no longer matches its HMAC-SM3.
    as_attacker(
        &app,
        &[
            "update audit_entry set client_addr = '10.9.9.9' where chain = 'org' and seq = 12"
                .to_owned(),
        ],
    )
    .await;
    let v = verify(&app, &token).await;
    assert_eq!(
        (&v["ok"], &v["broken"]["seq"]),
        (&json!(false), &json!(12)),
        "{v}"
    );
    // A server of the standard suite cannot sign or pass as this one.
    let standard = test_config();
    let other = yishi::keys::Keys::load_or_create(&standard).unwrap();
    assert_ne!(other.audit.suite(), yishi::audit::suite::Suite::Gm);
}

/// Issue 14, 1: while the log grows, the server signs a checkpoint every interval by itself
/// and keeps it outside the database.
#[tokio::test]
async fn r_audit_a_checkpoint_is_signed_every_interval_while_the_log_grows() {
    let mut config = test_config();
    config.checkpoint_interval = std::time::Duration::from_secs(1);
    let app = TestApp::with_config(config).await;
    history(&app).await;
    let head = org_head(&app).await;
    let mut kept = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(text) = std::fs::read_to_string(&app.config.checkpoint_file) {
            kept = serde_json::from_str(&text).unwrap();
            let org = kept["body"]["chains"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["chain"] == "org")
                .cloned();
            if org.is_some_and(|c| c["seq"] == head) {
                break;
            }
        }
    }
    let org = kept["body"]["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chain"] == "org")
        .unwrap();
    assert_eq!(org["seq"], head, "{kept}");
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from audit_checkpoint where kind in ('start', 'periodic')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(stored >= 2, "{stored}");
}
