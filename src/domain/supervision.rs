//! 督办 that warns (R-SUPERVISION, 第二十一条(五)): how near each task's due date is, shown in
//! three colours, and which reminder its lead is owed today.

use time::{Date, OffsetDateTime};

vocabulary! {
    /// A task's state as the board colours it: blue with more than three days to go, yellow
    /// with three days or less, red once overdue; closed tasks (销号) are no longer coloured.
    Urgency ("督办状态") {
        OnTrack => ("on_track", "正常推进"),
        DueSoon => ("due_soon", "临近期限"),
        Overdue => ("overdue", "已逾期"),
        Closed => ("closed", "已销号"),
    }
}

/// Yellow from this many days before the due date.
pub const DUE_SOON_DAYS: i64 = 3;

pub fn urgency(due_on: Date, closed: bool, today: Date) -> Urgency {
    if closed {
        return Urgency::Closed;
    }
    match (due_on - today).whole_days() {
        ..0 => Urgency::Overdue,
        0..=DUE_SOON_DAYS => Urgency::DueSoon,
        _ => Urgency::OnTrack,
    }
}

vocabulary! {
    /// The two reminders a lead gets without anyone sending them.
    Reminder ("督办提醒") {
        ThreeDaysBefore => ("three_days_before", "到期前三天提醒"),
        DueDay => ("due_day", "到期当日提醒"),
    }
}

/// The reminder owed today for a task due on `due_on`, if any. Three days before; a server that
/// was down that day sends it on one of the next two (a task created with three days or less to
/// go gets it at once); on the due date itself, the due-day reminder. Whether it was sent
/// already is the caller's record: each reminder goes once per due date.
pub fn reminder_owed(due_on: Date, closed: bool, today: Date) -> Option<Reminder> {
    if closed {
        return None;
    }
    match (due_on - today).whole_days() {
        0 => Some(Reminder::DueDay),
        1..=DUE_SOON_DAYS => Some(Reminder::ThreeDaysBefore),
        _ => None,
    }
}

/// The text of a reminder to the task's lead.
pub fn reminder_text(reminder: Reminder, description: &str, due_zh: &str) -> String {
    match reminder {
        Reminder::ThreeDaysBefore => {
            format!("督办提醒:“{description}”将于{due_zh}到期,请抓紧办理并报告进展")
        }
        Reminder::DueDay => {
            format!("督办提醒:“{description}”今日({due_zh})到期,请办结销号或报告进展")
        }
    }
}

/// The meeting a new meeting's automatic report item (上次会议决定事项落实情况) reports on: of
/// the group's closed meetings that decided follow-up tasks, the one closed last.
pub fn report_on<Id: Copy>(closed_with_tasks: &[(Id, OffsetDateTime)]) -> Option<Id> {
    closed_with_tasks
        .iter()
        .max_by_key(|(_, closed_at)| *closed_at)
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn r_supervision_blue_yellow_red_by_the_days_left() {
        let today = date!(2030 - 03 - 10);
        assert_eq!(
            urgency(date!(2030 - 03 - 14), false, today),
            Urgency::OnTrack
        );
        assert_eq!(
            urgency(date!(2030 - 03 - 13), false, today),
            Urgency::DueSoon
        );
        assert_eq!(
            urgency(date!(2030 - 03 - 10), false, today),
            Urgency::DueSoon
        );
        assert_eq!(
            urgency(date!(2030 - 03 - 09), false, today),
            Urgency::Overdue
        );
        assert_eq!(urgency(date!(2030 - 03 - 01), true, today), Urgency::Closed);
        // Across a month's and a year's end.
        assert_eq!(
            urgency(date!(2031 - 01 - 02), false, date!(2030 - 12 - 30)),
            Urgency::DueSoon
        );
    }

    #[test]
    fn r_supervision_reminders_three_days_before_and_on_the_due_date() {
        let due = date!(2030 - 03 - 10);
        assert_eq!(reminder_owed(due, false, date!(2030 - 03 - 06)), None);
        assert_eq!(
            reminder_owed(due, false, date!(2030 - 03 - 07)),
            Some(Reminder::ThreeDaysBefore)
        );
        assert_eq!(
            reminder_owed(due, false, date!(2030 - 03 - 09)),
            Some(Reminder::ThreeDaysBefore)
        );
        assert_eq!(reminder_owed(due, false, due), Some(Reminder::DueDay));
        assert_eq!(reminder_owed(due, false, date!(2030 - 03 - 11)), None);
        assert_eq!(reminder_owed(due, true, due), None, "closed tasks");
    }

    #[test]
    fn r_supervision_the_report_item_is_on_the_meeting_closed_last() {
        use time::macros::datetime;
        assert_eq!(report_on::<u8>(&[]), None);
        let closed = [
            (1, datetime!(2030-03-01 10:00 UTC)),
            (3, datetime!(2030-04-01 10:00 UTC)),
            (2, datetime!(2030-03-15 10:00 UTC)),
        ];
        assert_eq!(report_on(&closed), Some(3));
    }

    #[test]
    fn reminders_name_the_task_and_its_date() {
        let t = reminder_text(Reminder::DueDay, "制定实施细则", "2030年3月10日");
        assert!(t.contains("制定实施细则") && t.contains("今日") && t.contains("2030年3月10日"));
    }
}
