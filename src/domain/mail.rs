//! What a notification says when it also goes by e-mail. Mail leaves the bureau's network, so it
//! never carries the notification's text: only what kind of notice it is and, for a meeting,
//! its title, time and place — and not even the title when a secret topic is on its agenda.
//! The rest is read in the app after signing in.

/// The facts of a meeting a mail may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingFacts {
    pub title: String,
    /// The start, as the pages show it.
    pub when_zh: String,
    pub place: String,
    /// A topic of 密级 秘密 is on the agenda: the title is withheld.
    pub secret_topic: bool,
}

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// The meeting a notification's link is about, if it is about one (`/meetings/{id}…`).
pub fn meeting_of(link: &str) -> Option<&str> {
    let rest = link.strip_prefix("/meetings/")?;
    let id = rest.split(['/', '?', '#']).next()?;
    (!id.is_empty()).then_some(id)
}

/// What kind of notice a link stands for, in words.
fn kind_of(link: &str) -> &'static str {
    let path = link.split(['?', '#']).next().unwrap_or(link);
    if meeting_of(path).is_some() {
        if path.ends_with("/summary") {
            "会议纪要"
        } else if path.ends_with("/minutes") {
            "会议记录"
        } else {
            "会议"
        }
    } else if path.starts_with("/tasks") {
        "督办事项"
    } else if path.starts_with("/circulations") {
        "传阅审定"
    } else if path.starts_with("/borrow-requests") {
        "借阅申请"
    } else if path.starts_with("/me/") {
        "账号安全"
    } else {
        "工作"
    }
}

/// The mail of one notification to `name`, linking to `link` under `public_url` when the
/// server's address is configured.
pub fn compose(
    name: &str,
    link: &str,
    meeting: Option<&MeetingFacts>,
    public_url: Option<&str>,
) -> Mail {
    let kind = kind_of(link);
    let title = meeting.map(|m| {
        if m.secret_topic {
            "(含涉密议题,会议名称不在邮件中显示)".to_owned()
        } else {
            m.title.clone()
        }
    });
    let subject = match (&title, meeting) {
        (Some(t), Some(m)) if !m.secret_topic => format!("【议事】{kind}通知:{t}"),
        _ => format!("【议事】{kind}通知"),
    };
    let mut body = format!("{name}同志:\n\n您在议事系统中有一条新的{kind}通知。\n");
    if let (Some(title), Some(m)) = (title, meeting) {
        body.push_str(&format!(
            "\n会议:{title}\n时间:{}\n地点:{}\n",
            m.when_zh, m.place
        ));
    }
    match public_url {
        Some(base) => body.push_str(&format!(
            "\n请登录议事系统查看:{}{link}\n",
            base.trim_end_matches('/')
        )),
        None => body.push_str("\n请登录议事系统查看。\n"),
    }
    body.push_str(
        "\n本邮件只写明会议的名称、时间和地点,不含议题、材料和表决内容;议程中有涉密议题时,会议名称也不写。\n如不需要邮件提醒,可在议事系统“邮件通知”页面关闭。\n",
    );
    Mail { subject, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(secret_topic: bool) -> MeetingFacts {
        MeetingFacts {
            title: "2026年第5次党组会议".into(),
            when_zh: "2026年12月8日 09:00".into(),
            place: "三楼会议室".into(),
            secret_topic,
        }
    }

    #[test]
    fn a_meeting_mail_carries_title_time_and_place_only() {
        let mail = compose(
            "张伟",
            "/meetings/0193-abc",
            Some(&facts(false)),
            Some("https://yishi.example.gov.cn/"),
        );
        assert_eq!(mail.subject, "【议事】会议通知:2026年第5次党组会议");
        for part in [
            "张伟同志",
            "会议:2026年第5次党组会议",
            "时间:2026年12月8日 09:00",
            "地点:三楼会议室",
            "https://yishi.example.gov.cn/meetings/0193-abc",
        ] {
            assert!(mail.body.contains(part), "{part}: {}", mail.body);
        }
    }

    #[test]
    fn a_secret_topic_on_the_agenda_withholds_the_title() {
        let mail = compose("张伟", "/meetings/x/summary", Some(&facts(true)), None);
        assert_eq!(mail.subject, "【议事】会议纪要通知");
        assert!(!mail.subject.contains("党组会议") && !mail.body.contains("第5次"));
        assert!(mail.body.contains("地点:三楼会议室"));
        assert!(mail.body.contains("请登录议事系统查看。"));
    }

    #[test]
    fn other_notices_say_only_their_kind() {
        let mail = compose("李娜", "/tasks/abc", None, None);
        assert_eq!(mail.subject, "【议事】督办事项通知");
        assert!(!mail.body.contains("会议:"));
        assert_eq!(meeting_of("/meetings/abc/minutes"), Some("abc"));
        assert_eq!(meeting_of("/meetings/"), None);
        assert_eq!(meeting_of("/tasks/abc"), None);
        assert_eq!(
            compose("a", "/me/password", None, None).subject,
            "【议事】账号安全通知"
        );
    }
}
