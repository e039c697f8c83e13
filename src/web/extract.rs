//! Extractors: the signed-in user, the client address, and request bodies that fail with a 422
//! naming the field instead of axum's plain-text rejections.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::{AppError, FieldError};
use crate::audit;
use crate::db::sessions::LiveSession;
use crate::domain::authz::{self, Action, Actor, Relation};
use crate::domain::org::Position;
use crate::domain::role::Role;

/// The signed-in user of this request, put in the request's extensions by
/// [`super::guard::authenticate`]. Extracting it answers 401 when nobody is signed in.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: Uuid,
    pub login: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub csrf_token: String,
    pub session_hash: Vec<u8>,
    pub client_addr: Option<String>,
    pub unread: i64,
    /// 三员分立: signed in with a password the admin set; only changing it is open.
    pub must_change_password: bool,
}

impl CurrentUser {
    /// The user of a live session found by its token's hash.
    pub fn from_session(
        live: LiveSession,
        session_hash: Vec<u8>,
        client_addr: Option<String>,
    ) -> CurrentUser {
        CurrentUser {
            user_id: live.user_id,
            login: live.login,
            name: live.name,
            roles: live.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            csrf_token: live.csrf_token,
            session_hash,
            client_addr,
            unread: live.unread,
            must_change_password: live.must_change_password,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Asks the domain whether this user may take an organisation-level `action`.
    pub fn can(&self, action: Action) -> Result<(), AppError> {
        self.can_in(action, None, &Relation::default())
    }

    /// Asks the domain whether this user, with `position` in the resource's party group and in
    /// `relation` to the resource, may take `action`.
    pub fn can_in(
        &self,
        action: Action,
        position: Option<Position>,
        relation: &Relation,
    ) -> Result<(), AppError> {
        let actor = Actor {
            roles: &self.roles,
            position,
        };
        authz::can(actor, action, relation).map_err(AppError::from)
    }

    pub fn audit_actor(&self) -> audit::Actor {
        audit::Actor {
            user_id: Some(self.user_id),
            client_addr: self.client_addr.clone(),
        }
    }
}

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

/// The peer's IP address, when the server knows it.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl ClientAddr {
    pub fn from_parts(parts: &Parts) -> ClientAddr {
        ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr::from_parts(parts))
    }
}

/// A JSON body. Malformed JSON or a wrongly typed field is a 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
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
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(|e| AppError::Invalid(vec![field_error(e.path().to_string(), e.inner())]))
    }
}

/// An optional JSON body: absent when the request has no body at all.
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v == "0")
            || (!req.headers().contains_key(header::CONTENT_TYPE)
                && !req.headers().contains_key(header::TRANSFER_ENCODING));
        if empty {
            return Ok(None);
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// A form posted by a page (`application/x-www-form-urlencoded`; repeated keys fill lists).
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::invalid("body", "表单内容过大或无法读取"))?;
        serde_html_form::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|e| AppError::invalid("form", format!("表单内容有误:{e}")))
    }
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

/// Parses an id from a path segment; a malformed id is simply not found.
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}
