use sqlx::PgConnection;
use uuid::Uuid;

/// A live session with its user, as loaded for each request.
pub struct LiveSession {
    pub user_id: Uuid,
    pub csrf_token: String,
    pub login: String,
    pub name: String,
    pub roles: Vec<String>,
    /// Unread notifications, for the navigation.
    pub unread: i64,
    /// The password was set by the admin: nothing but changing it until it is changed.
    pub must_change_password: bool,
}

pub async fn insert(
    conn: &mut PgConnection,
    session_hash: &[u8],
    user_id: Uuid,
    csrf_token: &str,
    client_addr: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into user_session (session_hash, user_id, csrf_token, client_addr)
         values ($1, $2, $3, $4)",
        session_hash,
        user_id,
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
               select user_id, csrf_token, last_seen_at from user_session
               where session_hash = $1
                 and last_seen_at > now() - $2::bigint * interval '1 second'
                 and created_at > now() - $3::bigint * interval '1 second'),
           -- Written at most once a minute: most requests only read their session.
           touched as (
               update user_session s set last_seen_at = now() from live
               where s.session_hash = $1 and live.last_seen_at < now() - interval '1 minute')
           select t.user_id, t.csrf_token, u.login, u.name,
                  array(select r.role from user_role r where r.user_id = u.user_id order by r.role) as "roles!",
                  (select count(*) from notification n
                   where n.user_id = u.user_id and n.read_at is null) as "unread!",
                  u.must_change_password
           from live t join app_user u using (user_id)
           where u.active"#,
        session_hash,
        idle_secs,
        max_secs
    )
    .fetch_optional(conn)
    .await
}

pub async fn delete(conn: &mut PgConnection, session_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from user_session where session_hash = $1",
        session_hash
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Ends every session of a user except `keep` (after a password change or deactivation).
pub async fn delete_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<&[u8]>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from user_session where user_id = $1 and ($2::bytea is null or session_hash <> $2)",
        user_id,
        keep
    )
    .execute(conn)
    .await
    .map(drop)
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

/// Sign-in failures within the window, for this login and for this client address.
pub async fn recent_failures(
    conn: &mut PgConnection,
    login: &str,
    client_addr: Option<&str>,
    window_secs: i64,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) filter (where login = $1) as "by_login!",
                  count(*) filter (where $2::text is not null and client_addr = $2) as "by_addr!"
           from login_failure
           where failed_at > now() - $3::bigint * interval '1 second'
             and (login = $1 or client_addr = $2)"#,
        login,
        client_addr,
        window_secs
    )
    .fetch_one(conn)
    .await?;
    Ok((row.by_login, row.by_addr))
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

pub async fn clear_failures(conn: &mut PgConnection, login: &str) -> sqlx::Result<()> {
    sqlx::query!("delete from login_failure where login = $1", login)
        .execute(conn)
        .await
        .map(drop)
}
