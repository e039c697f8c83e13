//! How dates, times and money are written for people: in the product's zone (UTC+8), in
//! Chinese, in yuan. Pages, documents and notification texts all write them so.

use time::{OffsetDateTime, UtcOffset};

/// The product's display zone (UTC+8).
pub const DISPLAY_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

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

/// A time as the API writes it (RFC 3339, with its offset) or as a page's `datetime-local`
/// control sends it (`2026-12-03T09:00`, no zone: the display zone's time).
pub fn parse_datetime(raw: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    let local = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute][optional [:[second]]]"
    );
    time::PrimitiveDateTime::parse(raw, &local)
        .ok()
        .map(|t| t.assume_offset(DISPLAY_OFFSET))
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn times_from_the_api_and_from_pages() {
        let api = parse_datetime("2026-12-03T09:00:00+08:00").unwrap();
        assert_eq!(parse_datetime(" 2026-12-03T09:00 "), Some(api));
        assert_eq!(parse_datetime("2026-12-03T01:00:00Z"), Some(api));
        assert_eq!(parse_datetime("2026-12-03T09:00:00"), Some(api));
        assert_eq!(parse_datetime("下周三"), None);
        assert_eq!(parse_datetime("2026-12-03"), None);
    }

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
}
