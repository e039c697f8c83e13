//! People's accounts: login names, display names, passwords and other short texts, parsed once at
//! the edge so the rest of the code holds only valid values; and the separation of the
//! administrator's duties from everyone else's (三员分立).

use super::role::Role;

/// A login name: 2–32 characters of lower-case letters, digits, `.`, `_` or `-`, starting with a
/// letter or digit. Upper-case input is folded, so `Zhang.Wei` and `zhang.wei` are one login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login(String);

impl Login {
    pub fn parse(raw: &str) -> Result<Login, String> {
        let login = raw.trim().to_ascii_lowercase();
        let len = login.chars().count();
        if !(2..=32).contains(&len) {
            return Err("登录名长度须为 2–32 个字符".into());
        }
        let valid = login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        let first_ok = login
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if !valid || !first_ok {
            return Err("登录名只能包含小写字母、数字和 . _ -,且以字母或数字开头".into());
        }
        Ok(Login(login))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A required short text such as a person's or a section's name: trimmed, non-empty, at most
/// `max` characters, without control characters.
pub fn parse_name(raw: &str, max: usize) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("不能为空".into());
    }
    if name.chars().count() > max {
        return Err(format!("不能超过 {max} 个字符"));
    }
    if name.chars().any(char::is_control) {
        return Err("不能包含控制字符".into());
    }
    Ok(name.to_owned())
}

/// An e-mail address as far as it can be told without sending to it: one `@` with text on both
/// sides, a dot in the domain, no spaces or control characters, at most 254 characters.
pub fn parse_email(raw: &str) -> Result<String, &'static str> {
    let e = raw.trim();
    let bad = "邮箱格式不正确(例如 zhang.wei@example.gov.cn)";
    let (local, domain) = e.split_once('@').ok_or(bad)?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(e.to_owned()) } else { Err(bad) }
}

/// A new password: 10–128 characters, not all of one kind (letters only or digits only).
/// Never `Debug`-printed.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(raw: &str) -> Result<NewPassword, String> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(format!("密码至少 {} 个字符", Self::MIN_CHARS));
        }
        if len > 128 {
            return Err("密码不能超过 128 个字符".into());
        }
        if raw.chars().all(|c| c.is_ascii_digit()) || raw.chars().all(char::is_alphabetic) {
            return Err("密码不能只由数字或只由字母组成".into());
        }
        Ok(NewPassword(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// 三员分立 (separation of duties): the system administrator manages accounts and the
/// organisation and holds no other role, so no account can both grant rights and use them.
pub fn check_role_separation(roles: &[Role]) -> Result<(), String> {
    if roles.contains(&Role::Admin) && roles.len() > 1 {
        return Err("系统管理员不能兼任其他角色(三员分立)".into());
    }
    Ok(())
}

/// 三员分立: the system administrator is never a member of a party group.
pub fn check_may_join_group(roles: &[Role]) -> Result<(), String> {
    if roles.contains(&Role::Admin) {
        return Err("系统管理员不能成为党组成员(三员分立)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_people_write_them() {
        assert_eq!(parse_email(" a@b.cn ").as_deref(), Ok("a@b.cn"));
        for bad in ["a@b", "@b.cn", "a b@c.cn", "a@.cn", "a@@b.cn", "a@b.cn."] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_admin_holds_no_other_role_and_joins_no_group() {
        assert!(check_role_separation(&[Role::Admin]).is_ok());
        assert!(check_role_separation(&[Role::Office, Role::Staff]).is_ok());
        assert!(check_role_separation(&[Role::Admin, Role::Discipline]).is_err());
        assert!(check_role_separation(&[Role::Admin, Role::Office]).is_err());
        assert!(check_may_join_group(&[Role::Admin]).is_err());
        assert!(check_may_join_group(&[Role::Leader]).is_ok());
    }

    #[test]
    fn login_folds_case_and_refuses_bad_characters() {
        assert_eq!(Login::parse(" Zhang.Wei ").unwrap().as_str(), "zhang.wei");
        assert!(Login::parse("a").is_err());
        assert!(Login::parse(&"a".repeat(33)).is_err());
        assert!(Login::parse("张伟").is_err());
        assert!(Login::parse("-abc").is_err());
        assert!(Login::parse("a b").is_err());
        assert!(Login::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(parse_name("  张伟 ", 50).unwrap(), "张伟");
        assert!(parse_name("   ", 50).is_err());
        assert!(parse_name(&"张".repeat(51), 50).is_err());
        assert!(parse_name(&"张".repeat(50), 50).is_ok());
        assert!(parse_name("a\u{0}b", 50).is_err());
    }

    #[test]
    fn passwords_need_length_and_mixture() {
        assert!(NewPassword::parse("short1").is_err());
        assert!(NewPassword::parse("1234567890").is_err());
        assert!(NewPassword::parse("abcdefghij").is_err());
        assert!(NewPassword::parse("abcdefghi1").is_ok());
        assert!(NewPassword::parse(&"a1".repeat(65)).is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("secret-pass-1").unwrap()),
            "NewPassword(***)"
        );
    }
}
