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

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::canonical_json;
use super::suite::{AuditKeys, Suite};

use crate::domain::ids::MeetingId;

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
    pub meeting_id: MeetingId,
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
    pub(super) fn sign(
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

pub(super) async fn store(conn: &mut PgConnection, signed: &Signed) -> sqlx::Result<()> {
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
    meeting_id: MeetingId,
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
