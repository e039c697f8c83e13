//! Keeping checkpoints (R-AUDIT): the server signs one when it starts, then periodically and
//! after each seal, each only after verifying the entries since the kept one; the newest is
//! kept in a file outside the database. A sealed document's anchor is signed in the sealing
//! transaction.

use std::path::{Path, PathBuf};

use sqlx::PgConnection;

use super::checkpoint::{ChainMark, Document, Signed, store};
use super::verify::{Broken, From, chains, walk};
use super::{AuditLog, Head};

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
