//! The audit log (R-AUDIT, 第十条 and 第二十六条): every state change is one entry written in the
//! same transaction as the change. Entries form hash chains, `hash = sha256(prev_hash ‖
//! canonical entry)`, one chain per party group plus one (`org`) for organisation-level actions:
//! appending locks only the head of its own chain, so meetings of different groups never queue
//! behind one fsync (see the figures in `architecture.md`), while writers of one chain are
//! serialised by the row lock and cannot fork it.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The hash a chain starts from.
const GENESIS: [u8; 32] = [0; 32];

/// Which chain an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Org,
    PartyGroup(Uuid),
}

impl Chain {
    pub fn key(self) -> String {
        match self {
            Chain::Org => "org".to_owned(),
            Chain::PartyGroup(id) => format!("pg:{id}"),
        }
    }
}

/// Who acts and from where; taken from the request.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub client_addr: Option<String>,
}

/// One state change to record. `before`/`after` hold the changed resource as JSON and must never
/// hold a password, a token or a secret ballot's choice.
#[derive(Debug, Clone)]
pub struct Change {
    pub chain: Chain,
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    pub fn new(chain: Chain, action: &'static str, entity_type: &'static str) -> Change {
        Change {
            chain,
            action,
            entity_type,
            entity_id: None,
            before: None,
            after: None,
        }
    }

    pub fn entity(mut self, id: impl ToString) -> Self {
        self.entity_id = Some(id.to_string());
        self
    }

    pub fn before(mut self, value: impl Serialize) -> Self {
        self.before = Some(to_value(value));
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Self {
        self.after = Some(to_value(value));
        self
    }
}

fn to_value(value: impl Serialize) -> Value {
    // Serialising plain data structs to a Value cannot fail; a failure is a programming error.
    serde_json::to_value(value).expect("audit payload serialises to JSON")
}

/// The fields an entry's hash covers, in a fixed order.
struct Hashed<'a> {
    chain: &'a str,
    audit_entry_id: Uuid,
    occurred_at: OffsetDateTime,
    actor_id: Option<Uuid>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<&'a str>,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    client_addr: Option<&'a str>,
}

impl Hashed<'_> {
    fn hash(&self, prev: &[u8], seq: i64) -> Vec<u8> {
        let (before_seq, after_seq) = self.canonical_around_seq();
        let mut hasher = Sha256::new();
        hasher.update(prev);
        hasher.update(before_seq.as_bytes());
        hasher.update(seq.to_string().as_bytes());
        hasher.update(after_seq.as_bytes());
        hasher.finalize().to_vec()
    }

    /// The canonical JSON array of the hashed fields, `[chain,seq,id,…]`, as the text before
    /// and after the sequence number: the append lets the database put in the number it finds
    /// at the chain head it locks.
    fn canonical_around_seq(&self) -> (String, String) {
        let micros = self.occurred_at.unix_timestamp_nanos() / 1000;
        let rest = canonical_json(&Value::Array(vec![
            self.audit_entry_id.to_string().into(),
            micros.to_string().into(),
            self.actor_id.map(|u| u.to_string()).into(),
            self.action.into(),
            self.entity_type.into(),
            self.entity_id.into(),
            self.before.cloned().unwrap_or(Value::Null),
            self.after.cloned().unwrap_or(Value::Null),
            self.client_addr.into(),
        ]));
        (
            format!("[{},", canonical_json(&self.chain.into())),
            format!(",{}", &rest[1..]),
        )
    }
}

/// A signed document as sealed: its canonical JSON text and that text's sha256 (hex), the
/// hash that goes into the audit chain.
pub fn seal(document: &impl Serialize) -> (String, String) {
    let text = canonical_json(&to_value(document));
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    (text, hash)
}

/// JSON with object keys sorted at every level, so the text (and its hash) does not depend on
/// the order jsonb or serde keep keys in.
pub fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(&map[key], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// Appends one entry to its chain. Call it inside the transaction that makes the change.
///
/// One statement locks the chain head, chains the entry to it and moves the head: the hash is
/// computed by the database from the head it locked (`sha256(prev ‖ text before seq ‖ seq ‖
/// text after seq)`), so the lock is taken as late as possible and no round trip is spent
/// between locking and writing.
pub async fn append(conn: &mut PgConnection, actor: &Actor, change: Change) -> sqlx::Result<()> {
    let chain = change.chain.key();
    let now = OffsetDateTime::now_utc();
    // PostgreSQL keeps microseconds; hash exactly what is stored.
    let occurred_at = now
        .replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .expect("truncated nanoseconds are in range");
    let audit_entry_id = Uuid::now_v7();
    let (before_seq, after_seq) = Hashed {
        chain: &chain,
        audit_entry_id,
        occurred_at,
        actor_id: actor.user_id,
        action: change.action,
        entity_type: change.entity_type,
        entity_id: change.entity_id.as_deref(),
        before: change.before.as_ref(),
        after: change.after.as_ref(),
        client_addr: actor.client_addr.as_deref(),
    }
    .canonical_around_seq();
    loop {
        let appended = sqlx::query!(
            "with head as (
                 select seq + 1 as seq, head_hash from audit_chain where chain = $2 for update),
             entry as (
                 insert into audit_entry (audit_entry_id, chain, seq, occurred_at, actor_id,
                     action, entity_type, entity_id, before, after, client_addr, prev_hash, hash)
                 select $1, $2, head.seq, $3, $4, $5, $6, $7, $8, $9, $10, head.head_hash,
                        sha256(head.head_hash || convert_to($11 || head.seq::text || $12, 'UTF8'))
                 from head
                 returning seq, hash)
             update audit_chain c set seq = entry.seq, head_hash = entry.hash
             from entry where c.chain = $2",
            audit_entry_id,
            chain,
            occurred_at,
            actor.user_id,
            change.action,
            change.entity_type,
            change.entity_id,
            change.before,
            change.after,
            actor.client_addr,
            before_seq,
            after_seq
        )
        .execute(&mut *conn)
        .await?;
        if appended.rows_affected() == 1 {
            return Ok(());
        }
        // The chain's first entry: start the chain, then append.
        sqlx::query!(
            "insert into audit_chain (chain, seq, head_hash) values ($1, 0, $2)
             on conflict do nothing",
            chain,
            &GENESIS[..]
        )
        .execute(&mut *conn)
        .await?;
    }
}

/// The outcome of checking every chain from its start.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// A fingerprint of all chain heads (sha256 of `chain:seq:hash` lines), to note down and
    /// compare later.
    pub head: String,
    pub chains: Vec<ChainHead>,
    /// The first broken entry, when `ok` is false.
    pub broken: Option<Broken>,
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

/// Walks every chain from its genesis, recomputing each hash. Names the first entry that was
/// altered, deleted or reordered, and a chain whose tail was cut off.
pub async fn verify(conn: &mut PgConnection) -> sqlx::Result<Verification> {
    let heads = sqlx::query!("select chain, seq, head_hash from audit_chain order by chain")
        .fetch_all(&mut *conn)
        .await?;
    let mut entries = 0i64;
    let mut broken = None;
    for head in &heads {
        let rows = sqlx::query!(
            "select audit_entry_id, seq, occurred_at, actor_id, action, entity_type, entity_id,
                    before, after, client_addr, prev_hash, hash
             from audit_entry where chain = $1 order by seq",
            head.chain
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut prev = GENESIS.to_vec();
        let mut expected_seq = 1i64;
        let fault = |seq, id, problem: &str| Broken {
            chain: head.chain.clone(),
            seq,
            audit_entry_id: id,
            problem_zh: problem.to_owned(),
        };
        let mut chain_fault = None;
        for row in &rows {
            entries += 1;
            if row.seq != expected_seq {
                chain_fault = Some(fault(
                    expected_seq,
                    None,
                    &format!("第 {expected_seq} 条记录缺失(已被删除)"),
                ));
                break;
            }
            let recomputed = Hashed {
                chain: &head.chain,
                audit_entry_id: row.audit_entry_id,
                occurred_at: row.occurred_at,
                actor_id: row.actor_id,
                action: &row.action,
                entity_type: &row.entity_type,
                entity_id: row.entity_id.as_deref(),
                before: row.before.as_ref(),
                after: row.after.as_ref(),
                client_addr: row.client_addr.as_deref(),
            }
            .hash(&prev, row.seq);
            if row.prev_hash != prev {
                chain_fault = Some(fault(
                    row.seq,
                    Some(row.audit_entry_id),
                    "前一条记录的哈希不符(记录被删除或替换)",
                ));
                break;
            }
            if recomputed != row.hash {
                chain_fault = Some(fault(
                    row.seq,
                    Some(row.audit_entry_id),
                    "记录内容与哈希不符(记录被改动)",
                ));
                break;
            }
            prev = row.hash.clone();
            expected_seq += 1;
        }
        if chain_fault.is_none() && (head.seq != expected_seq - 1 || head.head_hash != prev) {
            chain_fault = Some(fault(
                expected_seq,
                None,
                &format!(
                    "链尾缺失:应有 {} 条记录,只找到 {}",
                    head.seq,
                    expected_seq - 1
                ),
            ));
        }
        if broken.is_none() {
            broken = chain_fault;
        }
    }

    let mut fingerprint = Sha256::new();
    let chains: Vec<ChainHead> = heads
        .iter()
        .map(|h| {
            let hash = hex::encode(&h.head_hash);
            fingerprint.update(format!("{}:{}:{}\n", h.chain, h.seq, hash));
            ChainHead {
                chain: h.chain.clone(),
                seq: h.seq,
                hash,
            }
        })
        .collect();
    Ok(Verification {
        ok: broken.is_none(),
        entries,
        head: hex::encode(fingerprint.finalize()),
        chains,
        broken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"d": [1, {"y": 2, "x": 1}], "c": "中"}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":"中","d":[1,{"x":1,"y":2}]},"b":1}"#
        );
    }

    fn sample<'a>(before: Option<&'a Value>) -> Hashed<'a> {
        Hashed {
            chain: "org",
            audit_entry_id: Uuid::nil(),
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            actor_id: None,
            action: "user.create",
            entity_type: "user",
            entity_id: Some("x"),
            before,
            after: None,
            client_addr: None,
        }
    }

    #[test]
    fn r_audit_hash_depends_on_content_and_predecessor() {
        let v = json!({"name": "张伟"});
        let w = json!({"name": "李娜"});
        let base = sample(Some(&v)).hash(&GENESIS, 1);
        assert_eq!(base, sample(Some(&v)).hash(&GENESIS, 1), "deterministic");
        assert_ne!(base, sample(Some(&w)).hash(&GENESIS, 1), "content");
        assert_ne!(base, sample(Some(&v)).hash(&[1; 32], 1), "predecessor");
        assert_ne!(base, sample(None).hash(&GENESIS, 1), "absent vs present");
        assert_ne!(
            base,
            sample(Some(&v)).hash(&GENESIS, 2),
            "place in the chain"
        );
    }

    /// The hash covers the canonical JSON array of the fields in their fixed order, as it did
    /// before the database computed it: entries already written keep verifying.
    #[test]
    fn r_audit_hashed_text_is_the_canonical_array_of_the_fields() {
        let v = json!({"name": "张伟", "a": [1]});
        let (before, after) = sample(Some(&v)).canonical_around_seq();
        let whole = canonical_json(&json!([
            "org",
            12,
            Uuid::nil().to_string(),
            "0",
            null,
            "user.create",
            "user",
            "x",
            v,
            null,
            null
        ]));
        assert_eq!(format!("{before}12{after}"), whole);
        let mut hasher = Sha256::new();
        hasher.update(GENESIS);
        hasher.update(whole.as_bytes());
        assert_eq!(
            sample(Some(&v)).hash(&GENESIS, 12),
            hasher.finalize().to_vec()
        );
    }
}
