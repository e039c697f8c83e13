//! Login roles (`api.md`). A role says what a person may do in the bureau; a position inside a
//! party group (书记/副书记/成员) is a separate thing, see `Position` in `org`.

vocabulary! {
    /// A login role; a person may hold several.
    Role ("角色") {
        Admin => ("admin", "系统管理员"),
        Office => ("office", "综合科"),
        Discipline => ("discipline", "派驻纪检组"),
        Counsel => ("counsel", "法律顾问"),
        Leader => ("leader", "局领导"),
        Director => ("director", "局长"),
        SectionHead => ("section_head", "科室负责人"),
        Staff => ("staff", "科室工作人员"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn parse_list_refuses_unknown_and_dedups() {
        assert_eq!(
            Role::parse_list(&["staff", "office", "staff"]),
            Ok(vec![Role::Office, Role::Staff])
        );
        assert!(Role::parse_list(&["root"]).unwrap_err().contains("root"));
    }
}
