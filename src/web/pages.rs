//! What every page shares: the layout (navigation by role), the error page and formatting.

use askama::Template;
use askama_web::WebTemplate;
use time::{OffsetDateTime, UtcOffset};

use super::error::Problem;
use super::extract::CurrentUser;
use crate::domain::role::Role;

/// The product's display zone (UTC+8).
pub const DISPLAY_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

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
}

/// `2026年11月29日 14:30` in the display zone.
pub fn datetime_zh(t: &OffsetDateTime) -> String {
    let t = t.to_offset(DISPLAY_OFFSET);
    format!(
        "{}年{}月{}日 {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `2026年11月29日`.
pub fn date_zh(d: &time::Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// Today's date in the display zone.
pub fn today() -> time::Date {
    OffsetDateTime::now_utc().to_offset(DISPLAY_OFFSET).date()
}

/// `¥5,000.00` from fen.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let digits = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", fen % 100)
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
    use time::macros::{date, datetime};

    #[test]
    fn formats_in_the_display_zone() {
        assert_eq!(
            datetime_zh(&datetime!(2026-11-29 06:30 UTC)),
            "2026年11月29日 14:30"
        );
        assert_eq!(date_zh(&date!(2026 - 01 - 05)), "2026年1月5日");
    }

    #[test]
    fn money_is_grouped_with_two_decimals() {
        assert_eq!(yuan(500_000), "¥5,000.00");
        assert_eq!(yuan(499_999), "¥4,999.99");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(12_345_678_900), "¥123,456,789.00");
    }

    #[test]
    fn url_encode_keeps_paths_readable() {
        assert_eq!(url_encode("/audit?x=1"), "/audit%3Fx%3D1");
    }
}
