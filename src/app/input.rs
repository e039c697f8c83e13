//! Reading what people submit: required texts, and the helpers that let one input type read
//! both the API's JSON and a page's form (where a blank field is sent as "" and a checked box
//! as `on`).

use serde::{Deserialize, Deserializer};

use super::error::AppError;

/// The Chinese label of a request field, as its form names it: what a refusal of bad input
/// shows (issue 17: never the English field name). A nested field (`notes[0].note`) is
/// labelled by its last name.
pub fn field_label(field: &str) -> &'static str {
    let name = field.rsplit('.').next().unwrap_or(field);
    let name = name.split('[').next().unwrap_or(name);
    match name {
        "abstain" => "弃权票数",
        "active" => "账号状态",
        "amount_fen" | "amount_yuan" => "金额(元)",
        "approved" => "审批意见",
        "areas" => "分管领域",
        "ballot" => "选票",
        "body" => "提交内容",
        "cadre_name" => "干部姓名",
        "category" => "议题类别",
        "choice" => "表决选择",
        "classification" => "密级",
        "comment" => "修改意见",
        "conclusion" => "结论",
        "copy" => "份号",
        "current_password" => "当前密码",
        "days" => "借阅天数",
        "description" => "任务内容",
        "direction" => "调整方向",
        "due_on" => "完成期限",
        "email" => "邮箱",
        "file" => "文件",
        "form" => "表单",
        "from" => "起始时间",
        "item_id" => "议程事项",
        "kind" => "类型",
        "large_spend_fen" => "大额资金标准",
        "lead" | "lead_user_id" => "牵头人",
        "login" => "登录名",
        "mail_opt_out" => "邮件通知",
        "materials_lead_days" => "材料提前天数",
        "method" => "表决方式",
        "name" => "名称",
        "narrative" => "会议经过",
        "new_password" => "新密码",
        "no" => "反对票数",
        "note" => "说明",
        "occurred_at" => "发生时间",
        "outcome" => "结果",
        "page" => "页码",
        "party_group_id" | "party_group_ids" => "党组",
        "password" => "密码",
        "per_page" => "每页条数",
        "place" => "地点",
        "position" => "职务",
        "procurement_ref" => "采购编号",
        "query" => "查询条件",
        "quorum_den" | "quorum_num" => "法定人数比例",
        "reason" => "理由",
        "relation" => "回避关系",
        "reported_on" => "报告日期",
        "responsible_user_id" => "责任人",
        "roles" => "角色",
        "secretary_id" => "会议秘书",
        "section_id" => "科室",
        "sponsor_section_id" => "承办科室",
        "stance" => "表态",
        "started_on" => "任职日期",
        "starts_at" => "开会时间",
        "status" => "状态",
        "text" => "内容",
        "title" => "标题",
        "to" => "截止时间",
        "topic_id" => "议题",
        "topic_lead_days" => "议题提前天数",
        "user_id" => "人员",
        "year" => "年份",
        "yes" => "赞成票数",
        _ => "输入内容",
    }
}

/// A trimmed, non-empty text of at most `max` characters, else 422 naming the field.
pub fn required_text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AppError::invalid(field, "必填"));
    }
    if text.chars().count() > max {
        return Err(AppError::invalid(field, format!("不能超过 {max} 个字符")));
    }
    Ok(text.to_owned())
}

/// A field left blank is absent.
pub fn optional(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// `#[serde(default, deserialize_with = "blank_as_none")]`: an optional text, absent when
/// missing, `null` or blank.
pub fn blank_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.and_then(optional))
}

/// `#[serde(default, deserialize_with = "checkbox")]`: `true`/`false` from JSON, or a form's
/// checkbox (`on` when checked, absent when not).
pub fn checkbox<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Checked {
        Bool(bool),
        Text(String),
    }
    Ok(match Checked::deserialize(d)? {
        Checked::Bool(b) => b,
        Checked::Text(t) => matches!(t.trim(), "on" | "true" | "1" | "yes"),
    })
}

/// `#[serde(default, deserialize_with = "number")]`: a whole number from JSON, or from a form's
/// text field (left blank, or not a number: 0, which the field's own check then refuses).
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(i64),
        Text(String),
    }
    Ok(match Number::deserialize(d)? {
        Number::Int(n) => n,
        Number::Text(t) => t.trim().parse().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Form {
        #[serde(default, deserialize_with = "blank_as_none")]
        reason: Option<String>,
        #[serde(default, deserialize_with = "checkbox")]
        urgent: bool,
        #[serde(default, deserialize_with = "number")]
        category: i64,
    }

    #[test]
    fn json_and_forms_read_alike() {
        let f: Form = serde_html_form::from_str("reason=+&urgent=on&category=33").unwrap();
        assert_eq!((f.reason, f.urgent, f.category), (None, true, 33));
        let f: Form = serde_html_form::from_str("category=&urgent=false").unwrap();
        assert_eq!((f.urgent, f.category), (false, 0));
        let f: Form = serde_html_form::from_str("reason=%E7%90%86%E7%94%B1").unwrap();
        assert_eq!((f.reason.as_deref(), f.urgent), (Some("理由"), false));
        let j: Form =
            serde_json::from_str(r#"{"reason": null, "urgent": true, "category": 7}"#).unwrap();
        assert_eq!((j.reason, j.urgent, j.category), (None, true, 7));
        let j: Form = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!((j.reason, j.urgent), (None, false));
    }

    /// Every field a refusal of bad input names in the source has its own Chinese label.
    #[test]
    fn every_field_named_in_a_refusal_has_a_chinese_label() {
        let (mut unlabelled, mut seen) = (Vec::new(), 0);
        for (path, source) in crate::source_tree::files() {
            for call in ["invalid(", "FieldError::new(", "required_text(", "int("] {
                for (at, _) in source.match_indices(call) {
                    let rest = source[at + call.len()..].trim_start();
                    let Some(quoted) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let field = quoted.split('"').next().unwrap();
                    if !field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                        continue;
                    }
                    seen += 1;
                    if field_label(field) == field_label("") {
                        unlabelled.push(format!("{}: {field}", path.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "found the refusals ({seen})");
        assert!(unlabelled.is_empty(), "no label: {unlabelled:#?}");
        assert_eq!(field_label("notes[0].note"), "说明");
    }
}
