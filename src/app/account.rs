//! Signing in and out, the signed-in user, and changing one's own password.

use serde::{Deserialize, Serialize};

use crate::app::error::AppError;
use crate::app::{CurrentUser, Services};
use crate::audit::{self, Chain, Change};
use crate::auth::{password, session};
use crate::db;
use crate::db::party_groups::Membership;
use crate::domain::account::NewPassword;
use crate::domain::authz::Action;

use crate::app::actor::Client;
use crate::domain::ids::UserId;

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
    pub user_id: UserId,
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
pub async fn sign_in(
    state: &Services,
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
        // An account without a password (imported, none issued yet) is checked like an unknown
        // login: the same time, and refused.
        Some(c) => (c.password_hash, Some(c.user_id), c.active),
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
    state: &Services,
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

pub async fn sign_out(state: &Services, user: &CurrentUser) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    db::sessions::delete(&mut tx, &user.session_hash).await?;
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "session.logout", "user").entity(user.user_id),
        )
        .await?;
    // Every other instance forgets it as the notification arrives; this one at once.
    state.sessions.forget_session(&user.session_hash);
    Ok(())
}

pub async fn load_me(state: &Services, user: &CurrentUser) -> Result<Me, AppError> {
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
pub async fn change_password(
    state: &Services,
    user: &CurrentUser,
    change: PasswordChange,
) -> Result<(), AppError> {
    user.can(Action::ManageOwnAccount)?;
    let new = NewPassword::parse(&change.new_password)
        .map_err(|m| AppError::invalid("new_password", m))?;
    let stored = db::users::password_hash(&mut *state.pool.acquire().await?, user.user_id).await?;
    if !password::verify(change.current_password, stored, &state.dummy_hash).await? {
        return Err(AppError::invalid("current_password", "当前密码不正确"));
    }
    let hash = password::hash(new.expose().to_owned()).await?;
    let mut tx = state.pool.begin().await?;
    db::users::set_password_hash(&mut tx, user.user_id, &hash, false).await?;
    db::sessions::delete_for_user(&mut tx, user.user_id, Some(&user.session_hash)).await?;
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "user.password_change", "user").entity(user.user_id),
        )
        .await?;
    state.sessions.forget_user(user.user_id);
    Ok(())
}

/// Changes to one's mail settings; absent fields stay as they are.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct MailSettingsChange {
    /// An address, or empty for none.
    pub email: Option<String>,
    /// `true`: notifications stay in the app only.
    pub mail_opt_out: Option<bool>,
}

/// One's address and whether notifications also come by mail; `mail_enabled` says whether the
/// server sends mail at all.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MailSettingsView {
    pub email: Option<String>,
    pub mail_opt_out: bool,
    pub mail_enabled: bool,
}

pub async fn mail_settings(
    state: &Services,
    user: &CurrentUser,
) -> Result<MailSettingsView, AppError> {
    user.can(Action::ManageOwnAccount)?;
    let s = db::users::mail_settings(&mut *state.pool.acquire().await?, user.user_id).await?;
    Ok(MailSettingsView {
        email: s.email,
        mail_opt_out: s.mail_opt_out,
        mail_enabled: state.config.mail.is_some(),
    })
}

/// Sets one's own address or opts out of (or back into) mail.
pub async fn change_mail_settings(
    state: &Services,
    user: &CurrentUser,
    change: MailSettingsChange,
) -> Result<MailSettingsView, AppError> {
    user.can(Action::ManageOwnAccount)?;
    let email = match change.email.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(e) => Some(Some(
            crate::domain::account::parse_email(e).map_err(|m| AppError::invalid("email", m))?,
        )),
    };
    let mut tx = state.pool.begin().await?;
    let before = db::users::mail_settings(&mut tx, user.user_id).await?;
    if let Some(email) = &email {
        db::users::set_email(&mut tx, user.user_id, email.as_deref()).await?;
    }
    if let Some(opt_out) = change.mail_opt_out {
        db::users::set_mail_opt_out(&mut tx, user.user_id, opt_out).await?;
    }
    let after = db::users::mail_settings(&mut tx, user.user_id).await?;
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "user.mail_settings", "user")
                .entity(user.user_id)
                .before(&before)
                .after(&after),
        )
        .await?;
    mail_settings(state, user).await
}
