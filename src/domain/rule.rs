//! The rule catalogue: every rule of `rules.md` by its stable code, with its article and a short
//! Chinese title, and the refusal that carries one.

use std::fmt;

/// A governance rule of `rules.md`, named by its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// R-CHAIR, 第十九条: 党组会议由书记召集并主持;书记不能参加时可委托副书记或其他成员主持。
    Chair,
    /// R-SECRETARY, 第二十条: 每次会议须有综合科工作人员担任会议秘书。
    Secretary,
    /// R-FOUR-NOT, 第三条(五): 党政主要负责人不直接分管人事、财务、基建项目和物资采购。
    FourNot,
    /// R-ATTENDEE-SCOPE, 第十九条: 列席人员由主持人确定,只参加与本职工作相关的议题。
    AttendeeScope,
    /// R-TOPIC-SOURCE, 第二十一条(一): 科室议题须经分管局领导签字同意后报综合科,由书记确定是否上会。
    TopicSource,
    /// R-TOPIC-LEAD-TIME, 第二十一条(一): 议题须提前一周准备并告知综合科。
    TopicLeadTime,
    /// R-AD-HOC, 第二十一条(一): 议程通知后不临时动议,组织人事议题一律不得临时动议。
    AdHoc,
    /// R-PREREQ-POLICY, 第二十一条(一): 重大政策须事先完成社会稳定风险评估、廉洁性评估和合法性审查。
    PrereqPolicy,
    /// R-PREREQ-PROCUREMENT, 第二十一条(一): 重大采购和租赁须事先听取财务、法规、派驻纪检组意见并经法律顾问审核。
    PrereqProcurement,
    /// R-PROCUREMENT-ONCE, 第二十一条(一): 已审议通过的采购事项不得重复上会。
    ProcurementOnce,
    /// R-PREREQ-PERSONNEL, 第二十一条(一): 干部选拔任用议题须落实“凡提四必”和“三个不上会”。
    PrereqPersonnel,
    /// R-ONE-PERSON-ONE-ITEM, 第二十一条(四): 人事事项一人一议。
    OnePersonOneItem,
    /// R-LARGE-SPEND, 第十一条(六)第32、33项: 5000元以上资金使用和资产处置由党组集体研究。
    LargeSpend,
    /// R-CATEGORY, 第十一条: 议题须属于第十一条所列事项之一。
    Category,
    /// R-MATERIALS, 第二十一条(二): 议题材料须写明标题、主要内容、征求意见情况、需决策事项和分管领导意见。
    Materials,
    /// R-MATERIALS-DEADLINE, 第二十一条(二): 会议材料须至少提前一天送综合科。
    MaterialsDeadline,
    /// R-MONTHLY, 第十八条: 党组会议原则上每月召开一次。
    Monthly,
    /// R-NOTICE, 第二十一条(三): 会议时间、地点和议题须提前通知。
    Notice,
    /// R-LEAVE, 第二十一条(三): 不能参会须会前向书记请假并告知综合科。
    Leave,
    /// R-QUORUM, 第二十一条(四): 须有三分之二以上党组成员到会方可召开。
    Quorum,
    /// R-ITEM-QUORUM, 第二十一条(四): 表决时到会的非回避成员须达到三分之二以上。
    ItemQuorum,
    /// R-ABSENT-RESPONSIBLE, 第二十一条(四): 分管成员缺席时,其分管领域的重大事项一般不作决定。
    AbsentResponsible,
    /// R-RECUSAL, 第二十一条(四): 涉及本人或亲属的议题须回避。
    Recusal,
    /// R-ONE-AT-A-TIME, 第二十一条(四): 一事一议,按通知的议程进行。
    OneAtATime,
    /// R-OPINION, 第二十一条(四): 到会成员须逐一明确表示同意、不同意或暂缓决议,并说明理由。
    Opinion,
    /// R-WRITTEN-OPINION, 第二十一条(四): 缺席成员的书面意见只在会上通报,不计入表决。
    WrittenOpinion,
    /// R-ATTENDEE-VOICE, 第二十一条(四): 列席人员可以发表意见和建议,但不参加表决。
    AttendeeVoice,
    /// R-CHAIR-LAST, 第三条(五)、第二十一条(四): 主持人末位表态。
    ChairLast,
    /// R-VOTE-OPEN, 第二十一条(四): 充分讨论后由主持人决定进行表决。
    VoteOpen,
    /// R-ONE-VOTE, 第二十一条(四): 一人一票。
    OneVote,
    /// R-SECRET-BALLOT, 第二十一条(四): 无记名投票须保密。
    SecretBallot,
    /// R-PASS, 第二十一条(四): 赞成票超过应到会党组成员半数为通过。
    Pass,
    /// R-DISAGREEMENT, 第二十一条(四): 意见分歧较大时一般暂缓决定,紧急情况可报请上级。
    Disagreement,
    /// R-ANNOUNCE, 第二十一条(四): 表决后由主持人宣布决定。
    Announce,
    /// R-MINUTES, 第二十一条(四): 会议记录须完整记载每位成员的意见和表决情况。
    Minutes,
    /// R-MINUTES-SEALED, 第二十一条(四): 会议记录签署后不得改动,更正以注明日期的说明为之。
    MinutesSealed,
    /// R-MINUTES-ACCESS, 第二十一条(四): 借阅会议记录须经书记或副书记批准。
    MinutesAccess,
    /// R-SUMMARY, 第二十一条(四): 会议纪要由书记或受委托的主持人签发,由综合科分发。
    Summary,
    /// R-CONFIDENTIAL, 第二十一条(四): 不得泄露会议内容。
    Confidential,
    /// R-FOLLOWUP-OWNER, 第二十一条(五): 每项决定须明确一名牵头落实人。
    FollowupOwner,
    /// R-RESERVE, 第二十一条(五): 持不同意见的成员可保留意见,但须执行决定。
    Reserve,
    /// R-DECISION-CHANGE, 第二十一条(五): 决定只能由党组会议作出新的决定予以变更。
    DecisionChange,
    /// R-SUPERVISION, 第二十一条(五): 决定事项须督办落实并通报进展。
    Supervision,
    /// R-EMERGENCY, 第十八条: 紧急情况临机处置的,须事后及时报告。
    Emergency,
    /// R-AUDIT, 第十条、第二十六条: 全程留痕,接受派驻纪检组监督。
    Audit,
    /// R-REPORT-UP, 第十三条: 每年至少一次向州党委书面报告工作。
    ReportUp,
    /// R-HALF-YEAR, 第十一条第18、28、29、30项: 每半年听取相关工作汇报。
    HalfYear,
    /// R-PUBLICATION, 第十六条: 以党组名义发布的文件、文章、讲话和报告须集体讨论或传阅审定。
    Publication,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::Chair,
        Rule::Secretary,
        Rule::FourNot,
        Rule::AttendeeScope,
        Rule::TopicSource,
        Rule::TopicLeadTime,
        Rule::AdHoc,
        Rule::PrereqPolicy,
        Rule::PrereqProcurement,
        Rule::ProcurementOnce,
        Rule::PrereqPersonnel,
        Rule::OnePersonOneItem,
        Rule::LargeSpend,
        Rule::Category,
        Rule::Materials,
        Rule::MaterialsDeadline,
        Rule::Monthly,
        Rule::Notice,
        Rule::Leave,
        Rule::Quorum,
        Rule::ItemQuorum,
        Rule::AbsentResponsible,
        Rule::Recusal,
        Rule::OneAtATime,
        Rule::Opinion,
        Rule::WrittenOpinion,
        Rule::AttendeeVoice,
        Rule::ChairLast,
        Rule::VoteOpen,
        Rule::OneVote,
        Rule::SecretBallot,
        Rule::Pass,
        Rule::Disagreement,
        Rule::Announce,
        Rule::Minutes,
        Rule::MinutesSealed,
        Rule::MinutesAccess,
        Rule::Summary,
        Rule::Confidential,
        Rule::FollowupOwner,
        Rule::Reserve,
        Rule::DecisionChange,
        Rule::Supervision,
        Rule::Emergency,
        Rule::Audit,
        Rule::ReportUp,
        Rule::HalfYear,
        Rule::Publication,
    ];

    /// The stable code, as used in API refusals and test names.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Chair => "R-CHAIR",
            Rule::Secretary => "R-SECRETARY",
            Rule::FourNot => "R-FOUR-NOT",
            Rule::AttendeeScope => "R-ATTENDEE-SCOPE",
            Rule::TopicSource => "R-TOPIC-SOURCE",
            Rule::TopicLeadTime => "R-TOPIC-LEAD-TIME",
            Rule::AdHoc => "R-AD-HOC",
            Rule::PrereqPolicy => "R-PREREQ-POLICY",
            Rule::PrereqProcurement => "R-PREREQ-PROCUREMENT",
            Rule::ProcurementOnce => "R-PROCUREMENT-ONCE",
            Rule::PrereqPersonnel => "R-PREREQ-PERSONNEL",
            Rule::OnePersonOneItem => "R-ONE-PERSON-ONE-ITEM",
            Rule::LargeSpend => "R-LARGE-SPEND",
            Rule::Category => "R-CATEGORY",
            Rule::Materials => "R-MATERIALS",
            Rule::MaterialsDeadline => "R-MATERIALS-DEADLINE",
            Rule::Monthly => "R-MONTHLY",
            Rule::Notice => "R-NOTICE",
            Rule::Leave => "R-LEAVE",
            Rule::Quorum => "R-QUORUM",
            Rule::ItemQuorum => "R-ITEM-QUORUM",
            Rule::AbsentResponsible => "R-ABSENT-RESPONSIBLE",
            Rule::Recusal => "R-RECUSAL",
            Rule::OneAtATime => "R-ONE-AT-A-TIME",
            Rule::Opinion => "R-OPINION",
            Rule::WrittenOpinion => "R-WRITTEN-OPINION",
            Rule::AttendeeVoice => "R-ATTENDEE-VOICE",
            Rule::ChairLast => "R-CHAIR-LAST",
            Rule::VoteOpen => "R-VOTE-OPEN",
            Rule::OneVote => "R-ONE-VOTE",
            Rule::SecretBallot => "R-SECRET-BALLOT",
            Rule::Pass => "R-PASS",
            Rule::Disagreement => "R-DISAGREEMENT",
            Rule::Announce => "R-ANNOUNCE",
            Rule::Minutes => "R-MINUTES",
            Rule::MinutesSealed => "R-MINUTES-SEALED",
            Rule::MinutesAccess => "R-MINUTES-ACCESS",
            Rule::Summary => "R-SUMMARY",
            Rule::Confidential => "R-CONFIDENTIAL",
            Rule::FollowupOwner => "R-FOLLOWUP-OWNER",
            Rule::Reserve => "R-RESERVE",
            Rule::DecisionChange => "R-DECISION-CHANGE",
            Rule::Supervision => "R-SUPERVISION",
            Rule::Emergency => "R-EMERGENCY",
            Rule::Audit => "R-AUDIT",
            Rule::ReportUp => "R-REPORT-UP",
            Rule::HalfYear => "R-HALF-YEAR",
            Rule::Publication => "R-PUBLICATION",
        }
    }

    /// The article of the working rules the rule comes from.
    pub fn article(self) -> &'static str {
        match self {
            Rule::Chair => "第十九条",
            Rule::Secretary => "第二十条",
            Rule::FourNot => "第三条(五)",
            Rule::AttendeeScope => "第十九条",
            Rule::TopicSource => "第二十一条(一)",
            Rule::TopicLeadTime => "第二十一条(一)",
            Rule::AdHoc => "第二十一条(一)",
            Rule::PrereqPolicy => "第二十一条(一)",
            Rule::PrereqProcurement => "第二十一条(一)",
            Rule::ProcurementOnce => "第二十一条(一)",
            Rule::PrereqPersonnel => "第二十一条(一)",
            Rule::OnePersonOneItem => "第二十一条(四)",
            Rule::LargeSpend => "第十一条(六)第32、33项",
            Rule::Category => "第十一条",
            Rule::Materials => "第二十一条(二)",
            Rule::MaterialsDeadline => "第二十一条(二)",
            Rule::Monthly => "第十八条",
            Rule::Notice => "第二十一条(三)",
            Rule::Leave => "第二十一条(三)",
            Rule::Quorum => "第二十一条(四)",
            Rule::ItemQuorum => "第二十一条(四)",
            Rule::AbsentResponsible => "第二十一条(四)",
            Rule::Recusal => "第二十一条(四)",
            Rule::OneAtATime => "第二十一条(四)",
            Rule::Opinion => "第二十一条(四)",
            Rule::WrittenOpinion => "第二十一条(四)",
            Rule::AttendeeVoice => "第二十一条(四)",
            Rule::ChairLast => "第三条(五)、第二十一条(四)",
            Rule::VoteOpen => "第二十一条(四)",
            Rule::OneVote => "第二十一条(四)",
            Rule::SecretBallot => "第二十一条(四)",
            Rule::Pass => "第二十一条(四)",
            Rule::Disagreement => "第二十一条(四)",
            Rule::Announce => "第二十一条(四)",
            Rule::Minutes => "第二十一条(四)",
            Rule::MinutesSealed => "第二十一条(四)",
            Rule::MinutesAccess => "第二十一条(四)",
            Rule::Summary => "第二十一条(四)",
            Rule::Confidential => "第二十一条(四)",
            Rule::FollowupOwner => "第二十一条(五)",
            Rule::Reserve => "第二十一条(五)",
            Rule::DecisionChange => "第二十一条(五)",
            Rule::Supervision => "第二十一条(五)",
            Rule::Emergency => "第十八条",
            Rule::Audit => "第十条、第二十六条",
            Rule::ReportUp => "第十三条",
            Rule::HalfYear => "第十一条第18、28、29、30项",
            Rule::Publication => "第十六条",
        }
    }

    /// A short Chinese statement of the rule, shown as the heading of a refusal.
    pub fn title_zh(self) -> &'static str {
        match self {
            Rule::Chair => "党组会议由书记召集并主持;书记不能参加时可委托副书记或其他成员主持",
            Rule::Secretary => "每次会议须有综合科工作人员担任会议秘书",
            Rule::FourNot => "党政主要负责人不直接分管人事、财务、基建项目和物资采购",
            Rule::AttendeeScope => "列席人员由主持人确定,只参加与本职工作相关的议题",
            Rule::TopicSource => "科室议题须经分管局领导签字同意后报综合科,由书记确定是否上会",
            Rule::TopicLeadTime => "议题须提前一周准备并告知综合科",
            Rule::AdHoc => "议程通知后不临时动议,组织人事议题一律不得临时动议",
            Rule::PrereqPolicy => "重大政策须事先完成社会稳定风险评估、廉洁性评估和合法性审查",
            Rule::PrereqProcurement => {
                "重大采购和租赁须事先听取财务、法规、派驻纪检组意见并经法律顾问审核"
            }
            Rule::ProcurementOnce => "已审议通过的采购事项不得重复上会",
            Rule::PrereqPersonnel => "干部选拔任用议题须落实“凡提四必”和“三个不上会”",
            Rule::OnePersonOneItem => "人事事项一人一议",
            Rule::LargeSpend => "5000元以上资金使用和资产处置由党组集体研究",
            Rule::Category => "议题须属于第十一条所列事项之一",
            Rule::Materials => {
                "议题材料须写明标题、主要内容、征求意见情况、需决策事项和分管领导意见"
            }
            Rule::MaterialsDeadline => "会议材料须至少提前一天送综合科",
            Rule::Monthly => "党组会议原则上每月召开一次",
            Rule::Notice => "会议时间、地点和议题须提前通知",
            Rule::Leave => "不能参会须会前向书记请假并告知综合科",
            Rule::Quorum => "须有三分之二以上党组成员到会方可召开",
            Rule::ItemQuorum => "表决时到会的非回避成员须达到三分之二以上",
            Rule::AbsentResponsible => "分管成员缺席时,其分管领域的重大事项一般不作决定",
            Rule::Recusal => "涉及本人或亲属的议题须回避",
            Rule::OneAtATime => "一事一议,按通知的议程进行",
            Rule::Opinion => "到会成员须逐一明确表示同意、不同意或暂缓决议,并说明理由",
            Rule::WrittenOpinion => "缺席成员的书面意见只在会上通报,不计入表决",
            Rule::AttendeeVoice => "列席人员可以发表意见和建议,但不参加表决",
            Rule::ChairLast => "主持人末位表态",
            Rule::VoteOpen => "充分讨论后由主持人决定进行表决",
            Rule::OneVote => "一人一票",
            Rule::SecretBallot => "无记名投票须保密",
            Rule::Pass => "赞成票超过应到会党组成员半数为通过",
            Rule::Disagreement => "意见分歧较大时一般暂缓决定,紧急情况可报请上级",
            Rule::Announce => "表决后由主持人宣布决定",
            Rule::Minutes => "会议记录须完整记载每位成员的意见和表决情况",
            Rule::MinutesSealed => "会议记录签署后不得改动,更正以注明日期的说明为之",
            Rule::MinutesAccess => "借阅会议记录须经书记或副书记批准",
            Rule::Summary => "会议纪要由书记或受委托的主持人签发,由综合科分发",
            Rule::Confidential => "不得泄露会议内容",
            Rule::FollowupOwner => "每项决定须明确一名牵头落实人",
            Rule::Reserve => "持不同意见的成员可保留意见,但须执行决定",
            Rule::DecisionChange => "决定只能由党组会议作出新的决定予以变更",
            Rule::Supervision => "决定事项须督办落实并通报进展",
            Rule::Emergency => "紧急情况临机处置的,须事后及时报告",
            Rule::Audit => "全程留痕,接受派驻纪检组监督",
            Rule::ReportUp => "每年至少一次向州党委书面报告工作",
            Rule::HalfYear => "每半年听取相关工作汇报",
            Rule::Publication => "以党组名义发布的文件、文章、讲话和报告须集体讨论或传阅审定",
        }
    }

    pub fn parse(code: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.code() == code)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An action refused by a governance rule, with a plain-Chinese explanation of this case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub rule: Rule,
    pub detail_zh: String,
}

impl RuleViolation {
    pub fn new(rule: Rule, detail_zh: impl Into<String>) -> Self {
        Self {
            rule,
            detail_zh: detail_zh.into(),
        }
    }

    /// The explanation without the article some end with, for a page that shows the article
    /// apart ([`Rule::article`]).
    pub fn explanation(&self) -> &str {
        match self.detail_zh.split_once("依据:") {
            Some((text, _)) => text.trim_end(),
            None => &self.detail_zh,
        }
    }
}

/// An `override` rule (rules.md) is satisfied by a recorded reason: present and not blank.
pub fn override_given(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| !r.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explanation_leaves_its_article_to_the_page() {
        let v = RuleViolation::new(Rule::TopicSource, "须经签字同意。依据:第二十一条(一)");
        assert_eq!(v.explanation(), "须经签字同意。");
        assert_eq!(
            RuleViolation::new(Rule::TopicSource, "须经签字同意。").explanation(),
            "须经签字同意。"
        );
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for rule in Rule::ALL {
            assert!(rule.code().starts_with("R-"), "{rule}");
            assert!(seen.insert(rule.code()), "duplicate code {rule}");
            assert!(rule.article().starts_with('第'), "{rule}");
        }
    }

    /// The catalogue and the codes of `rules.md` are the same set (skipped when the spec is
    /// not beside the checkout).
    #[test]
    fn catalogue_is_exactly_the_codes_of_rules_md() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/spec/rules.md");
        let Ok(spec) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} not found");
            return;
        };
        let in_spec: std::collections::BTreeSet<&str> = spec
            .lines()
            .filter_map(|l| l.strip_prefix("| R-"))
            .filter_map(|rest| rest.split(' ').next())
            .map(|code| {
                &spec[code.as_ptr() as usize - spec.as_ptr() as usize - 2..][..code.len() + 2]
            })
            .collect();
        let in_catalogue: std::collections::BTreeSet<&str> =
            Rule::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(in_catalogue, in_spec);
        assert_eq!(Rule::ALL.len(), 48);
    }

    #[test]
    fn codes_parse_back() {
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.code()), Some(*rule));
        }
        assert_eq!(Rule::parse("R-NOTHING"), None);
    }
}
