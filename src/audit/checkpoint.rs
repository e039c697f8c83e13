//! Signed checkpoints of the audit chains (R-AUDIT): each names every chain's last entry (place
//! and hash) and is signed with a key kept outside the database. The newest is kept outside the
//! database too, in a file of the server's data directory, so verification with nothing but the
//! server's configuration finds a cut-off tail or a roll-back; the discipline group downloads
//! checkpoints and can check the log against one at any later time. A sealed document carries a
//! checkpoint of its own chain (an anchor) in its footer.
//!
//! A checkpoint is signed only after the entries since the previous one have been verified and
//! the previous one is still in the log: the server never signs a log that was rewritten or
//! rolled back under it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::suite::{AuditKeys, Suite};
use super::verify::{Broken, From, chains, walk};
use super::{AuditLog, Head, canonical_json};

/// What a checkpoint's signature covers starts with its version.
const LABEL: &[u8] = b"yishi/audit-checkpoint/v1\n";

/// One chain's last entry at the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainMark {
    pub chain: String,
    pub seq: i64,
    /// Hex.
    pub hash: String,
    /// The first entry with a keyed hash (earlier ones predate the key).
    pub keyed_from: i64,
}

/// The sealed document an anchor is taken for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    /// `minutes` or `summary`.
    pub kind: String,
    pub meeting_id: Uuid,
    /// sha256 of the sealed document (hex).
    pub sha256: String,
}

/// What is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Body {
    pub version: u32,
    /// `start`, `periodic`, `requested` or `seal`.
    pub kind: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// `standard` or `gm`.
    pub suite: String,
    /// `hmac-sha256` or `hmac-sm3`.
    pub mac: String,
    /// `ed25519` or `sm2`.
    pub signature_algorithm: String,
    /// The signing key's public half (hex).
    pub public_key: String,
    pub chains: Vec<ChainMark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
}

/// A checkpoint with its signature: the file the discipline group keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Signed {
    pub body: Body,
    /// Hex.
    pub signature: String,
}

impl Body {
    fn message(&self) -> Vec<u8> {
        let json = serde_json::to_value(self).expect("a checkpoint serializes");
        [LABEL, canonical_json(&json).as_bytes()].concat()
    }
}

impl Signed {
    fn sign(
        keys: &AuditKeys,
        kind: &str,
        chains: Vec<ChainMark>,
        document: Option<Document>,
    ) -> Signed {
        let suite = keys.suite();
        let body = Body {
            version: 1,
            kind: kind.to_owned(),
            at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .expect("a time formats"),
            suite: suite.as_str().to_owned(),
            mac: suite.mac_name().to_owned(),
            signature_algorithm: suite.signature_name().to_owned(),
            public_key: hex::encode(keys.public_key()),
            chains,
            document,
        };
        let signature = hex::encode(keys.sign(&body.message()));
        Signed { body, signature }
    }

    /// Checks the signature, and that it was made with this server's key and suite.
    pub fn check(&self, keys: &AuditKeys) -> Result<(), String> {
        let b = &self.body;
        let suite = Suite::parse(&b.suite)
            .filter(|s| s.mac_name() == b.mac && s.signature_name() == b.signature_algorithm)
            .ok_or_else(|| {
                format!(
                    "检查点的算法({} / {})无法识别",
                    b.mac, b.signature_algorithm
                )
            })?;
        let (Ok(public_key), Ok(signature)) =
            (hex::decode(&b.public_key), hex::decode(&self.signature))
        else {
            return Err("检查点的公钥或签名不是十六进制".into());
        };
        if !suite.verify(&public_key, &b.message(), &signature) {
            return Err("检查点的签名无效(检查点被改动)".into());
        }
        if suite != keys.suite() || public_key != keys.public_key() {
            return Err("检查点不是用本系统的签名密钥签署的".into());
        }
        Ok(())
    }

    /// Reads a checkpoint file (as downloaded or kept by the server).
    pub fn parse(text: &str) -> Result<Signed, String> {
        serde_json::from_str(text).map_err(|_| "不是检查点文件(应为下载的 JSON)".to_owned())
    }

    pub fn to_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a checkpoint serializes")
    }
}

/// Why no checkpoint was signed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the audit log does not verify: {}", .0.problem_zh)]
    Broken(Broken),
    #[error("the kept checkpoint {0}")]
    Kept(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("write the checkpoint file: {0}")]
    File(#[from] std::io::Error),
}

/// The server's checkpoints: the file with the newest, and one writer at a time.
pub struct Keeper {
    file: PathBuf,
    lock: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
}

impl Keeper {
    pub fn new(file: PathBuf) -> Keeper {
        Keeper {
            file,
            lock: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The newest checkpoint kept outside the database; `None` before the first.
    pub fn kept(&self) -> Result<Option<Signed>, String> {
        match std::fs::read_to_string(&self.file) {
            Ok(text) => Signed::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("无法读取本机检查点文件:{e}")),
        }
    }

    /// Asks the periodic task to sign a checkpoint now (after a seal).
    pub fn request(&self) {
        self.wake.notify_one();
    }

    /// Waits until a checkpoint is requested.
    pub async fn requested(&self) {
        self.wake.notified().await;
    }

    fn keep(&self, signed: &Signed) -> std::io::Result<()> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temp = self
            .file
            .with_extension(format!("tmp-{}", crate::random::hex(8)));
        std::fs::write(&temp, signed.to_pretty())?;
        std::fs::File::open(&temp)?.sync_all()?;
        std::fs::rename(&temp, &self.file)
    }
}

impl AuditLog {
    /// Signs a checkpoint of every chain's head, after verifying each chain from the kept
    /// checkpoint on; stores it in the database and keeps it in the file. `None` when nothing
    /// was written since the kept one (only for `periodic`).
    pub async fn checkpoint(
        &self,
        conn: &mut PgConnection,
        kind: &str,
    ) -> Result<Option<Signed>, CheckpointError> {
        let keeper = self.checkpoints();
        let _one_at_a_time = keeper.lock.lock().await;
        let kept = keeper.kept().map_err(CheckpointError::Kept)?;
        if let Some(k) = &kept {
            k.check(self.keys()).map_err(CheckpointError::Kept)?;
            if let Some(b) = super::verify::against(conn, self.keys(), k).await? {
                return Err(CheckpointError::Broken(b));
            }
        }
        let chains_now = chains(conn).await?;
        if let Some(missing) = kept
            .iter()
            .flat_map(|k| &k.body.chains)
            .find(|m| !chains_now.iter().any(|(c, _)| *c == m.chain))
        {
            return Err(CheckpointError::Broken(Broken {
                chain: missing.chain.clone(),
                seq: missing.seq,
                audit_entry_id: None,
                problem_zh: "检查点中的这条链在库中已不存在".into(),
            }));
        }
        let mut marks = Vec::with_capacity(chains_now.len());
        for (chain, keyed_from) in chains_now {
            let from = kept
                .iter()
                .flat_map(|k| &k.body.chains)
                .find(|m| m.chain == chain)
                .and_then(|m| {
                    Some(From {
                        seq: m.seq,
                        hash: hex::decode(&m.hash).ok()?,
                    })
                })
                .unwrap_or_else(From::genesis);
            let walked = walk(conn, self.keys(), &chain, keyed_from, from)
                .await?
                .map_err(CheckpointError::Broken)?;
            marks.push(ChainMark {
                chain,
                seq: walked.seq,
                hash: hex::encode(&walked.hash),
                keyed_from,
            });
        }
        if kind == "periodic" && kept.as_ref().is_some_and(|k| k.body.chains == marks) {
            return Ok(None);
        }
        let signed = Signed::sign(self.keys(), kind, marks, None);
        store(conn, &signed).await?;
        keeper.keep(&signed)?;
        Ok(Some(signed))
    }

    /// An anchor for a sealed document: a checkpoint of the chain head its seal entry made,
    /// stored in the same transaction. The full checkpoint (and the kept file) follows once the
    /// transaction has committed ([`Keeper::request`]).
    pub async fn anchor(
        &self,
        conn: &mut PgConnection,
        head: &Head,
        document: Document,
    ) -> sqlx::Result<Signed> {
        let keyed_from: i64 = sqlx::query_scalar!(
            "select keyed_from from audit_chain where chain = $1",
            head.chain
        )
        .fetch_one(&mut *conn)
        .await?;
        let mark = ChainMark {
            chain: head.chain.clone(),
            seq: head.seq,
            hash: head.hash.clone(),
            keyed_from,
        };
        let signed = Signed::sign(self.keys(), "seal", vec![mark], Some(document));
        store(conn, &signed).await?;
        Ok(signed)
    }
}

async fn store(conn: &mut PgConnection, signed: &Signed) -> sqlx::Result<()> {
    let body = serde_json::to_value(&signed.body).expect("a checkpoint serializes");
    sqlx::query!(
        "insert into audit_checkpoint (checkpoint_id, kind, body, signature) values ($1, $2, $3, $4)",
        Uuid::now_v7(),
        signed.body.kind,
        body,
        signed.signature
    )
    .execute(conn)
    .await
    .map(drop)
}

/// The newest checkpoint stored in the database (or why it cannot be read).
pub async fn newest_stored(
    conn: &mut PgConnection,
) -> sqlx::Result<Option<Result<Signed, String>>> {
    let row = sqlx::query!(
        "select body, signature from audit_checkpoint where kind <> 'seal'
         order by created_at desc limit 1"
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| signed(r.body, r.signature).ok_or_else(|| "库内检查点无法解析".to_owned())))
}

/// A stored checkpoint from its row; `None` when its body does not parse.
fn signed(body: serde_json::Value, signature: String) -> Option<Signed> {
    Some(Signed {
        body: serde_json::from_value(body).ok()?,
        signature,
    })
}

/// A stored checkpoint, for the list the discipline group downloads from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stored {
    pub checkpoint_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub kind: String,
    pub checkpoint: Signed,
}

pub async fn list(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Stored>> {
    let rows = sqlx::query!(
        "select checkpoint_id, created_at, kind, body, signature from audit_checkpoint
         order by created_at desc limit $1",
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Stored {
                checkpoint_id: r.checkpoint_id,
                created_at: r.created_at,
                kind: r.kind,
                checkpoint: signed(r.body, r.signature)?,
            })
        })
        .collect())
}

/// The anchor signed when a meeting's minutes or summary (`kind`) was sealed.
pub async fn anchor_of(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    kind: &str,
) -> sqlx::Result<Option<Signed>> {
    let row = sqlx::query!(
        "select body, signature from audit_checkpoint
         where kind = 'seal' and body -> 'document' ->> 'meeting_id' = $1
           and body -> 'document' ->> 'kind' = $2
         order by created_at desc limit 1",
        meeting_id.to_string(),
        kind
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|r| signed(r.body, r.signature)))
}

impl Signed {
    /// The line a sealed document's footer carries: the chain, the place and hash of the
    /// sealing entry, and the signature.
    pub fn footer_zh(&self) -> String {
        let mark = self.body.chains.first();
        let algorithm = if self.body.signature_algorithm == "sm2" {
            "SM2"
        } else {
            "Ed25519"
        };
        format!(
            "留痕锚点:审计链 {} 第 {} 条,哈希 {};{}签名 {}(签名公钥 {})",
            mark.map_or("", |m| m.chain.as_str()),
            mark.map_or(0, |m| m.seq),
            mark.map_or("", |m| m.hash.as_str()),
            algorithm,
            self.signature,
            self.body.public_key
        )
    }
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Signed>> {
    let row = sqlx::query!(
        "select body, signature from audit_checkpoint where checkpoint_id = $1",
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|r| signed(r.body, r.signature)))
}

/// Signs a checkpoint when the server starts, then every `interval` while the log grows and
/// whenever one is requested (after a seal). A failure is logged and the kept checkpoint left
/// as it was: the next verification shows what is wrong.
pub fn spawn(pool: sqlx::PgPool, log: std::sync::Arc<AuditLog>, interval: std::time::Duration) {
    tokio::spawn(async move {
        let mut kind = "start";
        loop {
            match pool.acquire().await {
                Ok(mut conn) => match log.checkpoint(&mut conn, kind).await {
                    Ok(Some(c)) => {
                        tracing::debug!(at = %c.body.at, kind, "audit checkpoint signed")
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "no audit checkpoint signed"),
                },
                Err(e) if pool.is_closed() => {
                    tracing::debug!(error = %e, "checkpoints stop with the pool");
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "no connection for the audit checkpoint"),
            }
            kind = "periodic";
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = log.checkpoints().requested() => {}
            }
        }
    });
}
