//! A real PostgreSQL for the tests: `DATABASE_URL`'s server when set, otherwise a throwaway
//! cluster started once per test process (the product's own embedded mode, fsync off) and
//! removed at exit. Every test gets a fresh database cloned from a migrated template, and
//! drives the real router.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use tower::ServiceExt;
use uuid::Uuid;
use yishi::config::Config;
use yishi::embedded_pg::EmbeddedPg;
use yishi::{AppState, app, bootstrap};

pub const ADMIN_PASSWORD: &str = "admin-pass-123";
pub const PASSWORD: &str = "member-pass-123";

struct Server {
    /// A URL to the server's `postgres` database, for creating test databases.
    url: String,
    template: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static CLUSTER: OnceLock<(EmbeddedPg, PathBuf)> = OnceLock::new();
static TEMPLATE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

extern "C" fn stop_cluster() {
    if let Some((pg, dir)) = CLUSTER.get() {
        let _ = pg.stop(false);
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let pid = std::process::id();
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let opts = PgConnectOptions::from_str(&url).expect("DATABASE_URL is a PostgreSQL URL");
            let url = url.replacen(opts.get_database().unwrap_or("postgres"), "postgres", 1);
            return Server {
                url,
                template: format!("yishi_template_{pid}"),
            };
        }
        let dir = tempfile::Builder::new()
            .prefix("yishi-test-")
            .tempdir()
            .expect("make a temporary directory")
            .keep();
        let pg = EmbeddedPg::start_throwaway(&dir)
            .expect("start a throwaway PostgreSQL (is `postgresql` installed?)");
        let url = pg.url("postgres");
        assert!(CLUSTER.set((pg, dir)).is_ok());
        // SAFETY: registering a plain function to run at process exit.
        unsafe { libc::atexit(stop_cluster) };
        Server {
            url,
            template: "yishi_template".into(),
        }
    })
}

async fn ensure_template(server: &Server) {
    TEMPLATE_READY
        .get_or_init(|| async {
            let admin = PgPool::connect(&server.url)
                .await
                .expect("connect to the test server");
            drop_leftovers(&admin).await;
            sqlx::query(&format!("drop database if exists {}", server.template))
                .execute(&admin)
                .await
                .unwrap();
            sqlx::query(&format!("create database {}", server.template))
                .execute(&admin)
                .await
                .unwrap();
            let url = db_url(&server.url, &server.template);
            let pool = PgPool::connect(&url).await.unwrap();
            bootstrap::migrate(&pool)
                .await
                .expect("migrate the template");
            bootstrap::ensure_admin(&pool, Some(ADMIN_PASSWORD))
                .await
                .unwrap();
            pool.close().await;
            admin.close().await;
        })
        .await;
}

/// Databases that earlier test runs left on a shared server (`DATABASE_URL`): those of
/// processes that are gone. Left alone, hundreds of them keep the server's autovacuum busy.
async fn drop_leftovers(admin: &PgPool) {
    let names: Vec<String> = sqlx::query_scalar(
        r"select datname from pg_database where datname ~ '^yishi_(test|template)_\d+'",
    )
    .fetch_all(admin)
    .await
    .unwrap();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(admin)
                .await
                .unwrap();
        }
    }
}

fn db_url(server_url: &str, db: &str) -> String {
    let (base, _) = server_url.rsplit_once('/').expect("URL with a database");
    format!("{base}/{db}")
}

/// A fresh, migrated database with the `admin` user, and the router over it.
pub struct TestApp {
    pub pool: PgPool,
    /// The URL of this test's database.
    pub url: String,
    pub router: Router,
}

/// The default configuration, with the key files of every instance of this test process in
/// one temporary directory (removed at exit): instances sharing a database share its keys.
pub fn test_config() -> Config {
    let dir = KEY_DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("yishi-test-keys-")
            .tempdir()
            .expect("make a temporary directory")
            .keep();
        // SAFETY: registering a plain function to run at process exit.
        unsafe { libc::atexit(remove_key_dir) };
        dir
    });
    let dir = dir.display().to_string();
    Config::from_lookup(|name| (name == "YISHI_DATA_DIR").then(|| dir.clone()))
        .expect("default config")
}

static KEY_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_key_dir() {
    if let Some(dir) = KEY_DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(test_config()).await
    }

    pub async fn with_config(config: Config) -> TestApp {
        let server = server();
        ensure_template(server).await;
        let name = format!(
            "yishi_test_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        let admin = PgPool::connect(&server.url).await.unwrap();
        sqlx::query(&format!(
            "create database {name} template {}",
            server.template
        ))
        .execute(&admin)
        .await
        .expect("clone the template database");
        admin.close().await;
        let url = db_url(&server.url, &name);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(25)
            .connect(&url)
            .await
            .unwrap();
        let state = AppState::new(pool.clone(), config).unwrap();
        TestApp {
            router: app(state),
            pool,
            url,
        }
    }

    /// Sends a request through the real router, as if from `127.0.0.1`.
    pub async fn send(&self, mut req: Request<Body>) -> Response<Body> {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// An API call with an optional bearer token and JSON body; the answer's status and JSON.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(Method::from_str(method).unwrap())
            .uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.send(req).await;
        let status = res.status();
        (status, body_json(res).await)
    }

    /// `POST /api/v1/session`: the status and body, whatever they are.
    pub async fn try_login(&self, login: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({"login": login, "password": password});
        self.api("POST", "/api/v1/session", None, Some(body)).await
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let (status, body) = self.try_login(login, password).await;
        assert_eq!(status, StatusCode::CREATED, "sign in {login}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user with `roles` through the API and signs them in.
    pub async fn user(&self, login: &str, roles: &[&str]) -> (Uuid, String) {
        let admin = self.admin().await;
        let (status, body) = self
            .api(
                "POST",
                "/api/v1/users",
                Some(&admin),
                Some(json!({"login": login, "name": format!("用户{login}"), "password": PASSWORD, "roles": roles})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = Uuid::parse_str(body["user_id"].as_str().unwrap()).unwrap();
        (id, self.login(login, PASSWORD).await)
    }

    pub async fn party_group(&self, name: &str) -> Uuid {
        let admin = self.admin().await;
        let (status, body) = self
            .api(
                "POST",
                "/api/v1/party-groups",
                Some(&admin),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Uuid::parse_str(body["party_group_id"].as_str().unwrap()).unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

pub async fn body_json(res: Response<Body>) -> Value {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    }
}

pub async fn body_text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl TestApp {
    /// A page request: optional bearer token (served like the session cookie) and form body.
    pub async fn page(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        form: Option<&str>,
    ) -> Response<Body> {
        let mut req = Request::builder()
            .method(Method::from_str(method).unwrap())
            .uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match form {
            Some(f) => req
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(f.to_owned())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }
}

/// A multipart/form-data body with one file field and optional text fields.
pub fn multipart(file_name: &str, data: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "yishi-test-boundary-7d1a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// Uploads a file to a topic's materials with a bearer token.
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        file_name: &str,
        data: &[u8],
        fields: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let (content_type, body) = multipart(file_name, data, fields);
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let res = self.send(req).await;
        let status = res.status();
        (status, body_json(res).await)
    }
}
