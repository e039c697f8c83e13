//! What outlives the meeting (sections E and F of `rules.md`): the minutes and their seal, who
//! may read them, the signed summary, follow-up tasks, reserved opinions and later changes of a
//! decision.

use time::OffsetDateTime;

use super::deliberation::{Outcome, Stance};
use super::org::Position;
use super::role::Role;
use super::rule::{Rule, RuleViolation};

/// One agenda item as the minutes hold it.
#[derive(Debug, Clone)]
pub struct MinutesItem<'a> {
    pub title: &'a str,
    /// Present, non-recused members expected to state an opinion.
    pub expected_opinions: usize,
    pub opinions: usize,
    /// Whether the vote (per person, or totals for a secret ballot) is recorded.
    pub vote_recorded: bool,
    pub outcome: Option<Outcome>,
    /// The basis and reasons of the decision.
    pub basis: &'a str,
    /// For cadre appointments: the number of cadres the item concerns (must be one).
    pub cadres: Option<usize>,
}

/// The minutes of one meeting.
#[derive(Debug, Clone)]
pub struct MinutesRecord<'a> {
    pub name: &'a str,
    pub place: &'a str,
    pub has_time: bool,
    pub chair: Option<&'a str>,
    pub present: usize,
    pub recorder: Option<&'a str>,
    pub items: Vec<MinutesItem<'a>>,
}

/// R-MINUTES (第二十一条(四)): what is missing from the minutes — name, time, place, chair,
/// present members, recorder, and for every item every opinion, the vote (unless deferred or
/// referred before it), the decision with its basis, and one cadre per personnel item.
pub fn missing_from_minutes(m: &MinutesRecord<'_>) -> Vec<String> {
    let mut missing = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            missing.push(what);
        }
    };
    need(!m.name.trim().is_empty(), "会议名称".into());
    need(m.has_time, "会议时间".into());
    need(!m.place.trim().is_empty(), "会议地点".into());
    need(m.chair.is_some(), "主持人".into());
    need(m.present > 0, "出席人员".into());
    need(m.recorder.is_some(), "记录人".into());
    for (i, item) in m.items.iter().enumerate() {
        let n = i + 1;
        need(
            item.opinions >= item.expected_opinions,
            format!(
                "议题{n}“{}”:成员表态({}/{})",
                item.title, item.opinions, item.expected_opinions
            ),
        );
        let ended_without_vote =
            matches!(item.outcome, Some(Outcome::Deferred | Outcome::Referred));
        need(
            item.vote_recorded || ended_without_vote,
            format!("议题{n}“{}”:表决情况", item.title),
        );
        need(
            item.outcome.is_some(),
            format!("议题{n}“{}”:决定结果", item.title),
        );
        need(
            !item.basis.trim().is_empty(),
            format!("议题{n}“{}”:决定依据和理由", item.title),
        );
        if let Some(cadres) = item.cadres {
            need(
                cadres == 1,
                format!("议题{n}“{}”:人事事项须一人一议", item.title),
            );
        }
    }
    missing
}

/// R-MINUTES: the minutes (and the summary) are drawn up once the meeting has closed: before
/// that the record is still being made.
pub fn check_meeting_closed(closed: bool) -> Result<(), RuleViolation> {
    if closed {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::Minutes,
        "会议结束后才能起草、签署会议记录和会议纪要。依据:第二十一条(四)",
    ))
}

/// R-MINUTES: signing needs the complete record; the refusal lists what is missing.
pub fn check_minutes_complete(missing: &[String]) -> Result<(), RuleViolation> {
    if missing.is_empty() {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::Minutes,
        format!(
            "会议记录尚不完整,不能签署:{}。依据:第二十一条(四)",
            missing.join(";")
        ),
    ))
}

/// The tally of a closed vote, as the minutes state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyFigures {
    pub yes: i64,
    pub no: i64,
    pub abstain: i64,
    pub should_attend: i64,
}

/// R-MINUTES: the basis of a decision in words — the tally against the members who should
/// attend (R-PASS), or the chair's reason for deferring or referring (R-DISAGREEMENT). Empty
/// when there is no basis yet.
pub fn decision_basis(outcome: Outcome, tally: Option<TallyFigures>, reason: &str) -> String {
    match (outcome, tally) {
        (Outcome::Passed | Outcome::Rejected, Some(t)) => format!(
            "赞成 {} 票、反对 {} 票、弃权 {} 票;应到会党组成员 {} 人,赞成票{}应到会成员半数。",
            t.yes,
            t.no,
            t.abstain,
            t.should_attend,
            if outcome == Outcome::Passed {
                "超过"
            } else {
                "未超过"
            }
        ),
        (Outcome::Passed | Outcome::Rejected, None) => String::new(),
        (Outcome::Deferred | Outcome::Referred, _) => reason.trim().to_owned(),
    }
}

/// R-MINUTES-SEALED: signed minutes (and summaries) are never edited; corrections are dated
/// amendments beside the original, written by the meeting secretary.
pub fn check_edit(sealed: bool) -> Result<(), RuleViolation> {
    if sealed {
        return Err(RuleViolation::new(
            Rule::MinutesSealed,
            "会议记录已签署封存,不能修改;如需更正,请由会议秘书添加注明日期的更正说明。",
        ));
    }
    Ok(())
}

pub fn check_amendment(
    sealed: bool,
    actor_is_meeting_secretary: bool,
) -> Result<(), RuleViolation> {
    if !sealed {
        return Err(RuleViolation::new(
            Rule::MinutesSealed,
            "会议记录尚未签署,请直接修改草稿。",
        ));
    }
    if !actor_is_meeting_secretary {
        return Err(RuleViolation::new(
            Rule::MinutesSealed,
            "更正说明由本次会议的会议秘书添加。",
        ));
    }
    Ok(())
}

/// An approved borrow request and when it ends.
#[derive(Debug, Clone, Copy)]
pub struct BorrowGrant {
    pub expires_at: OffsetDateTime,
}

/// R-MINUTES-ACCESS (第二十一条(四)): members read the minutes; anyone else needs an approved
/// borrow request that has not expired. A recused member does not read the record of the
/// item they recused from (R-RECUSAL), which the caller applies per item.
pub fn check_read_minutes(
    is_member: bool,
    grant: Option<BorrowGrant>,
    now: OffsetDateTime,
) -> Result<(), RuleViolation> {
    if is_member || grant.is_some_and(|g| now < g.expires_at) {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::MinutesAccess,
        "借阅会议记录须经书记或副书记批准,且在批准期限内。依据:第二十一条(四)",
    ))
}

/// R-MINUTES-ACCESS: only the 书记 or a 副书记 decides a borrow request.
pub fn check_borrow_decider(position: Option<Position>) -> Result<(), RuleViolation> {
    match position {
        Some(Position::Secretary | Position::Deputy) => Ok(()),
        _ => Err(RuleViolation::new(
            Rule::MinutesAccess,
            "借阅申请由书记或副书记审批。依据:第二十一条(四)",
        )),
    }
}

/// R-MINUTES-ACCESS: a borrow request is decided once.
pub fn check_borrow_once(decided_before: bool) -> Result<(), RuleViolation> {
    if decided_before {
        return Err(RuleViolation::new(
            Rule::MinutesAccess,
            "该借阅申请已审批,不能重复审批。依据:第二十一条(四)",
        ));
    }
    Ok(())
}

/// R-FOLLOWUP-OWNER (第二十一条(五)): follow-up tasks are set for passed decisions only.
pub fn check_task_for(outcome: Option<Outcome>) -> Result<(), RuleViolation> {
    if outcome == Some(Outcome::Passed) {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::FollowupOwner,
        "只有会议通过的决定才列入督办;该事项尚未通过。依据:第二十一条(五)",
    ))
}

/// R-SUPERVISION (第二十一条(五)): a closed task takes no more progress reports or reminders.
pub fn check_task_open(done: bool) -> Result<(), RuleViolation> {
    if done {
        return Err(RuleViolation::new(
            Rule::Supervision,
            "该督办事项已办结,不能再报告进展或催办。依据:第二十一条(五)",
        ));
    }
    Ok(())
}

/// A passed item and its follow-up tasks' lead counts, for the summary check.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub title: &'a str,
    pub outcome: Outcome,
    /// The number of lead persons of each follow-up task.
    pub task_leads: Vec<usize>,
}

/// R-FOLLOWUP-OWNER (第二十一条(五)): every passed item has at least one follow-up task, each
/// with exactly one lead, before the summary is signed. Returns the refusal naming the items.
pub fn check_followup_owners(decisions: &[Decision<'_>]) -> Result<(), RuleViolation> {
    let lacking: Vec<&str> = decisions
        .iter()
        .filter(|d| d.outcome == Outcome::Passed)
        .filter(|d| d.task_leads.is_empty() || d.task_leads.iter().any(|n| *n != 1))
        .map(|d| d.title)
        .collect();
    if lacking.is_empty() {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::FollowupOwner,
        format!(
            "以下通过事项尚未明确唯一牵头落实人:{}。依据:第二十一条(五)",
            lacking.join("、")
        ),
    ))
}

/// R-SUMMARY (第二十一条(四)): the summary is signed by the 书记 or by the chair of that
/// meeting.
pub fn check_summary_signer(
    actor_is_group_secretary: bool,
    actor_chaired_meeting: bool,
) -> Result<(), RuleViolation> {
    if actor_is_group_secretary || actor_chaired_meeting {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::Summary,
        "会议纪要由书记或受委托主持本次会议的成员签发。依据:第二十一条(四)",
    ))
}

/// R-MINUTES-SEALED: a summary is signed once; afterwards it is never changed.
pub fn check_sign_summary(signed_before: bool) -> Result<(), RuleViolation> {
    if signed_before {
        return Err(RuleViolation::new(
            Rule::MinutesSealed,
            "会议纪要已签发,不能再次签署或修改。",
        ));
    }
    Ok(())
}

/// R-SUMMARY (第二十一条(四)): the summary is distributed once, after it is signed.
pub fn check_distribute(signed: bool, distributed_before: bool) -> Result<(), RuleViolation> {
    if !signed {
        return Err(RuleViolation::new(
            Rule::Summary,
            "会议纪要须经书记或主持人签发后才能分发。依据:第二十一条(四)",
        ));
    }
    if distributed_before {
        return Err(RuleViolation::new(
            Rule::Summary,
            "会议纪要已分发。依据:第二十一条(四)",
        ));
    }
    Ok(())
}

/// R-SUMMARY (第二十一条(四)): the summary goes to the group's members on the meeting date and
/// to the bureau's other leaders (局领导, 局长) and the heads of sections. `Some(member)` for a
/// recipient, with whether they read it as a member (cleared for its classified items).
pub fn summary_recipient(member_on_date: bool, roles: &[Role]) -> Option<bool> {
    if member_on_date {
        return Some(true);
    }
    roles
        .iter()
        .any(|r| matches!(r, Role::Leader | Role::Director | Role::SectionHead))
        .then_some(false)
}

/// R-SUMMARY, R-CONFIDENTIAL: a classified item is withheld from a recipient without clearance.
pub fn summary_item_visible(item_classified: bool, recipient_cleared: bool) -> bool {
    !item_classified || recipient_cleared
}

/// R-RESERVE (第二十一条(五)): a member who disagreed (stated 不同意 or 暂缓) may record a
/// reserved opinion; the decision and its tasks stand.
pub fn check_reserve(decided: bool, stance: Option<Stance>) -> Result<(), RuleViolation> {
    if !decided {
        return Err(RuleViolation::new(
            Rule::Reserve,
            "保留意见针对会议已作出的决定;该事项尚未作出决定。依据:第二十一条(五)",
        ));
    }
    match stance {
        Some(Stance::Disagree | Stance::Defer) => Ok(()),
        _ => Err(RuleViolation::new(
            Rule::Reserve,
            "只有对该决定表示不同意或暂缓的成员可以保留意见。依据:第二十一条(五)",
        )),
    }
}

/// R-RESERVE: a member records one reserved opinion on a decision.
pub fn check_reserve_once(reserved_before: bool) -> Result<(), RuleViolation> {
    if reserved_before {
        return Err(RuleViolation::new(
            Rule::Reserve,
            "您已对该决定记录保留意见。依据:第二十一条(五)",
        ));
    }
    Ok(())
}

/// R-DECISION-CHANGE: a decision is changed once; a later change changes the newest decision.
pub fn check_change_once(changed_before: bool) -> Result<(), RuleViolation> {
    if changed_before {
        return Err(RuleViolation::new(
            Rule::DecisionChange,
            "该决定已被此后的决定变更,不能重复变更;请变更最新的决定。依据:第二十一条(五)",
        ));
    }
    Ok(())
}

/// R-AUDIT: no checkpoint is signed over a log that does not verify.
pub fn refuse_checkpoint(problem: &str) -> RuleViolation {
    RuleViolation::new(
        Rule::Audit,
        format!("审计日志或本机检查点校验未通过,不能签署检查点:{problem}"),
    )
}

/// R-DECISION-CHANGE (第二十一条(五)): a decision is changed only by a later passed item of the
/// party group, never by follow-up.
pub fn check_supersede(
    new_outcome: Option<Outcome>,
    new_is_later: bool,
) -> Result<(), RuleViolation> {
    if new_outcome == Some(Outcome::Passed) && new_is_later {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::DecisionChange,
        "决定只能由此后党组会议通过的新决定变更。依据:第二十一条(五)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    fn item(outcome: Option<Outcome>) -> MinutesItem<'static> {
        MinutesItem {
            title: "门诊慢特病待遇调整",
            expected_opinions: 6,
            opinions: 6,
            vote_recorded: true,
            outcome,
            basis: "赞成 5 票,超过应到会成员半数",
            cadres: None,
        }
    }

    fn minutes() -> MinutesRecord<'static> {
        MinutesRecord {
            name: "2026年第5次党组会议",
            place: "三楼会议室",
            has_time: true,
            chair: Some("王建国"),
            present: 6,
            recorder: Some("陈静"),
            items: vec![item(Some(Outcome::Passed))],
        }
    }

    #[test]
    fn r_minutes_complete_record_lacks_nothing() {
        assert!(missing_from_minutes(&minutes()).is_empty());
    }

    #[test]
    fn r_minutes_lists_every_gap() {
        let mut m = minutes();
        m.recorder = None;
        m.items[0].opinions = 5;
        m.items[0].basis = "";
        m.items.push(MinutesItem {
            cadres: Some(2),
            vote_recorded: false,
            ..item(None)
        });
        let missing = missing_from_minutes(&m);
        assert_eq!(missing.len(), 6, "{missing:?}");
        assert!(missing[0].contains("记录人"));
        assert!(missing[1].contains("5/6"));
        assert!(missing.iter().any(|g| g.contains("一人一议")));
        // A deferred item needs no vote.
        let mut deferred = minutes();
        deferred.items[0] = MinutesItem {
            vote_recorded: false,
            ..item(Some(Outcome::Deferred))
        };
        assert!(missing_from_minutes(&deferred).is_empty());
    }

    #[test]
    fn each_record_step_happens_once() {
        assert_eq!(
            check_borrow_once(true).unwrap_err().rule,
            Rule::MinutesAccess
        );
        assert_eq!(check_borrow_once(false), Ok(()));
        assert_eq!(
            check_sign_summary(true).unwrap_err().rule,
            Rule::MinutesSealed
        );
        assert_eq!(check_sign_summary(false), Ok(()));
        assert_eq!(
            check_distribute(false, false).unwrap_err().rule,
            Rule::Summary
        );
        assert_eq!(
            check_distribute(true, true).unwrap_err().rule,
            Rule::Summary
        );
        assert_eq!(check_distribute(true, false), Ok(()));
        assert_eq!(
            check_change_once(true).unwrap_err().rule,
            Rule::DecisionChange
        );
        assert_eq!(check_change_once(false), Ok(()));
        assert_eq!(refuse_checkpoint("链 org 第 3 条").rule, Rule::Audit);
    }

    #[test]
    fn r_followup_owner_and_r_supervision_tasks_of_passed_decisions_until_closed() {
        assert_eq!(check_task_for(Some(Outcome::Passed)), Ok(()));
        for outcome in [None, Some(Outcome::Rejected), Some(Outcome::Deferred)] {
            assert_eq!(
                check_task_for(outcome).unwrap_err().rule,
                Rule::FollowupOwner
            );
        }
        assert_eq!(check_task_open(true).unwrap_err().rule, Rule::Supervision);
        assert_eq!(check_task_open(false), Ok(()));
    }

    #[test]
    fn r_minutes_drawn_up_after_closing_and_signed_only_complete() {
        assert_eq!(check_meeting_closed(true), Ok(()));
        assert_eq!(check_meeting_closed(false).unwrap_err().rule, Rule::Minutes);
        assert_eq!(check_minutes_complete(&[]), Ok(()));
        let refusal = check_minutes_complete(&["记录人".into(), "会议地点".into()]).unwrap_err();
        assert_eq!(refusal.rule, Rule::Minutes);
        assert!(refusal.detail_zh.contains("记录人;会议地点"));
    }

    #[test]
    fn r_minutes_basis_states_the_tally_or_the_reason() {
        let t = TallyFigures {
            yes: 4,
            no: 2,
            abstain: 1,
            should_attend: 7,
        };
        let passed = decision_basis(Outcome::Passed, Some(t), "");
        assert!(passed.contains("赞成 4 票") && passed.contains("应到会党组成员 7 人"));
        assert!(passed.contains("超过应到会成员半数") && !passed.contains("未超过"));
        assert!(decision_basis(Outcome::Rejected, Some(t), "").contains("未超过"));
        assert_eq!(decision_basis(Outcome::Passed, None, "x"), "");
        assert_eq!(
            decision_basis(Outcome::Deferred, None, " 需补充财务意见 "),
            "需补充财务意见"
        );
    }

    #[test]
    fn r_minutes_sealed_edits_refused_amendments_by_the_secretary() {
        assert_eq!(check_edit(false), Ok(()));
        assert_eq!(check_edit(true).unwrap_err().rule, Rule::MinutesSealed);
        assert_eq!(check_amendment(true, true), Ok(()));
        assert_eq!(
            check_amendment(true, false).unwrap_err().rule,
            Rule::MinutesSealed
        );
        assert_eq!(
            check_amendment(false, true).unwrap_err().rule,
            Rule::MinutesSealed
        );
    }

    #[test]
    fn r_minutes_access_members_or_an_unexpired_grant() {
        let now = datetime!(2026-11-29 10:00 +8);
        assert_eq!(check_read_minutes(true, None, now), Ok(()));
        assert_eq!(
            check_read_minutes(false, None, now).unwrap_err().rule,
            Rule::MinutesAccess
        );
        let grant = BorrowGrant {
            expires_at: now + Duration::days(3),
        };
        assert_eq!(check_read_minutes(false, Some(grant), now), Ok(()));
        let expired = BorrowGrant { expires_at: now };
        assert_eq!(
            check_read_minutes(false, Some(expired), now)
                .unwrap_err()
                .rule,
            Rule::MinutesAccess
        );
        assert_eq!(check_borrow_decider(Some(Position::Deputy)), Ok(()));
        assert_eq!(
            check_borrow_decider(Some(Position::Member))
                .unwrap_err()
                .rule,
            Rule::MinutesAccess
        );
        assert_eq!(
            check_borrow_decider(None).unwrap_err().rule,
            Rule::MinutesAccess
        );
    }

    #[test]
    fn r_followup_owner_every_passed_item_has_one_lead() {
        let d = |outcome, task_leads: Vec<usize>| Decision {
            title: "事项",
            outcome,
            task_leads,
        };
        assert_eq!(
            check_followup_owners(&[d(Outcome::Passed, vec![1, 1])]),
            Ok(())
        );
        assert_eq!(
            check_followup_owners(&[d(Outcome::Rejected, vec![])]),
            Ok(())
        );
        assert_eq!(
            check_followup_owners(&[d(Outcome::Passed, vec![])])
                .unwrap_err()
                .rule,
            Rule::FollowupOwner
        );
        assert_eq!(
            check_followup_owners(&[d(Outcome::Passed, vec![2])])
                .unwrap_err()
                .rule,
            Rule::FollowupOwner
        );
    }

    #[test]
    fn r_summary_goes_to_members_leaders_and_section_heads() {
        assert_eq!(summary_recipient(true, &[]), Some(true));
        assert_eq!(summary_recipient(true, &[Role::Leader]), Some(true));
        for role in [Role::Leader, Role::Director, Role::SectionHead] {
            assert_eq!(summary_recipient(false, &[role]), Some(false), "{role:?}");
        }
        assert_eq!(summary_recipient(false, &[Role::Staff, Role::Office]), None);
        assert_eq!(summary_recipient(false, &[]), None);
    }

    #[test]
    fn r_summary_signed_by_the_secretary_or_the_meetings_chair() {
        assert_eq!(check_summary_signer(true, false), Ok(()));
        assert_eq!(check_summary_signer(false, true), Ok(()));
        assert_eq!(
            check_summary_signer(false, false).unwrap_err().rule,
            Rule::Summary
        );
    }

    #[test]
    fn r_confidential_classified_summary_items_are_withheld() {
        assert!(summary_item_visible(false, false));
        assert!(!summary_item_visible(true, false));
        assert!(summary_item_visible(true, true));
    }

    #[test]
    fn r_reserve_only_dissenters() {
        assert_eq!(check_reserve(true, Some(Stance::Disagree)), Ok(()));
        assert_eq!(check_reserve(true, Some(Stance::Defer)), Ok(()));
        assert_eq!(
            check_reserve(false, Some(Stance::Disagree))
                .unwrap_err()
                .rule,
            Rule::Reserve
        );
        assert_eq!(check_reserve_once(true).unwrap_err().rule, Rule::Reserve);
        assert_eq!(check_reserve_once(false), Ok(()));
        assert_eq!(
            check_reserve(true, Some(Stance::Agree)).unwrap_err().rule,
            Rule::Reserve
        );
        assert_eq!(check_reserve(true, None).unwrap_err().rule, Rule::Reserve);
    }

    #[test]
    fn r_decision_change_only_by_a_later_passed_item() {
        assert_eq!(check_supersede(Some(Outcome::Passed), true), Ok(()));
        assert_eq!(
            check_supersede(Some(Outcome::Rejected), true)
                .unwrap_err()
                .rule,
            Rule::DecisionChange
        );
        assert_eq!(
            check_supersede(Some(Outcome::Passed), false)
                .unwrap_err()
                .rule,
            Rule::DecisionChange
        );
        assert_eq!(
            check_supersede(None, true).unwrap_err().rule,
            Rule::DecisionChange
        );
    }
}
