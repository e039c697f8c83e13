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

/// Who is present after the meeting secretary's attendance records, in the order recorded:
/// each record is a member and whether they are now present (arrival or departure). Only each
/// member's latest record counts, so R-QUORUM, re-checked at every change, depends on who is in
/// the room and not on the order in which different people came and went.
pub fn present_after<Id: Ord + Copy>(records: &[(Id, bool)]) -> std::collections::BTreeSet<Id> {
    let mut present = std::collections::BTreeSet::new();
    for (member, here) in records {
        if *here {
            present.insert(*member);
        } else {
            present.remove(member);
        }
    }
    present
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

    #[test]
    fn r_quorum_follows_arrivals_and_departures() {
        let records = [
            (1, true),
            (2, true),
            (3, true),
            (4, true),
            (5, true),
            (2, false),
        ];
        let present = present_after(&records);
        assert_eq!(present.len(), 4);
        assert!(
            check_quorum(present.len() as i64, 6, Q).is_ok(),
            "4 of 6 reach 2/3"
        );
        let mut more = records.to_vec();
        more.push((3, false));
        assert_eq!(
            check_quorum(present_after(&more).len() as i64, 6, Q)
                .unwrap_err()
                .rule,
            Rule::Quorum
        );
    }

    /// Attendance records: a member and whether they are now present.
    type Records = Vec<(u8, bool)>;

    /// Each member's own records (arrive, maybe leave, maybe return) interleaved in any order
    /// with the others' give the same room.
    fn interleavings() -> impl Strategy<Value = (Records, Records)> {
        proptest::collection::vec(0usize..4, 1..12)
            .prop_flat_map(|counts| {
                let per_member: Vec<Vec<(u8, bool)>> = counts
                    .iter()
                    .enumerate()
                    .map(|(m, n)| (0..*n).map(|k| (m as u8, k % 2 == 0)).collect())
                    .collect();
                let in_order: Vec<(u8, bool)> = per_member.concat();
                let picks = proptest::collection::vec(any::<usize>(), in_order.len());
                (Just(per_member), Just(in_order), picks)
            })
            .prop_map(|(per_member, in_order, picks)| {
                // Merge the members' queues, choosing the next member by the random picks.
                let mut queues: Vec<std::collections::VecDeque<(u8, bool)>> =
                    per_member.into_iter().map(Into::into).collect();
                let mut merged = Vec::new();
                for pick in picks {
                    let live: Vec<usize> = (0..queues.len())
                        .filter(|i| !queues[*i].is_empty())
                        .collect();
                    let q = live[pick % live.len()];
                    merged.extend(queues[q].pop_front());
                }
                (in_order, merged)
            })
    }

    proptest! {
        #[test]
        fn r_quorum_does_not_depend_on_the_order_of_arrival((in_order, merged) in interleavings(), members in 12i64..15) {
            let a = present_after(&in_order);
            let b = present_after(&merged);
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(check_quorum(a.len() as i64, members, Q), check_quorum(b.len() as i64, members, Q));
        }

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
