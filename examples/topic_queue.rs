//! Benchmark: how long the 书记's topics page takes to render with 1,000 submitted topics in
//! the queue, through the real router on a real database. Prints the figures; asserts nothing.
//!
//!     cargo run --release --example topic_queue
//!
//! Uses DATABASE_URL's server when set (a new database `yishi_bench_queue` is created there),
//! else a private throwaway cluster in a temporary directory.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use uuid::Uuid;
use yishi::config::Config;
use yishi::embedded_pg::EmbeddedPg;

const TOPICS: i64 = 1_000;
const RUNS: usize = 30;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (
            url.rsplit_once('/')
                .map(|(b, _)| format!("{b}/yishi_bench_queue"))
                .unwrap_or(url),
            None,
        ),
        Err(_) => {
            let dir = tempfile::Builder::new().prefix("yishi-bench-").tempdir()?;
            let pg = EmbeddedPg::start_throwaway(dir.path())?;
            (pg.url("yishi_bench_queue"), Some((pg, dir)))
        }
    };
    let pool = yishi::bootstrap::connect(&url, 10).await?;
    yishi::bootstrap::migrate(&pool).await?;

    // A group whose 书记 is `shuji`, and TOPICS submitted topics proposed by a clerk.
    let hash = yishi::auth::password::hash("bench-shuji-pass-1".into()).await?;
    let (group, shuji, clerk) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    sqlx::raw_sql(&format!(
        "insert into party_group (party_group_id, name) values ('{group}', '基准党组');
         insert into party_group_setting (party_group_id) values ('{group}');
         insert into app_user (user_id, login, name, password_hash) values
             ('{shuji}', 'shuji', '书记', '{hash}'), ('{clerk}', 'clerk', '科员', '{hash}');
         insert into user_role values ('{shuji}', 'leader'), ('{clerk}', 'staff');
         insert into membership (membership_id, party_group_id, user_id, position, started_on)
             values ('{}', '{group}', '{shuji}', 'secretary', current_date);
         insert into topic (topic_id, party_group_id, proposer_id, responsible_user_id, title,
                            category, content, matters_to_decide, consultation_opinions, status,
                            submitted_at, signed_off_by, signed_off_at)
         select gen_random_uuid(), '{group}', '{clerk}', '{shuji}', '议题 ' || n, 1 + n % 33,
                '内容', '事项', '意见', 'submitted', now(), '{shuji}', now()
         from generate_series(1, {TOPICS}) n;",
        Uuid::now_v7()
    ))
    .execute(&pool)
    .await?;

    // The server's key files go to a temporary directory, not ./data.
    let keys = tempfile::Builder::new()
        .prefix("yishi-bench-keys-")
        .tempdir()?;
    let data_dir = keys.path().display().to_string();
    let config = Config::from_lookup(|name| (name == "YISHI_DATA_DIR").then(|| data_dir.clone()))?;
    let state = yishi::AppState::new(pool.clone(), config)?;
    yishi::bootstrap::ensure_admin(&pool, &state.audit, Some("bench-admin-pass-1")).await?;
    let app = yishi::app(state);
    let signed_in = app
        .clone()
        .oneshot(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    r#"{"login":"shuji","password":"bench-shuji-pass-1"}"#,
                ))?,
        )
        .await?;
    let body: serde_json::Value =
        serde_json::from_slice(&signed_in.into_body().collect().await?.to_bytes())?;
    let token = body["token"].as_str().expect("a token").to_owned();

    let mut times = Vec::with_capacity(RUNS);
    let mut size = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let res = app
            .clone()
            .oneshot(
                Request::get("/topics")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())?,
            )
            .await?;
        assert!(res.status().is_success(), "{}", res.status());
        size = res.into_body().collect().await?.to_bytes().len();
        times.push(started.elapsed());
    }
    times.sort();
    let mean: Duration = times.iter().sum::<Duration>() / RUNS as u32;
    println!(
        "书记's topics page with {TOPICS} submitted topics in the queue ({} KiB of HTML), {RUNS} runs:",
        size / 1024
    );
    println!(
        "  mean {:.1} ms, median {:.1} ms, p95 {:.1} ms",
        mean.as_secs_f64() * 1e3,
        times[RUNS / 2].as_secs_f64() * 1e3,
        times[RUNS * 95 / 100].as_secs_f64() * 1e3
    );
    pool.close().await;
    if let Some((pg, _dir)) = cluster {
        pg.stop(false)?;
    }
    Ok(())
}
