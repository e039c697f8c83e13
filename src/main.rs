//! The `yishi` command: with no subcommand it serves; `migrate` and `audit verify` sit beside.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use yishi::config::Config;
use yishi::embedded_pg::{EmbeddedOptions, EmbeddedPg};
use yishi::{AppState, bootstrap};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
usage: yishi [serve | migrate | audit verify [--checkpoint FILE] | verify-vote ITEM_ID]

  serve                run the web server (the default)
  migrate              apply database migrations and exit
  audit verify         check every audit chain with its keyed hashes and the log against the
                       checkpoint kept in the data directory (and FILE, a checkpoint the
                       discipline group kept); exit 1 when anything is broken
  verify-vote ITEM_ID  check a secret vote's ballot box (every ballot's proofs, the sums, the
                       decryption proofs and the totals); exit 1 when anything fails

Configuration comes from the environment: DATABASE_URL (unset: a private PostgreSQL under
YISHI_DATA_DIR, default ./data), YISHI_BIND (127.0.0.1:8080), INITIAL_ADMIN_PASSWORD,
YISHI_SESSION_IDLE_MINUTES, YISHI_SESSION_MAX_HOURS, YISHI_SECURE_COOKIES, YISHI_LOG_FORMAT,
YISHI_PG_BINDIR, YISHI_MIGRATION_DATABASE_URL, YISHI_CRYPTO_SUITE, YISHI_BALLOT_KEY_FILE,
YISHI_AUDIT_KEY_FILE, YISHI_CHECKPOINT_KEY_FILE, YISHI_CHECKPOINT_FILE, YISHI_CHECKPOINT_SECONDS,
RUST_LOG.";

enum Command {
    Serve,
    Migrate,
    AuditVerify(Option<std::path::PathBuf>),
    VerifyVote(yishi::domain::ids::ItemId),
}

fn main() -> ExitCode {
    yishi::memory::small_pages_only();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["serve"] => Command::Serve,
        ["migrate"] => Command::Migrate,
        ["audit", "verify"] => Command::AuditVerify(None),
        ["audit", "verify", "--checkpoint", file] => Command::AuditVerify(Some(file.into())),
        ["verify-vote", item] => match yishi::domain::ids::ItemId::parse(item) {
            Ok(id) => Command::VerifyVote(id),
            Err(_) => {
                eprintln!("yishi: verify-vote takes the item's id (a UUID), not {item:?}");
                return ExitCode::from(2);
            }
        },
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("yishi: {e}");
            return ExitCode::from(2);
        }
    };
    yishi::telemetry::init(config.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("yishi: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("yishi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    let embedded = match &config.database_url {
        Some(_) => None,
        None => {
            let opts = EmbeddedOptions {
                data_dir: config.data_dir.clone(),
                bindir: config.pg_bindir.clone(),
                durable: true,
            };
            let pg = tokio::task::spawn_blocking(move || EmbeddedPg::start(&opts)).await??;
            tracing::info!(cluster = %pg.cluster_dir().display(), "private PostgreSQL started");
            Some(pg)
        }
    };
    // The tables' owner migrates; the server runs as a role that owns nothing.
    let urls = match (&config.database_url, &embedded) {
        (Some(url), _) => Urls {
            owner: config
                .migration_database_url
                .as_ref()
                .map(|u| u.expose().to_owned()),
            runtime: url.expose().to_owned(),
        },
        (None, Some(pg)) => {
            let (owner, runtime) =
                bootstrap::embedded_roles(&pg.url("yishi"), &config.data_dir).await?;
            Urls {
                owner: Some(owner),
                runtime,
            }
        }
        (None, None) => unreachable!("an embedded cluster is started when no URL is given"),
    };
    let result = run_with_database(command, config, &urls).await;
    if let Some(pg) = embedded {
        tokio::task::spawn_blocking(move || pg.stop(true))
            .await?
            .context("stop the private PostgreSQL")?;
        tracing::info!("private PostgreSQL stopped");
    }
    result
}

/// Where the database is: the owner's URL for migrations (`None`: the runtime URL's role owns
/// the tables, as before) and the runtime role's.
struct Urls {
    owner: Option<String>,
    runtime: String,
}

/// Applies the migrations as the owner and gives the runtime role its privileges.
async fn migrate(urls: &Urls, runtime: &sqlx::PgPool) -> anyhow::Result<()> {
    match &urls.owner {
        Some(owner_url) => {
            let owner = bootstrap::connect(owner_url, 2)
                .await
                .context("connect as the tables' owner")?;
            bootstrap::migrate(&owner).await.context("migrate")?;
            let role = bootstrap::current_role(runtime).await?;
            if role != bootstrap::current_role(&owner).await? {
                bootstrap::grant_runtime(&owner, &role)
                    .await
                    .context("grant the runtime role its privileges")?;
            }
            owner.close().await;
        }
        // Without an owner's URL the runtime role migrates, as before roles were separate;
        // a role that owns nothing cannot, which is fine when another has migrated already.
        None => {
            if let Err(e) = bootstrap::migrate(runtime).await {
                if !bootstrap::is_migrated(runtime).await.unwrap_or(false) {
                    return Err(e.context("migrate"));
                }
                tracing::info!("migrations are applied already; this role does not own the tables");
            }
        }
    }
    Ok(())
}

async fn run_with_database(
    command: Command,
    config: Config,
    urls: &Urls,
) -> anyhow::Result<ExitCode> {
    let pool = bootstrap::connect(&urls.runtime, 20)
        .await
        .context("connect to the database")?;
    match command {
        Command::Migrate => {
            migrate(urls, &pool).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::AuditVerify(file) => {
            let keys = yishi::keys::Keys::read_audit_keys(&config)?;
            let log = yishi::audit::AuditLog::new(keys, config.checkpoint_file.clone());
            let given = file.map(|path| {
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("无法读取 {}:{e}", path.display()))
                    .and_then(|text| yishi::audit::checkpoint::Signed::parse(&text))
            });
            let mut tx = pool.begin().await?;
            sqlx::query("set transaction isolation level repeatable read read only")
                .execute(&mut *tx)
                .await?;
            let v = log.verify(&mut tx, given).await?;
            tx.commit().await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(if v.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::VerifyVote(item_id) => {
            // The key file is not needed: every proof checks against the public key. With it,
            // the stored public key is checked to be the one derived for this vote.
            let expected =
                yishi::keys::Keys::read_ballot_key(&config)?.map(|k| k.vote_key(item_id).public());
            let mut conn = pool.acquire().await?;
            let Some(report) =
                yishi::app::ballot_box::verify(&mut conn, item_id, expected.as_ref()).await?
            else {
                eprintln!("yishi: item {item_id} has no secret vote");
                return Ok(ExitCode::from(2));
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "item_id": report.item_id,
                    "ok": report.problems.is_empty(),
                    "counted": report.closed,
                    "voters": report.voters,
                    "ballots": report.ballot_count,
                    "totals": report.totals,
                    "digest": report.digest,
                    "key_checked": expected.is_some(),
                    "problems": report.problems,
                }))?
            );
            Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Serve => {
            migrate(urls, &pool).await?;
            bootstrap::warn_if_privileged(&pool).await?;
            let password = config.initial_admin_password.clone();
            let state = AppState::new(pool.clone(), config)?;
            let password = password.as_ref().map(|s| s.expose());
            if let Some(generated) = bootstrap::ensure_admin(&pool, &state.audit, password).await? {
                // Shown once, on the terminal only: never through the log pipeline. A closed
                // stderr is no reason to stop (eprintln! would panic).
                let _ = writeln!(
                    std::io::stderr(),
                    "\n  created the user `admin` with the password: {generated}\n  \
                     sign in and change it at /me/password\n"
                );
            }
            serve(state).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(state: AppState) -> anyhow::Result<()> {
    let bind = state.config.bind;
    let pool = state.pool.clone();
    let state_audit = state.audit.clone();
    let hub = state.hub.clone();
    spawn_session_purge(state.clone());
    spawn_reminders(state.clone());
    spawn_mailer(state.clone())?;
    // Installed before the first request is served: a SIGTERM sent once the server answers
    // must find it (axum polls the shutdown future in a task of its own, maybe later).
    let stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("listen on {bind}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(
        listener,
        yishi::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop.await;
        // Open event streams would otherwise hold the shutdown forever.
        hub.close();
    })
    .await?;
    // A last checkpoint, so the one kept outside the database covers everything written.
    if let Ok(mut conn) = pool.acquire().await
        && let Err(e) = state_audit.checkpoint(&mut conn, "periodic").await
    {
        tracing::error!(error = %e, "no audit checkpoint signed at shutdown");
    }
    pool.close().await;
    tracing::info!("server stopped");
    Ok(())
}

/// Removes expired sessions, old sign-in failures and mail no longer worth sending every ten
/// minutes.
fn spawn_session_purge(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            let Ok(mut conn) = state.pool.acquire().await else {
                continue;
            };
            let purged = yishi::db::sessions::purge_expired(
                &mut conn,
                state.config.session_idle.as_secs() as i64,
                state.config.session_max.as_secs() as i64,
                yishi::auth::session::FAILURE_WINDOW_SECS,
            )
            .await;
            if let Err(e) = purged {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
            if let Err(e) = yishi::db::notifications::expire_mail(&mut conn).await {
                tracing::warn!(error = %e, "expiring unsent mail failed");
            }
        }
    });
}

/// With SMTP configured, mails the notifications waiting, every `YISHI_MAIL_SECONDS`.
fn spawn_mailer(state: AppState) -> anyhow::Result<()> {
    let Some(config) = state.config.mail.clone() else {
        return Ok(());
    };
    let mailer = yishi::app::mail::Mailer::new(&config)?;
    tokio::spawn(async move {
        let mut every = tokio::time::interval(config.interval);
        loop {
            every.tick().await;
            match yishi::app::mail::send_pending(&state, &mailer).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "notifications mailed"),
                Err(e) => tracing::warn!(error = %e, "mailing notifications failed"),
            }
        }
    });
    Ok(())
}

/// Sends the 督办 reminders owed today, at start and then every `YISHI_REMINDER_SECONDS`.
fn spawn_reminders(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(state.config.reminder_interval);
        loop {
            every.tick().await;
            match yishi::app::followup::send_due_reminders(&state, yishi::display::today()).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "督办 reminders sent"),
                Err(e) => tracing::warn!(error = %e, "sending 督办 reminders failed"),
            }
        }
    });
}

/// Resolves on SIGTERM or SIGINT; both handlers are in place when this returns.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("install the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("install the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down");
    })
}
