//! The roster (人员名单) 综合科 keeps in Excel, as two lists: people (姓名, 登录名, 科室, 角色,
//! 邮箱) and party-group members (党组, 登录名, 职务, 分管领域, 任职日期). An uploaded roster is
//! checked row by row against what exists before anything is written: each row is accepted or
//! carries its errors in Chinese, and a file that is not such a roster is refused as a whole.

use std::collections::{HashMap, HashSet};

use time::Date;

use super::account::{Login, check_may_join_group, check_role_separation, parse_email, parse_name};
use super::ids::{PartyGroupId, SectionId};
use super::org::{Area, Position, check_four_not};
use super::role::Role;

/// The most data rows one file may hold: a bureau's whole staff fits many times over, and the
/// check and the one transaction stay within seconds.
pub const MAX_ROWS: usize = 10_000;

/// The two lists of a roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    People,
    Members,
}

impl List {
    pub const ALL: [List; 2] = [List::People, List::Members];

    /// The columns, in the order the template and the export write them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            List::People => &["姓名", "登录名", "科室", "角色", "邮箱"],
            List::Members => &["党组", "登录名", "职务", "分管领域", "任职日期"],
        }
    }

    /// Columns a file may leave out.
    fn optional(self) -> &'static [&'static str] {
        match self {
            List::People => &["邮箱"],
            List::Members => &["任职日期"],
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            List::People => "人员名单",
            List::Members => "党组成员名单",
        }
    }

    /// The name used in paths and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            List::People => "people",
            List::Members => "members",
        }
    }

    pub fn parse(s: &str) -> Option<List> {
        List::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Which list a header row starts, and where each of its columns is; `None` when the
    /// header is neither list's (a missing or unknown column).
    fn of_header(header: &[String]) -> Option<(List, Vec<Option<usize>>)> {
        let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
        let names: Vec<&str> = match names.iter().rposition(|n| !n.is_empty()) {
            Some(last) => names[..=last].to_vec(),
            None => return None,
        };
        List::ALL.into_iter().find_map(|list| {
            let known = names.iter().all(|n| list.columns().contains(n));
            let mut seen = HashSet::new();
            let unique = names.iter().all(|n| seen.insert(*n));
            let positions: Vec<Option<usize>> = list
                .columns()
                .iter()
                .map(|c| names.iter().position(|n| n == c))
                .collect();
            let complete = list
                .columns()
                .iter()
                .zip(&positions)
                .all(|(c, p)| p.is_some() || list.optional().contains(c));
            (known && unique && complete).then_some((list, positions))
        })
    }
}

/// One sheet of an uploaded file (a CSV file is one sheet), as text cells.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<String>>,
}

/// An account that exists.
#[derive(Debug, Clone)]
pub struct Account {
    pub roles: Vec<Role>,
    pub active: bool,
}

/// What the rows are checked against.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// Accounts by login.
    pub accounts: HashMap<String, Account>,
    pub sections: HashMap<String, SectionId>,
    pub groups: HashMap<String, PartyGroupId>,
    /// Groups that have a 书记 now.
    pub with_secretary: HashSet<PartyGroupId>,
    /// Current memberships, by group and login.
    pub members: HashSet<(PartyGroupId, String)>,
}

/// A person to create.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub login: String,
    pub name: String,
    pub section_id: Option<SectionId>,
    pub roles: Vec<Role>,
    pub email: Option<String>,
}

/// A membership to start.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub party_group_id: PartyGroupId,
    pub login: String,
    pub position: Position,
    pub areas: Vec<Area>,
    /// `None`: from the day of the import.
    pub started_on: Option<Date>,
}

/// One data row: where it is, what it says and what became of it.
#[derive(Debug, Clone)]
pub struct Row<T> {
    pub sheet: String,
    /// The row's number as the spreadsheet program shows it (the header is row 1).
    pub line: usize,
    pub cells: Vec<String>,
    pub outcome: Result<T, Vec<String>>,
}

/// A checked roster.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub people: Vec<Row<Person>>,
    pub members: Vec<Row<Member>>,
}

impl Checked {
    pub fn accepted(&self) -> usize {
        self.people.iter().filter(|r| r.outcome.is_ok()).count()
            + self.members.iter().filter(|r| r.outcome.is_ok()).count()
    }

    pub fn refused(&self) -> usize {
        self.people.len() + self.members.len() - self.accepted()
    }

    /// Where the accepted rows are: the same after a second check means nothing changed.
    pub fn accepted_lines(&self) -> Vec<(String, usize)> {
        let people = self.people.iter().filter(|r| r.outcome.is_ok());
        let people = people.map(|r| (r.sheet.clone(), r.line));
        let members = self.members.iter().filter(|r| r.outcome.is_ok());
        people
            .chain(members.map(|r| (r.sheet.clone(), r.line)))
            .collect()
    }
}

/// Checks every row of every sheet; `Err` when the file as a whole is not a roster.
pub fn check(sheets: &[Sheet], existing: &Existing, today: Date) -> Result<Checked, String> {
    let mut lists: Vec<(&Sheet, List, Vec<Option<usize>>, usize)> = Vec::new();
    let mut rows = 0;
    for sheet in sheets {
        let Some(header_at) = sheet.rows.iter().position(|r| !blank(r)) else {
            continue;
        };
        let Some((list, columns)) = List::of_header(&sheet.rows[header_at]) else {
            return Err(format!(
                "“{}”的表头不正确:第 {} 行应为人员名单的列({})或党组成员名单的列({}),请使用下载的模板",
                sheet.name,
                header_at + 1,
                List::People.columns().join("、"),
                List::Members.columns().join("、"),
            ));
        };
        rows += sheet.rows[header_at + 1..]
            .iter()
            .filter(|r| !blank(r))
            .count();
        lists.push((sheet, list, columns, header_at));
    }
    if rows > MAX_ROWS {
        return Err(format!(
            "文件有 {rows} 行数据,超过一次导入的上限 {MAX_ROWS} 行,请分成几个文件导入"
        ));
    }
    if rows == 0 {
        return Err("文件中没有人员名单或党组成员名单的数据行".into());
    }
    let mut checked = Checked::default();
    let mut logins: HashMap<String, usize> = HashMap::new();
    for (sheet, list, columns, header_at) in lists.iter().filter(|l| l.1 == List::People) {
        for (i, cells) in data_rows(sheet, *header_at) {
            let cell = |c: usize| cell(cells, columns[c]);
            let outcome = check_person(
                [cell(0), cell(1), cell(2), cell(3), cell(4)],
                existing,
                &mut logins,
                i,
            );
            checked
                .people
                .push(row(sheet, i, cells, list, columns, outcome));
        }
    }
    // Each login the people rows name: its roles when the row is accepted.
    let mut people: HashMap<String, Option<Vec<Role>>> =
        logins.into_keys().map(|login| (login, None)).collect();
    for p in checked
        .people
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
    {
        people.insert(p.login.clone(), Some(p.roles.clone()));
    }
    let mut seen = Seen::default();
    let mut members = Vec::new();
    for (sheet, list, columns, header_at) in lists.iter().filter(|l| l.1 == List::Members) {
        for (i, cells) in data_rows(sheet, *header_at) {
            let cell = |c: usize| cell(cells, columns[c]);
            let written = [cell(0), cell(1), cell(2), cell(3), cell(4)];
            let outcome = check_member(written, existing, &people, &mut seen, i, today);
            members.push(row(sheet, i, cells, list, columns, outcome));
        }
    }
    checked.members = members;
    Ok(checked)
}

/// What earlier member rows claimed: (group, login) pairs and each group's 书记.
#[derive(Default)]
struct Seen {
    members: HashMap<(PartyGroupId, String), usize>,
    secretaries: HashMap<PartyGroupId, usize>,
}

/// Notes an error of the row; the value it stood for is missing.
fn refuse<T>(errors: &mut Vec<String>, message: impl Into<String>) -> Result<T, ()> {
    errors.push(message.into());
    Err(())
}

fn blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

fn cell(cells: &[String], at: Option<usize>) -> &str {
    at.and_then(|i| cells.get(i)).map_or("", |c| c.trim())
}

/// The non-blank rows after the header, with their numbers as the spreadsheet shows them.
fn data_rows(sheet: &Sheet, header_at: usize) -> impl Iterator<Item = (usize, &Vec<String>)> {
    sheet
        .rows
        .iter()
        .enumerate()
        .skip(header_at + 1)
        .filter(|(_, r)| !blank(r))
        .map(|(i, r)| (i + 1, r))
}

/// A checked row keeps its cells in the list's column order.
fn row<T>(
    sheet: &Sheet,
    line: usize,
    cells: &[String],
    list: &List,
    columns: &[Option<usize>],
    outcome: Result<T, Vec<String>>,
) -> Row<T> {
    debug_assert_eq!(list.columns().len(), columns.len());
    Row {
        sheet: sheet.name.clone(),
        line,
        cells: columns.iter().map(|c| cell(cells, *c).to_owned()).collect(),
        outcome,
    }
}

/// Splits a cell that lists several values (角色, 分管领域): 、 , ; and spaces all separate.
fn split_list(cell: &str) -> Vec<&str> {
    cell.split(['、', ',', ',', ';', ';', ' ', '\u{3000}', '/'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn check_person(
    [name, login, section, roles, email]: [&str; 5],
    existing: &Existing,
    logins: &mut HashMap<String, usize>,
    line: usize,
) -> Result<Person, Vec<String>> {
    let mut errors = Vec::new();
    let name = parse_name(name, 50).map_err(|m| errors.push(format!("姓名{m}")));
    let login = match Login::parse(login) {
        Err(m) => refuse(&mut errors, m),
        Ok(l) if existing.accounts.contains_key(l.as_str()) => {
            refuse(&mut errors, format!("登录名 {} 已被使用", l.as_str()))
        }
        Ok(l) => match logins.get(l.as_str()) {
            Some(first) => refuse(
                &mut errors,
                format!("登录名 {} 与第 {first} 行重复", l.as_str()),
            ),
            None => {
                logins.insert(l.as_str().to_owned(), line);
                Ok(l)
            }
        },
    };
    let section_id = match section {
        "" => Ok(None),
        s => existing
            .sections
            .get(s)
            .map(|id| Some(*id))
            .ok_or_else(|| errors.push(format!("未知的科室:{s}(请先在“科室”页面新增)"))),
    };
    let mut parsed = Vec::new();
    for r in split_list(roles) {
        match Role::parse_written(r) {
            Some(Role::Admin) => {
                errors.push("系统管理员账号不能导入,请在“用户”页面逐个新增".into())
            }
            Some(role) => parsed.push(role),
            None => errors.push(format!(
                "未知的角色:{r}(可用:{})",
                Role::ALL
                    .iter()
                    .filter(|r| **r != Role::Admin)
                    .map(|r| r.label_zh())
                    .collect::<Vec<_>>()
                    .join("、")
            )),
        }
    }
    parsed.sort();
    parsed.dedup();
    if let Err(m) = check_role_separation(&parsed) {
        errors.push(m);
    }
    let email = match email {
        "" => Ok(None),
        e => parse_email(e)
            .map(Some)
            .map_err(|m| errors.push(m.to_owned())),
    };
    match (name, login, section_id, email) {
        (Ok(name), Ok(login), Ok(section_id), Ok(email)) if errors.is_empty() => Ok(Person {
            login: login.as_str().to_owned(),
            name,
            section_id,
            roles: parsed,
            email,
        }),
        _ => Err(errors),
    }
}

fn check_member(
    [group, login, position, areas, started_on]: [&str; 5],
    existing: &Existing,
    people: &HashMap<String, Option<Vec<Role>>>,
    seen: &mut Seen,
    line: usize,
    today: Date,
) -> Result<Member, Vec<String>> {
    let mut errors = Vec::new();
    let group_id = match group {
        "" => refuse(&mut errors, "党组不能为空"),
        g => existing
            .groups
            .get(g)
            .copied()
            .ok_or_else(|| errors.push(format!("未知的党组:{g}"))),
    };
    let login = login.to_ascii_lowercase();
    let roles = match (existing.accounts.get(&login), people.get(&login)) {
        (Some(a), _) if !a.active => refuse(&mut errors, format!("账号 {login} 已停用")),
        (Some(a), _) => Ok(a.roles.clone()),
        (None, Some(Some(roles))) => Ok(roles.clone()),
        (None, Some(None)) => refuse(
            &mut errors,
            format!("登录名 {login} 所在的人员名单行有错误,该行改正后才能任职"),
        ),
        (None, None) if login.is_empty() => refuse(&mut errors, "登录名不能为空"),
        (None, None) => refuse(
            &mut errors,
            format!("登录名 {login} 既不是现有账号,也不在本文件的人员名单中"),
        ),
    };
    let position = Position::parse_written(position.trim_start_matches("党组")).ok_or_else(|| {
        errors.push(format!("未知的职务:{position}(应为书记、副书记或成员)"));
    });
    let mut parsed = Vec::new();
    for a in split_list(areas) {
        match Area::parse_written(a) {
            Some(area) => parsed.push(area),
            None => errors.push(format!(
                "未知的分管领域:{a}(可用:{})",
                Area::ALL
                    .iter()
                    .map(|a| a.label_zh())
                    .collect::<Vec<_>>()
                    .join("、")
            )),
        }
    }
    parsed.sort();
    parsed.dedup();
    let started_on = match started_on {
        "" => Ok(None),
        d => parse_day(d).map(Some).ok_or_else(|| {
            errors.push(format!("任职日期 {d} 格式不正确(应为 YYYY-MM-DD)"));
        }),
    };
    if let Ok(Some(d)) = started_on
        && d > today
    {
        errors.push("任职日期不能晚于今天".into());
    }
    if let (Ok(roles), Ok(position)) = (&roles, position) {
        if let Err(m) = check_may_join_group(roles) {
            errors.push(m);
        }
        if let Err(v) = check_four_not(Some(position), roles, &parsed) {
            errors.push(format!("{}:{}", v.rule.code(), v.detail_zh));
        }
    }
    if let (Ok(group_id), Ok(position)) = (group_id, position) {
        let key = (group_id, login.clone());
        if existing.members.contains(&key) {
            errors.push(format!(
                "{login} 已是{group}的现任成员(调整职务请在党组页面办理)"
            ));
        } else if let Some(first) = seen.members.get(&key) {
            errors.push(format!("与第 {first} 行重复(同一党组、同一人)"));
        }
        if position == Position::Secretary {
            if existing.with_secretary.contains(&group_id) {
                errors.push(format!("{group}已有现任书记,请先在党组页面结束其任职"));
            } else if let Some(first) = seen.secretaries.get(&group_id) {
                errors.push(format!(
                    "第 {first} 行已是{group}的书记,一个党组只有一位书记"
                ));
            }
        }
        if errors.is_empty() {
            seen.members.insert(key, line);
            if position == Position::Secretary {
                seen.secretaries.insert(group_id, line);
            }
        }
    }
    match (group_id, roles, position, started_on) {
        (Ok(party_group_id), Ok(_), Ok(position), Ok(started_on)) if errors.is_empty() => {
            Ok(Member {
                party_group_id,
                login,
                position,
                areas: parsed,
                started_on,
            })
        }
        _ => Err(errors),
    }
}

/// A day as people write it: 2026-03-01, 2026/3/1 or 2026.3.1.
fn parse_day(s: &str) -> Option<Date> {
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::PartyGroupId;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 03);

    fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
        Sheet {
            name: name.into(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
        }
    }

    fn existing() -> (Existing, PartyGroupId) {
        let group = PartyGroupId::new();
        let mut e = Existing::default();
        e.groups.insert("局党组".into(), group);
        e.sections.insert("办公室".into(), SectionId::new());
        e.accounts.insert(
            "li.si".into(),
            Account {
                roles: vec![Role::Leader],
                active: true,
            },
        );
        e.accounts.insert(
            "old.hand".into(),
            Account {
                roles: vec![Role::Leader],
                active: false,
            },
        );
        (e, group)
    }

    const PEOPLE: &[&str] = &["姓名", "登录名", "科室", "角色", "邮箱"];
    const MEMBERS: &[&str] = &["党组", "登录名", "职务", "分管领域", "任职日期"];

    fn errors<T>(row: &Row<T>) -> String {
        row.outcome
            .as_ref()
            .err()
            .map(|e| e.join(";"))
            .unwrap_or_default()
    }

    #[test]
    fn a_good_roster_is_accepted_with_chinese_labels() {
        let (e, group) = existing();
        let file = [
            sheet(
                "人员",
                &[
                    PEOPLE,
                    &[
                        "张伟",
                        "Zhang.Wei",
                        "办公室",
                        "局领导、局长",
                        "zw@example.gov.cn",
                    ],
                    &["", "", "", "", ""],
                    &["王芳", "wang.fang", "", "综合科,staff", ""],
                ],
            ),
            sheet(
                "成员",
                &[
                    MEMBERS,
                    &[
                        "局党组",
                        "zhang.wei",
                        "党组书记",
                        "党建、政策法规",
                        "2026/3/1",
                    ],
                    &["局党组", "li.si", "副书记", "财务", ""],
                ],
            ),
        ];
        let checked = check(&file, &e, TODAY).unwrap();
        assert_eq!(checked.accepted(), 4, "{checked:?}");
        let zhang = checked.people[0].outcome.as_ref().unwrap();
        assert_eq!(zhang.login, "zhang.wei");
        assert_eq!(zhang.roles, vec![Role::Leader, Role::Director]);
        assert_eq!(zhang.email.as_deref(), Some("zw@example.gov.cn"));
        // Blank rows are skipped; numbers are the spreadsheet's own.
        assert_eq!(checked.people[1].line, 4);
        let wang = checked.people[1].outcome.as_ref().unwrap();
        assert_eq!(wang.roles, vec![Role::Office, Role::Staff]);
        let secretary = checked.members[0].outcome.as_ref().unwrap();
        assert_eq!(secretary.party_group_id, group);
        assert_eq!(secretary.position, Position::Secretary);
        assert_eq!(secretary.started_on, Some(date!(2026 - 03 - 01)));
        assert_eq!(secretary.areas, vec![Area::PartyBuilding, Area::Policy]);
    }

    #[test]
    fn a_wrong_header_refuses_the_file() {
        let (e, _) = existing();
        let file = [sheet("Sheet1", &[&["名字", "账号"], &["张伟", "zw"]])];
        let err = check(&file, &e, TODAY).unwrap_err();
        assert!(
            err.contains("Sheet1") && err.contains("表头不正确"),
            "{err}"
        );
        // A column twice is not a header either.
        let twice = [sheet("a", &[&["姓名", "登录名", "科室", "角色", "角色"]])];
        assert!(check(&twice, &e, TODAY).is_err());
        // Nothing to import.
        let empty = [sheet("a", &[PEOPLE])];
        assert!(check(&empty, &e, TODAY).unwrap_err().contains("没有"));
    }

    #[test]
    fn columns_may_come_in_any_order_and_optional_ones_may_be_left_out() {
        let (e, _) = existing();
        let file = [sheet(
            "a",
            &[
                &["角色", "登录名", "姓名", "科室"],
                &["科室工作人员", "chen.jing", "陈静", ""],
            ],
        )];
        let checked = check(&file, &e, TODAY).unwrap();
        let p = checked.people[0].outcome.as_ref().unwrap();
        assert_eq!((p.name.as_str(), p.login.as_str()), ("陈静", "chen.jing"));
        assert_eq!(
            checked.people[0].cells[0], "陈静",
            "cells in the list's order"
        );
    }

    #[test]
    fn duplicate_and_taken_logins_unknown_sections_and_roles_are_marked_per_row() {
        let (e, _) = existing();
        let file = [sheet(
            "人员",
            &[
                PEOPLE,
                &["张伟", "zhang.wei", "", "局领导", ""],
                &["张伟二", "ZHANG.WEI", "", "局领导", ""],
                &["李四", "li.si", "", "局领导", ""],
                &["赵六", "zhao.liu", "财务科", "厨师", "not-an-address"],
                &["管理员", "root2", "", "系统管理员", ""],
            ],
        )];
        let checked = check(&file, &e, TODAY).unwrap();
        assert!(checked.people[0].outcome.is_ok());
        assert!(errors(&checked.people[1]).contains("与第 2 行重复"));
        assert!(errors(&checked.people[2]).contains("已被使用"));
        let zhao = errors(&checked.people[3]);
        assert!(zhao.contains("未知的科室:财务科"), "{zhao}");
        assert!(zhao.contains("未知的角色:厨师"), "{zhao}");
        assert!(zhao.contains("邮箱格式不正确"), "{zhao}");
        assert!(errors(&checked.people[4]).contains("系统管理员账号不能导入"));
        assert_eq!((checked.accepted(), checked.refused()), (1, 4));
    }

    #[test]
    fn r_four_not_a_secretary_given_a_forbidden_area_is_refused() {
        let (e, _) = existing();
        let file = [sheet(
            "成员",
            &[
                MEMBERS,
                &["局党组", "li.si", "书记", "党建、人事、物资采购", ""],
            ],
        )];
        let checked = check(&file, &e, TODAY).unwrap();
        let err = errors(&checked.members[0]);
        assert!(err.starts_with("R-FOUR-NOT"), "{err}");
        assert!(err.contains("人事") && err.contains("物资采购"), "{err}");
        // As a deputy the same areas are allowed.
        let deputy = [sheet(
            "成员",
            &[
                MEMBERS,
                &["局党组", "li.si", "副书记", "党建、人事、物资采购", ""],
            ],
        )];
        assert!(
            check(&deputy, &e, TODAY).unwrap().members[0]
                .outcome
                .is_ok()
        );
    }

    #[test]
    fn r_four_not_the_director_role_from_the_same_file_counts() {
        let (e, _) = existing();
        let file = [
            sheet("人员", &[PEOPLE, &["张伟", "zhang.wei", "", "局长", ""]]),
            sheet(
                "成员",
                &[MEMBERS, &["局党组", "zhang.wei", "成员", "财务", ""]],
            ),
        ];
        let checked = check(&file, &e, TODAY).unwrap();
        assert!(errors(&checked.members[0]).contains("局长不直接分管财务"));
    }

    #[test]
    fn members_need_a_known_active_account_and_one_secretary_per_group() {
        let (mut e, group) = existing();
        let file = [
            sheet("人员", &[PEOPLE, &["", "bad.row", "", "", ""]]),
            sheet(
                "成员",
                &[
                    MEMBERS,
                    &["局党组", "nobody", "成员", "", ""],
                    &["局党组", "old.hand", "成员", "", ""],
                    &["局党组", "bad.row", "成员", "", ""],
                    &["机关党委", "li.si", "主任", "天文", "2026-13-01"],
                    &["局党组", "li.si", "书记", "", ""],
                    &["局党组", "li.si", "书记", "", ""],
                ],
            ),
        ];
        let checked = check(&file, &e, TODAY).unwrap();
        let m = &checked.members;
        assert!(
            errors(&m[0]).contains("既不是现有账号"),
            "{}",
            errors(&m[0])
        );
        assert!(errors(&m[1]).contains("已停用"));
        assert!(errors(&m[2]).contains("所在的人员名单行有错误"));
        let four = errors(&m[3]);
        for part in [
            "未知的党组:机关党委",
            "未知的职务:主任",
            "未知的分管领域:天文",
            "格式不正确",
        ] {
            assert!(four.contains(part), "{four}");
        }
        assert!(m[4].outcome.is_ok());
        assert!(
            errors(&m[5]).contains("第 6 行已是局党组的书记"),
            "{}",
            errors(&m[5])
        );

        e.with_secretary.insert(group);
        e.members.insert((group, "li.si".into()));
        let again = check(&file, &e, TODAY).unwrap();
        let err = errors(&again.members[4]);
        assert!(
            err.contains("已是局党组的现任成员") && err.contains("已有现任书记"),
            "{err}"
        );
    }

    #[test]
    fn too_many_rows_refuse_the_file() {
        let (e, _) = existing();
        let mut rows: Vec<Vec<String>> = vec![PEOPLE.iter().map(|c| c.to_string()).collect()];
        for i in 0..=MAX_ROWS {
            rows.push(vec![
                format!("人{i}"),
                format!("p{i}"),
                "".into(),
                "".into(),
            ]);
        }
        let file = [Sheet {
            name: "big.csv".into(),
            rows,
        }];
        let err = check(&file, &e, TODAY).unwrap_err();
        assert!(err.contains("10001") && err.contains("上限 10000"), "{err}");
    }

    #[test]
    fn days_as_people_write_them() {
        assert_eq!(parse_day("2026-3-1"), Some(date!(2026 - 03 - 01)));
        assert_eq!(parse_day("2026.03.01"), Some(date!(2026 - 03 - 01)));
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_day("三月一日"), None);
    }
}
