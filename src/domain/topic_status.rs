//! A topic's course (R-TOPIC-SOURCE, 第二十一条(一)): drafted by its proposer, submitted to
//! 综合科 (returned to the proposer or withdrawn by them), placed on an agenda by the 书记, then
//! decided or — deferred, or left over when the meeting closed — back in the queue.

use super::rule::{Rule, RuleViolation};

vocabulary! {
    /// Where a topic stands.
    TopicStatus ("议题状态") {
        Draft => ("draft", "草稿"),
        Submitted => ("submitted", "已报送综合科"),
        Returned => ("returned", "已退回"),
        Withdrawn => ("withdrawn", "已撤回"),
        Scheduled => ("scheduled", "已列入议程"),
        Decided => ("decided", "已决定"),
    }
}

use TopicStatus::*;

impl TopicStatus {
    /// Refuses `what` unless the topic stands in one of `allowed`.
    fn only_in(self, allowed: &[TopicStatus], what: &str) -> Result<(), RuleViolation> {
        if allowed.contains(&self) {
            Ok(())
        } else {
            Err(RuleViolation::new(
                Rule::TopicSource,
                format!("议题当前状态为“{}”,不能{what}。", self.label_zh()),
            ))
        }
    }

    /// Its proposer edits it, adds materials or its 分管 leader signs it off: only while it is
    /// theirs (a draft, or returned to them).
    pub fn edit(self) -> Result<(), RuleViolation> {
        self.only_in(&[Draft, Returned], "修改")
    }

    /// Its 分管 leader signs it off (R-TOPIC-SOURCE) before it goes to 综合科.
    pub fn sign_off(self) -> Result<(), RuleViolation> {
        self.only_in(&[Draft, Returned], "签字同意")
    }

    /// Prerequisites are recorded and review sections assigned until it is placed on an agenda.
    pub fn prepare(self) -> Result<(), RuleViolation> {
        self.only_in(&[Draft, Submitted, Returned], "补充前置材料")
    }

    /// Submitted to 综合科.
    pub fn submit(self) -> Result<TopicStatus, RuleViolation> {
        self.only_in(&[Draft, Returned], "报送")?;
        Ok(Submitted)
    }

    /// Withdrawn by its proposer, before it is placed on an agenda.
    pub fn withdraw(self) -> Result<TopicStatus, RuleViolation> {
        self.only_in(&[Draft, Submitted, Returned], "撤回")?;
        Ok(Withdrawn)
    }

    /// Returned to its proposer by 综合科 or the 书记, with a reason.
    pub fn return_to_proposer(self) -> Result<TopicStatus, RuleViolation> {
        self.only_in(&[Submitted], "退回")?;
        Ok(Returned)
    }

    /// Placed on a meeting's agenda.
    pub fn schedule(self) -> Result<TopicStatus, RuleViolation> {
        self.only_in(&[Submitted], "列入议程")?;
        Ok(Scheduled)
    }

    /// Back in the queue: its item was deferred, or the meeting closed before reaching it.
    pub fn requeue(self) -> Result<TopicStatus, RuleViolation> {
        self.only_in(&[Scheduled], "退回待议")?;
        Ok(Submitted)
    }

    /// Its item ended with a decision (or was referred upward).
    pub fn decide(self) -> Result<TopicStatus, RuleViolation> {
        self.only_in(&[Scheduled], "作出决定")?;
        Ok(Decided)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_topic_source_a_topic_follows_its_course() {
        assert_eq!(Draft.submit(), Ok(Submitted));
        assert_eq!(Returned.submit(), Ok(Submitted));
        assert_eq!(Submitted.return_to_proposer(), Ok(Returned));
        assert_eq!(Submitted.schedule(), Ok(Scheduled));
        assert_eq!(Scheduled.requeue(), Ok(Submitted));
        assert_eq!(Scheduled.decide(), Ok(Decided));
        for s in [Draft, Submitted, Returned] {
            assert_eq!(s.withdraw(), Ok(Withdrawn));
            assert!(s.prepare().is_ok());
        }
        assert!(Draft.edit().is_ok() && Returned.edit().is_ok());
        assert!(Returned.sign_off().is_ok() && Submitted.sign_off().is_err());
    }

    #[test]
    fn r_topic_source_no_step_out_of_turn() {
        let refused = |r: Result<TopicStatus, RuleViolation>| r.unwrap_err();
        // Not on an agenda without 综合科 having it, nor twice.
        assert_eq!(refused(Draft.schedule()).rule, Rule::TopicSource);
        assert!(Scheduled.schedule().is_err() && Returned.schedule().is_err());
        // Once on an agenda, it is the meeting's: not withdrawn, edited or returned.
        assert!(Scheduled.withdraw().is_err());
        assert!(Scheduled.edit().is_err() && Submitted.edit().is_err());
        assert!(Scheduled.prepare().is_err() && Decided.prepare().is_err());
        assert!(Draft.return_to_proposer().is_err());
        // A decided or withdrawn topic stays so.
        for s in [Decided, Withdrawn] {
            assert!(s.submit().is_err() && s.requeue().is_err() && s.decide().is_err());
        }
        assert!(Submitted.submit().is_err());
        assert_eq!(
            refused(Withdrawn.submit()).detail_zh,
            "议题当前状态为“已撤回”,不能报送。"
        );
    }
}
