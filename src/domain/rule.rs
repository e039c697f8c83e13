//! The rule catalogue: stable codes from `rules.md`, and the refusal that carries one.

use std::fmt;

/// A governance rule of `rules.md`, named by its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// R-FOUR-NOT, 第三条(五): the 书记 and the 局长 do not directly take charge of personnel,
    /// finance, construction projects or procurement.
    FourNot,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[Rule::FourNot];

    /// The stable code, as used in API refusals and test names.
    pub fn code(self) -> &'static str {
        match self {
            Rule::FourNot => "R-FOUR-NOT",
        }
    }

    /// The article of the working rules the rule comes from.
    pub fn article(self) -> &'static str {
        match self {
            Rule::FourNot => "第三条(五)",
        }
    }

    /// A short Chinese title, shown as the heading of a refusal.
    pub fn title_zh(self) -> &'static str {
        match self {
            Rule::FourNot => "党政主要负责人不直接分管人事、财务、基建项目和物资采购",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An action refused by a governance rule, with a plain-Chinese explanation of this case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub rule: Rule,
    pub detail_zh: String,
}

impl RuleViolation {
    pub fn new(rule: Rule, detail_zh: impl Into<String>) -> Self {
        Self {
            rule,
            detail_zh: detail_zh.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for rule in Rule::ALL {
            assert!(rule.code().starts_with("R-"), "{rule}");
            assert!(seen.insert(rule.code()), "duplicate code {rule}");
            assert!(rule.article().starts_with('第'), "{rule}");
        }
    }

    /// Every code of the catalogue is one of `rules.md` (skipped when the spec is absent).
    #[test]
    fn catalogue_codes_appear_in_rules_md() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/spec/rules.md");
        let Ok(spec) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} not found");
            return;
        };
        for rule in Rule::ALL {
            assert!(
                spec.contains(&format!("| {} |", rule.code())),
                "{rule} is not in rules.md"
            );
        }
    }
}
