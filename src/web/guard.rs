//! Authentication and CSRF, for every request in one place so no route can forget them; and
//! the headers every signed-in answer needs.
//!
//! The session token arrives as `Authorization: Bearer` (API clients) or as the session cookie
//! (browsers). Cookie-authenticated requests that change state must carry the session's CSRF
//! token — header `X-CSRF-Token`, or field `csrf_token` of the form body (the first part of a
//! multipart form), never the URL, which leaks through logs and `Referer`. Bearer requests
//! cannot be forged by another site and need none. Independently, a state-changing request a
//! browser marks as cross-site (`Sec-Fetch-Site`, or an `Origin` other than this site's scheme,
//! host and port) is refused.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::AppState;
use super::error::AppError;
use super::extract::{Client, CurrentUser};
use crate::auth::session::{COOKIE, same_secret, token_hash};
use crate::db;

/// Largest form body read for the CSRF check.
const FORM_LIMIT: usize = 1 << 20;
/// How far into a multipart body the CSRF field is looked for.
const MULTIPART_PEEK: usize = 64 << 10;

pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let client = super::extract::resolve_client(&parts, &state.config);
    let https = client.https;
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(client);
    let mut res = match resolve(&state, req).await {
        Ok((req, signed_in)) => {
            let mut res = next.run(req).await;
            // A signed-in answer is this person's: no cache (a shared computer's browser, a
            // proxy) keeps it. Answers that set their own policy (static files) keep theirs.
            if signed_in && !res.headers().contains_key(header::CACHE_CONTROL) {
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            res
        }
        Err(e) => e.into_response(),
    };
    if https {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// The request with its user (when a live session came with it), and whether one did.
async fn resolve(state: &AppState, req: Request) -> Result<(Request, bool), AppError> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let (mut parts, body) = req.into_parts();
    let client = parts
        .extensions
        .get::<Client>()
        .cloned()
        .unwrap_or_default();
    if unsafe_method && is_cross_site(&parts.headers, client.https) {
        return Err(AppError::Csrf);
    }
    let (token, via_cookie) = match bearer(&parts.headers) {
        Some(t) => (Some(t), false),
        None => (cookie(&parts.headers, COOKIE), true),
    };
    let Some(token) = token else {
        return Ok((Request::from_parts(parts, body), false));
    };
    let hash = token_hash(&token);
    let Some(live) = live_session(state, &hash).await? else {
        // An expired or revoked token: continue as anonymous; protected routes answer 401.
        return Ok((Request::from_parts(parts, body), false));
    };

    let mut body = body;
    if unsafe_method && via_cookie {
        let (ok, rebuilt) = csrf_token_matches(&parts, body, &live.csrf_token).await;
        body = rebuilt;
        if !ok {
            return Err(AppError::Csrf);
        }
    }
    let user = CurrentUser::from_session(live, hash, client.addr);
    if user.must_change_password && !open_before_password_change(&parts.method, parts.uri.path()) {
        return Err(AppError::PasswordChangeRequired);
    }
    parts.extensions.insert(user);
    Ok((Request::from_parts(parts, body), true))
}

/// The live session of `hash`: from this instance's cache while it follows the session
/// notifications, else read (and marked as seen) in the database.
async fn live_session(
    state: &AppState,
    hash: &[u8],
) -> Result<Option<db::sessions::LiveSession>, AppError> {
    let cache = &state.sessions;
    let following = state.hub.listening();
    if following && let Some(live) = cache.get(hash) {
        return Ok(Some(live));
    }
    let generation = cache.generation();
    let live = db::sessions::touch(
        &mut *state.pool.acquire().await?,
        hash,
        state.config.session_idle.as_secs() as i64,
        state.config.session_max.as_secs() as i64,
    )
    .await?;
    if let Some(live) = &live
        && following
    {
        cache.keep(generation, hash.to_vec(), live);
    }
    Ok(live)
}

/// Looks for the CSRF token in the header, then in the body: a urlencoded form (read and
/// handed back for the handler) or the first part of a multipart form (only that much is
/// read; the rest streams on to the handler).
async fn csrf_token_matches(
    parts: &axum::http::request::Parts,
    body: Body,
    expected: &str,
) -> (bool, Body) {
    if let Some(given) = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return (same_secret(given, expected), body);
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return match to_bytes(body, FORM_LIMIT).await {
            Ok(bytes) => {
                let ok = form_field(&bytes).is_some_and(|given| same_secret(&given, expected));
                (ok, Body::from(bytes))
            }
            Err(_) => (false, Body::empty()),
        };
    }
    if let Some(boundary) = multipart_boundary(content_type) {
        let (given, body) = first_multipart_field(body, &boundary).await;
        let ok = given
            .is_some_and(|(name, value)| name == "csrf_token" && same_secret(&value, expected));
        return (ok, body);
    }
    (false, body)
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    let rest = content_type.strip_prefix("multipart/form-data")?;
    rest.split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
        .find(|b| !b.is_empty())
}

/// Reads a multipart body up to the end of its first part and returns that part's name and
/// value, with the body whole again (what was read, then the rest as it arrives).
async fn first_multipart_field(body: Body, boundary: &str) -> (Option<(String, String)>, Body) {
    let mut stream = body.into_data_stream();
    let mut read = Vec::new();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut field = None;
    let mut failed = false;
    while read.len() < MULTIPART_PEEK {
        if let Some(f) = parse_first_part(&read, boundary) {
            field = Some(f);
            break;
        }
        match stream.next().await {
            Some(Ok(chunk)) => {
                read.extend_from_slice(&chunk);
                chunks.push(chunk);
            }
            Some(Err(_)) => {
                failed = true;
                break;
            }
            None => {
                field = parse_first_part(&read, boundary);
                break;
            }
        }
    }
    if failed {
        return (None, Body::empty());
    }
    let replay = futures_util::stream::iter(chunks.into_iter().map(Ok::<Bytes, axum::Error>));
    (field, Body::from_stream(replay.chain(stream)))
}

/// The first part of a multipart body, once `data` holds all of it: its name and its value.
fn parse_first_part(data: &[u8], boundary: &str) -> Option<(String, String)> {
    let opening = format!("--{boundary}\r\n");
    let rest = data.strip_prefix(opening.as_bytes())?;
    let head_end = find(rest, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&rest[..head_end]).ok()?;
    let name = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("name="))
        .map(|n| n.trim_matches('"').to_owned())
        .next()?;
    let value = &rest[head_end + 4..];
    let end = find(value, format!("\r\n--{boundary}").as_bytes())?;
    Some((name, String::from_utf8(value[..end].to_vec()).ok()?))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

/// True when a browser says the request comes from another site: `Sec-Fetch-Site`, or an
/// `Origin` that is not exactly this site — scheme, host and port.
fn is_cross_site(headers: &HeaderMap, https: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => {
            let scheme = if https { "https" } else { "http" };
            !origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"))
        }
        (Some(_), None) => true,
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
        assert!(!is_cross_site(&headers(&[]), false));
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            false
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            false
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            false
        ));
        let same = headers(&[
            ("origin", "http://a.example:8080"),
            ("host", "a.example:8080"),
        ]);
        assert!(!is_cross_site(&same, false));
        assert!(is_cross_site(
            &headers(&[
                ("origin", "http://evil.example"),
                ("host", "a.example:8080")
            ]),
            false
        ));
        assert!(is_cross_site(&headers(&[("origin", "null")]), false));
        // The probe's finding: the scheme counts. An http page may not post to the https site.
        assert!(is_cross_site(&same, true));
        assert!(!is_cross_site(
            &headers(&[("origin", "https://a.example"), ("host", "a.example")]),
            true
        ));
        assert!(is_cross_site(
            &headers(&[("origin", "https://a.example.evil"), ("host", "a.example")]),
            true
        ));
    }

    #[test]
    fn the_first_part_of_a_multipart_body_is_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF\r\n--XyZ--\r\n";
        assert_eq!(
            parse_first_part(body, "XyZ"),
            Some(("csrf_token".into(), "abc123".into()))
        );
        assert_eq!(parse_first_part(&body[..40], "XyZ"), None, "not whole yet");
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"XyZ\""),
            Some("XyZ".into())
        );
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
