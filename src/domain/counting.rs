//! Counting rules in integers only: the quorum of a meeting and of an item, and whether a vote
//! passes. The quorum fraction is the group's setting (三分之二 by default).

use super::rule::{Rule, RuleViolation};

/// A quorum fraction `num/den` (2/3 by default), taken from the group's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    pub num: i64,
    pub den: i64,
}

impl Fraction {
    pub const TWO_THIRDS: Fraction = Fraction { num: 2, den: 3 };

    /// `part / whole >= num / den`, without division.
    fn reached(self, part: i64, whole: i64) -> bool {
        part * self.den >= whole * self.num
    }

    /// The smallest part of `whole` that reaches the fraction.
    pub fn needed(self, whole: i64) -> i64 {
        (whole * self.num + self.den - 1) / self.den
    }

    fn label_zh(self) -> String {
        match (self.num, self.den) {
            (2, 3) => "三分之二".to_owned(),
            (num, den) => format!("{den} 分之 {num}"),
        }
    }
}

/// R-QUORUM (第二十一条(四)): a meeting is held only when two-thirds or more of the group's
/// members (on the meeting date) are present — `present × 3 ≥ members × 2`.
pub fn check_quorum(present: i64, members: i64, q: Fraction) -> Result<(), RuleViolation> {
    if members > 0 && q.reached(present, members) {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::Quorum,
        format!(
            "出席 {present} 人,应到 {members} 人,未达{}(需 {} 人)。依据:第二十一条(四)",
            q.label_zh(),
            q.needed(members).max(1)
        ),
    ))
}

/// R-ITEM-QUORUM (interpretation of 第二十一条(四) per item): an item is put to a vote only
/// when present, non-recused members reach the fraction of all non-recused members.
pub fn check_item_quorum(
    present_not_recused: i64,
    members_not_recused: i64,
    q: Fraction,
) -> Result<(), RuleViolation> {
    if members_not_recused > 0 && q.reached(present_not_recused, members_not_recused) {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::ItemQuorum,
        format!(
            "本议题到会且无需回避的成员 {present_not_recused} 人,应到 {members_not_recused} 人,\
             未达{}(需 {} 人),不能表决。依据:第二十一条(四)",
            q.label_zh(),
            q.needed(members_not_recused).max(1)
        ),
    ))
}

/// Members who should attend an item (应到会党组成员): the members on the meeting date minus
/// those recused from the item.
pub fn should_attend(members: i64, recused: i64) -> i64 {
    (members - recused).max(0)
}

/// R-PASS (第二十一条(四)): an item passes when the yes votes exceed half of the members who
/// should attend — `yes × 2 > should_attend`. Absent members' written opinions are not votes
/// and never reach this count (R-WRITTEN-OPINION).
pub fn passes(yes: i64, should_attend: i64) -> bool {
    yes * 2 > should_attend
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const Q: Fraction = Fraction::TWO_THIRDS;

    #[test]
    fn r_quorum_six_of_nine_opens_and_five_of_eight_does_not() {
        assert_eq!(check_quorum(6, 9, Q), Ok(()));
        let refusal = check_quorum(5, 8, Q).unwrap_err();
        assert_eq!(refusal.rule, Rule::Quorum);
        assert!(
            refusal.detail_zh.contains("出席 5 人,应到 8 人"),
            "{}",
            refusal.detail_zh
        );
        assert!(refusal.detail_zh.contains("需 6 人"));
    }

    #[test]
    fn r_quorum_boundaries_of_a_seven_member_group() {
        assert!(check_quorum(4, 7, Q).is_err());
        assert_eq!(check_quorum(5, 7, Q), Ok(()));
        assert!(
            check_quorum(0, 0, Q).is_err(),
            "a group without members never meets"
        );
    }

    #[test]
    fn r_quorum_follows_a_stricter_setting() {
        let three_quarters = Fraction { num: 3, den: 4 };
        assert!(check_quorum(6, 9, three_quarters).is_err());
        assert_eq!(check_quorum(7, 9, three_quarters), Ok(()));
    }

    #[test]
    fn r_item_quorum_counts_only_non_recused_members() {
        // 9 members, 2 recused: 7 non-recused; 5 of them present reach 2/3, 4 do not.
        assert_eq!(check_item_quorum(5, 7, Q), Ok(()));
        assert_eq!(
            check_item_quorum(4, 7, Q).unwrap_err().rule,
            Rule::ItemQuorum
        );
    }

    #[test]
    fn r_pass_four_yes_of_seven_passes_three_of_six_does_not() {
        assert!(passes(4, should_attend(7, 0)));
        assert!(
            !passes(3, should_attend(7, 1)),
            "3 yes of 6 (one recusal) is not a majority"
        );
        assert!(!passes(3, 7));
    }

    #[test]
    fn r_written_opinion_absent_members_still_count_in_should_attend() {
        // 7 members, 5 present: should_attend stays 7 whatever the absent wrote.
        assert!(passes(4, should_attend(7, 0)));
        assert!(!passes(3, should_attend(7, 0)));
    }

    proptest! {
        #[test]
        fn r_quorum_is_monotone_in_presence(members in 1i64..50, present in 0i64..50) {
            let present = present.min(members);
            if check_quorum(present, members, Q).is_ok() && present < members {
                prop_assert!(check_quorum(present + 1, members, Q).is_ok());
            }
            prop_assert_eq!(check_quorum(present, members, Q).is_ok(), present >= Q.needed(members));
        }

        #[test]
        fn r_pass_is_monotone_in_yes_votes(should in 0i64..50, yes in 0i64..50) {
            let yes = yes.min(should);
            if passes(yes, should) && yes < should {
                prop_assert!(passes(yes + 1, should));
            }
            prop_assert_eq!(passes(yes, should), yes > should / 2);
        }

    }
}
