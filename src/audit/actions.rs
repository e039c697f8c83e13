//! The audit log's actions and entity types in words: what the discipline group reads on the
//! audit page and everyone on a meeting's history (issue 17: no English codes on a page).

/// Every action the log records, with its Chinese name.
pub const ACTIONS: &[(&str, &str)] = &[
    ("circulation.create", "发起传阅审定"),
    ("circulation.publish", "发布审定稿"),
    ("circulation.signoff", "传阅审定意见"),
    ("emergency.record", "登记临机处置"),
    ("item.ballot", "投票"),
    ("item.opinion", "表态"),
    ("item.outcome", "宣布结果"),
    ("item.recusal", "回避"),
    ("item.remark", "列席发言"),
    ("item.reserve", "保留意见"),
    ("item.start", "开始议题"),
    ("item.supersede", "变更原决定"),
    ("item.vote_close", "结束表决并计票"),
    ("item.paper_count", "录入纸质票清点结果"),
    ("item.vote_open", "开始表决"),
    ("item.written_opinion", "书面意见"),
    ("material.read", "查阅材料"),
    ("material.upload", "上传材料"),
    ("meeting.agenda_add", "列入议程"),
    ("meeting.agenda_move", "调整议程顺序"),
    ("meeting.attendance", "登记到会"),
    ("meeting.close", "宣布散会"),
    ("meeting.create", "安排会议"),
    ("meeting.delegate_chair", "委托主持"),
    ("meeting.invite_attendee", "邀请列席"),
    ("meeting.leave_ask", "请假"),
    ("meeting.leave_decide", "审批请假"),
    ("meeting.notice", "发出会议通知"),
    ("meeting.open", "宣布开会"),
    ("membership.add", "增加党组成员"),
    ("membership.change", "调整党组职务"),
    ("membership.end", "结束党组任职"),
    ("minutes.amend", "补正会议记录"),
    ("minutes.borrow_decision", "审批借阅会议记录"),
    ("minutes.borrow_request", "申请借阅会议记录"),
    ("minutes.draft", "起草会议记录"),
    ("minutes.read", "查阅会议记录"),
    ("minutes.sign", "签署会议记录"),
    ("party_group.create", "设立党组"),
    ("party_group.settings", "修改党组议事规则设置"),
    ("report_up.record", "登记向上级报告"),
    ("rule.refused", "操作未获准许(依规则)"),
    ("roster.import", "导入人员名单"),
    ("roster.upload", "上传人员名单(预览)"),
    ("section.create", "新建科室"),
    ("section.update", "修改科室"),
    ("session.login", "登录"),
    ("session.login_failed", "登录失败"),
    ("session.logout", "退出登录"),
    ("session.throttled", "登录受限(尝试过多)"),
    ("summary.distribute", "分发会议纪要"),
    ("summary.receipt", "签收会议纪要"),
    ("summary.sign", "签发会议纪要"),
    ("task.circular", "督办通报"),
    ("task.create", "确定督办事项"),
    ("task.progress", "报告督办进展"),
    ("task.remind", "督办通知"),
    ("task.auto_remind", "自动督办提醒"),
    ("task.close", "督办事项销号"),
    ("topic.assign", "指定评估科室"),
    ("topic.create", "起草议题"),
    ("topic.prerequisite", "录入前置审查"),
    ("topic.return", "退回议题"),
    ("topic.sign_off", "分管领导签字"),
    ("topic.submit", "报送综合科"),
    ("topic.update", "修改议题"),
    ("topic.withdraw", "撤回议题"),
    ("user.create", "新建用户"),
    ("user.first_password", "发放初始密码"),
    ("user.mail_settings", "修改邮件通知设置"),
    ("user.password_change", "修改密码"),
    ("user.update", "修改用户"),
];

/// An action's Chinese name.
pub fn label_zh(action: &str) -> &'static str {
    ACTIONS
        .iter()
        .find(|(a, _)| *a == action)
        .map_or("其他操作", |(_, label)| label)
}

/// An entity type's Chinese name.
pub fn entity_zh(entity_type: &str) -> &'static str {
    match entity_type {
        "circulation" => "传阅",
        "emergency" => "临机处置",
        "material" => "材料",
        "meeting" => "会议",
        "membership" => "党组成员",
        "party_group" => "党组",
        "report_up" => "向上级报告",
        "roster_import" => "人员名单导入",
        "rule" => "规则",
        "section" => "科室",
        "session" => "会话",
        "task" => "督办事项",
        "topic" => "议题",
        "user" => "用户",
        _ => "其他",
    }
}

/// Where a page of the entity is, when it has one.
pub fn entity_href(entity_type: &str, id: &str) -> Option<String> {
    let base = match entity_type {
        "meeting" => "/meetings",
        "topic" => "/topics",
        "task" => "/tasks",
        "circulation" => "/circulations",
        "party_group" => "/party-groups",
        _ => return None,
    };
    uuid::Uuid::parse_str(id)
        .ok()
        .map(|id| format!("{base}/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action the source appends has a name, and every entity type it names.
    #[test]
    fn every_action_in_the_source_has_a_chinese_name() {
        let prefixes = [
            "circulation",
            "emergency",
            "item",
            "material",
            "meeting",
            "membership",
            "minutes",
            "party_group",
            "report_up",
            "rule",
            "section",
            "session",
            "summary",
            "task",
            "topic",
            "user",
        ];
        let (mut seen, mut unnamed) = (0, Vec::new());
        let word =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        for (_, source) in crate::source_tree::files() {
            for literal in source.split('"').skip(1).step_by(2) {
                let Some((prefix, rest)) = literal.split_once('.') else {
                    continue;
                };
                if prefixes.contains(&prefix) && word(rest) {
                    seen += 1;
                    if label_zh(literal) == label_zh("") {
                        unnamed.push(literal.to_owned());
                    }
                }
            }
        }
        assert!(seen > 60, "found the actions ({seen})");
        assert!(unnamed.is_empty(), "no name: {unnamed:?}");
        // Items, minutes and summaries are recorded against their meeting.
        for entity in prefixes
            .iter()
            .filter(|p| !["item", "minutes", "summary"].contains(p))
        {
            assert_ne!(entity_zh(entity), entity_zh(""), "{entity}");
        }
    }
}
