//! Getting a database ready: create it when missing, migrate it, and create the first admin.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Chain, Change};
use crate::auth::password;
use crate::db;
use crate::db::users::User;

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

/// On an empty database, creates the user `admin` with `password`, or a random password which
/// is returned so the caller can show it once.
pub async fn ensure_admin(pool: &PgPool, password: Option<&str>) -> anyhow::Result<Option<String>> {
    if db::users::count(&mut *pool.acquire().await?).await? > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(|| crate::random::hex(12));
    let chosen = password.or(generated.as_deref()).unwrap_or_default();
    let hash = password::hash(chosen.to_owned()).await?;
    let admin = User {
        user_id: Uuid::now_v7(),
        login: "admin".into(),
        name: "系统管理员".into(),
        section_id: None,
        roles: vec!["admin".into()],
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    let mut tx = pool.begin().await?;
    // Two servers starting together: the second finds the login taken and does nothing.
    if let Err(e) = db::users::insert(&mut tx, &admin, &hash).await {
        if db::violated_constraint(&e) == Some("app_user_login_key") {
            return Ok(None);
        }
        return Err(e.into());
    }
    audit::append(
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
