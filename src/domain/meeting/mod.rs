//! The meeting and its items as state machines (sections C and D of `rules.md`). Each
//! transition takes the current state and what the rule needs to know, and returns the next
//! state or the refusal.

use time::Date;

use super::counting::{Fraction, check_quorum};
use super::rule::{Rule, RuleViolation, override_given};

mod item;
mod steps;
#[cfg(test)]
mod tests;

pub use item::{
    ItemStage, ItemState, Reveal, check_attendee_remark, check_ballot, check_opinion_phase,
    check_recusal_once, check_recusal_phase, check_written_opinion, close_vote, end_item,
    open_vote, reveal, start_item,
};
pub use steps::{Awaited, CurrentSteps, ItemFacts, MeetingFacts, Steps, current_item, next_steps};

/// draft → noticed → open → closed → minutes sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingState {
    Draft,
    Noticed,
    Open,
    Closed,
    MinutesSealed,
}

fn refuse(rule: Rule, detail: impl Into<String>) -> RuleViolation {
    RuleViolation::new(rule, detail)
}

/// R-CHAIR (第十九条): the chair is the group's 书记; a group without one holds no meeting.
pub fn chair_of<Id>(group_secretary: Option<Id>) -> Result<Id, RuleViolation> {
    group_secretary.ok_or_else(|| {
        refuse(
            Rule::Chair,
            "党组尚未设书记,无法确定会议主持人。依据:第十九条",
        )
    })
}

/// R-CHAIR (第十九条): only the 书记 delegates the chair, only to a current member, and only
/// before the meeting opens.
pub fn check_delegate_chair(
    state: MeetingState,
    actor_is_group_secretary: bool,
    delegate_is_current_member: bool,
) -> Result<(), RuleViolation> {
    if !matches!(state, MeetingState::Draft | MeetingState::Noticed) {
        return Err(refuse(
            Rule::Chair,
            "会议已经开始,不能更换主持人。依据:第十九条",
        ));
    }
    if !actor_is_group_secretary {
        return Err(refuse(
            Rule::Chair,
            "只有党组书记可以委托他人主持会议。依据:第十九条",
        ));
    }
    if !delegate_is_current_member {
        return Err(refuse(
            Rule::Chair,
            "只能委托副书记或其他党组成员主持。依据:第十九条",
        ));
    }
    Ok(())
}

/// Issuing the notice fixes the agenda. R-SECRETARY (第二十条): a meeting secretary from
/// 综合科 must be named first; R-NOTICE: the notice lists at least one topic.
pub fn issue_notice(
    state: MeetingState,
    secretary_from_office: bool,
    agenda_items: usize,
) -> Result<MeetingState, RuleViolation> {
    if state != MeetingState::Draft {
        return Err(refuse(
            Rule::Notice,
            "会议通知已发出,议程已固定。依据:第二十一条(三)",
        ));
    }
    if !secretary_from_office {
        return Err(refuse(
            Rule::Secretary,
            "须先指定综合科工作人员担任会议秘书。依据:第二十条",
        ));
    }
    if agenda_items == 0 {
        return Err(refuse(
            Rule::Notice,
            "会议通知须列明议题,议程为空。依据:第二十一条(三)",
        ));
    }
    Ok(MeetingState::Noticed)
}

/// Opening the meeting: only by its chair (R-CHAIR), only after the notice (R-NOTICE), only
/// with quorum (R-QUORUM).
pub fn open_meeting(
    state: MeetingState,
    actor_is_chair: bool,
    present: i64,
    members: i64,
    q: Fraction,
) -> Result<MeetingState, RuleViolation> {
    if !actor_is_chair {
        return Err(refuse(
            Rule::Chair,
            "只有会议主持人可以宣布开会。依据:第十九条",
        ));
    }
    match state {
        MeetingState::Draft => Err(refuse(
            Rule::Notice,
            "会议通知尚未发出,不能开会。依据:第二十一条(三)",
        )),
        MeetingState::Noticed => check_quorum(present, members, q).map(|()| MeetingState::Open),
        _ => Err(refuse(Rule::Notice, "会议已经开始或已结束。")),
    }
}

/// Closing the meeting: by the chair, with no item left open (R-ONE-AT-A-TIME).
pub fn close_meeting(
    state: MeetingState,
    items: &[ItemState],
    actor_is_chair: bool,
) -> Result<MeetingState, RuleViolation> {
    if !actor_is_chair {
        return Err(refuse(
            Rule::Chair,
            "只有会议主持人可以宣布散会。依据:第十九条",
        ));
    }
    if state != MeetingState::Open {
        return Err(refuse(Rule::Notice, "会议未在进行中。"));
    }
    if items.iter().any(|s| s.is_open()) {
        return Err(refuse(
            Rule::OneAtATime,
            "还有议题尚未结束,请先宣布结果或暂缓。依据:第二十一条(四)",
        ));
    }
    Ok(MeetingState::Closed)
}

/// R-MATERIALS-DEADLINE (第二十一条(二), override): except classified matters, materials reach
/// 综合科 at least `lead_days` days before the meeting, or the chair records why not.
pub fn check_materials_deadline(
    classified: bool,
    delivered_on: Date,
    meeting_on: Date,
    lead_days: i64,
    override_reason: Option<&str>,
) -> Result<(), RuleViolation> {
    let days = (meeting_on - delivered_on).whole_days();
    if classified || days >= lead_days || override_given(override_reason) {
        return Ok(());
    }
    Err(refuse(
        Rule::MaterialsDeadline,
        format!(
            "材料须至少于会前 {lead_days} 天送综合科,现为会前 {days} 天;如确需使用,请主持人说明理由。依据:第二十一条(二)"
        ),
    ))
}

/// R-MATERIALS-DEADLINE at the notice: a late material lets the notice go only from the chair,
/// with the reason recorded.
pub fn check_notice_materials(
    classified: bool,
    delivered_on: Date,
    meeting_on: Date,
    lead_days: i64,
    actor_is_chair: bool,
    override_reason: Option<&str>,
) -> Result<(), RuleViolation> {
    let on_time = check_materials_deadline(classified, delivered_on, meeting_on, lead_days, None);
    match on_time {
        Err(late) if !actor_is_chair => Err(refuse(
            late.rule,
            format!("{} 本次通知须由会议主持人发出并说明理由。", late.detail_zh),
        )),
        Err(_) => check_materials_deadline(
            classified,
            delivered_on,
            meeting_on,
            lead_days,
            override_reason,
        ),
        Ok(()) => Ok(()),
    }
}

/// R-ATTENDEE-SCOPE (第十九条): a non-member is invited to an item of a meeting not yet
/// closed, once.
pub fn check_invite_attendee(
    state: MeetingState,
    invited_before: bool,
) -> Result<(), RuleViolation> {
    if state == MeetingState::Closed || state == MeetingState::MinutesSealed {
        return Err(refuse(
            Rule::AttendeeScope,
            "会议已结束,不能再邀请列席。依据:第十九条",
        ));
    }
    if invited_before {
        return Err(refuse(
            Rule::AttendeeScope,
            "该人员已受邀列席该议题。依据:第十九条",
        ));
    }
    Ok(())
}

/// How an absent member appears in the minutes (R-LEAVE): on approved leave, or absent without
/// it.
pub fn absence_label(leave_approved: bool) -> &'static str {
    if leave_approved {
        "请假"
    } else {
        "缺席(未经批准请假)"
    }
}

impl MeetingState {
    /// The state as stored (`draft`, `noticed`, `open`, `closed`).
    pub fn parse(s: &str) -> Option<MeetingState> {
        Some(match s {
            "draft" => MeetingState::Draft,
            "noticed" => MeetingState::Noticed,
            "open" => MeetingState::Open,
            "closed" => MeetingState::Closed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MeetingState::Draft => "draft",
            MeetingState::Noticed => "noticed",
            MeetingState::Open => "open",
            MeetingState::Closed | MeetingState::MinutesSealed => "closed",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            MeetingState::Draft => "筹备中",
            MeetingState::Noticed => "已发通知",
            MeetingState::Open => "进行中",
            MeetingState::Closed | MeetingState::MinutesSealed => "已结束",
        }
    }
}

impl serde::Serialize for MeetingState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// R-SECRETARY (第二十条): the meeting secretary is a member of 综合科's staff.
pub fn check_secretary(from_office: bool) -> Result<(), RuleViolation> {
    if from_office {
        return Ok(());
    }
    Err(refuse(
        Rule::Secretary,
        "会议秘书须由综合科工作人员担任。依据:第二十条",
    ))
}

/// R-AD-HOC, R-NOTICE: the agenda is built before the meeting opens; after the notice only
/// the ad-hoc rule lets an item in (see `topic::check_ad_hoc`).
pub fn check_agenda_open(state: MeetingState) -> Result<(), RuleViolation> {
    match state {
        MeetingState::Draft | MeetingState::Noticed => Ok(()),
        _ => Err(refuse(
            Rule::AdHoc,
            "会议已经开始或已结束,不能再增加议题。依据:第二十一条(一)",
        )),
    }
}

/// R-NOTICE: the agenda is put in order before the notice, which fixes it.
pub fn check_agenda_order(state: MeetingState) -> Result<(), RuleViolation> {
    if state == MeetingState::Draft {
        return Ok(());
    }
    Err(refuse(
        Rule::Notice,
        "会议通知已发出,议程顺序已固定。依据:第二十一条(三)",
    ))
}

/// R-LEAVE (第二十一条(三)): leave is asked before the meeting.
pub fn check_leave_request(state: MeetingState) -> Result<(), RuleViolation> {
    match state {
        MeetingState::Draft | MeetingState::Noticed => Ok(()),
        _ => Err(refuse(
            Rule::Leave,
            "请假须在会前提出;会议已经开始或已结束。依据:第二十一条(三)",
        )),
    }
}

/// R-QUORUM: attendance is recorded once the meeting is notified and until it closes; the
/// quorum is re-computed from it at every change.
pub fn check_attendance(state: MeetingState) -> Result<(), RuleViolation> {
    match state {
        MeetingState::Noticed | MeetingState::Open => Ok(()),
        MeetingState::Draft => Err(refuse(
            Rule::Notice,
            "会议通知尚未发出,不能登记到会情况。依据:第二十一条(三)",
        )),
        _ => Err(refuse(Rule::Quorum, "会议已结束,不能再登记到会情况。")),
    }
}
