use sqlx::PgConnection;

use crate::domain::ids::{PartyGroupId, UserId};
use crate::domain::role::Role;

/// A live session with its user, as loaded for each request.
#[derive(Clone)]
pub struct LiveSession {
    pub user_id: UserId,
    pub csrf_token: String,
    pub login: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// Unread notifications, for the navigation.
    pub unread: i64,
    /// The password was set by the admin: nothing but changing it until it is changed.
    pub must_change_password: bool,
    /// Seconds until the session expires (idle or absolute, whichever comes first).
    pub expires_in_secs: i64,
    /// The party groups the user's section serves (综合科's reach).
    pub served_groups: Vec<PartyGroupId>,
}

/// The NOTIFY channel that tells every server instance a session ended (payload: the hex of
/// its hash) or a user's rights changed (payload: `user:<id>`), so their open event streams
/// end at once.
pub const ENDED_CHANNEL: &str = "yishi_session";

pub async fn insert(
    conn: &mut PgConnection,
    session_hash: &[u8],
    user_id: UserId,
    csrf_token: &str,
    client_addr: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into user_session (session_hash, user_id, csrf_token, client_addr)
         values ($1, $2, $3, $4)",
        session_hash,
        user_id as _,
        csrf_token,
        client_addr
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Finds the session if it is neither idle for longer than `idle_secs` nor older than
/// `max_secs`, and its user is active; marks it as seen now (to the minute, which is all the
/// idle timeout needs).
pub async fn touch(
    conn: &mut PgConnection,
    session_hash: &[u8],
    idle_secs: i64,
    max_secs: i64,
) -> sqlx::Result<Option<LiveSession>> {
    sqlx::query_as!(
        LiveSession,
        r#"with live as (
               select user_id, csrf_token, last_seen_at, created_at from user_session
               where session_hash = $1
                 and last_seen_at > now() - $2::bigint * interval '1 second'
                 and created_at > now() - $3::bigint * interval '1 second'),
           -- Written at most once a minute: most requests only read their session.
           touched as (
               update user_session s set last_seen_at = now() from live
               where s.session_hash = $1 and live.last_seen_at < now() - interval '1 minute')
           select t.user_id as "user_id: _", t.csrf_token, u.login, u.name,
                  array(select r.role from user_role r where r.user_id = u.user_id order by r.role) as "roles!: Vec<Role>",
                  (select count(*) from notification n
                   where n.user_id = u.user_id and n.read_at is null) as "unread!",
                  u.must_change_password,
                  least(extract(epoch from t.last_seen_at + $2::bigint * interval '1 second' - now()),
                        extract(epoch from t.created_at + $3::bigint * interval '1 second' - now())
                  )::bigint as "expires_in_secs!",
                  array(select sp.party_group_id from section_party_group sp
                        where sp.section_id = u.section_id) as "served_groups!: _"
           from live t join app_user u using (user_id)
           where u.active"#,
        session_hash,
        idle_secs,
        max_secs
    )
    .fetch_optional(conn)
    .await
}

/// Ends a session, and tells every instance (its event streams end with it).
pub async fn delete(conn: &mut PgConnection, session_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "with gone as (delete from user_session where session_hash = $1)
         select pg_notify($2, encode($1, 'hex'))",
        session_hash,
        ENDED_CHANNEL
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Tells every instance that a user's sessions or rights changed: their event streams end and
/// reconnect under what they may see now.
pub async fn notify_user_changed(conn: &mut PgConnection, user_id: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "select pg_notify($1, 'user:' || $2::uuid::text)",
        ENDED_CHANNEL,
        user_id as _
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Ends every session of a user except `keep` (after a password change or deactivation).
pub async fn delete_for_user(
    conn: &mut PgConnection,
    user_id: UserId,
    keep: Option<&[u8]>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from user_session where user_id = $1 and ($2::bytea is null or session_hash <> $2)",
        user_id as _,
        keep
    )
    .execute(&mut *conn)
    .await?;
    notify_user_changed(conn, user_id).await
}

/// Removes sessions past their absolute lifetime or idle limit, and stale sign-in failures.
pub async fn purge_expired(
    conn: &mut PgConnection,
    idle_secs: i64,
    max_secs: i64,
    failure_window_secs: i64,
) -> sqlx::Result<u64> {
    let sessions = sqlx::query!(
        "delete from user_session
         where last_seen_at <= now() - $1::bigint * interval '1 second'
            or created_at <= now() - $2::bigint * interval '1 second'",
        idle_secs,
        max_secs
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query!(
        "delete from login_failure where failed_at <= now() - $1::bigint * interval '1 second'",
        failure_window_secs
    )
    .execute(conn)
    .await?;
    Ok(sessions)
}

/// Sign-in failures within the window: of this login from this address, and from this address
/// at all, with how long ago the last of each was.
pub async fn recent_failures(
    conn: &mut PgConnection,
    login: &str,
    client_addr: Option<&str>,
    window_secs: i64,
) -> sqlx::Result<crate::auth::session::Failures> {
    let row = sqlx::query!(
        r#"select count(*) filter (where login = $1) as "pair!",
                  coalesce(extract(epoch from now() - max(failed_at) filter (where login = $1)), 0)::bigint as "pair_ago!",
                  count(*) as "addr!",
                  coalesce(extract(epoch from now() - max(failed_at)), 0)::bigint as "addr_ago!"
           from login_failure
           where failed_at > now() - $3::bigint * interval '1 second'
             and client_addr is not distinct from $2"#,
        login,
        client_addr,
        window_secs
    )
    .fetch_one(conn)
    .await?;
    Ok(crate::auth::session::Failures {
        pair: row.pair,
        pair_last_secs_ago: row.pair_ago,
        addr: row.addr,
        addr_last_secs_ago: row.addr_ago,
    })
}

pub async fn record_failure(
    conn: &mut PgConnection,
    login: &str,
    client_addr: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into login_failure (login, client_addr) values ($1, $2)",
        login,
        client_addr
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets a login's failures from one address, after it signed in from there.
pub async fn clear_failures(
    conn: &mut PgConnection,
    login: &str,
    client_addr: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from login_failure where login = $1 and client_addr is not distinct from $2",
        login,
        client_addr
    )
    .execute(conn)
    .await
    .map(drop)
}
