//! A meeting as an iCalendar invitation (RFC 5545), for the participants' own calendars.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::AppState;
use super::error::AppError;
use super::extract::{CurrentUser, Path};
use crate::app::meeting::visible_meeting;
use crate::domain::ids::MeetingId;

pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/meetings/{id}/invite.ics", axum::routing::get(invite))
}

/// What an invitation holds.
pub struct Invitation<'a> {
    pub uid: MeetingId,
    pub title: &'a str,
    pub place: &'a str,
    pub starts_at: OffsetDateTime,
    /// Meetings have no set end; the invitation blocks this long.
    pub length: Duration,
    pub agenda: Vec<String>,
    pub url: String,
}

fn stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// TEXT values escape backslash, semicolon, comma and line breaks (RFC 5545 §3.3.11).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Lines longer than 75 octets are folded with CRLF and a space, never inside a character
/// (RFC 5545 §3.1).
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

pub fn ics(inv: &Invitation<'_>) -> String {
    let agenda: Vec<String> = inv
        .agenda
        .iter()
        .enumerate()
        .map(|(n, t)| format!("{}. {}", n + 1, t))
        .collect();
    let description = format!("议程:\n{}\n{}", agenda.join("\n"), inv.url);
    [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//yishi//议事//ZH".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@yishi", inv.uid),
        format!("DTSTAMP:{}", stamp(OffsetDateTime::now_utc())),
        format!("DTSTART:{}", stamp(inv.starts_at)),
        format!("DTEND:{}", stamp(inv.starts_at + inv.length)),
        format!("SUMMARY:{}", escape(inv.title)),
        format!("LOCATION:{}", escape(inv.place)),
        format!("DESCRIPTION:{}", escape(&description)),
        format!("URL:{}", inv.url),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ]
    .iter()
    .map(|l| fold(l))
    .collect()
}

/// The meeting as an .ics file: anyone who may see the meeting, with the agenda as they see it
/// (a recused reader's withheld item stays withheld).
async fn invite(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    let seen = visible_meeting(&state, &user, id).await?;
    let agenda = crate::app::meeting::item_views(&seen.live, &user)
        .into_iter()
        .map(|i| i.item.title)
        .collect();
    let m = &seen.ctx.meeting;
    let body = ics(&Invitation {
        uid: m.meeting_id,
        title: &m.title,
        place: &m.place,
        starts_at: m.starts_at,
        length: Duration::hours(2),
        agenda,
        url: format!("{scheme}://{host}/meetings/{id}"),
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"meeting.ics\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn text_is_escaped_and_long_lines_fold_between_characters() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let line = format!("SUMMARY:{}", "党组会议".repeat(10));
        let folded = fold(&line);
        for part in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(part.len() <= 75, "{} octets", part.len());
        }
        let unfolded = folded.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn the_invitation_is_a_calendar_with_one_event_in_utc() {
        let text = ics(&Invitation {
            uid: MeetingId::from_uuid(uuid::Uuid::nil()),
            title: "2026年第5次党组会议",
            place: "三楼会议室",
            starts_at: datetime!(2026-12-03 09:00 +8),
            length: Duration::hours(2),
            agenda: vec!["门诊慢特病待遇调整".into()],
            url: "http://127.0.0.1:8080/meetings/x".into(),
        });
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART:20261203T010000Z\r\n"));
        assert!(text.contains("DTEND:20261203T030000Z\r\n"));
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
        assert!(text.contains("1. 门诊慢特病待遇调整"));
    }
}
