//! A secret vote held on paper (表决票): one serial-numbered ballot per member who may vote, the
//! totals counted by two people of 综合科 independently and accepted only when both agree
//! (R-ONE-VOTE: no more ballots than members present and not recused; R-PASS decides on the
//! agreed totals as on any other).

use super::deliberation::{Tally, VoteMethod};
use super::meeting::ItemState;
use super::rule::{Rule, RuleViolation};

/// The serial numbers of an item's paper ballots: the meeting's date, the item's place on the
/// agenda and the ballot's own number, e.g. `20300110-02-005`.
pub fn serials(meeting_date: time::Date, item_position: i32, ballots: i64) -> Vec<String> {
    let day = format!(
        "{:04}{:02}{:02}",
        meeting_date.year(),
        u8::from(meeting_date.month()),
        meeting_date.day()
    );
    (1..=ballots)
        .map(|n| format!("{day}-{item_position:02}-{n:03}"))
        .collect()
}

/// One counter's entry of the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountEntry<Id> {
    pub counter: Id,
    pub tally: Tally,
}

/// What an entry leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted<Id> {
    /// The first entry of a count: the second counter enters theirs without seeing it.
    Waiting,
    /// Both entries agree: the vote's totals, and the two counters.
    Agreed { tally: Tally, counters: [Id; 2] },
    /// The entries differ: the count is repeated, both entering again.
    Differ { first: Tally, second: Tally },
}

fn refuse(message: String) -> RuleViolation {
    RuleViolation::new(Rule::OneVote, format!("{message}依据:第二十一条(四)"))
}

/// Totals may be entered while a paper vote is open.
pub fn check_open(item: ItemState, method: Option<VoteMethod>) -> Result<(), RuleViolation> {
    if item != ItemState::Voting || method != Some(VoteMethod::Paper) {
        return Err(refuse("该议题没有进行中的纸质投票。".into()));
    }
    Ok(())
}

/// The chair does not close a paper vote: its totals come from the two counters' agreement.
pub fn check_closed_by_chair(method: Option<VoteMethod>) -> Result<(), RuleViolation> {
    if method == Some(VoteMethod::Paper) {
        return Err(refuse(
            "纸质投票的结果由两位计票人分别清点录入、一致后产生,不由主持人结束计票。".into(),
        ));
    }
    Ok(())
}

/// `next` entered into the current count (`pending`: its first entry, if any); `voters` are
/// the members present and not recused.
pub fn enter<Id: Copy + PartialEq>(
    pending: Option<CountEntry<Id>>,
    next: CountEntry<Id>,
    voters: i64,
) -> Result<Counted<Id>, RuleViolation> {
    let t = next.tally;
    let ballots = t.yes + t.no + t.abstain;
    if ballots > voters {
        return Err(refuse(format!(
            "录入的选票共 {ballots} 张,多于到会可表决的成员 {voters} 人,请重新清点。"
        )));
    }
    let Some(first) = pending else {
        return Ok(Counted::Waiting);
    };
    if first.counter == next.counter {
        return Err(refuse(
            "您已录入本次计票结果,须由另一位计票人独立清点录入。".into(),
        ));
    }
    Ok(if first.tally == t {
        Counted::Agreed {
            tally: t,
            counters: [first.counter, next.counter],
        }
    } else {
        Counted::Differ {
            first: first.tally,
            second: t,
        }
    })
}

/// The difference of two entries in words, for the counters to look again.
pub fn difference_zh(first: Tally, second: Tally) -> String {
    [
        ("赞成", first.yes, second.yes),
        ("反对", first.no, second.no),
        ("弃权", first.abstain, second.abstain),
    ]
    .iter()
    .filter(|(_, a, b)| a != b)
    .map(|(what, a, b)| format!("{what}:第一次 {a} 票,第二次 {b} 票"))
    .collect::<Vec<_>>()
    .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(yes: i64, no: i64, abstain: i64) -> Tally {
        Tally { yes, no, abstain }
    }

    #[test]
    fn r_one_vote_paper_ballots_are_numbered_one_per_voter() {
        let s = serials(time::macros::date!(2030 - 01 - 10), 2, 5);
        assert_eq!(s.len(), 5);
        assert_eq!(s[0], "20300110-02-001");
        assert_eq!(s[4], "20300110-02-005");
        assert!(serials(time::macros::date!(2030 - 01 - 10), 1, 0).is_empty());
    }

    #[test]
    fn r_one_vote_two_counters_must_agree() {
        let a = CountEntry {
            counter: 1,
            tally: t(4, 1, 0),
        };
        assert_eq!(enter(None, a, 5), Ok(Counted::Waiting));
        let same = CountEntry {
            counter: 2,
            tally: t(4, 1, 0),
        };
        assert_eq!(
            enter(Some(a), same, 5),
            Ok(Counted::Agreed {
                tally: t(4, 1, 0),
                counters: [1, 2]
            })
        );
        let other = CountEntry {
            counter: 2,
            tally: t(3, 1, 1),
        };
        assert_eq!(
            enter(Some(a), other, 5),
            Ok(Counted::Differ {
                first: t(4, 1, 0),
                second: t(3, 1, 1)
            })
        );
        let again = enter(Some(a), a, 5).unwrap_err();
        assert_eq!(again.rule, Rule::OneVote);
        assert!(again.detail_zh.contains("另一位计票人"));
    }

    #[test]
    fn r_one_vote_no_more_paper_ballots_than_voters() {
        let e = CountEntry {
            counter: 1,
            tally: t(4, 1, 1),
        };
        let refused = enter(None, e, 5).unwrap_err();
        assert_eq!(refused.rule, Rule::OneVote);
        assert!(refused.detail_zh.contains("6 张"), "{}", refused.detail_zh);
        assert!(
            enter(
                None,
                CountEntry {
                    counter: 1,
                    tally: t(2, 1, 1)
                },
                5
            )
            .is_ok()
        );
    }

    #[test]
    fn r_one_vote_paper_totals_only_while_a_paper_vote_is_open() {
        assert!(check_open(ItemState::Voting, Some(VoteMethod::Paper)).is_ok());
        assert!(check_open(ItemState::Voting, Some(VoteMethod::Secret)).is_err());
        assert!(check_open(ItemState::InDiscussion, Some(VoteMethod::Paper)).is_err());
    }

    #[test]
    fn r_one_vote_the_chair_does_not_close_a_paper_vote() {
        assert!(check_closed_by_chair(Some(VoteMethod::Paper)).is_err());
        assert!(check_closed_by_chair(Some(VoteMethod::Secret)).is_ok());
    }

    #[test]
    fn the_difference_names_each_differing_total() {
        let d = difference_zh(t(4, 1, 0), t(3, 1, 1));
        assert_eq!(
            d,
            "赞成:第一次 4 票,第二次 3 票;弃权:第一次 0 票,第二次 1 票"
        );
    }
}
