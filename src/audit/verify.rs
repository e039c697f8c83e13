//! Verifying the audit log: every chain walked from its start with the keyed hash, then checked
//! against signed checkpoints kept outside the database (the server's latest, one the
//! discipline group kept, the newest one in the database), which catch a cut-off tail or a
//! roll-back that a chain alone cannot show.

use futures_util::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::checkpoint::Signed;
use super::suite::AuditKeys;
use super::{GENESIS, Hashed};

use crate::domain::ids::UserId;

/// The outcome of checking every chain from its start, and the checkpoints.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// A fingerprint of all chain heads (sha256 of `chain:seq:hash` lines), to note down and
    /// compare later.
    pub head: String,
    /// `standard` (HMAC-SHA256, Ed25519) or `gm` (HMAC-SM3, SM2): what the keys use.
    pub suite: String,
    pub chains: Vec<ChainHead>,
    /// The first broken entry, or the first checkpoint the log no longer matches.
    pub broken: Option<Broken>,
    /// Each checkpoint checked, and what it found.
    pub checkpoints: Vec<CheckpointCheck>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainHead {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Broken {
    pub chain: String,
    pub seq: i64,
    /// The entry found at that place, when there is one (a deleted entry has none).
    pub audit_entry_id: Option<Uuid>,
    pub problem_zh: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckpointCheck {
    /// Where the checkpoint came from: `local` (the server's file), `given` (uploaded or
    /// passed to the command) or `database` (the newest one stored).
    pub source: String,
    /// When it was signed (RFC 3339), when it could be read.
    pub at: Option<String>,
    pub ok: bool,
    pub problem_zh: Option<String>,
}

/// Where a walk of a chain starts: after `seq`, whose hash is `hash` (0 and the genesis hash
/// for a whole chain).
pub(super) struct From {
    pub seq: i64,
    pub hash: Vec<u8>,
}

impl From {
    pub fn genesis() -> From {
        From {
            seq: 0,
            hash: GENESIS.to_vec(),
        }
    }
}

/// The end of a walk: the last entry's place and hash, and how many entries were checked.
pub(super) struct Walked {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub entries: i64,
}

/// Walks a chain's entries after `from`, in order, recomputing each hash (keyed from
/// `keyed_from`, unkeyed before it). Names the first entry altered, inserted, deleted or
/// reordered.
pub(super) async fn walk(
    conn: &mut PgConnection,
    keys: &AuditKeys,
    chain: &str,
    keyed_from: i64,
    from: From,
) -> sqlx::Result<Result<Walked, Broken>> {
    let mut rows = sqlx::query!(
        r#"select audit_entry_id, seq, occurred_at, actor_id as "actor_id: UserId", action, entity_type, entity_id,
                before, after, client_addr, prev_hash, hash
         from audit_entry where chain = $1 and seq > $2 order by seq"#,
        chain,
        from.seq
    )
    .fetch(conn);
    let fault = |seq, id, problem: String| Broken {
        chain: chain.to_owned(),
        seq,
        audit_entry_id: id,
        problem_zh: problem,
    };
    let (mut prev, mut expected, mut entries) = (from.hash, from.seq + 1, 0);
    while let Some(row) = rows.try_next().await? {
        entries += 1;
        if row.seq != expected {
            return Ok(Err(fault(
                expected,
                None,
                format!("第 {expected} 条记录缺失(已被删除)"),
            )));
        }
        if row.prev_hash != prev {
            return Ok(Err(fault(
                row.seq,
                Some(row.audit_entry_id),
                "前一条记录的哈希不符(记录被删除或替换)".into(),
            )));
        }
        let hashed = Hashed {
            chain,
            audit_entry_id: row.audit_entry_id,
            occurred_at: row.occurred_at,
            actor_id: row.actor_id,
            action: &row.action,
            entity_type: &row.entity_type,
            entity_id: row.entity_id.as_deref(),
            before: row.before.as_ref(),
            after: row.after.as_ref(),
            client_addr: row.client_addr.as_deref(),
        };
        let recomputed = if row.seq >= keyed_from {
            hashed.mac(keys, &prev, row.seq)
        } else {
            hashed.legacy_hash(&prev, row.seq)
        };
        if recomputed != row.hash {
            return Ok(Err(fault(
                row.seq,
                Some(row.audit_entry_id),
                "记录内容与密钥哈希不符(记录被改动或伪造)".into(),
            )));
        }
        prev = row.hash;
        expected += 1;
    }
    Ok(Ok(Walked {
        seq: expected - 1,
        hash: prev,
        entries,
    }))
}

/// The chains the database has, with the place their keyed hashes start.
pub(super) async fn chains(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query!("select chain, keyed_from from audit_chain order by chain")
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|c| (c.chain, c.keyed_from))
            .collect(),
    )
}

/// What a checkpoint finds in the database: `None` when every chain it names still holds the
/// entry it recorded, with the same hash; otherwise the first mismatch.
pub(super) async fn against(
    conn: &mut PgConnection,
    keys: &AuditKeys,
    checkpoint: &Signed,
) -> sqlx::Result<Option<Broken>> {
    if let Err(problem) = checkpoint.check(keys) {
        return Ok(Some(Broken {
            chain: String::new(),
            seq: 0,
            audit_entry_id: None,
            problem_zh: problem,
        }));
    }
    let at = &checkpoint.body.at;
    for mark in &checkpoint.body.chains {
        if mark.seq == 0 {
            continue;
        }
        let found = sqlx::query!(
            "select audit_entry_id, hash from audit_entry where chain = $1 and seq = $2",
            mark.chain,
            mark.seq
        )
        .fetch_optional(&mut *conn)
        .await?;
        let problem = match found {
            None => Some((
                None,
                format!(
                    "检查点({at})记录本链至第 {} 条,库中已没有这一条:链尾被截断或整个日志被回滚",
                    mark.seq
                ),
            )),
            Some(row) if hex::encode(&row.hash) != mark.hash => Some((
                Some(row.audit_entry_id),
                format!(
                    "检查点({at})记录的第 {} 条哈希与库中不符:日志被回滚到更早的副本或被改写",
                    mark.seq
                ),
            )),
            Some(_) => None,
        };
        if let Some((id, problem_zh)) = problem {
            return Ok(Some(Broken {
                chain: mark.chain.clone(),
                seq: mark.seq,
                audit_entry_id: id,
                problem_zh,
            }));
        }
    }
    Ok(None)
}

/// Walks every chain from its genesis, then checks each checkpoint given (`source`, and the
/// checkpoint or why it could not be read) and the newest one stored in the database.
pub async fn verify(
    conn: &mut PgConnection,
    keys: &AuditKeys,
    given: Vec<(String, Result<Signed, String>)>,
) -> sqlx::Result<Verification> {
    let mut entries = 0i64;
    let mut broken = None;
    let mut heads = Vec::new();
    for (chain, keyed_from) in chains(conn).await? {
        match walk(conn, keys, &chain, keyed_from, From::genesis()).await? {
            Ok(w) => {
                entries += w.entries;
                heads.push(ChainHead {
                    chain,
                    seq: w.seq,
                    hash: hex::encode(&w.hash),
                });
            }
            Err(b) => {
                let seq: Option<i64> =
                    sqlx::query_scalar!("select max(seq) from audit_entry where chain = $1", chain)
                        .fetch_one(&mut *conn)
                        .await?;
                entries += seq.unwrap_or(0);
                heads.push(ChainHead {
                    chain,
                    seq: seq.unwrap_or(0),
                    hash: String::new(),
                });
                broken.get_or_insert(b);
            }
        }
    }

    let mut anchors = given;
    if let Some(stored) = super::checkpoint::newest_stored(conn).await? {
        anchors.push(("database".to_owned(), stored));
    }
    let mut checkpoints = Vec::new();
    for (source, anchor) in anchors {
        let (at, problem) = match anchor {
            Err(problem) => (None, Some(problem)),
            Ok(cp) => {
                let found = against(conn, keys, &cp).await?;
                let problem = found.as_ref().map(|b| b.problem_zh.clone());
                if let Some(b) = found
                    && broken.is_none()
                {
                    broken = Some(b);
                }
                (Some(cp.body.at.clone()), problem)
            }
        };
        checkpoints.push(CheckpointCheck {
            source,
            at,
            ok: problem.is_none(),
            problem_zh: problem,
        });
    }

    let mut fingerprint = Sha256::new();
    for h in &heads {
        fingerprint.update(format!("{}:{}:{}\n", h.chain, h.seq, h.hash));
    }
    Ok(Verification {
        ok: broken.is_none() && checkpoints.iter().all(|c| c.ok),
        entries,
        head: hex::encode(fingerprint.finalize()),
        suite: keys.suite().as_str().to_owned(),
        chains: heads,
        broken,
        checkpoints,
    })
}
