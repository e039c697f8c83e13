//! Load benchmark: N meetings at once, 11 members each, every member stating an opinion and
//! voting (secret ballot) on every item over HTTP, each member's screen connected to the
//! meeting's event stream. Prints ballots/s, p50/p95/p99 of the ballot request, the time until
//! a ballot has reached every screen of its meeting, the p50 of closing a vote, the server's
//! peak RSS and the CPU time spent per ballot (all of the machine, the server, the database).
//! Asserts nothing.
//!
//!     cargo run --release --example meeting_load -- 1 10 100
//!     cargo run --release --example meeting_load -- --think-ms 3000 1 10 100
//!     cargo run --release --example meeting_load -- --method named,secret 100
//!     cargo run --release --example meeting_load -- --pages
//!
//! `--browser` makes every member's screen do what the meeting page's script does on each
//! event: fetch the page's live part (`/meetings/{id}/live`), one fetch at a time; a ballot then
//! counts as shown when the first fetch begun after its event has come back, so the screen
//! figures are page updates.
//!
//! `--pages` measures instead how fast the server answers one member of an open meeting, side
//! by side in the same run: the meeting page as that member's browser loads it, the meeting's
//! JSON, and `/healthz` without a session (what the server does for a request at the least),
//! each by 32 connections for 10 s, with each one's share of `/healthz`.
//!
//! `--method` takes the vote methods to play, each on its own fresh database one after the
//! other in the same run: `named` (one plain row per ballot) beside `secret` (encrypted
//! ballots with their proofs, counted by decrypting the sums) shows what the encryption costs.
//!
//! Before the first meeting is played, the run measures the bare SQL of one ballot on the same
//! database server, as a pgbench script would (lock the item, insert the ballot, append an
//! audit row without chaining it; 64 connections for 10 s, each transaction committed with the
//! server's fsync setting), and prints each run's ballots/s as a share of it.
//!
//! Without `--think-ms` every member of a meeting acts at the same instant (the worst case:
//! all meetings in lockstep); with it each member waits a random 0–N ms before stating an
//! opinion and before voting, as people in a room do.
//!
//! Each meeting has four items; the first warms the server up (as a server that has been
//! running for a while is: statements prepared and planned on every pooled connection) and is
//! left out of every figure, CPU included.
//!
//! The server runs in a child process (this program re-executed) so that its memory is its
//! own; the database is DATABASE_URL's server or a private throwaway cluster.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use uuid::Uuid;
use yishi::embedded_pg::EmbeddedPg;

// The same allocator as the `yishi` binary, for the server this program re-executes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MEMBERS: usize = 11;
/// Items per meeting: the first warms the server up (each pooled connection prepares its
/// statements and PostgreSQL plans them, each screen connects) and is not measured.
const ITEMS: usize = 4;

fn main() -> anyhow::Result<()> {
    yishi::memory::small_pages_only();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Runtime::new()?;
    if args.first().map(String::as_str) == Some("--serve") {
        return rt.block_on(serve(&args[1]));
    }
    let mut think_ms = 0;
    let mut counts = Vec::new();
    let mut methods = vec!["secret".to_owned()];
    let mut pages = false;
    let mut browser = false;
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        if a == "--pages" {
            pages = true;
        } else if a == "--browser" {
            browser = true;
        } else if a == "--think-ms" {
            think_ms = rest.next().map(|v| v.parse()).transpose()?.unwrap_or(0);
        } else if a == "--method" {
            methods = rest
                .next()
                .map(|v| v.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            anyhow::ensure!(
                methods
                    .iter()
                    .all(|m| ["voice", "hands", "secret", "named"].contains(&m.as_str())),
                "--method takes voice, hands, secret or named, comma-separated"
            );
        } else {
            counts.push(a.parse()?);
        }
    }
    if pages {
        // One meeting is enough: the page's cost does not depend on how many there are.
        counts = vec![1];
    } else if counts.is_empty() {
        counts = vec![1, 10, 100];
    }
    rt.block_on(run(counts, think_ms, methods, pages, browser))
}

/// The server alone, as `yishi serve` runs it, printing its port.
async fn serve(url: &str) -> anyhow::Result<()> {
    let pool = yishi::bootstrap::connect(url, 20).await?;
    // YISHI_DATA_DIR is the run's temporary directory: the ballot key is made there.
    let config = yishi::config::Config::from_lookup(|name| std::env::var(name).ok())?;
    let state = yishi::AppState::new(pool, config)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    axum::serve(
        listener,
        yishi::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}

async fn run(
    counts: Vec<usize>,
    think_ms: u64,
    methods: Vec<String>,
    pages: bool,
    browser: bool,
) -> anyhow::Result<()> {
    let keys = tempfile::Builder::new()
        .prefix("yishi-load-keys-")
        .tempdir()?;
    let (base, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = tempfile::Builder::new().prefix("yishi-load-").tempdir()?;
            let pg = EmbeddedPg::start_throwaway(dir.path())?;
            (pg.url("postgres"), Some((pg, dir)))
        }
    };
    let bare = if pages {
        0.0
    } else {
        let admin = yishi::bootstrap::connect(&base, BARE_CONNECTIONS as u32).await?;
        let (per_s, cpu_ms) = bare_ballots(&admin).await?;
        admin.close().await;
        println!(
            "bare-SQL ballot ({BARE_CONNECTIONS} connections, {BARE_SECS} s): {per_s:.0} tx/s, CPU {cpu_ms:.2} ms/tx"
        );
        println!(
            "method  meetings  ballots  ballots/s  of bare SQL  ballot p50/p95/p99 ms  all screens p50/p95/p99 ms  close p50 ms  server peak RSS  CPU ms/ballot  server  database"
        );
        per_s
    };
    for n in counts {
        for method in &methods {
            let db = format!("yishi_load_{n}");
            let admin = yishi::bootstrap::connect(&base, 2).await?;
            sqlx::query(&format!("drop database if exists {db}"))
                .execute(&admin)
                .await?;
            sqlx::query(&format!("create database {db}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            let url = base
                .rsplit_once('/')
                .map(|(b, _)| format!("{b}/{db}"))
                .unwrap();
            let pool = yishi::bootstrap::connect(&url, 5).await?;
            yishi::bootstrap::migrate(&pool).await?;
            let meetings = seed(&pool, n).await?;
            pool.close().await;
            let mut child = tokio::process::Command::new(std::env::current_exe()?)
                .args(["--serve", &url])
                .env("YISHI_DATA_DIR", keys.path())
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
            let mut line = String::new();
            tokio::io::AsyncBufReadExt::read_line(&mut out, &mut line).await?;
            let port: u16 = line.trim().parse()?;
            let pid = child.id().unwrap();
            if pages {
                let m = &meetings[0];
                let member = &m.members[1].1;
                rates(
                    port,
                    member,
                    &format!("/meetings/{}", m.id),
                    &format!("/api/v1/meetings/{}", m.id),
                )
                .await?;
                child.kill().await?;
                break;
            }
            let figures = play(port, pid, meetings, think_ms, method, browser).await?;
            let (busy, server, generator) = figures.ticks;
            let rss = peak_rss_kib(pid);
            child.kill().await?;
            // CPU time per ballot (a ballot comes with an opinion and a share of the chair's
            // steps): the whole machine, the server, and the database (the machine less the
            // server and this load generator).
            let per_ballot = |ticks: u64| ticks as f64 * 10.0 / figures.ballots as f64;
            let rate = figures.ballots as f64 / figures.elapsed.as_secs_f64();
            let mut closes = figures.closes.clone();
            closes.sort_by(f64::total_cmp);
            println!(
                "{method:>6}  {n:>8}  {:>7}  {:>9.0}  {:>9.1} %  {:>21}  {:>26}  {:>12.1}  {:>10.1} MiB  {:>13.1}  {:>6.1}  {:>8.1}",
                figures.ballots,
                rate,
                rate / bare * 100.0,
                percentiles(&mut figures.latencies.clone()),
                percentiles(&mut figures.delivery.clone()),
                closes.get(closes.len() / 2).copied().unwrap_or(f64::NAN),
                rss as f64 / 1024.0,
                per_ballot(busy),
                per_ballot(server),
                per_ballot(busy.saturating_sub(server + generator)),
            );
            if figures.missed > 0 {
                println!(
                    "          {} ballots never reached every screen",
                    figures.missed
                );
            }
        }
    }
    if let Some((pg, _dir)) = cluster {
        pg.stop(false)?;
    }
    Ok(())
}

/// Connections and seconds of the bare-SQL ballot.
const BARE_CONNECTIONS: usize = 64;
const BARE_SECS: u64 = 10;

/// The bare SQL of one ballot, as fast as the database server takes it: transactions per
/// second and the machine's CPU time per transaction. Its tables live in a schema of their own,
/// dropped afterwards; the ballot's sizes are those of a secret ballot.
async fn bare_ballots(pool: &sqlx::PgPool) -> anyhow::Result<(f64, f64)> {
    for sql in [
        "drop schema if exists bare_ballot cascade",
        "create schema bare_ballot",
        "create table bare_ballot.item (item_id int primary key)",
        "insert into bare_ballot.item select generate_series(1, 100)",
        "create table bare_ballot.ballot (item_id int not null references bare_ballot.item, \
         voter uuid not null, tracker bytea not null, ballot bytea not null, \
         primary key (item_id, voter))",
        "create table bare_ballot.audit (seq bigserial primary key, occurred_at timestamptz \
         not null default now(), actor uuid not null, action text not null, entity_id text \
         not null, after jsonb, hash bytea not null)",
    ] {
        sqlx::query(sql).execute(pool).await?;
    }
    let started = Instant::now();
    let stop = started + Duration::from_secs(BARE_SECS);
    let busy = busy_ticks();
    let mut tasks = Vec::new();
    for c in 0..BARE_CONNECTIONS {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < stop {
                let item = (c + done as usize) % 100 + 1;
                let voter = Uuid::now_v7();
                let mut tx = pool.begin().await?;
                sqlx::query("select 1 from bare_ballot.item where item_id = $1 for share")
                    .bind(item as i32)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("insert into bare_ballot.ballot values ($1, $2, $3, $4)")
                    .bind(item as i32)
                    .bind(voter)
                    .bind(&[7u8; 32][..])
                    .bind(&[7u8; 905][..])
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "insert into bare_ballot.audit (actor, action, entity_id, after, hash) \
                     values ($1, 'item.ballot', $2, $3, $4)",
                )
                .bind(voter)
                .bind(item.to_string())
                .bind(serde_json::json!({"method": "secret", "item_id": item}))
                .bind(&[7u8; 32][..])
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut done = 0;
    for t in tasks {
        done += t.await??;
    }
    let (elapsed, busy) = (started.elapsed(), busy_ticks() - busy);
    sqlx::query("drop schema bare_ballot cascade")
        .execute(pool)
        .await?;
    Ok((
        done as f64 / elapsed.as_secs_f64(),
        busy as f64 * 10.0 / done as f64,
    ))
}

/// Clock ticks (1/100 s) the machine spent busy, all cores together (user, nice, system, irq,
/// softirq, steal: the columns of /proc/stat's first line but idle and iowait).
fn busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum()
}

/// Clock ticks of CPU a process used so far (utime + stime).
fn process_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    fields.iter().sum()
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn percentiles(v: &mut [f64]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    format!("{:.1}/{:.1}/{:.1}", at(0.50), at(0.95), at(0.99))
}

/// One meeting ready to run: open, everyone present, items pending; bearer tokens per member
/// (index 0 is the 书记 who chairs).
struct Seeded {
    id: Uuid,
    items: Vec<Uuid>,
    members: Vec<(Uuid, String)>,
}

async fn seed(pool: &sqlx::PgPool, n: usize) -> anyhow::Result<Vec<Seeded>> {
    let hash = yishi::auth::password::hash("load-pass-123".into()).await?;
    let secretary = Uuid::now_v7();
    sqlx::query("insert into app_user (user_id, login, name, password_hash) values ($1, 'mishu', '秘书', $2)")
        .bind(secretary)
        .bind(&hash)
        .execute(pool)
        .await?;
    sqlx::query("insert into user_role values ($1, 'office')")
        .bind(secretary)
        .execute(pool)
        .await?;
    let mut all = Vec::new();
    for g in 0..n {
        let mut tx = pool.begin().await?;
        let group = Uuid::now_v7();
        sqlx::query("insert into party_group (party_group_id, name) values ($1, $2)")
            .bind(group)
            .bind(format!("党组{g}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into party_group_setting (party_group_id) values ($1)")
            .bind(group)
            .execute(&mut *tx)
            .await?;
        let mut members = Vec::new();
        for k in 0..MEMBERS {
            let id = Uuid::now_v7();
            sqlx::query("insert into app_user (user_id, login, name, password_hash) values ($1, $2, $3, $4)")
                .bind(id)
                .bind(format!("m{g}x{k}"))
                .bind(format!("成员{g}-{k}"))
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("insert into user_role values ($1, 'leader')")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("insert into membership (membership_id, party_group_id, user_id, position, started_on) values ($1, $2, $3, $4, current_date - 30)")
                .bind(Uuid::now_v7())
                .bind(group)
                .bind(id)
                .bind(if k == 0 { "secretary" } else { "member" })
                .execute(&mut *tx)
                .await?;
            let token = yishi::random::hex(32);
            sqlx::query(
                "insert into user_session (session_hash, user_id, csrf_token) values ($1, $2, 'x')",
            )
            .bind(yishi::auth::session::token_hash(&token))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            members.push((id, token));
        }
        let meeting = Uuid::now_v7();
        sqlx::query("insert into meeting (meeting_id, party_group_id, year, number, title, starts_at, place, secretary_id, chair_id, status, created_by, noticed_at, opened_at) values ($1, $2, 2026, 1, '负载测试会议', now(), '会议室', $3, $4, 'open', $3, now(), now())")
            .bind(meeting)
            .bind(group)
            .bind(secretary)
            .bind(members[0].0)
            .execute(&mut *tx)
            .await?;
        let mut items = Vec::new();
        for i in 0..ITEMS {
            let topic = Uuid::now_v7();
            sqlx::query("insert into topic (topic_id, party_group_id, proposer_id, responsible_user_id, title, category, content, matters_to_decide, consultation_opinions, status) values ($1, $2, $3, $3, $4, 1, '内容', '事项', '意见', 'scheduled')")
                .bind(topic)
                .bind(group)
                .bind(members[0].0)
                .bind(format!("议题{i}"))
                .execute(&mut *tx)
                .await?;
            let item = Uuid::now_v7();
            sqlx::query("insert into agenda_item (item_id, meeting_id, topic_id, position) values ($1, $2, $3, $4)")
                .bind(item)
                .bind(meeting)
                .bind(topic)
                .bind(i as i32 + 1)
                .execute(&mut *tx)
                .await?;
            items.push(item);
        }
        for (id, _) in &members {
            sqlx::query("insert into attendance (meeting_id, user_id, present, recorded_by) values ($1, $2, true, $3)")
                .bind(meeting)
                .bind(id)
                .bind(secretary)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        all.push(Seeded {
            id: meeting,
            items,
            members,
        });
    }
    Ok(all)
}

struct Figures {
    ballots: usize,
    elapsed: Duration,
    /// Clock ticks over the measured phase: the machine busy, the server, this generator.
    ticks: (u64, u64, u64),
    latencies: Vec<f64>,
    delivery: Vec<f64>,
    /// How long the chair's closing of each vote took.
    closes: Vec<f64>,
    /// Ballots some screen never showed.
    missed: usize,
}

async fn connect(port: u16) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn call(
    client: &mut SendRequest<Full<Bytes>>,
    token: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<u16> {
    client.ready().await?;
    let req = hyper::Request::post(path)
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))?;
    let res = client.send_request(req).await?;
    let status = res.status().as_u16();
    res.into_body().collect().await?;
    anyhow::ensure!(status < 300, "{path}: {status}");
    Ok(status)
}

/// Connections and seconds per path of `--pages`.
const PAGE_CONNECTIONS: usize = 32;
const PAGE_SECS: u64 = 10;

/// `--pages`: requests per second of each path, one after the other on the same server.
async fn rates(port: u16, token: &str, page: &str, json: &str) -> anyhow::Result<()> {
    let healthz = rate(port, None, "/healthz").await?;
    println!("path                          req/s   share of /healthz");
    println!("{:<28}  {healthz:>6.0}", "/healthz");
    for (name, path) in [("meeting page (a member)", page), ("meeting JSON", json)] {
        let r = rate(port, Some(token), path).await?;
        println!("{name:<28}  {r:>6.0}   {:>5.1} %", r / healthz * 100.0);
    }
    Ok(())
}

async fn rate(port: u16, token: Option<&str>, path: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let stop = started + Duration::from_secs(PAGE_SECS);
    let mut tasks = Vec::new();
    for _ in 0..PAGE_CONNECTIONS {
        let (token, path) = (token.map(str::to_owned), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut client = connect(port).await?;
            let mut served = 0u64;
            while Instant::now() < stop {
                client.ready().await?;
                let mut req = hyper::Request::get(&path).header("host", "localhost");
                if let Some(token) = &token {
                    req = req.header("authorization", format!("Bearer {token}"));
                }
                let req = req.body(Full::new(Bytes::new()))?;
                let res = client.send_request(req).await?;
                anyhow::ensure!(res.status() == 200, "{path}: {}", res.status());
                res.into_body().collect().await?;
                served += 1;
            }
            anyhow::Ok(served)
        }));
    }
    let mut served = 0;
    for t in tasks {
        served += t.await??;
    }
    Ok(served as f64 / started.elapsed().as_secs_f64())
}

/// What the screen reads of a snapshot (only these fields, so that the generator, which shares
/// the machine with the server, costs it little).
#[derive(serde::Deserialize)]
struct Snapshot {
    item: Option<SnapshotItem>,
}

#[derive(serde::Deserialize)]
struct SnapshotItem {
    item_id: Uuid,
    voted: Vec<Uuid>,
}

/// When each screen first showed each ballot: (item, voter) → one arrival time per screen.
type Seen = Arc<Mutex<HashMap<(Uuid, Uuid), Vec<Instant>>>>;

/// A member's screen: follows the meeting's events and notes when each ballot appears.
async fn screen(
    port: u16,
    meeting: Uuid,
    token: String,
    seen: Seen,
    browser: bool,
) -> anyhow::Result<()> {
    let page = browser.then(|| page_updates(port, meeting, token.clone(), seen.clone()));
    let mut client = connect(port).await?;
    let req = hyper::Request::get(format!("/api/v1/meetings/{meeting}/events"))
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))?;
    let mut body = client.send_request(req).await?.into_body();
    // The current item and the voters this screen has shown for it.
    let mut known: Option<(Uuid, Vec<Uuid>)> = None;
    let mut buffer = String::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        buffer.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buffer.find("\n\n") {
            let data = buffer[..end]
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map(str::to_owned);
            buffer.drain(..end + 2);
            let Some(json) = data else {
                continue;
            };
            // Any snapshot may be the first to show a ballot: a screen that fell behind is
            // sent only the newest one.
            let Some(item) = serde_json::from_str::<Snapshot>(&json)?.item else {
                continue;
            };
            if known.as_ref().map(|k| k.0) != Some(item.item_id) {
                known = Some((item.item_id, Vec::new()));
            }
            let (_, shown) = known.as_mut().expect("set above");
            let now = Instant::now();
            let new = item.voted.iter().filter(|x| !shown.contains(x));
            match &page {
                // The page shows them once its next fetch is back.
                Some((waiting, wake)) => {
                    waiting
                        .lock()
                        .unwrap()
                        .extend(new.map(|v| (item.item_id, *v)));
                    wake.notify_one();
                }
                None => {
                    for voter in new {
                        let key = (item.item_id, *voter);
                        seen.lock().unwrap().entry(key).or_default().push(now);
                    }
                }
            }
            *shown = item.voted;
        }
    }
    Ok(())
}

/// Ballots a screen's page is still to show, and the bell that wakes its fetcher.
type PageUpdates = (Arc<Mutex<Vec<(Uuid, Uuid)>>>, Arc<tokio::sync::Notify>);

/// The page script of one screen: after each event, fetch the live part, one fetch at a time;
/// the ballots announced before a fetch began are shown when it is back.
fn page_updates(port: u16, meeting: Uuid, token: String, seen: Seen) -> PageUpdates {
    let waiting: Arc<Mutex<Vec<(Uuid, Uuid)>>> = Arc::default();
    let wake = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(fetch_pages(
        port,
        format!("/meetings/{meeting}/live"),
        token,
        seen,
        (waiting.clone(), wake.clone()),
    ));
    (waiting, wake)
}

async fn fetch_pages(
    port: u16,
    path: String,
    token: String,
    seen: Seen,
    (waiting, wake): PageUpdates,
) -> anyhow::Result<()> {
    let mut client = connect(port).await?;
    loop {
        wake.notified().await;
        let shown: Vec<(Uuid, Uuid)> = std::mem::take(&mut *waiting.lock().unwrap());
        client.ready().await?;
        let req = hyper::Request::get(&path)
            .header("host", "localhost")
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(Bytes::new()))?;
        let res = client.send_request(req).await?;
        anyhow::ensure!(res.status() == 200, "{path}: {}", res.status());
        res.into_body().collect().await?;
        let now = Instant::now();
        let mut seen = seen.lock().unwrap();
        for key in shown {
            seen.entry(key).or_default().push(now);
        }
    }
}

async fn play(
    port: u16,
    server_pid: u32,
    meetings: Vec<Seeded>,
    think_ms: u64,
    method: &str,
    browser: bool,
) -> anyhow::Result<Figures> {
    let seen: Seen = Arc::default();
    let mut screens = Vec::new();
    for m in &meetings {
        for (_, token) in &m.members {
            screens.push(tokio::spawn(screen(
                port,
                m.id,
                token.clone(),
                seen.clone(),
                browser,
            )));
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let window = Arc::new(Window {
        rooms: meetings.len(),
        server_pid,
        warmed: Default::default(),
        start: Default::default(),
        end: Default::default(),
    });
    let mut runs = Vec::new();
    for m in meetings {
        let room = Room::enter(port, m).await?;
        runs.push(tokio::spawn(play_room(
            room,
            think_ms,
            method.to_owned(),
            window.clone(),
        )));
    }
    let mut ballots = Vec::new();
    let mut closes = Vec::new();
    for r in runs {
        let (b, c) = r.await??;
        ballots.extend(b);
        closes.extend(c);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for s in screens {
        s.abort();
    }
    let (Some(start), Some(end)) = (window.start.get(), window.end.get()) else {
        anyhow::bail!("no moment when every meeting was playing: add items");
    };
    anyhow::ensure!(end.0 > start.0, "no moment when every meeting was playing");
    ballots.retain(|b| b.at >= start.0 && b.at + b.took <= end.0);
    closes.retain(|(at, took)| *at >= start.0 && *at + *took <= end.0);
    let seen = seen.lock().unwrap();
    // Each ballot appears on each of its meeting's MEMBERS screens; one that never reached
    // them all is counted apart.
    let mut missed = 0;
    let delivery = ballots
        .iter()
        .filter_map(|b| {
            let arrivals = seen.get(&b.key).map_or(&[][..], Vec::as_slice);
            if arrivals.len() < MEMBERS {
                missed += 1;
                return None;
            }
            let last = arrivals.iter().max()?;
            Some(last.duration_since(b.at).as_secs_f64() * 1000.0)
        })
        .collect();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(Figures {
        ballots: ballots.len(),
        elapsed: end.0 - start.0,
        ticks: (
            end.1.0 - start.1.0,
            end.1.1 - start.1.1,
            end.1.2 - start.1.2,
        ),
        latencies: ballots.iter().map(|b| ms(b.took)).collect(),
        closes: closes.iter().map(|(_, took)| ms(*took)).collect(),
        delivery,
        missed,
    })
}

/// Clock ticks of the machine busy, the server and this generator.
type Ticks = (u64, u64, u64);

/// What is measured: from the moment every meeting has played its warm-up item to the moment
/// the first one has played its last, so that every meeting is playing all along.
struct Window {
    rooms: usize,
    server_pid: u32,
    warmed: std::sync::atomic::AtomicUsize,
    start: std::sync::OnceLock<(Instant, Ticks)>,
    end: std::sync::OnceLock<(Instant, Ticks)>,
}

impl Window {
    fn now(&self) -> (Instant, Ticks) {
        let ticks = (
            busy_ticks(),
            process_ticks(self.server_pid),
            process_ticks(std::process::id()),
        );
        (Instant::now(), ticks)
    }

    fn warmed_up(&self) {
        let warmed = self
            .warmed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if warmed == self.rooms {
            let _ = self.start.set(self.now());
        }
    }

    fn finished(&self) {
        if self.start.get().is_some() {
            let _ = self.end.set(self.now());
        }
    }
}

/// One meeting's members, each with their own connection (index 0 is the chair).
struct Room {
    m: Seeded,
    clients: Vec<SendRequest<Full<Bytes>>>,
}

impl Room {
    async fn enter(port: u16, m: Seeded) -> anyhow::Result<Room> {
        let mut clients = Vec::new();
        for _ in &m.members {
            clients.push(connect(port).await?);
        }
        Ok(Room { m, clients })
    }
}

/// One ballot: whose on which item (item, voter), when it was sent and how long it took.
struct Ballot {
    key: (Uuid, Uuid),
    at: Instant,
    took: Duration,
}

/// Plays a meeting: the warm-up item, then the others.
async fn play_room(
    mut room: Room,
    think_ms: u64,
    method: String,
    window: Arc<Window>,
) -> anyhow::Result<(Vec<Ballot>, Vec<(Instant, Duration)>)> {
    // Parallel meetings do not move in step: each starts at a random moment within about an
    // item's length. (Members acting at once, the worst case, start together.)
    think(2 * think_ms).await;
    play_item(&mut room, 0, think_ms, &method).await?;
    window.warmed_up();
    let mut ballots = Vec::new();
    let mut closes = Vec::new();
    for i in 1..ITEMS {
        let (b, close) = play_item(&mut room, i, think_ms, &method).await?;
        ballots.extend(b);
        closes.push(close);
    }
    window.finished();
    Ok((ballots, closes))
}

/// Plays one item: the chair starts it, members state opinions (the chair last), the chair
/// opens a vote by `method`, all members vote (after their think time), the chair closes
/// (timed) and announces.
async fn play_item(
    room: &mut Room,
    index: usize,
    think_ms: u64,
    method: &str,
) -> anyhow::Result<(Vec<Ballot>, (Instant, Duration))> {
    let Room { m, clients } = room;
    let item = m.items[index];
    let chair = m.members[0].1.clone();
    let mut played = Vec::new();
    let path = |a: &str| format!("/api/v1/meetings/{}/items/{item}/{a}", m.id);
    call(&mut clients[0], &chair, &path("start"), "{}").await?;
    let opinions = clients[1..]
        .iter_mut()
        .zip(&m.members[1..])
        .map(|(c, (_, t))| {
            let p = path("opinions");
            async move {
                think(think_ms).await;
                call(c, t, &p, r#"{"stance":"agree"}"#).await
            }
        });
    for r in futures_util::future::join_all(opinions).await {
        r?;
    }
    // The chair speaks last, then opens the vote.
    let open = format!(r#"{{"method":"{method}"}}"#);
    for (action, body) in [
        ("opinions", r#"{"stance":"agree"}"#),
        ("vote", open.as_str()),
    ] {
        call(&mut clients[0], &chair, &path(action), body).await?;
    }
    let ballots = clients
        .iter_mut()
        .zip(&m.members)
        .enumerate()
        .map(|(k, (c, (id, t)))| {
            let p = path("ballots");
            let body = format!(r#"{{"choice":"{}"}}"#, ["yes", "no", "abstain"][k % 3]);
            async move {
                think(think_ms).await;
                let at = Instant::now();
                call(c, t, &p, &body).await?;
                anyhow::Ok(Ballot {
                    key: (item, *id),
                    at,
                    took: at.elapsed(),
                })
            }
        });
    for r in futures_util::future::join_all(ballots).await {
        played.push(r?);
    }
    let at = Instant::now();
    call(&mut clients[0], &chair, &path("vote/close"), "{}").await?;
    let close = (at, at.elapsed());
    call(
        &mut clients[0],
        &chair,
        &path("outcome"),
        r#"{"outcome":"announce"}"#,
    )
    .await?;
    Ok((played, close))
}

/// A random pause of 0–`max_ms` ms.
async fn think(max_ms: u64) {
    if max_ms == 0 {
        return;
    }
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    let ms = u64::from_le_bytes(bytes) % (max_ms + 1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
