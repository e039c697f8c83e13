//! The private PostgreSQL cluster of the embedded default, and the `yishi` binary around it:
//! first start, restart on the same data, a stale pid file, missing binaries, bad
//! configuration, graceful stop on SIGTERM, and a data directory the postgres user cannot reach.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use yishi::embedded_pg::{EmbeddedError, EmbeddedOptions, EmbeddedPg};

/// A temporary directory the postgres user can enter.
fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("yishi-pg-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn options(dir: &Path) -> EmbeddedOptions {
    EmbeddedOptions {
        data_dir: dir.to_owned(),
        bindir: None,
        durable: false,
    }
}

async fn query_one(pg: &EmbeddedPg, sql: &str) -> Result<i64, sqlx::Error> {
    let pool = sqlx::PgPool::connect(&pg.url("postgres")).await?;
    let v = sqlx::query_scalar(sql).fetch_one(&pool).await;
    pool.close().await;
    v
}

#[tokio::test]
async fn a_new_cluster_starts_and_a_restart_keeps_its_data() {
    let dir = reachable_tempdir();
    let pg = EmbeddedPg::start(&options(dir.path())).expect("first start");
    assert!(pg.cluster_dir().join("PG_VERSION").exists());
    let pool = sqlx::PgPool::connect(&pg.url("postgres")).await.unwrap();
    sqlx::raw_sql("create table kept (n int); insert into kept values (42)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    pg.stop(true).unwrap();
    assert!(!pg.cluster_dir().join("postmaster.pid").exists());

    let again = EmbeddedPg::start(&options(dir.path())).expect("second start");
    assert_eq!(
        query_one(&again, "select n::bigint from kept")
            .await
            .unwrap(),
        42
    );
    again.stop(true).unwrap();
}

#[tokio::test]
async fn the_cluster_listens_on_loopback_with_a_password() {
    let dir = reachable_tempdir();
    let pg = EmbeddedPg::start(&options(dir.path())).unwrap();
    let wrong = pg.url("postgres").replacen("yishi:", "yishi:wrong", 1);
    assert!(
        sqlx::PgPool::connect(&wrong).await.is_err(),
        "a wrong password is refused"
    );
    let mode = std::fs::metadata(dir.path().join("pg-password"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the password file is private");
    pg.stop(false).unwrap();
}

#[tokio::test]
async fn a_stale_pid_file_does_not_stop_a_start() {
    let dir = reachable_tempdir();
    let pg = EmbeddedPg::start(&options(dir.path())).unwrap();
    pg.stop(true).unwrap();
    let pid_file = pg.cluster_dir().join("postmaster.pid");

    // A crash leaves the file behind with the pid of a process that is gone ...
    let mut gone = Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    write_pid_file(&pid_file, dead_pid);
    let pg = EmbeddedPg::start(&options(dir.path())).expect("start over a dead pid");
    assert_eq!(query_one(&pg, "select 1::bigint").await.unwrap(), 1);
    pg.stop(true).unwrap();

    // ... or, after a reboot, a pid that another program now has.
    write_pid_file(&pid_file, std::process::id());
    let pg = EmbeddedPg::start(&options(dir.path())).expect("start over a reused pid");
    assert_eq!(query_one(&pg, "select 1::bigint").await.unwrap(), 1);
    pg.stop(true).unwrap();
}

fn write_pid_file(path: &Path, pid: u32) {
    std::fs::write(
        path,
        format!(
            "{pid}\n{}\n1700000000\n5432\n\n127.0.0.1\n",
            path.parent().unwrap().display()
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn a_second_start_attaches_to_a_running_cluster_without_owning_it() {
    let dir = reachable_tempdir();
    let first = EmbeddedPg::start(&options(dir.path())).unwrap();
    let second = EmbeddedPg::start(&options(dir.path())).expect("attach");
    assert_eq!(first.url("x"), second.url("x"));
    second.stop(true).unwrap();
    assert_eq!(
        query_one(&first, "select 1::bigint").await.unwrap(),
        1,
        "still running"
    );
    first.stop(true).unwrap();
}

#[test]
fn missing_binaries_say_how_to_get_them() {
    let empty = tempfile::tempdir().unwrap();
    let err = EmbeddedPg::start(&EmbeddedOptions {
        data_dir: empty.path().join("data"),
        bindir: Some(empty.path().to_owned()),
        durable: true,
    })
    .unwrap_err();
    assert!(matches!(err, EmbeddedError::MissingBinaries { .. }));
    let message = err.to_string();
    assert!(message.contains("apt-get install postgresql"), "{message}");
    assert!(message.contains("docker compose up"), "{message}");
}

fn yishi() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yishi"));
    cmd.env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn the_binary_without_postgres_binaries_exits_with_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = yishi()
        .env("YISHI_DATA_DIR", dir.path().join("data"))
        .env("YISHI_PG_BINDIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("apt-get install postgresql") && stderr.contains("docker compose up"),
        "{stderr}"
    );
}

#[test]
fn bad_configuration_is_named_and_exits_non_zero() {
    for (name, value) in [
        ("YISHI_BIND", "everywhere"),
        ("DATABASE_URL", "mysql://u:secret@h/db"),
        ("YISHI_SESSION_IDLE_MINUTES", "-1"),
    ] {
        let out = yishi().env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(name), "{stderr}");
        assert!(
            !stderr.contains("secret"),
            "a URL's password must not be printed"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 exchange over loopback; the status code and body.
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    Some((
        status,
        answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned(),
    ))
}

struct Server {
    child: Child,
    port: u16,
}

fn start_server(data_dir: &Path, password: &str) -> Server {
    let port = free_port();
    let mut child = yishi()
        .env("YISHI_DATA_DIR", data_dir)
        .env("YISHI_BIND", format!("127.0.0.1:{port}"))
        .env("INITIAL_ADMIN_PASSWORD", password)
        .spawn()
        .unwrap();
    wait_ready(&mut child, port);
    Server { child, port }
}

/// Polls `/readyz` until it answers 200; kills the server and fails after a minute.
fn wait_ready(child: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", "/readyz", "").map(|r| r.0) != Some(200) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not become ready");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGTERM and expects a clean exit; returns what the server wrote to stderr.
fn terminate(server: Server) -> String {
    // SAFETY: sending SIGTERM to our own child process.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let out = server.child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "a clean exit after SIGTERM, not {}:\n{stderr}",
        out.status
    );
    stderr
}

#[test]
fn the_server_serves_on_its_own_cluster_and_stops_both_on_sigterm() {
    let dir = reachable_tempdir();
    let data = dir.path().join("data");
    let server = start_server(&data, "first-admin-pass-1");
    let (status, body) = http(
        server.port,
        "POST",
        "/api/v1/session",
        r#"{"login":"admin","password":"first-admin-pass-1"}"#,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let log = terminate(server);
    assert!(log.contains("private PostgreSQL stopped"), "{log}");
    assert!(
        !data.join("pg/postmaster.pid").exists(),
        "the cluster is stopped"
    );
    assert!(
        !log.contains("first-admin-pass-1"),
        "the given password is never logged"
    );

    // A second start reuses the cluster and its admin; no new password is made.
    let server = start_server(&data, "ignored-now-pass-1");
    let (status, _) = http(
        server.port,
        "POST",
        "/api/v1/session",
        r#"{"login":"admin","password":"first-admin-pass-1"}"#,
    )
    .unwrap();
    assert_eq!(status, 201);
    let log = terminate(server);
    assert!(!log.contains("created the user"), "{log}");
}

#[test]
fn without_a_password_the_first_admin_gets_a_random_one_printed_once() {
    let dir = reachable_tempdir();
    let data = dir.path().join("data");
    let port = free_port();
    let mut child = yishi()
        .env("YISHI_DATA_DIR", &data)
        .env("YISHI_BIND", format!("127.0.0.1:{port}"))
        .env_remove("INITIAL_ADMIN_PASSWORD")
        .spawn()
        .unwrap();
    wait_ready(&mut child, port);
    let stderr = terminate(Server { child, port });
    let password = stderr
        .split("password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the generated password is shown");
    assert_eq!(password.len(), 24);
}

/// As root, a data directory under a directory the postgres user cannot enter (like /root) gets
/// its cluster under /var/lib/yishi, and `pg-location` says where.
#[tokio::test]
async fn an_unreachable_data_directory_moves_the_cluster_to_var_lib() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root runs PostgreSQL as another user");
        return;
    }
    let outer = tempfile::tempdir().unwrap();
    std::fs::set_permissions(outer.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let data = outer.path().join("data");
    let pg = EmbeddedPg::start(&options(&data)).expect("start");
    let location = PathBuf::from(
        std::fs::read_to_string(data.join("pg-location"))
            .unwrap()
            .trim(),
    );
    assert!(
        location.starts_with("/var/lib/yishi"),
        "{}",
        location.display()
    );
    assert_eq!(pg.cluster_dir(), location);
    assert_eq!(query_one(&pg, "select 1::bigint").await.unwrap(), 1);
    pg.stop(false).unwrap();
    std::fs::remove_dir_all(&location).unwrap();
}

/// A log pipe that goes away (a supervisor restarting its log collector) must not turn the stop
/// into a crash that leaves the cluster running.
#[test]
fn a_closed_stderr_does_not_stop_an_orderly_shutdown() {
    let dir = reachable_tempdir();
    let data = dir.path().join("data");
    let mut server = start_server(&data, "pipe-admin-pass-1");
    drop(server.child.stderr.take());
    let (status, _) = http(server.port, "GET", "/readyz", "").unwrap();
    assert_eq!(status, 200);
    // SAFETY: sending SIGTERM to our own child process.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
    assert!(
        !data.join("pg/postmaster.pid").exists(),
        "the cluster was stopped"
    );
}
