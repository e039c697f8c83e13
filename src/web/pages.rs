//! What every page shares: the layout (navigation by role), the error page and formatting.

use askama::Template;
use askama_web::WebTemplate;

pub use crate::display::{DISPLAY_OFFSET, date_zh, datetime_zh, today, yuan};

use super::error::Problem;
use super::extract::CurrentUser;
use crate::domain::role::Role;

/// The signed-in person as the navigation shows them.
pub struct NavUser {
    pub name: String,
    pub login: String,
    pub csrf: String,
    pub is_admin: bool,
    pub is_discipline: bool,
    /// Has a role that works with topics and meetings (anything beyond admin).
    pub works_on_meetings: bool,
    /// Unread notifications.
    pub unread: i64,
}

pub struct Layout {
    pub title: String,
    pub user: Option<NavUser>,
}

impl Layout {
    pub fn new(title: impl Into<String>, user: Option<&CurrentUser>) -> Layout {
        Layout {
            title: title.into(),
            user: user.map(|u| NavUser {
                name: u.name.clone(),
                login: u.login.clone(),
                csrf: u.csrf_token.clone(),
                is_admin: u.has(Role::Admin),
                is_discipline: u.has(Role::Discipline),
                works_on_meetings: u.roles.iter().any(|r| *r != Role::Admin),
                unread: u.unread,
            }),
        }
    }

    /// The CSRF token forms of this page carry.
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.csrf.as_str())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub problem: Problem,
    /// The page the person came from (their browser's way back keeps what they typed).
    pub back: String,
}

/// Percent-encodes a path for a query parameter.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encode_keeps_paths_readable() {
        assert_eq!(url_encode("/audit?x=1"), "/audit%3Fx%3D1");
    }
}
