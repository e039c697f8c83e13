//! The organisation: kinds of section (科室), positions in a party group and 分管 work areas,
//! with R-FOUR-NOT.

use time::Date;

use super::role::Role;
use super::rule::{Rule, RuleViolation};

vocabulary! {
    /// What a section does; `office` is 综合科.
    SectionKind ("科室类别") {
        Office => ("office", "综合科"),
        Finance => ("finance", "财务"),
        Legal => ("legal", "法规"),
        Personnel => ("personnel", "人事"),
        Other => ("other", "其他"),
    }
}

vocabulary! {
    /// A person's position inside a party group.
    Position ("职务") {
        Secretary => ("secretary", "书记"),
        Deputy => ("deputy", "副书记"),
        Member => ("member", "成员"),
    }
}

vocabulary! {
    /// A 分管 work area a member takes charge of.
    Area ("分管领域") {
        Personnel => ("personnel", "人事"),
        Finance => ("finance", "财务"),
        Construction => ("construction", "基建项目"),
        Procurement => ("procurement", "物资采购"),
        PartyBuilding => ("party_building", "党建"),
        Policy => ("policy", "政策法规"),
        FundSupervision => ("fund_supervision", "基金监管"),
        MedicalServices => ("medical_services", "医药服务管理"),
        Benefits => ("benefits", "待遇保障"),
        Administration => ("administration", "机关行政"),
    }
}

impl Area {
    /// The four areas of 四个不直接分管.
    pub fn is_four_not(self) -> bool {
        matches!(
            self,
            Area::Personnel | Area::Finance | Area::Construction | Area::Procurement
        )
    }
}

/// A membership counts from the day it starts until the day before it ends: the members on a
/// meeting's date are the ones who should attend it (R-QUORUM's 应到会成员).
pub fn member_on(started_on: Date, ended_on: Option<Date>, date: Date) -> bool {
    started_on <= date && ended_on.is_none_or(|ended| ended > date)
}

/// R-FOUR-NOT (第三条(五)): the principal leaders — the 书记 (by position) and the 局长 (by role) —
/// do not directly take charge of personnel, finance, construction projects or procurement.
pub fn check_four_not(
    position: Option<Position>,
    roles: &[Role],
    areas: &[Area],
) -> Result<(), RuleViolation> {
    let who = if position == Some(Position::Secretary) {
        "党组书记"
    } else if roles.contains(&Role::Director) {
        "局长"
    } else {
        return Ok(());
    };
    let forbidden: Vec<&str> = areas
        .iter()
        .filter(|a| a.is_four_not())
        .map(|a| a.label_zh())
        .collect();
    if forbidden.is_empty() {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::FourNot,
        format!(
            "{who}不直接分管{}。依据:第三条(五)“四个不直接分管”。",
            forbidden.join("、")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn r_quorum_counts_the_members_on_the_meeting_date() {
        let start = date!(2026 - 03 - 01);
        assert!(member_on(start, None, start));
        assert!(!member_on(start, None, date!(2026 - 02 - 28)));
        // Ended on the meeting day: no longer a member that day.
        assert!(!member_on(
            start,
            Some(date!(2026 - 06 - 01)),
            date!(2026 - 06 - 01)
        ));
        assert!(member_on(
            start,
            Some(date!(2026 - 06 - 01)),
            date!(2026 - 05 - 31)
        ));
    }

    #[test]
    fn r_four_not_secretary_may_not_take_charge_of_the_four_areas() {
        for area in Area::ALL.iter().filter(|a| a.is_four_not()) {
            let err = check_four_not(Some(Position::Secretary), &[], &[*area]).unwrap_err();
            assert_eq!(err.rule, Rule::FourNot);
            assert!(err.detail_zh.contains(area.label_zh()));
        }
    }

    #[test]
    fn r_four_not_director_may_not_take_charge_of_finance() {
        let err = check_four_not(
            Some(Position::Member),
            &[Role::Director],
            &[Area::PartyBuilding, Area::Finance],
        )
        .unwrap_err();
        assert_eq!(err.rule, Rule::FourNot);
        assert!(err.detail_zh.contains("局长"));
        assert!(err.detail_zh.contains("财务"));
        assert!(!err.detail_zh.contains("党建"));
    }

    #[test]
    fn r_four_not_allows_other_areas_for_principal_leaders() {
        let others: Vec<Area> = Area::ALL
            .iter()
            .copied()
            .filter(|a| !a.is_four_not())
            .collect();
        assert_eq!(
            check_four_not(Some(Position::Secretary), &[Role::Director], &others),
            Ok(())
        );
    }

    #[test]
    fn r_four_not_allows_deputies_and_members_all_areas() {
        for position in [Position::Deputy, Position::Member] {
            assert_eq!(
                check_four_not(Some(position), &[Role::Leader], Area::ALL),
                Ok(())
            );
        }
    }

    #[test]
    fn vocabularies_round_trip() {
        for k in SectionKind::ALL {
            assert_eq!(SectionKind::parse(k.as_str()), Some(*k));
        }
        for p in Position::ALL {
            assert_eq!(Position::parse(p.as_str()), Some(*p));
        }
        for a in Area::ALL {
            assert_eq!(Area::parse(a.as_str()), Some(*a));
        }
        assert!(
            Area::parse_list(&["finance", "moon"])
                .unwrap_err()
                .contains("moon")
        );
        assert_eq!(
            Area::parse_list(&["procurement", "finance", "finance"]),
            Ok(vec![Area::Finance, Area::Procurement])
        );
    }
}
