//! Benchmark: how many audited transactions per second the hash chain allows when 64 writers
//! append at once, with every writer on one chain versus writers spread over 8 party-group
//! chains (as eight groups meeting at once would be); and one transaction writing 10,000
//! entries (the roster import) with one append per entry against one `append_all`. Prints the
//! figures; asserts nothing.
//!
//!     cargo run --release --example audit_throughput
//!
//! Uses DATABASE_URL when set, else a private durable (fsync on) cluster in a temporary
//! directory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;
use yishi::audit::{self, AuditLog, Chain, Change};
use yishi::domain::ids::PartyGroupId;
use yishi::embedded_pg::{EmbeddedOptions, EmbeddedPg};

const WRITERS: usize = 64;
const RUN: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = tempfile::Builder::new().prefix("yishi-bench-").tempdir()?;
            std::fs::set_permissions(
                dir.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )?;
            let pg = EmbeddedPg::start(&EmbeddedOptions {
                data_dir: dir.path().to_owned(),
                bindir: None,
                durable: true,
            })?;
            (pg.url("yishi_bench"), Some((pg, dir)))
        }
    };
    let pool = yishi::bootstrap::connect(&url, WRITERS as u32 + 2).await?;
    yishi::bootstrap::migrate(&pool).await?;
    let pool = Arc::new(pool);
    // The audit keys in a temporary directory, as the server keeps them in its data directory.
    let keys_dir = tempfile::Builder::new()
        .prefix("yishi-bench-keys-")
        .tempdir()?;
    let data_dir = keys_dir.path().display().to_string();
    let config =
        yishi::config::Config::from_lookup(|n| (n == "YISHI_DATA_DIR").then(|| data_dir.clone()))?;
    let log = Arc::new(AuditLog::new(
        yishi::keys::Keys::load_or_create(&config)?.audit,
        config.checkpoint_file.clone(),
    ));

    println!(
        "{WRITERS} concurrent writers, {} s per run, fsync as configured",
        RUN.as_secs()
    );
    for chains in [1usize, 8] {
        let groups: Vec<PartyGroupId> = (0..chains).map(|_| PartyGroupId::new()).collect();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            let (pool, log, chain) = (
                pool.clone(),
                log.clone(),
                Chain::PartyGroup(groups[w % chains]),
            );
            tasks.spawn(async move {
                let mut done = 0u64;
                let mut latency = Duration::ZERO;
                while started.elapsed() < RUN {
                    let t = Instant::now();
                    let mut tx = pool.begin().await?;
                    let change = Change::new(chain, "bench.ballot", "ballot")
                        .entity(Uuid::now_v7())
                        .after(json!({"writer": w}));
                    log.append(&mut tx, &audit::Actor::default(), change)
                        .await?;
                    tx.commit().await?;
                    latency += t.elapsed();
                    done += 1;
                }
                anyhow::Ok((done, latency))
            });
        }
        let (mut total, mut latency) = (0u64, Duration::ZERO);
        for result in tasks.join_all().await {
            let (n, l) = result?;
            total += n;
            latency += l;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{chains} chain(s): {:>7.0} tx/s, mean latency {:>6.1} ms ({total} entries)",
            total as f64 / secs,
            latency.as_secs_f64() * 1000.0 / total.max(1) as f64
        );
    }
    // A bulk action writes many entries in one transaction: one append each (the baseline)
    // against all of them under one lock of the head.
    const BULK: usize = 10_000;
    let mut took = Vec::new();
    for at_once in [false, true] {
        let chain = Chain::PartyGroup(PartyGroupId::new());
        let changes: Vec<Change> = (0..BULK)
            .map(|row| {
                Change::new(chain, "bench.import", "user")
                    .entity(Uuid::now_v7())
                    .after(json!({"row": row}))
            })
            .collect();
        let started = Instant::now();
        let mut tx = pool.begin().await?;
        let actor = audit::Actor::default();
        if at_once {
            log.append_all(&mut tx, &actor, &chain.key(), changes)
                .await?;
        } else {
            for change in changes {
                log.append(&mut tx, &actor, change).await?;
            }
        }
        tx.commit().await?;
        took.push(started.elapsed().as_secs_f64());
    }
    println!(
        "{BULK} entries in one transaction: one append each {:.0} ms, append_all {:.0} ms ({:.1}× as fast)",
        took[0] * 1000.0,
        took[1] * 1000.0,
        took[0] / took[1]
    );
    let mut conn = pool.acquire().await?;
    let v = log.verify(&mut conn, None).await?;
    println!(
        "verification after the runs: ok={} over {} entries",
        v.ok, v.entries
    );
    drop(conn);
    pool.close().await;
    if let Some((pg, _dir)) = cluster {
        pg.stop(true)?;
    }
    Ok(())
}
