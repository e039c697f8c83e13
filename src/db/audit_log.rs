//! Reading the audit log for the discipline group. Writing is `crate::audit::append`.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::ids::UserId;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub audit_entry_id: Uuid,
    pub chain: String,
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub actor_id: Option<UserId>,
    pub actor_login: Option<String>,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub client_addr: Option<String>,
    pub hash: String,
}

/// Filters of the audit search; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The actor's login.
    pub actor: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// An action or the start of one (`user.` matches every user action).
    pub action: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// One page of matching entries, newest first, and the number of all matches.
pub async fn search(
    conn: &mut PgConnection,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<AuditEntry>, i64)> {
    let action_prefix = f.action.as_ref().map(|a| format!("{}%", like_escape(a)));
    let rows = sqlx::query!(
        r#"select e.audit_entry_id, e.chain, e.seq, e.occurred_at, e.actor_id as "actor_id: UserId",
                  u.login as "actor_login?", u.name as "actor_name?", e.action, e.entity_type,
                  e.entity_id, e.before, e.after, e.client_addr, e.hash,
                  count(*) over () as "total!"
           from audit_entry e left join app_user u on u.user_id = e.actor_id
           where ($1::text is null or u.login = $1)
             and ($2::text is null or e.entity_type = $2)
             and ($3::text is null or e.entity_id = $3)
             and ($4::text is null or e.action like $4)
             and ($5::timestamptz is null or e.occurred_at >= $5)
             and ($6::timestamptz is null or e.occurred_at < $6)
           order by e.occurred_at desc, e.audit_entry_id desc
           limit $7 offset $8"#,
        f.actor,
        f.entity_type,
        f.entity_id as _,
        action_prefix,
        f.from,
        f.to,
        limit,
        offset
    )
    .fetch_all(&mut *conn)
    .await?;
    let total = match rows.first() {
        Some(r) => r.total,
        // An empty page may still be past the end of a non-empty result.
        None if offset > 0 => {
            return Box::pin(search(conn, f, 1, 0))
                .await
                .map(|(_, t)| (Vec::new(), t));
        }
        None => 0,
    };
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            audit_entry_id: r.audit_entry_id,
            chain: r.chain,
            seq: r.seq,
            occurred_at: r.occurred_at,
            actor_id: r.actor_id,
            actor_login: r.actor_login,
            actor_name: r.actor_name,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: r.before,
            after: r.after,
            client_addr: r.client_addr,
            hash: hex::encode(r.hash),
        })
        .collect();
    Ok((entries, total))
}

/// One line of a thing's history: when, who and what, without the details.
#[derive(Debug, Clone)]
pub struct Line {
    pub audit_entry_id: Uuid,
    pub chain: String,
    pub seq: i64,
    pub occurred_at: OffsetDateTime,
    pub actor_name: Option<String>,
    pub action: String,
}

/// One thing's history (`entity_type`, `entity_id`), newest first, at most `limit` lines;
/// with `known` — a chain and the highest sequence number already read of this thing in it —
/// only the lines not read yet. A chain's entries commit in the order of their numbers (its
/// head stays locked until commit), so what follows `known` is all that is new in that chain;
/// entries of any other chain come every time.
pub async fn history(
    conn: &mut PgConnection,
    entity_type: &str,
    entity_id: &str,
    known: Option<(&str, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<Line>> {
    let (chain, seq) = known.unzip();
    sqlx::query_as!(
        Line,
        r#"select e.audit_entry_id, e.chain, e.seq, e.occurred_at, u.name as "actor_name?",
                  e.action
           from audit_entry e left join app_user u on u.user_id = e.actor_id
           where e.entity_type = $1 and e.entity_id = $2
             and ($3::text is null or e.chain <> $3 or e.seq > $4)
           order by e.occurred_at desc, e.audit_entry_id desc
           limit $5"#,
        entity_type,
        entity_id,
        chain,
        seq,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The newest entries that change who may do what: accounts created or changed, memberships
/// added, changed or ended (the 权限变更 list of the discipline group).
pub async fn permission_entries(
    conn: &mut PgConnection,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as!(
        AuditEntry,
        r#"select e.audit_entry_id, e.chain, e.seq, e.occurred_at, e.actor_id as "actor_id: _",
                  u.login as "actor_login?", u.name as "actor_name?", e.action, e.entity_type,
                  e.entity_id, e.before, e.after, e.client_addr, encode(e.hash, 'hex') as "hash!"
           from audit_entry e left join app_user u on u.user_id = e.actor_id
           where e.action in ('user.create', 'user.update', 'membership.add',
                              'membership.change', 'membership.end')
           order by e.occurred_at desc, e.audit_entry_id desc
           limit $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// What each of `ids` names, in words: a person's name, a meeting's or topic's title, a
/// group's or section's name — for reading entries that hold ids.
pub async fn names_of(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!(
        r#"select user_id as "id!", name as "name!" from app_user where user_id = any($1)
           union all select meeting_id, title from meeting where meeting_id = any($1)
           union all select topic_id, title from topic where topic_id = any($1)
           union all select party_group_id, name from party_group where party_group_id = any($1)
           union all select section_id, name from section where section_id = any($1)"#,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// The newest meetings and topics, as `type:id` filters with their titles: what the audit
/// page offers to pick a thing's whole timeline from.
pub async fn timelines(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"(select 'meeting:' || meeting_id as "filter!", '会议:' || title as "title!"
            from meeting order by starts_at desc limit 100)
           union all
           (select 'topic:' || topic_id, '议题:' || title from topic order by created_at desc limit 100)"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.filter, r.title)).collect())
}
