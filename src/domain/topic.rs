//! Topic (议题) intake, section B of `rules.md`: which prerequisites a topic needs, who records
//! them, what its materials must state, and when it may be submitted and placed on an agenda.

use time::Date;

use super::category::Category;
use super::money::Fen;
use super::org::SectionKind;
use super::role::Role;
use super::rule::{Rule, RuleViolation, override_given};

vocabulary! {
    /// 密级 of a topic and its materials (R-MATERIALS, R-CONFIDENTIAL).
    Classification ("密级") {
        Unclassified => ("none", "非密"),
        Internal => ("internal", "内部"),
        Secret => ("secret", "秘密"),
    }
}

vocabulary! {
    /// A review or check that must be on file before a topic is scheduled (前置程序).
    PrerequisiteKind ("前置审查类型") {
        StabilityRisk => ("stability_risk", "社会稳定风险评估"),
        Integrity => ("integrity", "廉洁性评估"),
        Legality => ("legality", "合法性审查"),
        ExpertReview => ("expert_review", "专家论证、技术咨询和决策评估"),
        PublicConsultation => ("public_consultation", "公众参与(听证或公示)"),
        FinanceOpinion => ("finance_opinion", "财务意见"),
        LegalOpinion => ("legal_opinion", "法规意见"),
        DisciplineOpinion => ("discipline_opinion", "派驻纪检组意见"),
        CounselReview => ("counsel_review", "法律顾问审核意见"),
        ArchiveReview => ("archive_review", "干部档案审核"),
        PersonalMatters => ("personal_matters", "个人有关事项报告核实"),
        PetitionCheck => ("petition_check", "信访举报核查"),
        Deliberation => ("deliberation", "事先酝酿"),
        DemocraticRecommendation => ("democratic_recommendation", "民主推荐"),
        OrganisationalInspection => ("organisational_inspection", "组织考察"),
        IssuesVerified => ("issues_verified", "反映问题查核"),
        SuperiorApproval => ("superior_approval", "上级审批"),
    }
}

/// What a topic is, as far as its prerequisites depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicFacts {
    pub category: Category,
    pub is_major_policy: bool,
    pub is_technical: bool,
    pub is_public_interest: bool,
    pub is_procurement: bool,
    pub amount: Option<Fen>,
}

/// A prerequisite a topic needs, with the rules that require it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub kind: PrerequisiteKind,
    pub rules: Vec<Rule>,
}

/// The prerequisites a topic needs before it may be scheduled, in a stable order.
///
/// - R-PREREQ-POLICY (第二十一条(一)): a major policy needs the stability-risk, integrity and
///   legality assessments; a technical one also expert review; one closely affecting the
///   public also public consultation. (Interpretation: the technical and public-interest flags
///   add to a major policy; on their own they require nothing.)
/// - R-PREREQ-PROCUREMENT: a major procurement or lease needs the finance, legal-affairs and
///   discipline-group opinions and the legal counsel's review.
/// - R-PREREQ-PERSONNEL: a cadre appointment (category 24) needs the 凡提四必 checks and the
///   三个不上会 conditions, each a recorded item (superior approval is recorded as
///   "not required" when no report to a superior is needed).
/// - R-LARGE-SPEND: an amount at or above the threshold needs the finance section's review.
pub fn required_prerequisites(facts: &TopicFacts, large_spend: Fen) -> Vec<Requirement> {
    use PrerequisiteKind::*;
    let mut needed: Vec<(PrerequisiteKind, Rule)> = Vec::new();
    if facts.is_major_policy {
        needed.extend([StabilityRisk, Integrity, Legality].map(|k| (k, Rule::PrereqPolicy)));
        if facts.is_technical {
            needed.push((ExpertReview, Rule::PrereqPolicy));
        }
        if facts.is_public_interest {
            needed.push((PublicConsultation, Rule::PrereqPolicy));
        }
    }
    if facts.is_procurement {
        needed.extend(
            [
                FinanceOpinion,
                LegalOpinion,
                DisciplineOpinion,
                CounselReview,
            ]
            .map(|k| (k, Rule::PrereqProcurement)),
        );
    }
    if facts.category.is_cadre_appointment() {
        needed.extend(
            [
                ArchiveReview,
                PersonalMatters,
                DisciplineOpinion,
                PetitionCheck,
                Deliberation,
                DemocraticRecommendation,
                OrganisationalInspection,
                IssuesVerified,
                SuperiorApproval,
            ]
            .map(|k| (k, Rule::PrereqPersonnel)),
        );
    }
    if facts.amount.is_some_and(|a| a.is_large(large_spend)) {
        needed.push((FinanceOpinion, Rule::LargeSpend));
    }
    let mut requirements: Vec<Requirement> = Vec::new();
    for (kind, rule) in needed {
        match requirements.iter_mut().find(|r| r.kind == kind) {
            Some(r) if !r.rules.contains(&rule) => r.rules.push(rule),
            Some(_) => {}
            None => requirements.push(Requirement {
                kind,
                rules: vec![rule],
            }),
        }
    }
    requirements.sort_by_key(|r| r.kind);
    requirements
}

/// Who records a prerequisite of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorder {
    /// Staff of a section of this kind (e.g. the finance section's opinion).
    Section(SectionKind),
    /// Holders of this role (the discipline group, the legal counsel).
    Role(Role),
    /// The section the 书记 assigns to the topic (the policy assessments).
    AssignedSection,
}

pub fn recorder(kind: PrerequisiteKind) -> Recorder {
    use PrerequisiteKind::*;
    match kind {
        FinanceOpinion => Recorder::Section(SectionKind::Finance),
        LegalOpinion => Recorder::Section(SectionKind::Legal),
        DisciplineOpinion => Recorder::Role(Role::Discipline),
        CounselReview => Recorder::Role(Role::Counsel),
        ArchiveReview
        | PersonalMatters
        | PetitionCheck
        | Deliberation
        | DemocraticRecommendation
        | OrganisationalInspection
        | IssuesVerified
        | SuperiorApproval => Recorder::Section(SectionKind::Personnel),
        StabilityRisk | Integrity | Legality | ExpertReview | PublicConsultation => {
            Recorder::AssignedSection
        }
    }
}

/// Whether a person may record a prerequisite of `kind`: by their roles, the kind of their
/// section, and whether their section is the one the 书记 assigned to this topic.
pub fn may_record(
    kind: PrerequisiteKind,
    roles: &[Role],
    section: Option<SectionKind>,
    section_assigned: bool,
) -> bool {
    let in_section = roles
        .iter()
        .any(|r| matches!(r, Role::Staff | Role::SectionHead));
    match recorder(kind) {
        Recorder::Section(k) => in_section && section == Some(k),
        Recorder::Role(role) => roles.contains(&role),
        Recorder::AssignedSection => in_section && section_assigned,
    }
}

/// R-ONE-PERSON-ONE-ITEM (第二十一条(四)): a cadre-appointment topic names exactly one cadre;
/// a batch is entered as one topic per person.
pub fn check_one_cadre(category: Category, cadre_name: Option<&str>) -> Result<(), RuleViolation> {
    if !category.is_cadre_appointment() {
        return Ok(());
    }
    let name = cadre_name.map(str::trim).unwrap_or_default();
    // A list of names is written with separators; each separator means one more person.
    let several = ['、', ',', ',', ';', ';', '/', '\n']
        .iter()
        .any(|sep| name.contains(*sep));
    if name.is_empty() || several {
        return Err(RuleViolation::new(
            Rule::OnePersonOneItem,
            "干部任免议题须一人一议:每个议题只能写一名干部,多名干部请分别提交。依据:第二十一条(四)",
        ));
    }
    Ok(())
}

/// The parts of a topic's materials that R-MATERIALS requires.
#[derive(Debug, Clone, Copy)]
pub struct MaterialsFields<'a> {
    pub title: &'a str,
    pub content: &'a str,
    pub consultation_opinions: &'a str,
    pub matters_to_decide: &'a str,
}

/// R-MATERIALS (第二十一条(二)): the materials state title, main content, consultation
/// opinions and the matters to decide (the 分管 leader's opinion is the sign-off, R-TOPIC-SOURCE;
/// the classification is always set). Returns the API names of what is missing.
pub fn missing_materials(m: &MaterialsFields<'_>) -> Vec<&'static str> {
    [
        ("title", m.title),
        ("content", m.content),
        ("consultation_opinions", m.consultation_opinions),
        ("matters_to_decide", m.matters_to_decide),
    ]
    .into_iter()
    .filter(|(_, v)| v.trim().is_empty())
    .map(|(k, _)| k)
    .collect()
}

/// R-MATERIALS: the refusal of a submission whose materials lack a part.
pub fn check_materials(m: &MaterialsFields<'_>) -> Result<(), RuleViolation> {
    let missing = missing_materials(m);
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing
        .iter()
        .map(|f| match *f {
            "title" => "标题",
            "content" => "主要内容",
            "consultation_opinions" => "征求意见情况",
            _ => "需决策事项",
        })
        .collect();
    Err(RuleViolation::new(
        Rule::Materials,
        format!("议题材料缺少:{}。依据:第二十一条(二)", names.join("、")),
    ))
}

/// The prerequisites still missing, refused under the rule of the first of them and listing
/// them all (R-PREREQ-POLICY, R-PREREQ-PROCUREMENT, R-PREREQ-PERSONNEL, R-LARGE-SPEND).
pub fn check_prerequisites_on_file(
    required: &[Requirement],
    on_file: &[PrerequisiteKind],
) -> Result<(), RuleViolation> {
    let missing: Vec<&Requirement> = required
        .iter()
        .filter(|r| !on_file.contains(&r.kind))
        .collect();
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let labels: Vec<&str> = missing.iter().map(|r| r.kind.label_zh()).collect();
    Err(RuleViolation::new(
        first.rules[0],
        format!("尚缺前置程序:{}。依据:第二十一条(一)", labels.join("、")),
    ))
}

/// R-TOPIC-SOURCE (第二十一条(一)): a topic proposed by a section is submitted to 综合科 only
/// after its 分管 leader's written sign-off; a topic the 书记 proposes needs none.
pub fn check_submission_source(
    proposed_by_secretary: bool,
    signed_off: bool,
) -> Result<(), RuleViolation> {
    if proposed_by_secretary || signed_off {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::TopicSource,
        "须经分管局领导签字同意后方可报送综合科。依据:第二十一条(一)",
    ))
}

/// R-TOPIC-SOURCE: only the 分管 leader named on the topic signs it off.
pub fn check_sign_off<Id: PartialEq>(
    actor: Id,
    responsible: Id,
    signed_before: bool,
) -> Result<(), RuleViolation> {
    if actor != responsible {
        return Err(RuleViolation::new(
            Rule::TopicSource,
            "只有议题所列的分管领导可以签字同意。依据:第二十一条(一)",
        ));
    }
    if signed_before {
        return Err(RuleViolation::new(
            Rule::TopicSource,
            "该议题已签字同意。依据:第二十一条(一)",
        ));
    }
    Ok(())
}

/// R-TOPIC-SOURCE: only the 书记 places a topic on a meeting's agenda.
pub fn check_places_agenda(actor_is_secretary: bool) -> Result<(), RuleViolation> {
    if actor_is_secretary {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::TopicSource,
        "只有党组书记可以确定议题是否上会。依据:第二十一条(一)",
    ))
}

/// R-TOPIC-LEAD-TIME (第二十一条(一), override): a topic submitted fewer than `lead_days` days
/// before its meeting goes on the agenda only with the 书记's recorded reason.
pub fn check_lead_time(
    submitted_on: Date,
    meeting_on: Date,
    lead_days: i64,
    override_reason: Option<&str>,
) -> Result<(), RuleViolation> {
    let days = (meeting_on - submitted_on).whole_days();
    if days >= lead_days || override_given(override_reason) {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::TopicLeadTime,
        format!(
            "议题于会前 {days} 天报送,不足 {lead_days} 天;如确需上会,请书记说明特殊情况。依据:第二十一条(一)"
        ),
    ))
}

/// R-AD-HOC (第二十一条(一)): after the notice, a topic is added only when urgent and with the
/// 书记's reason; a personnel topic (categories 23–26) never.
pub fn check_ad_hoc(
    noticed: bool,
    category: Category,
    urgent: bool,
    override_reason: Option<&str>,
) -> Result<(), RuleViolation> {
    if !noticed {
        return Ok(());
    }
    if category.is_personnel() {
        return Err(RuleViolation::new(
            Rule::AdHoc,
            "组织人事议题一律不得临时动议。依据:第二十一条(一)",
        ));
    }
    if urgent && override_given(override_reason) {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::AdHoc,
        "会议通知后不再临时增加议题;确因紧急情况需要的,由书记说明理由后决定。依据:第二十一条(一)",
    ))
}

/// R-PROCUREMENT-ONCE (第二十一条(一)): an approved procurement is not proposed again under
/// the same project reference (compared without surrounding spaces and case).
pub fn check_procurement_once<'a>(
    reference: &str,
    approved_references: impl IntoIterator<Item = &'a str>,
) -> Result<(), RuleViolation> {
    let key = reference.trim().to_lowercase();
    if approved_references
        .into_iter()
        .any(|r| r.trim().to_lowercase() == key)
    {
        return Err(RuleViolation::new(
            Rule::ProcurementOnce,
            format!(
                "采购项目“{}”已审议通过,不得重复上会。依据:第二十一条(一)",
                reference.trim()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrerequisiteKind::*;
    use time::macros::date;

    fn facts(category: i64) -> TopicFacts {
        TopicFacts {
            category: Category::new(category).unwrap(),
            is_major_policy: false,
            is_technical: false,
            is_public_interest: false,
            is_procurement: false,
            amount: None,
        }
    }

    fn kinds(f: &TopicFacts) -> Vec<PrerequisiteKind> {
        required_prerequisites(f, Fen::new(500_000).unwrap())
            .into_iter()
            .map(|r| r.kind)
            .collect()
    }

    #[test]
    fn r_prereq_policy_major_policy_needs_three_assessments_plus_flags() {
        let mut f = facts(11);
        assert!(kinds(&f).is_empty());
        f.is_technical = true;
        f.is_public_interest = true;
        assert!(kinds(&f).is_empty(), "the flags alone require nothing");
        f.is_major_policy = true;
        assert_eq!(
            kinds(&f),
            [
                StabilityRisk,
                Integrity,
                Legality,
                ExpertReview,
                PublicConsultation
            ]
        );
        f.is_technical = false;
        f.is_public_interest = false;
        assert_eq!(kinds(&f), [StabilityRisk, Integrity, Legality]);
    }

    #[test]
    fn r_prereq_procurement_needs_four_opinions() {
        let mut f = facts(31);
        f.is_procurement = true;
        assert_eq!(
            kinds(&f),
            [
                FinanceOpinion,
                LegalOpinion,
                DisciplineOpinion,
                CounselReview
            ]
        );
    }

    #[test]
    fn r_prereq_personnel_cadre_appointment_needs_every_check() {
        assert_eq!(kinds(&facts(24)).len(), 9);
        assert!(
            kinds(&facts(23)).is_empty(),
            "only category 24 is cadre appointment"
        );
    }

    #[test]
    fn r_large_spend_needs_finance_review_from_the_threshold() {
        let mut f = facts(33);
        f.amount = Some(Fen::parse_yuan("4999.99").unwrap());
        assert!(kinds(&f).is_empty());
        f.amount = Some(Fen::parse_yuan("5000.00").unwrap());
        assert_eq!(kinds(&f), [FinanceOpinion]);
        // With a procurement too, one finance opinion serves both rules.
        f.is_procurement = true;
        let reqs = required_prerequisites(&f, Fen::new(500_000).unwrap());
        let finance = reqs.iter().find(|r| r.kind == FinanceOpinion).unwrap();
        assert_eq!(finance.rules, [Rule::PrereqProcurement, Rule::LargeSpend]);
        assert_eq!(reqs.len(), 4);
    }

    #[test]
    fn prerequisites_are_recorded_by_their_owners() {
        let finance_staff = (&[Role::Staff][..], Some(SectionKind::Finance));
        assert!(may_record(
            FinanceOpinion,
            finance_staff.0,
            finance_staff.1,
            false
        ));
        assert!(!may_record(
            LegalOpinion,
            finance_staff.0,
            finance_staff.1,
            false
        ));
        assert!(!may_record(
            FinanceOpinion,
            &[Role::Leader],
            Some(SectionKind::Finance),
            false
        ));
        assert!(may_record(
            DisciplineOpinion,
            &[Role::Discipline],
            None,
            false
        ));
        assert!(!may_record(
            DisciplineOpinion,
            &[Role::Admin, Role::Office],
            None,
            false
        ));
        assert!(may_record(CounselReview, &[Role::Counsel], None, false));
        assert!(may_record(
            PetitionCheck,
            &[Role::SectionHead],
            Some(SectionKind::Personnel),
            false
        ));
        assert!(may_record(
            Legality,
            &[Role::Staff],
            Some(SectionKind::Other),
            true
        ));
        assert!(!may_record(
            Legality,
            &[Role::Staff],
            Some(SectionKind::Other),
            false
        ));
    }

    #[test]
    fn r_one_person_one_item_cadre_topics_name_exactly_one_person() {
        let c24 = Category::new(24).unwrap();
        assert_eq!(check_one_cadre(c24, Some("张三")), Ok(()));
        for bad in [
            None,
            Some(""),
            Some("张三、李四"),
            Some("张三,李四"),
            Some("Zhang San; Li Si"),
        ] {
            assert_eq!(
                check_one_cadre(c24, bad).unwrap_err().rule,
                Rule::OnePersonOneItem,
                "{bad:?}"
            );
        }
        assert_eq!(check_one_cadre(Category::new(25).unwrap(), None), Ok(()));
    }

    #[test]
    fn r_materials_lists_what_is_missing() {
        let m = MaterialsFields {
            title: "关于调整门诊待遇的请示",
            content: " ",
            consultation_opinions: "",
            matters_to_decide: "是否同意",
        };
        assert_eq!(missing_materials(&m), ["content", "consultation_opinions"]);
        let full = MaterialsFields {
            content: "正文",
            consultation_opinions: "已征求财务科意见",
            ..m
        };
        assert!(missing_materials(&full).is_empty());
    }

    #[test]
    fn r_materials_refusal_names_the_missing_parts() {
        let m = MaterialsFields {
            title: "标题",
            content: "",
            consultation_opinions: "有",
            matters_to_decide: "",
        };
        let refusal = check_materials(&m).unwrap_err();
        assert_eq!(refusal.rule, Rule::Materials);
        assert!(
            refusal.detail_zh.contains("主要内容、需决策事项"),
            "{}",
            refusal.detail_zh
        );
    }

    #[test]
    fn r_prereq_procurement_submission_lists_every_missing_item() {
        let mut f = facts(31);
        f.is_procurement = true;
        let required = required_prerequisites(&f, Fen::new(500_000).unwrap());
        let refusal =
            check_prerequisites_on_file(&required, &[FinanceOpinion, CounselReview]).unwrap_err();
        assert_eq!(refusal.rule, Rule::PrereqProcurement);
        assert!(
            refusal.detail_zh.contains("法规意见、派驻纪检组意见"),
            "{}",
            refusal.detail_zh
        );
        let all = [
            FinanceOpinion,
            LegalOpinion,
            DisciplineOpinion,
            CounselReview,
        ];
        assert_eq!(check_prerequisites_on_file(&required, &all), Ok(()));
    }

    #[test]
    fn r_topic_source_sign_off_submission_and_agenda() {
        assert_eq!(
            check_submission_source(false, false).unwrap_err().rule,
            Rule::TopicSource
        );
        assert_eq!(check_submission_source(false, true), Ok(()));
        assert_eq!(
            check_submission_source(true, false),
            Ok(()),
            "the 书记's own topic"
        );
        assert_eq!(
            check_sign_off(1, 2, false).unwrap_err().rule,
            Rule::TopicSource
        );
        assert_eq!(
            check_sign_off(2, 2, true).unwrap_err().rule,
            Rule::TopicSource
        );
        assert_eq!(check_sign_off(2, 2, false), Ok(()));
        assert_eq!(
            check_places_agenda(false).unwrap_err().rule,
            Rule::TopicSource
        );
        assert_eq!(check_places_agenda(true), Ok(()));
    }

    #[test]
    fn r_topic_lead_time_seven_days_or_a_reason() {
        let meeting = date!(2026 - 12 - 10);
        assert_eq!(
            check_lead_time(date!(2026 - 12 - 03), meeting, 7, None),
            Ok(())
        );
        let refusal = check_lead_time(date!(2026 - 12 - 04), meeting, 7, None).unwrap_err();
        assert_eq!(refusal.rule, Rule::TopicLeadTime);
        assert!(refusal.detail_zh.contains("6 天"));
        assert!(check_lead_time(date!(2026 - 12 - 04), meeting, 7, Some("  ")).is_err());
        assert_eq!(
            check_lead_time(date!(2026 - 12 - 04), meeting, 7, Some("上级限期报送")),
            Ok(())
        );
    }

    #[test]
    fn r_ad_hoc_after_notice_only_urgent_with_reason_never_personnel() {
        let policy = Category::new(12).unwrap();
        assert_eq!(
            check_ad_hoc(false, policy, false, None),
            Ok(()),
            "before the notice"
        );
        assert_eq!(
            check_ad_hoc(true, policy, false, Some("急"))
                .unwrap_err()
                .rule,
            Rule::AdHoc
        );
        assert_eq!(
            check_ad_hoc(true, policy, true, None).unwrap_err().rule,
            Rule::AdHoc
        );
        assert_eq!(
            check_ad_hoc(true, policy, true, Some("疫情应急采购")),
            Ok(())
        );
        let personnel = Category::new(24).unwrap();
        assert_eq!(
            check_ad_hoc(true, personnel, true, Some("急需"))
                .unwrap_err()
                .rule,
            Rule::AdHoc
        );
    }

    #[test]
    fn r_procurement_once_refuses_an_approved_reference() {
        let approved = ["CG-2026-001", "CG-2026-007"];
        assert_eq!(
            check_procurement_once(" cg-2026-007 ", approved)
                .unwrap_err()
                .rule,
            Rule::ProcurementOnce
        );
        assert_eq!(check_procurement_once("CG-2026-008", approved), Ok(()));
    }
}
