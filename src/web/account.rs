//! Signing in and out, the current user, and changing one's own password.

use super::extract::Query;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::AppError;
use super::extract::{ApiJson, Client, CurrentUser, PageForm, SignInJson};
use super::pages::Layout;
use crate::audit::{self, Chain, Change};
use crate::auth::{password, session};
use crate::db;
use crate::db::party_groups::Membership;
use crate::domain::account::NewPassword;
use crate::domain::authz::Action;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, delete_session))
        .routes(routes!(me))
        .routes(routes!(change_password_api))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/me/password", get(password_page).post(password_submit))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub password: String,
}

/// The signed-in user, their roles and current party-group memberships.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: uuid::Uuid,
    pub login: String,
    pub name: String,
    pub roles: Vec<String>,
    pub memberships: Vec<Membership>,
    /// Send as `X-CSRF-Token` with state-changing requests that rely on the session cookie.
    pub csrf_token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionCreated {
    /// Send as `Authorization: Bearer <token>`; shown only once.
    pub token: String,
    pub user: Me,
}

/// A new session for valid credentials: its token and the user. Unknown logins cost as much
/// time as wrong passwords; repeated failures per login or address answer 429.
async fn sign_in(
    state: &AppState,
    creds: Credentials,
    client: &Client,
) -> Result<(String, CurrentUser), AppError> {
    let submitted = creds.login.trim().to_ascii_lowercase();
    if submitted.is_empty() || creds.password.is_empty() {
        let field = if submitted.is_empty() {
            "login"
        } else {
            "password"
        };
        return Err(AppError::invalid(field, "必填"));
    }
    // What is counted and audited is a bounded prefix: a 900 KB login is not a log entry.
    let login = session::kept_login(&submitted);
    let client_addr = client.addr.as_deref();
    let actor = audit::Actor {
        user_id: None,
        client_addr: client.addr.clone(),
    };
    let mut conn = state.pool.acquire().await?;
    let failures =
        db::sessions::recent_failures(&mut conn, &login, client_addr, session::FAILURE_WINDOW_SECS)
            .await?;
    if let Some(retry_after_secs) = session::wait(failures) {
        let mut tx = state.pool.begin().await?;
        state
            .audit
            .append(
                &mut tx,
                &actor,
                Change::new(Chain::Org, "session.throttled", "session")
                    .after(serde_json::json!({ "login": login })),
            )
            .await?;
        tx.commit().await?;
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    // No account has such a login: refused before the password is checked, and counted.
    if submitted.contains('\0') || submitted.chars().count() > session::LOGIN_KEPT_CHARS {
        drop(conn);
        record_failure(state, &actor, &login, client_addr).await?;
        return Err(AppError::invalid(
            "login",
            "登录名不正确(过长或含有非法字符)",
        ));
    }

    let found = db::users::credentials(&mut conn, &login).await?;
    drop(conn);
    let (stored, user_id, active) = match found {
        Some(c) => (Some(c.password_hash), Some(c.user_id), c.active),
        None => (None, None, false),
    };
    let matches = password::verify(creds.password, stored, &state.dummy_hash).await?;

    let (Some(user_id), true, true) = (user_id, matches, active) else {
        record_failure(state, &actor, &login, client_addr).await?;
        return Err(AppError::Unauthorized);
    };
    let mut tx = state.pool.begin().await?;
    let new = session::new_token();
    db::sessions::clear_failures(&mut tx, &login, client_addr).await?;
    db::sessions::insert(&mut tx, &new.hash, user_id, &new.csrf_token, client_addr).await?;
    state
        .audit
        .append(
            &mut tx,
            &audit::Actor {
                user_id: Some(user_id),
                client_addr: client.addr.clone(),
            },
            Change::new(Chain::Org, "session.login", "user").entity(user_id),
        )
        .await?;
    let live = db::sessions::touch(
        &mut tx,
        &new.hash,
        state.config.session_idle.as_secs() as i64,
        state.config.session_max.as_secs() as i64,
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("new session not found"))?;
    tx.commit().await?;
    let user = CurrentUser::from_session(live, new.hash, client.addr.clone());
    Ok((new.token, user))
}

/// Counts a failed sign-in (per login and address) and audits it, never the password.
async fn record_failure(
    state: &AppState,
    actor: &audit::Actor,
    login: &str,
    client_addr: Option<&str>,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    db::sessions::record_failure(&mut tx, login, client_addr).await?;
    state
        .audit
        .append(
            &mut tx,
            actor,
            Change::new(Chain::Org, "session.login_failed", "session")
                .after(serde_json::json!({ "login": login })),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn sign_out(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    db::sessions::delete(&mut tx, &user.session_hash).await?;
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(Chain::Org, "session.logout", "user").entity(user.user_id),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_me(state: &AppState, user: &CurrentUser) -> Result<Me, AppError> {
    let memberships =
        db::party_groups::memberships_of_user(&mut *state.pool.acquire().await?, user.user_id)
            .await?;
    Ok(Me {
        user_id: user.user_id,
        login: user.login.clone(),
        name: user.name.clone(),
        roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        memberships,
        csrf_token: user.csrf_token.clone(),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
}

/// Changes the user's own password after checking the current one, and ends their other
/// sessions.
async fn change_password(
    state: &AppState,
    user: &CurrentUser,
    change: PasswordChange,
) -> Result<(), AppError> {
    user.can(Action::ManageOwnAccount)?;
    let new = NewPassword::parse(&change.new_password)
        .map_err(|m| AppError::invalid("new_password", m))?;
    let stored = db::users::password_hash(&mut *state.pool.acquire().await?, user.user_id).await?;
    if !password::verify(change.current_password, Some(stored), &state.dummy_hash).await? {
        return Err(AppError::invalid("current_password", "当前密码不正确"));
    }
    let hash = password::hash(new.expose().to_owned()).await?;
    let mut tx = state.pool.begin().await?;
    db::users::set_password_hash(&mut tx, user.user_id, &hash, false).await?;
    db::sessions::delete_for_user(&mut tx, user.user_id, Some(&user.session_hash)).await?;
    state
        .audit
        .append(
            &mut tx,
            &user.audit_actor(),
            Change::new(Chain::Org, "user.password_change", "user").entity(user.user_id),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

// ---- API ----

/// Sign in: returns a bearer token.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = Credentials,
    responses((status = 201, body = SessionCreated), (status = 401, body = super::error::Problem),
              (status = 422, body = super::error::Problem), (status = 429, body = super::error::Problem)))]
async fn create_session(
    State(state): State<AppState>,
    client: Client,
    SignInJson(creds): SignInJson<Credentials>,
) -> Result<(StatusCode, Json<SessionCreated>), AppError> {
    let (token, user) = sign_in(&state, creds, &client).await?;
    let me = load_me(&state, &user).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated { token, user: me }),
    ))
}

/// Sign out: revokes the token (or cookie session) used for this request.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 401, body = super::error::Problem)))]
async fn delete_session(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<StatusCode, AppError> {
    sign_out(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = super::error::Problem)))]
async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Me>, AppError> {
    Ok(Json(load_me(&state, &user).await?))
}

/// Change one's own password; other sessions of the user end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
async fn change_password_api(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    change_password(&state, &user, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "account/home.html")]
struct HomePage {
    layout: Layout,
    todos: Vec<crate::app::topic::Todo>,
    memberships: Vec<Membership>,
    roles: Vec<&'static str>,
}

async fn home(State(state): State<AppState>, user: CurrentUser) -> Result<HomePage, AppError> {
    let me = load_me(&state, &user).await?;
    let mut todos = super::meeting_pages::todos(&state, &user).await?;
    todos.extend(crate::app::topic::todos(&state, &user).await?);
    todos.extend(crate::app::followup::todos(&state, &user).await?);
    todos.extend(crate::app::duties::todos(&state, &user).await?);
    Ok(HomePage {
        layout: Layout::new("首页", Some(&user)),
        todos,
        memberships: me.memberships,
        roles: user.roles.iter().map(|r| r.label_zh()).collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "account/login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(Query(q): Query<NextQuery>) -> LoginPage {
    LoginPage {
        layout: Layout::new("登录", None),
        next: safe_next(q.next.as_deref()),
        login: String::new(),
        error: None,
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref());
    let login = form.login.clone();
    let creds = Credentials {
        login: form.login,
        password: form.password,
    };
    let error = match sign_in(&state, creds, &client).await {
        Ok((token, _)) => {
            // The new session replaces whatever session this browser carried before.
            if let Some(old) = super::guard::cookie(&headers, session::COOKIE) {
                db::sessions::delete(
                    &mut *state.pool.acquire().await?,
                    &session::token_hash(&old),
                )
                .await?;
            }
            let cookie = session_cookie(&state, &client, &token);
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().insert(header::SET_COOKIE, cookie);
            return Ok(res);
        }
        Err(AppError::Unauthorized) => "登录名或密码不正确".to_owned(),
        Err(AppError::Invalid(_)) => "请输入登录名和密码".to_owned(),
        Err(e @ AppError::TooManyRequests { .. }) => {
            let status = StatusCode::TOO_MANY_REQUESTS;
            let page = LoginPage {
                layout: Layout::new("登录", None),
                next,
                login,
                error: Some(e.problem().detail),
            };
            return Ok((status, page).into_response());
        }
        Err(e) => return Err(e),
    };
    let page = LoginPage {
        layout: Layout::new("登录", None),
        next,
        login,
        error: Some(error),
    };
    Ok((StatusCode::UNAUTHORIZED, page).into_response())
}

async fn logout_submit(
    State(state): State<AppState>,
    client: Client,
    user: CurrentUser,
) -> Result<Response, AppError> {
    sign_out(&state, &user).await?;
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(&state, &client));
    Ok(res)
}

#[derive(Template, WebTemplate)]
#[template(path = "account/password.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<String>,
    done: bool,
}

async fn password_page(user: CurrentUser) -> PasswordPage {
    PasswordPage {
        layout: Layout::new("修改密码", Some(&user)),
        error: None,
        done: false,
    }
}

async fn password_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    PageForm(change): PageForm<PasswordChange>,
) -> Result<Response, AppError> {
    let (status, error) = match change_password(&state, &user, change).await {
        Ok(()) => (StatusCode::OK, None),
        Err(AppError::Invalid(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors.first().map(|e| e.message.clone()),
        ),
        Err(e) => return Err(e),
    };
    let page = PasswordPage {
        layout: Layout::new("修改密码", Some(&user)),
        done: error.is_none(),
        error,
    };
    Ok((status, page).into_response())
}

/// Only paths of this site are followed after sign-in, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// A path of this site: one leading `/`, then printable ASCII only. Browsers drop tabs and
/// line breaks from URLs and read `\` as `/`, so `/\t/evil.example` or `/\evil.example` would
/// lead to another host.
fn is_local_path(n: &str) -> bool {
    n.starts_with('/')
        && !n[1..].starts_with('/')
        && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

fn session_cookie(state: &AppState, client: &Client, token: &str) -> HeaderValue {
    let secure = if client.https { "; Secure" } else { "" };
    let max_age = state.config.session_max.as_secs();
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        session::COOKIE
    ))
    .expect("hex token makes a valid header")
}

fn clear_cookie(_state: &AppState, client: &Client) -> HeaderValue {
    let secure = if client.https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        session::COOKIE
    ))
    .expect("valid header")
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/audit?x=1")), "/audit?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        // The probe's finding: `next=/%09/evil.example`, decoded, is "/\t/evil.example".
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/");
        assert_eq!(
            safe_next(Some("/meetings/1?tab=a%20b")),
            "/meetings/1?tab=a%20b"
        );
        assert_eq!(safe_next(None), "/");
    }
}
