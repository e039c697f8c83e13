//! The roster (人员名单) from a spreadsheet: an upload is checked and previewed row by row, then
//! applied in one transaction that creates the accepted rows with their audit entries; the
//! template and the export are the same two lists as CSV.

use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::{AppError, CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::party_groups::Membership;
use crate::db::users::User;
use crate::db::{self, violated_constraint};
use crate::display::today;
use crate::domain::authz::Action;
use crate::domain::ids::{PartyGroupId, UserId};
use crate::domain::org::Position;
use crate::domain::role::Role;
use crate::domain::roster::{self, Account, Checked, Existing, List, Row};
use crate::spreadsheet;

/// The largest roster file taken (a 10,000-row workbook is about half of it).
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// One row of the preview: where it is, its cells in the list's column order, and its errors
/// (none: it will be imported).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowView {
    pub sheet: String,
    pub line: usize,
    pub cells: Vec<String>,
    pub errors: Vec<String>,
}

/// An uploaded roster: its rows as checked now, or what its import created.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub import_id: Uuid,
    pub file_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// Rows that will be (or were) imported, and rows refused.
    pub accepted: usize,
    pub refused: usize,
    pub people: Vec<RowView>,
    pub members: Vec<RowView>,
    /// Set once imported; the rows are no longer shown then.
    pub applied: Option<Applied>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Applied {
    #[serde(with = "time::serde::rfc3339")]
    pub applied_at: OffsetDateTime,
    pub people_created: i32,
    pub members_created: i32,
}

fn views<T>(rows: &[Row<T>]) -> Vec<RowView> {
    rows.iter()
        .map(|r| RowView {
            sheet: r.sheet.clone(),
            line: r.line,
            cells: r.cells.clone(),
            errors: r.outcome.as_ref().err().cloned().unwrap_or_default(),
        })
        .collect()
}

/// What the rows are checked against, read in the caller's transaction.
async fn existing(conn: &mut sqlx::PgConnection) -> Result<(Existing, Vec<User>), AppError> {
    let users = db::users::list(conn).await?;
    let mut e = Existing {
        accounts: users
            .iter()
            .map(|u| {
                let account = Account {
                    roles: u.roles.clone(),
                    active: u.active,
                };
                (u.login.clone(), account)
            })
            .collect(),
        sections: db::sections::list(conn)
            .await?
            .into_iter()
            .map(|s| (s.name, s.section_id))
            .collect(),
        ..Existing::default()
    };
    for group in db::party_groups::list_all(conn).await? {
        for m in db::party_groups::memberships(conn, group.party_group_id).await? {
            if m.ended_on.is_none() {
                if m.position == Position::Secretary {
                    e.with_secretary.insert(group.party_group_id);
                }
                e.members.insert((group.party_group_id, m.login));
            }
        }
        e.groups.insert(group.name, group.party_group_id);
    }
    Ok((e, users))
}

fn check(sheets: &[roster::Sheet], existing: &Existing) -> Result<Checked, AppError> {
    roster::check(sheets, existing, today()).map_err(|m| AppError::invalid("file", m))
}

fn read(file_name: &str, bytes: &[u8]) -> Result<Vec<roster::Sheet>, AppError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::invalid(
            "file",
            format!("文件超过 {} MB", MAX_FILE_BYTES >> 20),
        ));
    }
    spreadsheet::read(bytes, file_name).map_err(|m| AppError::invalid("file", m))
}

/// Takes an uploaded roster and shows how each row would be imported; nothing but the upload
/// is written.
pub async fn upload(
    state: &Services,
    user: &CurrentUser,
    file_name: &str,
    bytes: &[u8],
) -> Result<Preview, AppError> {
    user.can(Action::ManageOrganisation)?;
    let file_name = match file_name.trim() {
        "" => "名单",
        name => name,
    };
    let sheets = read(file_name, bytes)?;
    let mut tx = state.pool.begin().await?;
    let (existing, _) = existing(&mut tx).await?;
    let checked = check(&sheets, &existing)?;
    let import_id = Uuid::now_v7();
    let previewed = serde_json::json!(checked.accepted_lines());
    db::roster_imports::insert(
        &mut tx,
        import_id,
        user.user_id,
        file_name,
        bytes,
        &previewed,
    )
    .await?;
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "roster.upload", "roster_import")
                .entity(import_id)
                .after(serde_json::json!({
                    "file_name": file_name,
                    "accepted": checked.accepted(),
                    "refused": checked.refused(),
                })),
        )
        .await?;
    preview(state, user, import_id).await
}

/// An upload as it would be imported now, or what its import created.
pub async fn preview(state: &Services, user: &CurrentUser, id: Uuid) -> Result<Preview, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut conn = state.pool.acquire().await?;
    let upload = db::roster_imports::get(&mut conn, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut preview = Preview {
        import_id: upload.import_id,
        file_name: upload.file_name.clone(),
        uploaded_at: upload.uploaded_at,
        accepted: 0,
        refused: 0,
        people: Vec::new(),
        members: Vec::new(),
        applied: None,
    };
    match (&upload.content, upload.applied_at) {
        (Some(content), _) => {
            let (existing, _) = existing(&mut conn).await?;
            let checked = check(&read(&upload.file_name, content)?, &existing)?;
            preview.accepted = checked.accepted();
            preview.refused = checked.refused();
            preview.people = views(&checked.people);
            preview.members = views(&checked.members);
        }
        (None, Some(applied_at)) => {
            let people_created = upload.people_created.unwrap_or(0);
            let members_created = upload.members_created.unwrap_or(0);
            preview.accepted = (people_created + members_created) as usize;
            preview.applied = Some(Applied {
                applied_at,
                people_created,
                members_created,
            });
        }
        (None, None) => return Err(anyhow::anyhow!("roster import without content").into()),
    }
    Ok(preview)
}

/// Imports the accepted rows of an upload in one transaction, each with its audit entry, once
/// a second check finds the same rows accepted as the preview showed.
pub async fn apply(state: &Services, user: &CurrentUser, id: Uuid) -> Result<Preview, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut tx = state.pool.begin().await?;
    let upload = db::roster_imports::get(&mut tx, id, true)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(content) = &upload.content else {
        return Err(AppError::Conflict("这份名单已经导入过了".into()));
    };
    let (existing, users) = existing(&mut tx).await?;
    let checked = check(&read(&upload.file_name, content)?, &existing)?;
    let now_accepted = serde_json::json!(checked.accepted_lines());
    if now_accepted != upload.previewed {
        db::roster_imports::set_previewed(&mut tx, id, &now_accepted).await?;
        tx.commit().await?;
        return Err(AppError::Conflict(
            "预览之后账号或党组成员已有变化,可导入的行与预览不同;请查看更新后的预览再确认导入"
                .into(),
        ));
    }
    if checked.accepted() == 0 {
        return Err(AppError::invalid(
            "file",
            "没有可导入的行:请按预览中的提示改正文件后重新上传",
        ));
    }
    let written = write(state, user, &mut tx, &checked, users).await;
    let (people, members) = written.map_err(|e| match &e {
        AppError::Internal(inner) => match inner
            .downcast_ref::<sqlx::Error>()
            .and_then(violated_constraint)
        {
            Some("app_user_login_key" | "membership_one_secretary" | "membership_one_current") => {
                AppError::Conflict(
                    "导入时有人同时新增了账号或任职,本次未写入任何内容;请刷新预览后重试".into(),
                )
            }
            _ => e,
        },
        _ => e,
    })?;
    db::roster_imports::mark_applied(&mut tx, id, people, members).await?;
    state
        .commit(
            tx,
            user,
            Change::new(Chain::Org, "roster.import", "roster_import")
                .entity(id)
                .after(serde_json::json!({
                    "file_name": upload.file_name,
                    "people_created": people,
                    "members_created": members,
                    "refused": checked.refused(),
                })),
        )
        .await?;
    state.live.changed_all();
    preview(state, user, id).await
}

/// Creates the accepted people, then the accepted memberships, with the audit entries single
/// creations write: in a few statements, whatever the number of rows.
async fn write(
    state: &Services,
    user: &CurrentUser,
    tx: &mut sqlx::PgConnection,
    checked: &Checked,
    users: Vec<User>,
) -> Result<(i32, i32), AppError> {
    let actor = user.audit_actor();
    let mut by_login: HashMap<String, User> =
        users.into_iter().map(|u| (u.login.clone(), u)).collect();
    let accepted: Vec<&roster::Person> = checked
        .people
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .collect();
    let created_at = OffsetDateTime::now_utc();
    let new: Vec<User> = accepted
        .iter()
        .map(|p| User {
            user_id: UserId::new(),
            login: p.login.clone(),
            name: p.name.clone(),
            section_id: p.section_id,
            roles: p.roles.clone(),
            active: true,
            created_at,
        })
        .collect();
    let emails: Vec<Option<String>> = accepted.iter().map(|p| p.email.clone()).collect();
    db::users::insert_imported(tx, &new, &emails).await?;
    let changes = new
        .iter()
        .zip(&emails)
        .map(|(u, email)| {
            Change::new(Chain::Org, "user.create", "user")
                .entity(u.user_id)
                .after(serde_json::json!({ "user": u, "email": email, "imported": true }))
        })
        .collect();
    state
        .audit
        .append_all(tx, &actor, &Chain::Org.key(), changes)
        .await?;
    let people = new.len() as i32;
    by_login.extend(new.into_iter().map(|u| (u.login.clone(), u)));

    let groups: HashMap<PartyGroupId, String> = db::party_groups::list_all(tx)
        .await?
        .into_iter()
        .map(|g| (g.party_group_id, g.name))
        .collect();
    let mut by_chain: HashMap<PartyGroupId, Vec<Change>> = HashMap::new();
    let mut members = 0;
    for m in checked
        .members
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
    {
        let person = by_login
            .get(&m.login)
            .ok_or_else(|| anyhow::anyhow!("checked member without an account"))?;
        let new = Membership {
            membership_id: Uuid::now_v7(),
            party_group_id: m.party_group_id,
            party_group_name: groups.get(&m.party_group_id).cloned().unwrap_or_default(),
            user_id: person.user_id,
            login: person.login.clone(),
            name: person.name.clone(),
            position: m.position,
            areas: m.areas.iter().map(|a| a.as_str().to_owned()).collect(),
            started_on: m.started_on.unwrap_or_else(today),
            ended_on: None,
        };
        db::party_groups::insert_membership(tx, &new).await?;
        db::sessions::notify_user_changed(tx, new.user_id).await?;
        let change = Change::new(
            Chain::PartyGroup(m.party_group_id),
            "membership.add",
            "membership",
        )
        .entity(new.membership_id)
        .after(&new);
        by_chain.entry(m.party_group_id).or_default().push(change);
        members += 1;
    }
    for (group, changes) in by_chain {
        let chain = Chain::PartyGroup(group).key();
        state.audit.append_all(tx, &actor, &chain, changes).await?;
    }
    Ok((people, members))
}

/// A list's header alone: the template to fill in.
pub fn template(list: List) -> String {
    spreadsheet::write_csv(list.columns(), std::iter::empty())
}

/// A list as it stands, in the template's columns, so that it can be imported elsewhere: the
/// active accounts (but the admin's) or the current memberships.
pub async fn export(state: &Services, user: &CurrentUser, list: List) -> Result<String, AppError> {
    user.can(Action::ManageOrganisation)?;
    let mut conn = state.pool.acquire().await?;
    let rows: Vec<Vec<String>> = match list {
        List::People => {
            let sections: HashMap<_, _> = db::sections::list(&mut conn)
                .await?
                .into_iter()
                .map(|s| (s.section_id, s.name))
                .collect();
            let emails: HashMap<_, _> = db::users::emails(&mut conn).await?.into_iter().collect();
            db::users::list(&mut conn)
                .await?
                .into_iter()
                .filter(|u| u.active && !u.roles.contains(&Role::Admin))
                .map(|u| {
                    let section = u.section_id.and_then(|s| sections.get(&s).cloned());
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.label_zh()).collect();
                    vec![
                        u.name,
                        u.login,
                        section.unwrap_or_default(),
                        roles.join("、"),
                        emails.get(&u.user_id).cloned().unwrap_or_default(),
                    ]
                })
                .collect()
        }
        List::Members => {
            let mut rows = Vec::new();
            for group in db::party_groups::list_all(&mut conn).await? {
                for m in db::party_groups::memberships(&mut conn, group.party_group_id).await? {
                    if m.ended_on.is_some() {
                        continue;
                    }
                    let areas = crate::domain::org::Area::parse_list(&m.areas)
                        .map_err(anyhow::Error::msg)?;
                    let areas: Vec<&str> = areas.iter().map(|a| a.label_zh()).collect();
                    rows.push(vec![
                        group.name.clone(),
                        m.login,
                        m.position.label_zh().to_owned(),
                        areas.join("、"),
                        m.started_on.to_string(),
                    ]);
                }
            }
            rows
        }
    };
    Ok(spreadsheet::write_csv(
        list.columns(),
        rows.iter().map(|r| r.iter().map(String::as_str).collect()),
    ))
}
