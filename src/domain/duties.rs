//! Calendar duties and reminders (`remind` rules of sections C, F and G): pure functions from
//! the history and a date to what is due or overdue. Also circulation review (R-PUBLICATION).

use time::{Date, Month};

use super::category::Category;
use super::rule::{Rule, RuleViolation};

/// One reminder for a dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    pub rule: Rule,
    /// The last day it can be met.
    pub due_on: Date,
    /// Past its last day and not met.
    pub overdue: bool,
    pub what_zh: String,
}

fn last_day_of_month(year: i32, month: Month) -> Date {
    let first = Date::from_calendar_date(year, month, 1).expect("valid date");
    let next = if month == Month::December {
        Date::from_calendar_date(year + 1, Month::January, 1)
    } else {
        Date::from_calendar_date(year, month.next(), 1)
    }
    .expect("valid date");
    next.previous_day().unwrap_or(first)
}

/// Months from `since` to `today`, each as (year, month).
fn months(since: Date, today: Date) -> impl Iterator<Item = (i32, Month)> {
    let mut cur = (since.year(), since.month());
    let end = (today.year(), today.month());
    std::iter::from_fn(move || {
        if (cur.0, cur.1 as u8) > (end.0, end.1 as u8) {
            return None;
        }
        let out = cur;
        cur = if cur.1 == Month::December {
            (cur.0 + 1, Month::January)
        } else {
            (cur.0, cur.1.next())
        };
        Some(out)
    })
}

/// R-MONTHLY (第十八条): a meeting is held in principle every month. Every month since `since`
/// (the group's start) without a held meeting is a duty; past months are overdue.
pub fn monthly_meetings(held_on: &[Date], since: Date, today: Date) -> Vec<Duty> {
    months(since, today)
        .filter(|(y, m)| !held_on.iter().any(|d| d.year() == *y && d.month() == *m))
        .map(|(y, m)| {
            let due_on = last_day_of_month(y, m);
            Duty {
                rule: Rule::Monthly,
                due_on,
                overdue: today > due_on,
                what_zh: format!("{y}年{}月尚未召开党组会议", m as u8),
            }
        })
        .collect()
}

/// R-HALF-YEAR (第十一条第18、28、29、30项): each half year the group hears the reports of
/// these categories; one held item of the category within the half meets it.
pub fn half_yearly_hearings(heard: &[(Category, Date)], since: Date, today: Date) -> Vec<Duty> {
    let mut duties = Vec::new();
    let mut halves: Vec<(i32, bool)> = months(since, today)
        .map(|(y, m)| (y, (m as u8) > 6))
        .collect();
    halves.dedup();
    for (year, second) in halves {
        let (first_month, last_month) = if second {
            (Month::July, Month::December)
        } else {
            (Month::January, Month::June)
        };
        let start = Date::from_calendar_date(year, first_month, 1).expect("valid date");
        let due_on = last_day_of_month(year, last_month);
        for category in Category::all().filter(|c| c.is_half_yearly_hearing()) {
            let met = heard
                .iter()
                .any(|(c, d)| *c == category && *d >= start && *d <= due_on);
            if !met {
                duties.push(Duty {
                    rule: Rule::HalfYear,
                    due_on,
                    overdue: today > due_on,
                    what_zh: format!(
                        "{year}年{}半年听取汇报:{}",
                        if second { "下" } else { "上" },
                        category.label_zh()
                    ),
                });
            }
        }
    }
    duties
}

/// R-REPORT-UP (第十三条): a written report to the prefecture party committee at least once a
/// year.
pub fn yearly_reports(reported_on: &[Date], since: Date, today: Date) -> Vec<Duty> {
    (since.year()..=today.year())
        .filter(|y| !reported_on.iter().any(|d| d.year() == *y))
        .map(|y| {
            let due_on = Date::from_calendar_date(y, Month::December, 31).expect("valid date");
            Duty {
                rule: Rule::ReportUp,
                due_on,
                overdue: today > due_on,
                what_zh: format!("{y}年度向州党委的书面报告"),
            }
        })
        .collect()
}

/// A follow-up task as the supervision board sees it.
#[derive(Debug, Clone, Copy)]
pub struct TaskDue<'a> {
    pub description: &'a str,
    pub due_on: Date,
    pub done: bool,
}

/// R-SUPERVISION (第二十一条(五)): unfinished tasks past their due date are overdue.
pub fn overdue_tasks(tasks: &[TaskDue<'_>], today: Date) -> Vec<Duty> {
    tasks
        .iter()
        .filter(|t| !t.done && today > t.due_on)
        .map(|t| Duty {
            rule: Rule::Supervision,
            due_on: t.due_on,
            overdue: true,
            what_zh: format!("督办事项逾期:{}", t.description),
        })
        .collect()
}

/// R-EMERGENCY (第十八条): every on-the-spot disposal not yet reported becomes a report item of
/// the next meeting; returns those ids, oldest first as given.
pub fn emergencies_to_report<Id: Copy>(emergencies: &[(Id, bool)]) -> Vec<Id> {
    emergencies
        .iter()
        .filter(|(_, reported)| !reported)
        .map(|(id, _)| *id)
        .collect()
}

/// R-PUBLICATION (第十六条): a document in the party group's name is issued only after every
/// member has signed off in circulation review (or it was discussed at a meeting).
pub fn check_publication<Id: PartialEq>(
    members: &[Id],
    signed_off: &[Id],
) -> Result<(), RuleViolation> {
    let waiting = members.iter().filter(|m| !signed_off.contains(m)).count();
    if waiting == 0 {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::Publication,
        format!("还有 {waiting} 位党组成员尚未审定,不能以党组名义发布。依据:第十六条"),
    ))
}

/// R-PUBLICATION: once published, a document's circulation review is over.
pub fn check_in_review(published: bool) -> Result<(), RuleViolation> {
    if published {
        return Err(RuleViolation::new(
            Rule::Publication,
            "该文件已发布,审定已结束。",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn r_publication_a_published_document_takes_no_more_signoffs() {
        assert!(check_in_review(false).is_ok());
        assert_eq!(check_in_review(true).unwrap_err().rule, Rule::Publication);
    }

    #[test]
    fn r_monthly_a_month_without_a_meeting_is_flagged_at_month_end() {
        let since = date!(2026 - 01 - 15);
        let held = [date!(2026 - 01 - 20), date!(2026 - 03 - 31)];
        let duties = monthly_meetings(&held, since, date!(2026 - 04 - 10));
        let months: Vec<(Date, bool)> = duties.iter().map(|d| (d.due_on, d.overdue)).collect();
        assert_eq!(
            months,
            [
                (date!(2026 - 02 - 28), true),
                (date!(2026 - 04 - 30), false)
            ],
            "February was missed; April is still open"
        );
        // On the last day of the month it is due, not yet overdue; the next day it is.
        assert!(!monthly_meetings(&[], date!(2026 - 12 - 01), date!(2026 - 12 - 31))[0].overdue);
        assert!(monthly_meetings(&[], date!(2026 - 12 - 01), date!(2027 - 01 - 01))[0].overdue);
    }

    #[test]
    fn r_half_year_each_category_each_half() {
        let c = |n| Category::new(n).unwrap();
        let heard = [
            (c(18), date!(2026 - 03 - 01)),
            (c(28), date!(2026 - 06 - 30)),
            (c(29), date!(2026 - 07 - 01)),
        ];
        let duties = half_yearly_hearings(&heard, date!(2026 - 01 - 01), date!(2026 - 07 - 01));
        let first_half: Vec<&Duty> = duties
            .iter()
            .filter(|d| d.due_on == date!(2026 - 06 - 30))
            .collect();
        assert_eq!(
            first_half.len(),
            2,
            "29 and 30 were not heard in the first half"
        );
        assert!(first_half.iter().all(|d| d.overdue));
        let second_half: Vec<&Duty> = duties
            .iter()
            .filter(|d| d.due_on == date!(2026 - 12 - 31))
            .collect();
        assert_eq!(
            second_half.len(),
            3,
            "29 was heard on 1 July; 18, 28, 30 are due"
        );
        assert!(second_half.iter().all(|d| !d.overdue));
    }

    #[test]
    fn r_half_year_boundaries_june_30_and_december_31() {
        let since = date!(2026 - 01 - 01);
        let due = |today| half_yearly_hearings(&[], since, today);
        // On the last day of a half the hearings are due, not overdue; the next day they are.
        assert!(due(date!(2026 - 06 - 30)).iter().all(|d| !d.overdue));
        let july = due(date!(2026 - 07 - 01));
        assert_eq!(july.iter().filter(|d| d.overdue).count(), 4);
        assert_eq!(july.len(), 8, "the second half's four are now due too");
        assert!(
            due(date!(2026 - 12 - 31))
                .iter()
                .filter(|d| d.due_on == date!(2026 - 12 - 31))
                .all(|d| !d.overdue)
        );
        let new_year = due(date!(2027 - 01 - 01));
        assert_eq!(new_year.iter().filter(|d| d.overdue).count(), 8);
        assert!(
            new_year
                .iter()
                .any(|d| d.due_on == date!(2027 - 06 - 30) && !d.overdue)
        );
    }

    #[test]
    fn r_monthly_february_ends_on_its_last_day_in_leap_years() {
        let feb = |today| monthly_meetings(&[], date!(2028 - 02 - 01), today);
        assert_eq!(feb(date!(2028 - 02 - 29))[0].due_on, date!(2028 - 02 - 29));
        assert!(!feb(date!(2028 - 02 - 29))[0].overdue);
        assert!(feb(date!(2028 - 03 - 01))[0].overdue);
        assert_eq!(
            monthly_meetings(&[], date!(2027 - 02 - 01), date!(2027 - 02 - 10))[0].due_on,
            date!(2027 - 02 - 28)
        );
    }

    #[test]
    fn r_report_up_once_a_year_overdue_after_new_year() {
        let since = date!(2025 - 05 - 01);
        let duties = yearly_reports(&[date!(2026 - 02 - 01)], since, date!(2026 - 12 - 31));
        assert_eq!(duties.len(), 1);
        assert_eq!(duties[0].due_on, date!(2025 - 12 - 31));
        assert!(duties[0].overdue);
        let duties = yearly_reports(&[date!(2025 - 11 - 01)], since, date!(2026 - 12 - 31));
        assert_eq!(duties.len(), 1);
        assert!(!duties[0].overdue, "2026's report is due today");
    }

    #[test]
    fn r_supervision_unfinished_tasks_past_due_are_overdue() {
        let tasks = [
            TaskDue {
                description: "修订定点协议",
                due_on: date!(2026 - 11 - 28),
                done: false,
            },
            TaskDue {
                description: "报送基金预算",
                due_on: date!(2026 - 11 - 29),
                done: false,
            },
            TaskDue {
                description: "采购合同备案",
                due_on: date!(2026 - 11 - 01),
                done: true,
            },
        ];
        let overdue = overdue_tasks(&tasks, date!(2026 - 11 - 29));
        assert_eq!(overdue.len(), 1);
        assert!(overdue[0].what_zh.contains("修订定点协议"));
    }

    #[test]
    fn r_emergency_unreported_disposals_go_to_the_next_meeting() {
        assert_eq!(
            emergencies_to_report(&[(1, true), (2, false), (3, false)]),
            [2, 3]
        );
    }

    #[test]
    fn r_publication_needs_every_members_sign_off() {
        assert_eq!(
            check_publication(&[1, 2, 3], &[1, 3]).unwrap_err().rule,
            Rule::Publication
        );
        assert_eq!(check_publication(&[1, 2, 3], &[3, 2, 1]), Ok(()));
    }
}
