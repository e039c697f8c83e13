//! The audit log (R-AUDIT, 第十条 and 第二十六条): every state change is one entry written in the
//! same transaction as the change. Entries form chains, one per party group plus one (`org`)
//! for organisation-level actions, so meetings of different groups never queue behind one
//! another. Each entry's hash is a keyed hash (HMAC, the key in a file outside the database)
//! over its predecessor's hash and its own canonical content: nobody who lacks the key — the
//! database's administrator included — can alter, insert or re-chain an entry unnoticed.
//! Signed checkpoints of every chain's head (`checkpoint`) catch what a chain alone cannot: a
//! cut-off tail or a roll-back to an earlier copy.

pub mod actions;
pub mod checkpoint;
pub mod keeper;
pub mod suite;
mod verify;

pub use verify::{Broken, ChainHead, CheckpointCheck, Verification, verify};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use suite::AuditKeys;

use crate::domain::ids::{PartyGroupId, UserId};

/// The hash a chain starts from.
const GENESIS: [u8; 32] = [0; 32];
/// What the keyed hash of an entry starts with: its version.
const ENTRY_LABEL: &[u8] = b"yishi/audit-entry/v2\n";

/// Which chain an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Org,
    PartyGroup(PartyGroupId),
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
    pub user_id: Option<UserId>,
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
    actor_id: Option<UserId>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<&'a str>,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    client_addr: Option<&'a str>,
}

impl Hashed<'_> {
    /// The keyed hash: MAC(key, label ‖ the predecessor's hash ‖ the canonical entry).
    fn mac(&self, keys: &AuditKeys, prev: &[u8], seq: i64) -> Vec<u8> {
        let (before_seq, after_seq) = self.canonical_around_seq();
        let text = format!("{before_seq}{seq}{after_seq}");
        keys.mac(&[ENTRY_LABEL, prev, text.as_bytes()])
    }

    /// The unkeyed hash of entries written before the key existed (below the chain's
    /// `keyed_from`): sha256(the predecessor's hash ‖ the canonical entry).
    fn legacy_hash(&self, prev: &[u8], seq: i64) -> Vec<u8> {
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

/// Where an entry landed: its chain, place and hash. A sealed document carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Head {
    pub chain: String,
    pub seq: i64,
    /// Hex.
    pub hash: String,
}

/// The audit log of a server: its keys, and the checkpoints it keeps outside the database.
pub struct AuditLog {
    keys: AuditKeys,
    checkpoints: keeper::Keeper,
}

impl AuditLog {
    pub fn new(keys: AuditKeys, checkpoint_file: std::path::PathBuf) -> AuditLog {
        AuditLog {
            keys,
            checkpoints: keeper::Keeper::new(checkpoint_file),
        }
    }

    pub fn keys(&self) -> &AuditKeys {
        &self.keys
    }

    /// Appends one entry to its chain. Call it inside the transaction that makes the change.
    ///
    /// The chain's head is locked and read in one statement (a transaction-scoped advisory
    /// lock, so the server's role needs no right to change any audit row), the keyed hash is
    /// computed here — the key never reaches the database — and the entry is inserted; the lock
    /// is held until commit, so writers of one chain queue and cannot fork it.
    pub async fn append(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        change: Change,
    ) -> sqlx::Result<Head> {
        let chain = change.chain.key();
        Ok(self
            .append_all(conn, actor, &chain, vec![change])
            .await?
            .pop()
            .expect("one entry appended"))
    }

    /// Appends entries to one chain (`chain`, the key of every change's chain) in order, under
    /// one lock of its head and in one statement: a bulk action (the roster import) writes each
    /// of its entries as a single action would, without a round trip per entry.
    pub async fn append_all(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        chain: &str,
        changes: Vec<Change>,
    ) -> sqlx::Result<Vec<Head>> {
        debug_assert!(changes.iter().all(|c| c.chain.key() == chain));
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let head = loop {
            let head = sqlx::query!(
                r#"select seq, hash, keyed_from from audit_lock_head($1)"#,
                chain
            )
            .fetch_one(&mut *conn)
            .await?;
            if head.keyed_from.is_some() {
                break head;
            }
            // The chain's first entry: register the chain (its entries are keyed from the
            // first), then read the head again under the lock already held.
            sqlx::query!(
                "insert into audit_chain (chain, keyed_from) values ($1, 1) on conflict do nothing",
                chain
            )
            .execute(&mut *conn)
            .await?;
        };
        let mut seq = head.seq.unwrap_or(0);
        let mut prev = head.hash.unwrap_or_else(|| GENESIS.to_vec());
        let n = changes.len();
        let (mut ids, mut seqs, mut times) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut actions, mut types, mut entities) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut befores, mut afters, mut prevs, mut hashes) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut heads = Vec::with_capacity(n);
        for change in changes {
            let now = OffsetDateTime::now_utc();
            // PostgreSQL keeps microseconds; hash exactly what is stored.
            let occurred_at = now
                .replace_nanosecond(now.nanosecond() / 1000 * 1000)
                .expect("truncated nanoseconds are in range");
            let audit_entry_id = Uuid::now_v7();
            seq += 1;
            let hash = Hashed {
                chain,
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
            .mac(&self.keys, &prev, seq);
            heads.push(Head {
                chain: chain.to_owned(),
                seq,
                hash: hex::encode(&hash),
            });
            ids.push(audit_entry_id);
            seqs.push(seq);
            times.push(occurred_at);
            actions.push(change.action);
            types.push(change.entity_type);
            entities.push(change.entity_id);
            befores.push(change.before);
            afters.push(change.after);
            prevs.push(std::mem::replace(&mut prev, hash.clone()));
            hashes.push(hash);
        }
        sqlx::query!(
            "insert into audit_entry (audit_entry_id, chain, seq, occurred_at, actor_id, action,
                 entity_type, entity_id, before, after, client_addr, prev_hash, hash)
             select id, $2, seq, at, $5, action, entity_type, entity_id, before, after, $11,
                    prev_hash, hash
             from unnest($1::uuid[], $3::bigint[], $4::timestamptz[], $6::text[], $7::text[],
                         $8::text[], $9::jsonb[], $10::jsonb[], $12::bytea[], $13::bytea[])
                  as e(id, seq, at, action, entity_type, entity_id, before, after, prev_hash, hash)",
            &ids,
            chain,
            &seqs,
            &times,
            actor.user_id as _,
            &actions as &[&str],
            &types as &[&str],
            &entities as &[Option<String>],
            &befores as &[Option<Value>],
            &afters as &[Option<Value>],
            actor.client_addr,
            &prevs,
            &hashes
        )
        .execute(&mut *conn)
        .await?;
        Ok(heads)
    }

    /// The keeper of this server's checkpoints.
    pub fn checkpoints(&self) -> &keeper::Keeper {
        &self.checkpoints
    }

    /// Verifies every chain and checks the log against the checkpoint kept outside the
    /// database and `given` (one the discipline group kept).
    pub async fn verify(
        &self,
        conn: &mut PgConnection,
        given: Option<Result<checkpoint::Signed, String>>,
    ) -> sqlx::Result<Verification> {
        let mut anchors = Vec::new();
        match self.checkpoints.kept() {
            Ok(Some(kept)) => anchors.push(("local".to_owned(), Ok(kept))),
            // Before the first checkpoint there is none to keep; after it, a missing file
            // is itself a finding.
            Ok(None) if checkpoint::newest_stored(conn).await?.is_some() => anchors.push((
                "local".to_owned(),
                Err("本机检查点文件不存在,而数据库中已有签署过的检查点".to_owned()),
            )),
            Ok(None) => {}
            Err(problem) => anchors.push(("local".to_owned(), Err(problem))),
        }
        if let Some(given) = given {
            anchors.push(("given".to_owned(), given));
        }
        verify(conn, &self.keys, anchors).await
    }
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

    fn keys(mac_key: u8) -> AuditKeys {
        AuditKeys::new(suite::Suite::Standard, [mac_key; 32], &[5; 32]).unwrap()
    }

    #[test]
    fn r_audit_keyed_hash_depends_on_content_predecessor_place_and_key() {
        let v = json!({"name": "张伟"});
        let w = json!({"name": "李娜"});
        let k = keys(1);
        let base = sample(Some(&v)).mac(&k, &GENESIS, 1);
        assert_eq!(base, sample(Some(&v)).mac(&k, &GENESIS, 1), "deterministic");
        assert_ne!(base, sample(Some(&w)).mac(&k, &GENESIS, 1), "content");
        assert_ne!(base, sample(Some(&v)).mac(&k, &[1; 32], 1), "predecessor");
        assert_ne!(base, sample(None).mac(&k, &GENESIS, 1), "absent vs present");
        assert_ne!(
            base,
            sample(Some(&v)).mac(&k, &GENESIS, 2),
            "place in the chain"
        );
        assert_ne!(base, sample(Some(&v)).mac(&keys(2), &GENESIS, 1), "the key");
        assert_ne!(base, sample(Some(&v)).legacy_hash(&GENESIS, 1), "unkeyed");
    }

    /// The legacy hash covers the canonical JSON array of the fields in their fixed order:
    /// entries written before the key existed keep verifying.
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
            sample(Some(&v)).legacy_hash(&GENESIS, 12),
            hasher.finalize().to_vec()
        );
    }
}
