//! Extractors: the signed-in user, the client address, and request bodies that fail with a 422
//! naming the field instead of axum's plain-text rejections.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{AppError, FieldError};

pub use crate::app::actor::CurrentUser;

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthorized)
    }
}

pub use crate::app::actor::Client;

/// Where a request comes from: the peer's address, or behind a trusted proxy
/// (`YISHI_TRUSTED_PROXIES`) the address it forwarded for; and whether the browser's connection
/// is TLS. Resolved once per request by `guard::authenticate`.
pub fn resolve_client(parts: &Parts, config: &crate::config::Config) -> Client {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let trusted = |ip: std::net::IpAddr| config.trusted_proxies.iter().any(|b| b.contains(ip));
    let via_proxy = peer.is_some_and(trusted);
    let addr = if via_proxy {
        // Proxies append: the rightmost address no trusted proxy added is the client's.
        let forwarded: Vec<std::net::IpAddr> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded
            .iter()
            .rev()
            .copied()
            .find(|ip| !trusted(*ip))
            .or(forwarded.first().copied())
            .or(peer)
    } else {
        peer
    };
    let forwarded_https = via_proxy
        && parts
            .headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    Client {
        addr: addr.map(|a| a.to_string()),
        https: config.secure_cookies || forwarded_https,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Client>()
            .cloned()
            .unwrap_or_default())
    }
}

/// A JSON body. Malformed JSON, a wrongly typed field or text holding NUL is a 422 naming
/// the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state, true).await.map(ApiJson)
    }
}

/// A JSON body whose text may hold NUL: for sign-in only, which counts such a login as a
/// failure before refusing it.
pub struct SignInJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for SignInJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state, false).await.map(SignInJson)
    }
}

async fn read_json<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
    refuse_nul: bool,
) -> Result<T, AppError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
    if !is_json {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|_| AppError::invalid("body", "请求内容过大或无法读取"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| AppError::Invalid(vec![field_error(".".into(), &e)]))?;
    if let Some(field) = nul_in(&value, "").filter(|_| refuse_nul) {
        return Err(AppError::invalid(&field, NUL_MESSAGE));
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| AppError::Invalid(vec![field_error(e.path().to_string(), e.inner())]))
}

/// An optional JSON body: absent when the request has no body at all.
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if has_no_body(&req) {
            return Ok(None);
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

fn has_no_body(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v == "0")
        || (!req.headers().contains_key(header::CONTENT_TYPE)
            && !req.headers().contains_key(header::TRANSFER_ENCODING))
}

/// A form posted by a page (`application/x-www-form-urlencoded`; repeated keys fill lists).
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::invalid("body", "表单内容过大或无法读取"))?;
        if let Some(field) = nul_in_pairs(&bytes) {
            return Err(AppError::invalid(&field, NUL_MESSAGE));
        }
        serde_html_form::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|e| AppError::invalid("form", format!("表单内容有误:{e}")))
    }
}

/// An action's input, as the API sends it (JSON) or a page's form posts it
/// (`application/x-www-form-urlencoded`, repeated keys filling lists): one handler serves both.
/// What is wrong is a 422 naming the field, either way.
pub struct Input<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if is_form(&req) {
            PageForm::from_request(req, state)
                .await
                .map(|PageForm(t)| Input(t))
        } else {
            read_json(req, state, true).await.map(Input)
        }
    }
}

/// An action's input whose page form says less than its JSON: unticked checkboxes send nothing,
/// so a form means "none" where the API's absent field means "unchanged". JSON reads as `T`;
/// the form reads as `F` and becomes a `T`. One handler still serves both.
pub struct FormOr<T, F>(pub T, pub std::marker::PhantomData<F>);

impl<T, F, S> FromRequest<S> for FormOr<T, F>
where
    T: DeserializeOwned,
    F: DeserializeOwned + Into<T>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let input = if is_form(&req) {
            PageForm::<F>::from_request(req, state).await?.0.into()
        } else {
            read_json(req, state, true).await?
        };
        Ok(FormOr(input, std::marker::PhantomData))
    }
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// An optional input: absent when the request has no body at all.
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for Input<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if has_no_body(&req) {
            return Ok(None);
        }
        <Input<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// Ids from the path, typed (`Path<(MeetingId, ItemId)>`): a malformed one is simply not found.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Path(t))
            .map_err(|_| AppError::NotFound)
    }
}

/// Which face of an action a request came to: the API (`/api/v1/…`, answered in JSON) or a
/// page (answered with a redirect to the page that shows the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Api,
    Page,
}

impl<S: Send + Sync> FromRequestParts<S> for Face {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(if parts.uri.path().starts_with("/api/") {
            Face::Api
        } else {
            Face::Page
        })
    }
}

impl Face {
    /// The answer to a done action: for the API what `api` yields (only then computed), for a
    /// page a 303 to `page`.
    pub async fn answer<T: axum::response::IntoResponse>(
        self,
        page: String,
        api: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<axum::response::Response, AppError> {
        use axum::response::IntoResponse;
        match self {
            Face::Api => Ok(api.await?.into_response()),
            Face::Page => Ok(axum::response::Redirect::to(&page).into_response()),
        }
    }

    /// The answer to a read: the view in JSON for the API, for a page the page made of it.
    pub fn show<V: serde::Serialize, P: axum::response::IntoResponse>(
        self,
        view: V,
        page: impl FnOnce(V) -> P,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        match self {
            Face::Api => axum::Json(view).into_response(),
            Face::Page => page(view).into_response(),
        }
    }
}

/// Query parameters (repeated keys fill lists). A malformed one, or one holding NUL, is a 422
/// naming it.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        if let Some(field) = nul_in_pairs(query.as_bytes()) {
            return Err(AppError::invalid(&field, NUL_MESSAGE));
        }
        serde_html_form::from_str(query)
            .map(Query)
            .map_err(|e| AppError::invalid("query", format!("查询参数有误:{e}")))
    }
}

/// Text may not hold NUL (PostgreSQL cannot store it, and no person types it).
const NUL_MESSAGE: &str = "不能包含空字符(NUL)";

/// The path of the first string (or key) in a JSON value that holds NUL.
fn nul_in(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let here = || {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(here()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_in(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(field.replace('\0', ""))
            } else {
                nul_in(v, &field)
            }
        }),
        _ => None,
    }
}

/// The name of the first urlencoded pair whose name or value holds NUL.
fn nul_in_pairs(encoded: &[u8]) -> Option<String> {
    serde_html_form::from_bytes::<Vec<(String, String)>>(encoded)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', ""))
}

fn field_error(path: String, err: &serde_json::Error) -> FieldError {
    let message = err.to_string();
    // serde reports a missing field at the parent path; name the field itself.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (missing, path.as_str()) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "." | "?") => "body".to_owned(),
        (None, path) => path.to_owned(),
    };
    let message = if missing.is_some() {
        "必填".to_owned()
    } else if err.is_syntax() || err.is_eof() {
        "不是有效的 JSON".to_owned()
    } else {
        // serde's own wording ("invalid type: string, expected i32"), without the position.
        let detail = message.split(" at line ").next().unwrap_or_default();
        format!("类型或取值不正确({detail})")
    };
    FieldError::new(field, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_with_its_field() {
        let v = serde_json::json!({"title": "ok", "notes": [{"note": "a\u{0}b"}]});
        assert_eq!(nul_in(&v, "").as_deref(), Some("notes[0].note"));
        assert_eq!(nul_in(&serde_json::json!({"a": "fine"}), ""), None);
        assert_eq!(
            nul_in_pairs(b"reason=x%00y&ok=1").as_deref(),
            Some("reason")
        );
        assert_eq!(nul_in_pairs(b"reason=xy"), None);
    }
}
