//! Getting a database ready: create it when missing, migrate it, and create the first admin.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;

use crate::audit::{self, Chain, Change};
use crate::auth::password;
use crate::db;
use crate::db::users::User;
use crate::domain::ids::UserId;

/// Connects to `url`, creating the database first when it does not exist yet.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    // The working set (members, meetings, sessions) is small and stays in memory; with the
    // default random_page_cost of 4 (spinning disks) the planner reads every user to join the
    // eleven members of a group, at several times the cost of looking them up by key.
    let options = PgConnectOptions::from_str(url)?.options([("random_page_cost", "1.1")]);
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A ping before every acquire is a round trip per request (two with the session
        // lookup); a connection used in the last seconds is known to be alive. One idle for
        // longer is checked, so a restarted database costs no request an error.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(10) {
                    conn.ping().await?;
                }
                Ok(true)
            })
        });
    match pool.clone().connect_with(options.clone()).await {
        Ok(pool) => Ok(pool),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
            let mut admin = options.clone().database("postgres").connect().await?;
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            sqlx::query(&format!("create database {quoted}"))
                .execute(&mut admin)
                .await?;
            Ok(pool.connect_with(options).await?)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    crate::MIGRATOR.run(pool).await?;
    Ok(())
}

/// Whether every migration of this binary has been applied (by whichever role).
pub async fn is_migrated(pool: &PgPool) -> anyhow::Result<bool> {
    let latest = crate::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
            .fetch_one(pool)
            .await?;
    Ok(applied.is_some_and(|v| v >= latest))
}

/// On an empty database, creates the user `admin` with `password`, or a random password which
/// is returned so the caller can show it once.
pub async fn ensure_admin(
    pool: &PgPool,
    log: &crate::audit::AuditLog,
    password: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if db::users::count(&mut *pool.acquire().await?).await? > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(|| crate::random::hex(12));
    let chosen = password.or(generated.as_deref()).unwrap_or_default();
    let hash = password::hash(chosen.to_owned()).await?;
    let admin = User {
        user_id: UserId::new(),
        login: "admin".into(),
        name: "系统管理员".into(),
        section_id: None,
        roles: vec![crate::domain::role::Role::Admin],
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    let mut tx = pool.begin().await?;
    // Two servers starting together: the second finds the login taken and does nothing.
    if let Err(e) = db::users::insert(&mut tx, &admin, Some(&hash)).await {
        if db::violated_constraint(&e) == Some("app_user_login_key") {
            return Ok(None);
        }
        return Err(e.into());
    }
    log.append(
        &mut tx,
        &audit::Actor::default(),
        Change::new(Chain::Org, "user.create", "user")
            .entity(admin.user_id)
            .after(&admin),
    )
    .await?;
    tx.commit().await?;
    Ok(generated)
}

/// The tables no runtime action may change: the audit log and the ballot box. The server's
/// role may read them and add rows, nothing else.
const APPEND_ONLY: &[&str] = &[
    "audit_entry",
    "audit_chain",
    "audit_checkpoint",
    "secret_ballot",
];

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Least privilege (R-AUDIT): gives the server's role plain DML on every table, then takes
/// away changing and emptying the append-only ones. Run as the tables' owner after each
/// migration, so tables added later are covered too.
pub async fn grant_runtime(owner: &PgPool, runtime_role: &str) -> anyhow::Result<()> {
    let role = ident(runtime_role);
    let mut tx = owner.begin().await?;
    let statements = [
        format!("grant usage on schema public to {role}"),
        format!("grant select, insert, update, delete on all tables in schema public to {role}"),
        format!(
            "revoke update, delete, truncate, references, trigger on {} from {role}",
            APPEND_ONLY.join(", ")
        ),
        // Which migrations ran is the owner's business.
        format!("revoke insert, update, delete, truncate on _sqlx_migrations from {role}"),
    ];
    for sql in statements {
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The role a pool connects as.
pub async fn current_role(pool: &PgPool) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar::<_, String>("select current_user::text")
        .fetch_one(pool)
        .await?)
}

/// Warns when the server runs as a superuser or as the owner of its tables: such a role could
/// disable the audit log's triggers.
pub async fn warn_if_privileged(pool: &PgPool) -> anyhow::Result<()> {
    let (role, superuser, owned): (String, bool, i64) = sqlx::query_as(
        "select current_user::text, r.rolsuper,
                (select count(*) from pg_tables t where t.schemaname = 'public'
                 and t.tableowner = current_user)
         from pg_roles r where r.rolname = current_user",
    )
    .fetch_one(pool)
    .await?;
    if superuser || owned > 0 {
        tracing::warn!(
            role,
            superuser,
            tables_owned = owned,
            "the server runs as a role that owns its tables or is a superuser: it could disable \
             the audit log's triggers. Give the owner in YISHI_MIGRATION_DATABASE_URL and a role \
             that owns nothing in DATABASE_URL (see the README)"
        );
    }
    Ok(())
}

/// The embedded cluster's two roles: `yishi_owner` owns the database and its objects and runs
/// the migrations, `yishi_app` is what the server runs as. Created (and objects made by an
/// earlier version as the superuser handed over) through the cluster's superuser; passwords
/// in `pg-owner-password` and `pg-app-password` of the data directory (mode 600). Returns the
/// owner's and the runtime role's URLs.
pub async fn embedded_roles(
    superuser_url: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<(String, String)> {
    let pool = connect(superuser_url, 2).await?;
    let mut urls = Vec::new();
    for (role, file) in [
        ("yishi_owner", "pg-owner-password"),
        ("yishi_app", "pg-app-password"),
    ] {
        let path = data_dir.join(file);
        let password = match std::fs::read_to_string(&path) {
            Ok(p) => p.trim().to_owned(),
            Err(_) => {
                let p = crate::random::hex(24);
                write_private(&path, &p)?;
                p
            }
        };
        sqlx::query(&format!(
            "do $$ begin create role {role} login; exception when duplicate_object then null; end $$"
        ))
        .execute(&pool)
        .await?;
        // The password is hex: safe as a literal (ALTER ROLE takes no parameters).
        sqlx::query(&format!("alter role {role} login password '{password}'"))
            .execute(&pool)
            .await?;
        let (base, db) = superuser_url
            .rsplit_once('/')
            .expect("a URL with a database");
        let host = base.rsplit_once('@').map_or(base, |(_, h)| h);
        urls.push(format!("postgres://{role}:{password}@{host}/{db}"));
    }
    let mut tx = pool.begin().await?;
    let db: String = sqlx::query_scalar("select current_database()::text")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "alter database {} owner to yishi_owner",
        ident(&db)
    ))
    .execute(&mut *tx)
    .await?;
    let handovers: Vec<String> = sqlx::query_scalar(
        "select format('alter table public.%I owner to yishi_owner', tablename)
         from pg_tables where schemaname = 'public' and tableowner <> 'yishi_owner'
         union all
         select format('alter function public.%I(%s) owner to yishi_owner', p.proname,
                       pg_get_function_identity_arguments(p.oid))
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> 'yishi_owner'",
    )
    .fetch_all(&mut *tx)
    .await?;
    for sql in handovers {
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    pool.close().await;
    let runtime = urls.pop().expect("two roles");
    let owner = urls.pop().expect("two roles");
    Ok((owner, runtime))
}

fn write_private(path: &std::path::Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    Ok(())
}
