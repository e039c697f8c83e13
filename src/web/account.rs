//! Routes and pages of signing in and out, the current user and one's own password
//! (`app::account`). Signing in stays two handlers: the API answers a bearer token, the page
//! sets a cookie and shows a failed attempt in place.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{AppError, Problem};
use super::extract::{Client, CurrentUser, Face, FormOr, Input, PageForm, Query, SignInJson};
use super::pages::Layout;
use crate::app::account::{
    self, Credentials, MailSettingsChange, MailSettingsView, Me, PasswordChange, SessionCreated,
};
use crate::auth::session;
use crate::db;
use crate::db::party_groups::Membership;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, sign_out))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(mail_settings, change_mail_settings))
}

pub fn page_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(sign_out))
        .route("/me/password", get(password_page).post(change_password))
        .route("/me/mail", get(mail_page).post(change_mail_settings))
}

// ---- API ----

/// Sign in: returns a bearer token.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = Credentials,
    responses((status = 201, body = SessionCreated), (status = 401, body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn create_session(
    State(state): State<AppState>,
    client: Client,
    SignInJson(creds): SignInJson<Credentials>,
) -> Result<(StatusCode, Json<SessionCreated>), AppError> {
    let (token, user) = account::sign_in(&state, creds, &client).await?;
    let me = account::load_me(&state, &user).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated { token, user: me }),
    ))
}

/// Sign out: revokes the token (or cookie session) used for this request; a page is sent to
/// the sign-in page with its cookie cleared.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 401, body = Problem)))]
async fn sign_out(
    State(state): State<AppState>,
    face: Face,
    client: Client,
    user: CurrentUser,
) -> Result<Response, AppError> {
    account::sign_out(&state, &user).await?;
    Ok(match face {
        Face::Api => StatusCode::NO_CONTENT.into_response(),
        Face::Page => {
            let mut res = Redirect::to("/login").into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, clear_cookie(&client));
            res
        }
    })
}

/// Change one's own password; other sessions of the user end. The page shows the outcome in
/// place.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    Input(change): Input<PasswordChange>,
) -> Result<Response, AppError> {
    let result = account::change_password(&state, &user, change).await;
    if face == Face::Api {
        return result.map(|()| StatusCode::NO_CONTENT.into_response());
    }
    let (status, error) = match result {
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

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Me>, AppError> {
    Ok(Json(account::load_me(&state, &user).await?))
}

// ---- Pages ----

#[derive(Template, WebTemplate)]
#[template(path = "account/home.html")]
struct HomePage {
    layout: Layout,
    todos: Vec<crate::app::Todo>,
    memberships: Vec<Membership>,
    roles: Vec<&'static str>,
}

async fn home(State(state): State<AppState>, user: CurrentUser) -> Result<HomePage, AppError> {
    let me = account::load_me(&state, &user).await?;
    let todos = crate::app::home::todos(&state, &user).await?;
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
    let error = match account::sign_in(&state, creds, &client).await {
        Ok((token, _)) => {
            // The new session replaces whatever session this browser carried before.
            if let Some(old) = super::guard::cookie(&headers, session::COOKIE) {
                let old = session::token_hash(&old);
                db::sessions::delete(&mut *state.pool.acquire().await?, &old).await?;
                state.sessions.forget_session(&old);
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

/// One's address and whether notifications also come by mail.
#[utoipa::path(get, path = "/api/v1/me/mail", tag = "session",
    responses((status = 200, body = MailSettingsView), (status = 401, body = Problem)))]
async fn mail_settings(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<MailSettingsView>, AppError> {
    Ok(Json(account::mail_settings(&state, &user).await?))
}

/// Set one's address, or opt out of mail (notifications stay in the app).
#[utoipa::path(put, path = "/api/v1/me/mail", tag = "session", request_body = MailSettingsChange,
    responses((status = 200, body = MailSettingsView), (status = 401, body = Problem),
              (status = 422, body = Problem)))]
async fn change_mail_settings(
    State(state): State<AppState>,
    face: Face,
    user: CurrentUser,
    FormOr(change, _): FormOr<MailSettingsChange, MailForm>,
) -> Result<Response, AppError> {
    let view = account::change_mail_settings(&state, &user, change).await?;
    face.answer("/me/mail".into(), async { Ok(Json(view)) })
        .await
}

/// The mail form: the box ticked means mail is wanted, so unticked is the opt-out.
#[derive(Deserialize)]
struct MailForm {
    #[serde(default)]
    email: String,
    wanted: Option<String>,
}

impl From<MailForm> for MailSettingsChange {
    fn from(form: MailForm) -> MailSettingsChange {
        MailSettingsChange {
            email: Some(form.email),
            mail_opt_out: Some(form.wanted.is_none()),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account/mail.html")]
struct MailPage {
    layout: Layout,
    settings: MailSettingsView,
}

async fn mail_page(State(state): State<AppState>, user: CurrentUser) -> Result<MailPage, AppError> {
    Ok(MailPage {
        layout: Layout::new("邮件通知", Some(&user)),
        settings: account::mail_settings(&state, &user).await?,
    })
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

fn clear_cookie(client: &Client) -> HeaderValue {
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
