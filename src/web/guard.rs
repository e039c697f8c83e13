//! Authentication and CSRF, for every request in one place so no route can forget them.
//!
//! The session token arrives as `Authorization: Bearer` (API clients) or as the session cookie
//! (browsers). Cookie-authenticated requests that change state must carry the session's CSRF
//! token (form field `csrf_token`, header `X-CSRF-Token`, or query `csrf_token`); bearer requests
//! cannot be forged by another site and need none. Independently, a state-changing request a
//! browser marks as cross-site (`Sec-Fetch-Site`, or an `Origin` that is not this host) is refused.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::AppError;
use super::extract::{ClientAddr, CurrentUser};
use crate::auth::session::{COOKIE, same_secret, token_hash};
use crate::db;

/// Largest form body read for the CSRF check.
const FORM_LIMIT: usize = 1 << 20;

pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match resolve(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn resolve(state: &AppState, req: Request) -> Result<Request, AppError> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let (mut parts, body) = req.into_parts();
    if unsafe_method && is_cross_site(&parts.headers) {
        return Err(AppError::Csrf);
    }
    let (token, via_cookie) = match bearer(&parts.headers) {
        Some(t) => (Some(t), false),
        None => (cookie(&parts.headers, COOKIE), true),
    };
    let Some(token) = token else {
        return Ok(Request::from_parts(parts, body));
    };
    let hash = token_hash(&token);
    let live = db::sessions::touch(
        &mut *state.pool.acquire().await?,
        &hash,
        state.config.session_idle.as_secs() as i64,
        state.config.session_max.as_secs() as i64,
    )
    .await?;
    let Some(live) = live else {
        // An expired or revoked token: continue as anonymous; protected routes answer 401.
        return Ok(Request::from_parts(parts, body));
    };

    let mut body = body;
    if unsafe_method && via_cookie {
        let (ok, rebuilt) = csrf_token_matches(&parts, body, &live.csrf_token).await;
        body = rebuilt;
        if !ok {
            return Err(AppError::Csrf);
        }
    }
    let user = CurrentUser::from_session(live, hash, ClientAddr::from_parts(&parts).0);
    if user.must_change_password && !open_before_password_change(&parts.method, parts.uri.path()) {
        return Err(AppError::PasswordChangeRequired);
    }
    parts.extensions.insert(user);
    Ok(Request::from_parts(parts, body))
}

/// 三员分立: with a password the admin set, only these are open until the owner replaces it.
fn open_before_password_change(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("GET" | "POST", "/me/password")
            | ("POST", "/api/v1/me/password" | "/logout")
            | ("DELETE", "/api/v1/session")
            | (
                "GET",
                "/api/v1/me" | "/healthz" | "/readyz" | "/static/app.css" | "/static/app.js"
            )
    )
}

/// Looks for the CSRF token in the header, the query, then a urlencoded form body (which is
/// read and handed back for the handler).
async fn csrf_token_matches(
    parts: &axum::http::request::Parts,
    body: Body,
    expected: &str,
) -> (bool, Body) {
    let from_header = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query = parts.uri.query().and_then(|q| form_field(q.as_bytes()));
    if let Some(given) = from_header.or(from_query) {
        return (same_secret(&given, expected), body);
    }
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, body);
    }
    match to_bytes(body, FORM_LIMIT).await {
        Ok(bytes) => {
            let ok = form_field(&bytes).is_some_and(|given| same_secret(&given, expected));
            (ok, Body::from(bytes))
        }
        Err(_) => (false, Body::empty()),
    }
}

fn form_field(encoded: &[u8]) -> Option<String> {
    serde_html_form::from_bytes::<Vec<(String, String)>>(encoded)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// The value of a cookie, from any `Cookie` header.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// True when a browser says the request comes from another site.
fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            origin_host != host
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_detection() {
        assert!(!is_cross_site(&headers(&[])));
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_site(&headers(&[
            ("origin", "http://a.example:8080"),
            ("host", "a.example:8080")
        ])));
        assert!(is_cross_site(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "a.example:8080")
        ])));
        assert!(is_cross_site(&headers(&[("origin", "null")])));
    }

    #[test]
    fn cookies_and_bearer_tokens_are_read() {
        let h = headers(&[("cookie", "a=1; yishi_session=tok; b=2")]);
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("tok"));
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(bearer(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(form_field(b"x=1&csrf_token=t%2B1").as_deref(), Some("t+1"));
    }
}
