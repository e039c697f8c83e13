//! Every step of the journeys that waits for someone, one name each (ui.md: each person lands
//! on what they must do next). The home page lists a person's waiting steps by these names; a
//! test walks the journeys and finds every one of them on the home page of the person it waits
//! for, so a step cannot be added here without a place in a journey, nor dropped from the home
//! page unnoticed.

/// A step that waits for the person whose home page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Waiting {
    /// The 分管 leader's sign-off of a topic.
    TopicSignOff,
    /// 综合科 returned the proposer's topic.
    TopicReturned,
    /// The proposer's topic is complete: it may go to 综合科.
    TopicReadyToSubmit,
    /// Prerequisite reviews (finance, legal, …) in the reviewer's inbox.
    TopicReviews,
    /// Submitted topics at 综合科's desk.
    TopicsAtDesk,
    /// Accepted topics in the 书记's queue for an agenda.
    TopicsToSchedule,
    /// The notice of a coming meeting.
    MeetingNotice,
    /// A meeting in session, nothing asked of this person right now.
    MeetingInSession,
    /// The item under discussion waits for this member's opinion.
    Opinion,
    /// The open vote waits for this member's ballot.
    Ballot,
    /// A request for leave waits for the chair.
    LeaveToDecide,
    /// The minutes of a closed meeting wait for its secretary.
    MinutesToDraft,
    /// The drafted minutes wait for the chair's signature.
    MinutesToSign,
    /// The summary of a closed meeting waits for the chair's signature.
    SummaryToSign,
    /// The signed summary waits for 综合科 to distribute it.
    SummaryToDistribute,
    /// A distributed summary waits for the reader's receipt.
    SummaryReceipt,
    /// A follow-up task led by this person, more than three days to go (blue).
    TaskOpen,
    /// A follow-up task led by this person falls due within three days (yellow).
    TaskDueSoon,
    /// A follow-up task led by this person is past its due date (red).
    TaskOverdue,
    /// A request to borrow the minutes waits for the person who decides it.
    BorrowToDecide,
    /// A document in circulation waits for this member's review.
    CirculationToReview,
    /// Duties of the group's calendar are overdue (综合科, the 书记).
    DutiesOverdue,
}

impl Waiting {
    pub const ALL: [Waiting; 22] = [
        Waiting::TopicSignOff,
        Waiting::TopicReturned,
        Waiting::TopicReadyToSubmit,
        Waiting::TopicReviews,
        Waiting::TopicsAtDesk,
        Waiting::TopicsToSchedule,
        Waiting::MeetingNotice,
        Waiting::MeetingInSession,
        Waiting::Opinion,
        Waiting::Ballot,
        Waiting::LeaveToDecide,
        Waiting::MinutesToDraft,
        Waiting::MinutesToSign,
        Waiting::SummaryToSign,
        Waiting::SummaryToDistribute,
        Waiting::SummaryReceipt,
        Waiting::TaskOpen,
        Waiting::TaskDueSoon,
        Waiting::TaskOverdue,
        Waiting::BorrowToDecide,
        Waiting::CirculationToReview,
        Waiting::DutiesOverdue,
    ];

    /// The step's name in the page's markup (`data-waiting`), for tests and scripts.
    pub fn code(self) -> &'static str {
        match self {
            Waiting::TopicSignOff => "topic_sign_off",
            Waiting::TopicReturned => "topic_returned",
            Waiting::TopicReadyToSubmit => "topic_ready_to_submit",
            Waiting::TopicReviews => "topic_reviews",
            Waiting::TopicsAtDesk => "topics_at_desk",
            Waiting::TopicsToSchedule => "topics_to_schedule",
            Waiting::MeetingNotice => "meeting_notice",
            Waiting::MeetingInSession => "meeting_in_session",
            Waiting::Opinion => "opinion",
            Waiting::Ballot => "ballot",
            Waiting::LeaveToDecide => "leave_to_decide",
            Waiting::MinutesToDraft => "minutes_to_draft",
            Waiting::MinutesToSign => "minutes_to_sign",
            Waiting::SummaryToSign => "summary_to_sign",
            Waiting::SummaryToDistribute => "summary_to_distribute",
            Waiting::SummaryReceipt => "summary_receipt",
            Waiting::TaskOpen => "task_open",
            Waiting::TaskDueSoon => "task_due_soon",
            Waiting::TaskOverdue => "task_overdue",
            Waiting::BorrowToDecide => "borrow_to_decide",
            Waiting::CirculationToReview => "circulation_to_review",
            Waiting::DutiesOverdue => "duties_overdue",
        }
    }

    /// The step of that name.
    pub fn from_code(code: &str) -> Option<Waiting> {
        Waiting::ALL.into_iter().find(|w| w.code() == code)
    }

    /// The home page's line for this step about `subject` (a title, or a count's sentence).
    pub fn line(self, subject: &str) -> String {
        let lead = match self {
            Waiting::TopicSignOff => "待我签字",
            Waiting::TopicReturned => "被综合科退回",
            Waiting::TopicReadyToSubmit => "可以报送综合科",
            Waiting::TopicReviews => "待我前置审查的议题",
            Waiting::TopicsAtDesk => "待审核的报送议题",
            Waiting::TopicsToSchedule => "待列入议程的议题",
            Waiting::MeetingNotice => "会议通知",
            Waiting::MeetingInSession => "会议进行中",
            Waiting::Opinion => "待我表态",
            Waiting::Ballot => "待我投票",
            Waiting::LeaveToDecide => "待我审批请假",
            Waiting::MinutesToDraft => "待起草会议记录",
            Waiting::MinutesToSign => "待签署会议记录",
            Waiting::SummaryToSign => "待签发会议纪要",
            Waiting::SummaryToDistribute => "待分发会议纪要",
            Waiting::SummaryReceipt => "请签收会议纪要",
            Waiting::TaskOpen => "督办事项",
            Waiting::TaskDueSoon => "督办事项临近期限",
            Waiting::TaskOverdue => "督办事项逾期",
            Waiting::BorrowToDecide => "待我审批借阅",
            Waiting::CirculationToReview => "待我审定",
            Waiting::DutiesOverdue => "工作提醒",
        };
        format!("{lead}:{subject}")
    }
}

#[cfg(test)]
mod tests {
    use super::Waiting;

    #[test]
    fn every_waiting_step_has_its_own_code_and_is_found_by_it() {
        let mut codes: Vec<&str> = Waiting::ALL.iter().map(|w| w.code()).collect();
        for w in Waiting::ALL {
            assert_eq!(Waiting::from_code(w.code()), Some(w));
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Waiting::ALL.len());
        assert_eq!(Waiting::from_code("nothing"), None);
    }

    #[test]
    fn a_line_leads_with_the_step_in_chinese() {
        assert_eq!(
            Waiting::SummaryReceipt.line("2030年第1次党组会议"),
            "请签收会议纪要:2030年第1次党组会议"
        );
    }
}
