//! Money as an exact integer number of fen (分): 5000元 = 500000 fen. Never a float.

use std::fmt;

/// A non-negative amount in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(i64);

/// The largest amount accepted: 10^13 fen (one hundred billion yuan), far above any bureau
/// budget, so that sums of amounts cannot overflow.
pub const MAX_FEN: i64 = 10_000_000_000_000;

impl Fen {
    pub fn new(fen: i64) -> Result<Fen, String> {
        if fen < 0 {
            return Err("金额不能为负数".into());
        }
        if fen > MAX_FEN {
            return Err("金额超出允许范围".into());
        }
        Ok(Fen(fen))
    }

    /// Parses yuan as written by a person: `5000`, `5000.5`, `5000.00`, `4999.99`. At most two
    /// decimals (a fraction of a fen is refused), no sign, no exponent, no thousands separators.
    pub fn parse_yuan(raw: &str) -> Result<Fen, String> {
        let s = raw.trim();
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if s.starts_with('-') {
            return Err("金额不能为负数".into());
        }
        if !digits(whole) || (s.contains('.') && !digits(frac)) {
            return Err("金额须为数字,如 5000 或 4999.99".into());
        }
        if frac.len() > 2 {
            return Err("金额最多精确到分(两位小数)".into());
        }
        let yuan: i64 = whole.parse().map_err(|_| "金额超出允许范围".to_owned())?;
        let fen_part: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
        let fen = yuan
            .checked_mul(100)
            .and_then(|f| f.checked_add(fen_part))
            .ok_or_else(|| "金额超出允许范围".to_owned())?;
        Fen::new(fen)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    /// R-LARGE-SPEND (第十一条(六)第32、33项): amounts at or above the group's threshold are
    /// decided by the party group.
    pub fn is_large(self, threshold: Fen) -> bool {
        self >= threshold
    }
}

impl fmt::Display for Fen {
    /// `5000.00元`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}元", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_parse_exactly() {
        assert_eq!(Fen::parse_yuan("5000").unwrap().fen(), 500_000);
        assert_eq!(Fen::parse_yuan("5000.00").unwrap().fen(), 500_000);
        assert_eq!(Fen::parse_yuan("4999.99").unwrap().fen(), 499_999);
        assert_eq!(Fen::parse_yuan(" 0.5 ").unwrap().fen(), 50);
        assert_eq!(Fen::parse_yuan("0.01").unwrap().fen(), 1);
    }

    #[test]
    fn bad_amounts_are_refused() {
        for bad in [
            "-1",
            "5000.001",
            "abc",
            "",
            ".5",
            "5.",
            "1e3",
            "5,000",
            "+5",
            "99999999999999999999",
        ] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad}");
        }
        assert!(
            Fen::parse_yuan("100000000001").is_err(),
            "above the maximum"
        );
        assert!(Fen::parse_yuan("100000000000").is_ok());
        assert!(Fen::new(-1).is_err());
    }

    #[test]
    fn r_large_spend_threshold_is_inclusive() {
        let threshold = Fen::new(500_000).unwrap();
        assert!(!Fen::parse_yuan("4999.99").unwrap().is_large(threshold));
        assert!(Fen::parse_yuan("5000.00").unwrap().is_large(threshold));
        assert!(Fen::parse_yuan("5000.01").unwrap().is_large(threshold));
    }

    #[test]
    fn displays_as_yuan() {
        assert_eq!(Fen::new(499_999).unwrap().to_string(), "4999.99元");
    }
}
