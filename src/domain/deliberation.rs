//! Deliberation of one agenda item (第二十一条(四)): opinions in turn with the chair last, the
//! vote, and its tally. Functions are generic over the id type so that the rules read (and are
//! tested) independently of how people are identified.

use super::rule::{Rule, RuleViolation};

vocabulary! {
    /// A member's stated position on an item (表态).
    Stance ("表态") {
        Agree => ("agree", "同意"),
        Disagree => ("disagree", "不同意"),
        Defer => ("defer", "暂缓决议"),
    }
}

vocabulary! {
    /// How a vote is taken (R-ONE-VOTE).
    VoteMethod ("表决方式") {
        Voice => ("voice", "口头表决"),
        Hands => ("hands", "举手表决"),
        Secret => ("secret", "无记名投票"),
        Named => ("named", "记名投票"),
        Paper => ("paper", "纸质票无记名投票"),
    }
}

vocabulary! {
    /// A ballot's choice.
    Choice ("表决意见") {
        Yes => ("yes", "赞成"),
        No => ("no", "反对"),
        Abstain => ("abstain", "弃权"),
    }
}

vocabulary! {
    /// How an item ends (R-ANNOUNCE).
    Outcome ("表决结果") {
        Passed => ("passed", "通过"),
        Rejected => ("rejected", "未通过"),
        Deferred => ("deferred", "暂缓"),
        Referred => ("referred", "报请上级"),
    }
}

vocabulary! {
    /// Why a participant recuses (R-RECUSAL).
    Relation ("回避关系") {
        Concerned => ("self", "本人"),
        Spouse => ("spouse", "配偶"),
        Lineal => ("lineal", "直系血亲"),
        Collateral3 => ("collateral_3", "三代以内旁系血亲"),
        InLaw => ("in_law", "近姻亲"),
    }
}

impl VoteMethod {
    /// R-SECRET-BALLOT: only a secret ballot hides who chose what.
    pub fn is_secret(self) -> bool {
        self == VoteMethod::Secret
    }

    /// Voice and hands votes are seen by the room, so the meeting secretary may record them on
    /// a member's behalf; ballots of the other methods are cast by the member alone.
    pub fn may_be_recorded_by_secretary(self) -> bool {
        matches!(self, VoteMethod::Voice | VoteMethod::Hands)
    }
}

/// A stated opinion: a stance and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opinion {
    stance: Stance,
    reason: String,
}

impl Opinion {
    /// R-OPINION (第二十一条(四)): every opinion states its reasons; the reason may be left out
    /// only when agreeing.
    pub fn new(stance: Stance, reason: &str) -> Result<Opinion, RuleViolation> {
        let reason = reason.trim();
        if reason.is_empty() && stance != Stance::Agree {
            return Err(RuleViolation::new(
                Rule::Opinion,
                format!("表示“{}”须说明理由。依据:第二十一条(四)", stance.label_zh()),
            ));
        }
        Ok(Opinion {
            stance,
            reason: reason.to_owned(),
        })
    }

    pub fn stance(&self) -> Stance {
        self.stance
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Who is in the room for one item and who has spoken.
#[derive(Debug, Clone)]
pub struct Floor<Id> {
    pub chair: Id,
    /// Members present now, the chair included.
    pub present: Vec<Id>,
    /// Members recused from this item.
    pub recused: Vec<Id>,
    /// Members who have stated their opinion on this item.
    pub spoken: Vec<Id>,
}

impl<Id: Copy + PartialEq> Floor<Id> {
    fn eligible(&self, who: Id) -> bool {
        self.present.contains(&who) && !self.recused.contains(&who)
    }

    /// Present, non-recused members other than the chair who have not spoken yet.
    pub fn others_waiting(&self) -> Vec<Id> {
        self.present
            .iter()
            .copied()
            .filter(|m| *m != self.chair && self.eligible(*m) && !self.spoken.contains(m))
            .collect()
    }

    /// Whether `who` may state an opinion now.
    ///
    /// R-RECUSAL: a recused member does not speak on the item. R-OPINION: only present members
    /// state opinions, once each (absent members give written opinions instead,
    /// R-WRITTEN-OPINION). R-CHAIR-LAST (第三条(五)、第二十一条(四)): the chair speaks only after
    /// every other present, non-recused member.
    pub fn may_state_opinion(&self, who: Id) -> Result<(), RuleViolation> {
        if self.recused.contains(&who) {
            return Err(RuleViolation::new(
                Rule::Recusal,
                "您已回避本议题,不能发表意见。依据:第二十一条(四)",
            ));
        }
        if !self.present.contains(&who) {
            return Err(RuleViolation::new(
                Rule::WrittenOpinion,
                "未到会成员不能当场表态,可提交书面意见(不计入表决)。依据:第二十一条(四)",
            ));
        }
        if self.spoken.contains(&who) {
            return Err(RuleViolation::new(
                Rule::Opinion,
                "您已对本议题表态。依据:第二十一条(四)",
            ));
        }
        let waiting = self.others_waiting().len();
        if who == self.chair && waiting > 0 {
            return Err(RuleViolation::new(
                Rule::ChairLast,
                format!(
                    "还有 {waiting} 位成员尚未表态,主持人须末位表态。依据:第三条(五)、第二十一条(四)"
                ),
            ));
        }
        Ok(())
    }

    /// R-VOTE-OPEN: only the chair opens the vote, and only when every present, non-recused
    /// member — the chair last — has stated an opinion (R-OPINION, R-CHAIR-LAST).
    pub fn may_open_vote(&self, who: Id) -> Result<(), RuleViolation> {
        if who != self.chair {
            return Err(RuleViolation::new(
                Rule::VoteOpen,
                "只有主持人可以决定进行表决。依据:第二十一条(四)",
            ));
        }
        let waiting = self.others_waiting().len();
        if waiting > 0 {
            return Err(RuleViolation::new(
                Rule::Opinion,
                format!("还有 {waiting} 位成员尚未表态,不能表决。依据:第二十一条(四)"),
            ));
        }
        if self.eligible(self.chair) && !self.spoken.contains(&self.chair) {
            return Err(RuleViolation::new(
                Rule::ChairLast,
                "主持人尚未末位表态,不能表决。依据:第三条(五)、第二十一条(四)",
            ));
        }
        Ok(())
    }

    /// R-ONE-VOTE: each present, non-recused member votes once; attendees and absent members
    /// do not vote (R-RECUSAL for the recused).
    pub fn may_vote(&self, who: Id, already_voted: bool) -> Result<(), RuleViolation> {
        if self.recused.contains(&who) {
            return Err(RuleViolation::new(
                Rule::Recusal,
                "您已回避本议题,不能参加表决。依据:第二十一条(四)",
            ));
        }
        if !self.present.contains(&who) {
            return Err(RuleViolation::new(
                Rule::OneVote,
                "只有到会的党组成员可以表决。依据:第二十一条(四)",
            ));
        }
        if already_voted {
            return Err(RuleViolation::new(
                Rule::OneVote,
                "一人一票,您已表决。依据:第二十一条(四)",
            ));
        }
        Ok(())
    }
}

/// R-DISAGREEMENT: opinions are split when some agree and others disagree or ask to defer; the
/// chair is warned before the vote.
pub fn opinions_split(stances: impl IntoIterator<Item = Stance>) -> bool {
    let (mut agree, mut other) = (false, false);
    for s in stances {
        match s {
            Stance::Agree => agree = true,
            Stance::Disagree | Stance::Defer => other = true,
        }
    }
    agree && other
}

/// What was said and cast on one item. Written opinions of absent members are presented at the
/// meeting and kept in the record, but only ballots are counted (R-WRITTEN-OPINION).
#[derive(Debug, Clone, Default)]
pub struct ItemVoices {
    pub ballots: Vec<Choice>,
    pub written_opinions: Vec<Opinion>,
}

impl ItemVoices {
    pub fn tally(&self) -> Tally {
        tally(self.ballots.iter().copied())
    }
}

/// The count of a vote. For a secret ballot this is all that is ever shown (R-SECRET-BALLOT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub yes: i64,
    pub no: i64,
    pub abstain: i64,
}

/// Counts ballots. Written opinions are not ballots and cannot be passed here
/// (R-WRITTEN-OPINION).
pub fn tally(choices: impl IntoIterator<Item = Choice>) -> Tally {
    choices.into_iter().fold(Tally::default(), |mut t, c| {
        match c {
            Choice::Yes => t.yes += 1,
            Choice::No => t.no += 1,
            Choice::Abstain => t.abstain += 1,
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Seven members 1–7, 1 chairs, all present, nobody recused, nobody has spoken.
    fn floor() -> Floor<u8> {
        Floor {
            chair: 1,
            present: (1..=7).collect(),
            recused: vec![],
            spoken: vec![],
        }
    }

    #[test]
    fn r_opinion_reasons_are_required_except_to_agree() {
        assert!(Opinion::new(Stance::Agree, "").is_ok());
        assert_eq!(
            Opinion::new(Stance::Disagree, "  ").unwrap_err().rule,
            Rule::Opinion
        );
        assert_eq!(
            Opinion::new(Stance::Defer, "").unwrap_err().rule,
            Rule::Opinion
        );
        assert_eq!(
            Opinion::new(Stance::Defer, " 需补充材料 ")
                .unwrap()
                .reason(),
            "需补充材料"
        );
    }

    #[test]
    fn r_chair_last_refuses_the_chair_while_one_member_is_silent() {
        let mut f = floor();
        f.spoken = (2..=6).collect();
        let refusal = f.may_state_opinion(1).unwrap_err();
        assert_eq!(refusal.rule, Rule::ChairLast);
        assert!(refusal.detail_zh.contains("1 位"));
        f.spoken.push(7);
        assert_eq!(f.may_state_opinion(1), Ok(()), "everyone else has spoken");
    }

    #[test]
    fn r_chair_last_ignores_absent_and_recused_members() {
        let mut f = floor();
        f.present.retain(|m| *m != 7);
        f.recused = vec![6];
        f.spoken = (2..=5).collect();
        assert_eq!(f.may_state_opinion(1), Ok(()));
    }

    #[test]
    fn r_recusal_a_recused_member_neither_speaks_nor_votes() {
        let mut f = floor();
        f.recused = vec![3];
        assert_eq!(f.may_state_opinion(3).unwrap_err().rule, Rule::Recusal);
        assert_eq!(f.may_vote(3, false).unwrap_err().rule, Rule::Recusal);
        assert_eq!(f.may_state_opinion(4), Ok(()));
    }

    #[test]
    fn r_written_opinion_absent_members_cannot_speak_in_the_room() {
        let mut f = floor();
        f.present.retain(|m| *m != 5);
        assert_eq!(
            f.may_state_opinion(5).unwrap_err().rule,
            Rule::WrittenOpinion
        );
    }

    #[test]
    fn r_opinion_each_member_speaks_once() {
        let mut f = floor();
        f.spoken = vec![2];
        assert_eq!(f.may_state_opinion(2).unwrap_err().rule, Rule::Opinion);
    }

    #[test]
    fn r_vote_open_needs_the_chair_and_every_opinion() {
        let mut f = floor();
        f.spoken = (2..=7).collect();
        assert_eq!(f.may_open_vote(2).unwrap_err().rule, Rule::VoteOpen);
        assert_eq!(f.may_open_vote(1).unwrap_err().rule, Rule::ChairLast);
        f.spoken.push(1);
        assert_eq!(f.may_open_vote(1), Ok(()));
        f.spoken.retain(|m| *m != 4);
        assert_eq!(f.may_open_vote(1).unwrap_err().rule, Rule::Opinion);
    }

    #[test]
    fn r_one_vote_once_per_present_member() {
        let mut f = floor();
        f.present.retain(|m| *m != 6);
        assert_eq!(f.may_vote(2, false), Ok(()));
        assert_eq!(f.may_vote(2, true).unwrap_err().rule, Rule::OneVote);
        assert_eq!(
            f.may_vote(6, false).unwrap_err().rule,
            Rule::OneVote,
            "absent"
        );
        assert_eq!(
            f.may_vote(42, false).unwrap_err().rule,
            Rule::OneVote,
            "an attendee"
        );
    }

    #[test]
    fn r_disagreement_split_opinions_are_flagged() {
        use Stance::*;
        assert!(opinions_split([Agree, Agree, Disagree]));
        assert!(opinions_split([Defer, Agree]));
        assert!(!opinions_split([Agree, Agree]));
        assert!(!opinions_split([Disagree, Defer]));
    }

    #[test]
    fn r_secret_ballot_only_secret_votes_hide_choices() {
        assert!(VoteMethod::Secret.is_secret());
        assert!(!VoteMethod::Named.is_secret());
        assert!(VoteMethod::Hands.may_be_recorded_by_secretary());
        assert!(!VoteMethod::Secret.may_be_recorded_by_secretary());
        assert!(!VoteMethod::Named.may_be_recorded_by_secretary());
    }

    fn choice() -> impl Strategy<Value = Choice> {
        prop_oneof![Just(Choice::Yes), Just(Choice::No), Just(Choice::Abstain)]
    }

    fn stance() -> impl Strategy<Value = Stance> {
        prop_oneof![
            Just(Stance::Agree),
            Just(Stance::Disagree),
            Just(Stance::Defer)
        ]
    }

    proptest! {
        /// R-WRITTEN-OPINION: however many written opinions an item has, and whatever they
        /// say, the tally is that of the ballots.
        #[test]
        fn r_written_opinion_never_changes_a_tally(
            ballots in proptest::collection::vec(choice(), 0..10),
            written in proptest::collection::vec(stance(), 0..5),
        ) {
            let without = ItemVoices { ballots: ballots.clone(), written_opinions: vec![] };
            let with = ItemVoices {
                ballots,
                written_opinions: written.into_iter().map(|s| Opinion::new(s, "出差在外,书面表态").unwrap()).collect(),
            };
            prop_assert_eq!(without.tally(), with.tally());
        }

        /// R-CHAIR-LAST for any order of speakers: the chair is accepted exactly when every
        /// other present, non-recused member has spoken.
        #[test]
        fn r_chair_last_holds_for_any_order(
            order in Just((2u8..=9).collect::<Vec<_>>()).prop_shuffle(),
            spoken_count in 0usize..=8,
            recused in proptest::collection::vec(2u8..=9, 0..3),
            absent in proptest::collection::vec(2u8..=9, 0..3),
        ) {
            let f = Floor {
                chair: 1u8,
                present: (1..=9).filter(|m| !absent.contains(m)).collect(),
                recused: recused.clone(),
                spoken: order.iter().copied().take(spoken_count)
                    .filter(|m| !absent.contains(m) && !recused.contains(m)).collect(),
            };
            let all_others_spoke = (2..=9u8)
                .filter(|m| !absent.contains(m) && !recused.contains(m))
                .all(|m| f.spoken.contains(&m));
            prop_assert_eq!(f.may_state_opinion(1).is_ok(), all_others_spoke);
        }

        /// R-SECRET-BALLOT: a tally is the multiset of choices, whatever the order of casting.
        #[test]
        fn r_secret_ballot_tally_ignores_order(choices in proptest::collection::vec(choice(), 0..15), seed in any::<u64>()) {
            let mut shuffled = choices.clone();
            // A deterministic shuffle driven by the seed.
            let n = shuffled.len();
            for i in (1..n).rev() {
                shuffled.swap(i, (seed as usize).wrapping_mul(i + 7) % (i + 1));
            }
            let t = tally(choices.iter().copied());
            prop_assert_eq!(t, tally(shuffled));
            prop_assert_eq!(t.yes + t.no + t.abstain, choices.len() as i64);
        }
    }
}
