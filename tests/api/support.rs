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
            // The server runs as a role that owns nothing, as in production.
            sqlx::query(&format!(
                "do $$ begin create role {RUNTIME_ROLE} login password '{RUNTIME_PASSWORD}';
                 exception when duplicate_object then null; end $$"
            ))
            .execute(&admin)
            .await
            .unwrap();
            let url = db_url(&server.url, &server.template);
            let pool = PgPool::connect(&url).await.unwrap();
            bootstrap::migrate(&pool)
                .await
                .expect("migrate the template");
            bootstrap::grant_runtime(&pool, RUNTIME_ROLE).await.unwrap();
            let config = test_config();
            let log = yishi::audit::AuditLog::new(
                yishi::keys::Keys::load_or_create(&config).unwrap().audit,
                config.checkpoint_file.clone(),
            );
            bootstrap::ensure_admin(&pool, &log, Some(ADMIN_PASSWORD))
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

/// The role the server runs as in the tests: it owns nothing (`bootstrap::grant_runtime`).
pub const RUNTIME_ROLE: &str = "yishi_test_app";
const RUNTIME_PASSWORD: &str = "yishi-test-app";

/// A fresh, migrated database with the `admin` user, and the router over it.
pub struct TestApp {
    /// A superuser's pool: what the tests read, and tamper with as an attacker would.
    pub pool: PgPool,
    /// The URL of this test's database, as the superuser.
    pub url: String,
    /// The same database as the server's runtime role.
    pub runtime_url: String,
    /// The server's configuration (its key files and kept checkpoint).
    pub config: Config,
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
    // Every instance keeps its own checkpoint: tests share keys, not databases.
    let checkpoint = KEY_DIR
        .get()
        .expect("made above")
        .join(format!("checkpoint-{}.json", yishi::random::hex(8)))
        .display()
        .to_string();
    let dir = dir.display().to_string();
    Config::from_lookup(|name| match name {
        "YISHI_DATA_DIR" => Some(dir.clone()),
        "YISHI_CHECKPOINT_FILE" => Some(checkpoint.clone()),
        _ => None,
    })
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

    /// A database cloned from the migrated template (whose entries are keyed with the keys
    /// of [`test_config`]).
    pub async fn with_config(config: Config) -> TestApp {
        Self::create(config, true).await
    }

    /// A database migrated from empty, its first entries written with `config`'s keys: a
    /// deployment of its own (another crypto suite, say).
    pub async fn fresh(config: Config) -> TestApp {
        Self::create(config, false).await
    }

    async fn create(config: Config, from_template: bool) -> TestApp {
        let server = server();
        ensure_template(server).await;
        let name = format!(
            "yishi_test_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        let admin = PgPool::connect(&server.url).await.unwrap();
        let template = if from_template {
            server.template.as_str()
        } else {
            "template0"
        };
        sqlx::query(&format!("create database {name} template {template}"))
            .execute(&admin)
            .await
            .expect("create the test database");
        admin.close().await;
        let url = db_url(&server.url, &name);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(&url)
            .await
            .unwrap();
        if !from_template {
            bootstrap::migrate(&pool).await.unwrap();
            bootstrap::grant_runtime(&pool, RUNTIME_ROLE).await.unwrap();
        }
        let runtime = PgConnectOptions::from_str(&url)
            .unwrap()
            .username(RUNTIME_ROLE)
            .password(RUNTIME_PASSWORD);
        let runtime_url = format!(
            "postgres://{RUNTIME_ROLE}:{RUNTIME_PASSWORD}@{}:{}/{name}",
            runtime.get_host(),
            runtime.get_port()
        );
        let runtime_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(25)
            .connect_with(runtime)
            .await
            .unwrap();
        let state = AppState::new(runtime_pool.clone(), config.clone()).unwrap();
        if !from_template {
            bootstrap::ensure_admin(&runtime_pool, &state.audit, Some(ADMIN_PASSWORD))
                .await
                .unwrap();
        }
        TestApp {
            router: app(state),
            pool,
            url,
            runtime_url,
            config,
        }
    }

    /// The `yishi` command with this server's configuration: its database (as the runtime
    /// role), key files and kept checkpoint.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_yishi"));
        cmd.args(args)
            .env("DATABASE_URL", &self.runtime_url)
            .env("YISHI_DATA_DIR", &self.config.data_dir)
            .env("YISHI_CHECKPOINT_FILE", &self.config.checkpoint_file)
            .env("RUST_LOG", "warn");
        cmd
    }

    /// Sends a request through the real router, as if from `127.0.0.1`.
    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.send_from([127, 0, 0, 1], req).await
    }

    /// Sends a request through the real router as if from the IPv4 address `peer`.
    pub async fn send_from(&self, peer: [u8; 4], mut req: Request<Body>) -> Response<Body> {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((peer, 40000))));
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
        self.api_via(&self.router, method, path, token, body).await
    }

    /// [`TestApp::api`] through another server instance's router.
    pub async fn api_via(
        &self,
        router: &Router,
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
        let mut req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res = router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        (status, body_json(res).await)
    }

    /// A second server instance on the same database, once it follows the events (`/readyz`):
    /// before that it could miss a change.
    pub async fn other_instance(&self) -> Router {
        let pool = PgPool::connect(&self.runtime_url).await.unwrap();
        let other = yishi::app(yishi::AppState::new(pool, test_config()).unwrap());
        eventually(
            5000,
            50,
            "the second instance never followed the events",
            async || {
                let req = Request::get("/readyz").body(Body::empty()).unwrap();
                other.clone().oneshot(req).await.unwrap().status() == StatusCode::OK
            },
        )
        .await;
        other
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

    /// Creates a user with `roles` through the API and signs them in. 综合科's staff get a
    /// section of their own that serves every party group there is now.
    pub async fn user(&self, login: &str, roles: &[&str]) -> (Uuid, String) {
        let admin = self.admin().await;
        let section_id = if roles.contains(&"office") {
            let (status, section) = self
                .api(
                    "POST",
                    "/api/v1/sections",
                    Some(&admin),
                    Some(json!({"name": format!("综合科({login})"), "kind": "office"})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{section}");
            section["section_id"].clone()
        } else {
            Value::Null
        };
        let (status, body) = self
            .api(
                "POST",
                "/api/v1/users",
                Some(&admin),
                Some(
                    json!({"login": login, "name": format!("用户{login}"), "password": PASSWORD,
                            "roles": roles, "section_id": section_id}),
                ),
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
    /// A page's text as another instance (`router`) serves it.
    pub async fn page_via(&self, router: &Router, path: &str, token: &str) -> String {
        let mut req = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        body_text(res).await
    }

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

/// Waits until `holds` answers true, asking every `every_ms` for at most `within_ms`; panics
/// with `what` if it never does.
pub async fn eventually(
    within_ms: u64,
    every_ms: u64,
    what: &str,
    mut holds: impl AsyncFnMut() -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(within_ms);
    while !holds().await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(every_ms)).await;
    }
}

/// The `yishi` binary serving a test's database, for what needs a real process: a crash, its
/// memory. `env` adds settings.
pub struct Binary {
    child: std::process::Child,
    port: u16,
}

impl Binary {
    pub fn start(app: &TestApp, env: &[(&str, &str)]) -> Binary {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_yishi"));
        cmd.env("DATABASE_URL", &app.url)
            .env("YISHI_DATA_DIR", &app.config.data_dir)
            .env("YISHI_CHECKPOINT_FILE", &app.config.checkpoint_file)
            .env("YISHI_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let server = Binary {
            child: cmd.spawn().expect("start yishi"),
            port,
        };
        for _ in 0..600 {
            if server.request("GET", "/readyz", "", "", b"").0 == 200 {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the server did not become ready");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn post(&self, path: &str, token: &str, body: &str) -> (u16, String) {
        let (status, answer) =
            self.request("POST", path, token, "application/json", body.as_bytes());
        (status, String::from_utf8_lossy(&answer).into_owned())
    }

    /// One HTTP/1.1 request on a fresh connection: the status and the whole answer, headers
    /// included; (0, nothing) when nothing answers.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, Vec::new());
        };
        let auth = if token.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {token}\r\n")
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        if s.write_all(head.as_bytes())
            .and_then(|()| s.write_all(body))
            .is_err()
        {
            return (0, Vec::new());
        }
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let status = String::from_utf8_lossy(&answer[..answer.len().min(16)])
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a run of a .docx's XML is set in `font` and holds `text`.
pub fn run_with_in(document: &str, font: &str, text: &str) -> bool {
    document
        .split("<w:r>")
        .any(|r| r.contains(&format!(r#"w:eastAsia="{font}""#)) && r.contains(text))
}

/// The XML parts of a .docx whose names contain `part`, concatenated.
pub fn docx_part(bytes: &[u8], part: &str) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip container");
    let mut text = String::new();
    for n in 0..zip.len() {
        let mut file = zip.by_index(n).unwrap();
        if file.name().contains(part) {
            file.read_to_string(&mut text).unwrap();
        }
    }
    text
}

/// Unzips a .docx, checks that its parts are well-formed XML, and returns word/document.xml.
pub fn docx_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip container");
    let mut names = Vec::new();
    for n in 0..zip.len() {
        names.push(zip.by_index(n).unwrap().name().to_owned());
    }
    assert!(
        names.iter().any(|n| n == "[Content_Types].xml"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "word/document.xml"), "{names:?}");
    let mut document = String::new();
    for name in names
        .iter()
        .filter(|n| n.ends_with(".xml") || n.ends_with(".rels"))
    {
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        let mut reader = quick_xml::Reader::from_str(&xml);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{name} is not well-formed XML: {e}"),
            }
        }
        if name == "word/document.xml" {
            document = xml;
        }
    }
    document
}

/// A minimal .xlsx workbook (the parts Excel writes, cells as inline strings) with one sheet
/// per `(name, rows)`.
pub fn xlsx(sheets: &[(&str, Vec<Vec<String>>)]) -> Vec<u8> {
    use std::io::Write;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut part = |name: &str, xml: String| {
        zip.start_file(name, options).unwrap();
        zip.write_all(xml.as_bytes()).unwrap();
    };
    let overrides: String = (1..=sheets.len())
        .map(|i| format!(r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#))
        .collect();
    part(
        "[Content_Types].xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"#
        ),
    );
    part("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into());
    let entries: String = sheets
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            format!(
                r#"<sheet name="{}" sheetId="{}" r:id="rId{}"/>"#,
                escape(name),
                i + 1,
                i + 1
            )
        })
        .collect();
    part(
        "xl/workbook.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{entries}</sheets></workbook>"#
        ),
    );
    let rels: String = (1..=sheets.len())
        .map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#))
        .collect();
    part(
        "xl/_rels/workbook.xml.rels",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
        ),
    );
    for (i, (_, rows)) in sheets.iter().enumerate() {
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data.push_str(&format!(r#"<row r="{}">"#, r + 1));
            for (c, cell) in row.iter().enumerate() {
                let col = (b'A' + c as u8) as char;
                data.push_str(&format!(
                    r#"<c r="{col}{}" t="inlineStr"><is><t>{}</t></is></c>"#,
                    r + 1,
                    escape(cell)
                ));
            }
            data.push_str("</row>");
        }
        part(
            &format!("xl/worksheets/sheet{}.xml", i + 1),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{data}</sheetData></worksheet>"#
            ),
        );
    }
    zip.finish().unwrap().into_inner()
}

/// Rows of text cells from string literals.
pub fn rows(cells: &[&[&str]]) -> Vec<Vec<String>> {
    cells
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// A local SMTP server started by a test: it accepts every mail and keeps it, so the mailer
/// talks to a real SMTP peer over TCP.
pub struct SmtpSink {
    pub port: u16,
    mails: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

/// A mail as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    /// The message as sent, headers and (encoded) body.
    pub data: String,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, kept.clone()));
            }
        });
        SmtpSink { port, mails }
    }

    pub fn mails(&self) -> Vec<Received> {
        self.mails.lock().unwrap().clone()
    }
}

async fn smtp_session(
    stream: tokio::net::TcpStream,
    mails: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut to = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if verb.starts_with("MAIL FROM") {
            to.clear();
            b"250 OK\r\n"
        } else if verb.starts_with("RCPT TO") {
            to.push(
                line.trim_end()[8..]
                    .trim_matches(['<', '>', ' '])
                    .to_owned(),
            );
            b"250 OK\r\n"
        } else if verb == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if lines.read_line(&mut l).await? == 0 || l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            mails.lock().unwrap().push(Received {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if verb == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if verb.starts_with("HELO") || verb == "RSET" || verb == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

impl Received {
    /// The headers, folded lines joined.
    fn headers(&self) -> Vec<(String, String)> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push_str(line);
                }
            } else if let Some((k, v)) = line.split_once(':') {
                headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        headers
    }

    fn header(&self, name: &str) -> String {
        self.headers()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    /// The subject, its RFC 2047 words decoded.
    pub fn subject(&self) -> String {
        use base64::Engine;
        self.header("subject")
            .split_whitespace()
            .map(|word| {
                let inner = word
                    .strip_prefix("=?utf-8?b?")
                    .or_else(|| word.strip_prefix("=?UTF-8?B?"))
                    .and_then(|w| w.strip_suffix("?="));
                match inner {
                    Some(b64) => String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .unwrap(),
                    )
                    .unwrap(),
                    None => word.to_owned(),
                }
            })
            .collect()
    }

    /// The text, its transfer encoding undone.
    pub fn body(&self) -> String {
        use base64::Engine;
        let raw = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        // SMTP doubles a leading dot on a line.
        let raw = raw.replace("\r\n..", "\r\n.");
        match self
            .header("content-transfer-encoding")
            .to_ascii_lowercase()
            .as_str()
        {
            "base64" => {
                let compact: String = raw.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .unwrap(),
                )
                .unwrap()
            }
            "quoted-printable" => {
                let joined = raw.replace("=\r\n", "");
                let mut bytes = Vec::new();
                let mut it = joined.bytes();
                while let Some(b) = it.next() {
                    if b == b'=' {
                        let hex = [it.next().unwrap(), it.next().unwrap()];
                        bytes.push(
                            u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap(),
                        );
                    } else {
                        bytes.push(b);
                    }
                }
                String::from_utf8(bytes).unwrap()
            }
            _ => raw,
        }
    }
}
