//! What follows a refused request: a governance refusal goes into the audit log, and on page
//! routes every error becomes a Chinese page (or the sign-in page).

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::error::{PASSWORD_CHANGE_REQUIRED, Problem};
use super::extract::CurrentUser;
use crate::app::refusal::Refused;

/// rules.md: a blocked action writes nothing "except the refusal in the audit log". Whatever
/// route refused, a governance refusal of a signed-in user becomes one `rule.refused` entry, in
/// its own transaction (the refused action's own transaction was rolled back).
pub async fn audit_refusals(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let user = req.extensions().get::<CurrentUser>().cloned();
    let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
    let res = next.run(req).await;
    let (Some(user), Some(problem)) = (user, res.extensions().get::<Problem>()) else {
        return res;
    };
    let Some(rule) = &problem.rule else {
        return res;
    };
    let refused = Refused {
        rule,
        method: &method,
        path: &path,
        detail: &problem.detail,
    };
    if let Err(e) = crate::app::refusal::record(&state, &user, refused).await {
        tracing::error!(error = %e, rule, "could not record a refusal in the audit log");
    }
    res
}

/// For page routes: an error answer becomes a Chinese page, and "not signed in" a redirect to
/// the sign-in page that returns here afterwards.
/// API paths and the health probes keep their JSON answers.
pub async fn html_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let is_get = req.method() == axum::http::Method::GET;
    let back = came_from(&req).unwrap_or_else(|| "/".to_owned());
    let res = next.run(req).await;
    let Some(problem) = res.extensions().get::<Problem>().cloned() else {
        return res;
    };
    if problem.kind == PASSWORD_CHANGE_REQUIRED {
        return Redirect::to("/me/password").into_response();
    }
    if problem.status == 401 {
        let target = if is_get {
            format!("/login?next={}", super::pages::url_encode(&path))
        } else {
            "/login".to_owned()
        };
        return Redirect::to(&target).into_response();
    }
    let status = res.status();
    let mut page = super::pages::ErrorPage { problem, back }.into_response();
    *page.status_mut() = status;
    page
}

/// The path of the page of this site a request came from (`Referer`, which the site's
/// referrer policy sends only to itself), or `None` for another origin.
pub(super) fn came_from(req: &Request) -> Option<String> {
    let referer = req.headers().get(header::REFERER)?.to_str().ok()?;
    let host = req.headers().get(header::HOST)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("https://")
        .or_else(|| referer.strip_prefix("http://"))?;
    let path = rest.strip_prefix(host)?;
    (path.starts_with('/') && !path.starts_with("//")).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(referer: &str) -> Request {
        Request::builder()
            .uri("/topics")
            .header(header::HOST, "yishi.example")
            .header(header::REFERER, referer)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn the_way_back_is_a_page_of_this_site_only() {
        let back = |r| came_from(&request(r));
        assert_eq!(
            back("https://yishi.example/topics/new?x=1").as_deref(),
            Some("/topics/new?x=1")
        );
        assert_eq!(back("https://elsewhere.example/topics"), None);
        assert_eq!(back("https://yishi.example.evil/topics"), None);
        assert_eq!(back("https://yishi.example//evil.example/"), None);
        assert_eq!(back("javascript:alert(1)"), None);
    }
}
