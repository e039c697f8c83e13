//! A party group's settings: the thresholds `rules.md` marks *(setting)*, with the seed's
//! values as defaults.

/// Validated settings of one party group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// R-QUORUM: the fraction of members that must be present (三分之二 = 2/3).
    pub quorum_num: i32,
    pub quorum_den: i32,
    /// R-LARGE-SPEND: amounts at or above this many fen are decided by the group (5000元).
    pub large_spend_fen: i64,
    /// R-TOPIC-LEAD-TIME: days a topic is prepared ahead of its meeting.
    pub topic_lead_days: i32,
    /// R-MATERIALS-DEADLINE: days materials reach 综合科 ahead of the meeting.
    pub materials_lead_days: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            quorum_num: 2,
            quorum_den: 3,
            large_spend_fen: 500_000,
            topic_lead_days: 7,
            materials_lead_days: 1,
        }
    }
}

/// A settings field that failed validation, named as in the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub field: &'static str,
    pub message: String,
}

impl Settings {
    /// Checks every field, returning all problems at once.
    pub fn validate(self) -> Result<Settings, Vec<SettingsError>> {
        let mut errors = Vec::new();
        let mut fail = |field, message: &str| {
            errors.push(SettingsError {
                field,
                message: message.to_owned(),
            })
        };
        if !(1..=100).contains(&self.quorum_den) {
            fail("quorum_den", "分母须在 1–100 之间");
        }
        if self.quorum_num < 1 || self.quorum_num > self.quorum_den {
            fail("quorum_num", "分子须至少为 1 且不大于分母");
        } else if self.quorum_num * 2 <= self.quorum_den {
            // Article 21(四) requires two-thirds; a group may be stricter, never below half.
            fail("quorum_num", "法定人数比例须超过二分之一");
        }
        if !(0..=1_000_000_000_000).contains(&self.large_spend_fen) {
            fail("large_spend_fen", "金额须在 0 至 100 亿元之间(单位:分)");
        }
        if !(0..=365).contains(&self.topic_lead_days) {
            fail("topic_lead_days", "天数须在 0–365 之间");
        }
        if !(0..=365).contains(&self.materials_lead_days) {
            fail("materials_lead_days", "天数须在 0–365 之间");
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_seed_values_and_valid() {
        let s = Settings::default();
        assert_eq!((s.quorum_num, s.quorum_den), (2, 3));
        assert_eq!(s.large_spend_fen, 500_000);
        assert_eq!(s.validate(), Ok(s));
    }

    #[test]
    fn quorum_fraction_must_exceed_half_and_not_exceed_one() {
        let with = |quorum_num, quorum_den| Settings {
            quorum_num,
            quorum_den,
            ..Settings::default()
        };
        assert!(with(3, 4).validate().is_ok());
        assert!(with(1, 1).validate().is_ok());
        let fields = |s: Settings| -> Vec<&str> {
            s.validate().unwrap_err().iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(with(1, 2)), ["quorum_num"]);
        assert_eq!(fields(with(4, 3)), ["quorum_num"]);
        assert_eq!(fields(with(0, 0)), ["quorum_den", "quorum_num"]);
    }

    #[test]
    fn negative_amounts_and_days_are_refused() {
        let s = Settings {
            large_spend_fen: -1,
            topic_lead_days: -1,
            materials_lead_days: 366,
            ..Settings::default()
        };
        let fields: Vec<_> = s.validate().unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["large_spend_fen", "topic_lead_days", "materials_lead_days"]
        );
    }
}
