//! Topic materials: an upload is judged by its bytes as they arrive and kept, in chunks with
//! its sha256, in one transaction with its audit entry; a file is served only to those entitled
//! (R-CONFIDENTIAL), each read of a classified one audited.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{recordable_kinds, relation_to, requirements, topic_for_action, visible_topic};
use crate::app::error::AppError;
use crate::app::{CurrentUser, Services};
use crate::audit::{Chain, Change};
use crate::db::materials::{CHUNK, MaterialFile, MaterialInfo, NewMaterial};
use crate::db::topics::Topic;
use crate::db::{self};
use crate::domain::authz::Action;
use crate::domain::ids::{TaskId, TopicId};
use crate::domain::material::{Sniffer, too_large};
use crate::domain::records::check_task_open;
use crate::domain::topic::{Classification, PrerequisiteKind};

/// What an upload is for: a material of the topic (its proposer, while the topic is open), the
/// attachment of a prerequisite record (the record's owner, once the record is on file), or the
/// file that closes a task decided on the topic.
#[derive(Clone, Copy)]
pub enum Purpose {
    Material,
    Attachment(PrerequisiteKind),
    /// The file closing a follow-up task of a decision on the topic (销号; its lead or 综合科).
    Closing(TaskId),
}

/// Locks the topic and checks that the user may upload for `purpose` now.
async fn authorize(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: TopicId,
    purpose: Purpose,
) -> Result<Topic, AppError> {
    match purpose {
        Purpose::Material => {
            let (topic, _) = topic_for_action(conn, user, id, Action::EditTopic).await?;
            topic.status.edit()?;
            Ok(topic)
        }
        Purpose::Attachment(kind) => {
            let (topic, _) = topic_for_action(conn, user, id, Action::RecordPrerequisite).await?;
            let required = requirements(conn, &topic).await?;
            if !recordable_kinds(conn, user, &topic, &required)
                .await?
                .contains(&kind)
            {
                return Err(AppError::Forbidden);
            }
            topic.status.prepare()?;
            let on_file = db::topics::prerequisites(conn, id)
                .await?
                .iter()
                .any(|p| p.kind == kind);
            if !on_file {
                return Err(AppError::invalid(
                    "kind",
                    "请先录入该项前置审查的结论,再上传附件",
                ));
            }
            Ok(topic)
        }
        Purpose::Closing(task_id) => {
            let (_, task) =
                crate::app::followup::task_ctx(conn, user, task_id, Action::ReportProgress, true)
                    .await?;
            check_task_open(task.done_at.is_some())?;
            let topic = db::topics::get(conn, id, false)
                .await?
                .ok_or(AppError::NotFound)?;
            if db::followup::topic_of_task(conn, task_id).await? != Some(id) {
                return Err(AppError::NotFound);
            }
            Ok(topic)
        }
    }
}

/// An upload under way: its chunks go into the transaction as they arrive, so memory holds
/// at most one chunk, and the file is judged by its bytes and stopped at the size limit.
pub struct Upload<'a> {
    state: &'a Services,
    user: &'a CurrentUser,
    topic_id: TopicId,
    purpose: Purpose,
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    material_id: Uuid,
    limit: usize,
    sniffer: Sniffer,
    sha: Sha256,
    buffer: Vec<u8>,
    chunks: i32,
}

/// The field an upload's problems are reported under.
fn bad(message: impl Into<String>) -> AppError {
    AppError::invalid("file", message)
}

impl<'a> Upload<'a> {
    /// Starts an upload; who may upload is checked before a byte is read.
    pub async fn begin(
        state: &'a Services,
        user: &'a CurrentUser,
        topic_id: TopicId,
        purpose: Purpose,
    ) -> Result<Upload<'a>, AppError> {
        authorize(&mut *state.pool.acquire().await?, user, topic_id, purpose).await?;
        Ok(Upload {
            state,
            user,
            topic_id,
            purpose,
            tx: state.pool.begin().await?,
            material_id: Uuid::now_v7(),
            limit: state.config.upload_limit_bytes,
            sniffer: Sniffer::default(),
            sha: Sha256::new(),
            buffer: Vec::with_capacity(CHUNK),
            chunks: 0,
        })
    }

    /// The next bytes of the file.
    pub async fn feed(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        if self.sniffer.size() + bytes.len() > self.limit {
            return Err(bad(too_large(self.limit)));
        }
        self.sniffer.feed(bytes);
        self.sha.update(bytes);
        let mut rest = bytes;
        while !rest.is_empty() {
            let take = (CHUNK - self.buffer.len()).min(rest.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buffer.len() == CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), AppError> {
        db::materials::insert_chunk(&mut self.tx, self.material_id, self.chunks, &self.buffer)
            .await?;
        self.buffer.clear();
        self.chunks += 1;
        Ok(())
    }

    /// Keeps the whole file as `file_name`, classified as given (else as its topic), once the
    /// topic is locked and the right to upload checked again.
    pub async fn finish(
        self,
        file_name: &str,
        classification: Option<&str>,
    ) -> Result<MaterialInfo, AppError> {
        let (state, user) = (self.state, self.user);
        let (tx, info, change) = self.finish_into(file_name, classification).await?;
        state.commit(tx, user, change).await?;
        Ok(info)
    }

    /// As `finish`, but the transaction stays open for the action the file belongs to, which
    /// commits it with the upload's audit entry and its own.
    pub async fn finish_into(
        mut self,
        file_name: &str,
        classification: Option<&str>,
    ) -> Result<
        (
            sqlx::Transaction<'static, sqlx::Postgres>,
            MaterialInfo,
            Change,
        ),
        AppError,
    > {
        if !self.buffer.is_empty() {
            self.flush().await?;
        }
        let file_name = crate::domain::account::parse_name(file_name.trim(), 200)
            .map_err(|m| bad(format!("文件名{m}")))?;
        let kind = self.sniffer.finish(&file_name, self.limit).map_err(bad)?;
        let (user, id) = (self.user, self.topic_id);
        let mut tx = self.tx;
        let topic = authorize(&mut tx, user, id, self.purpose).await?;
        let classification = match classification.map(str::trim).filter(|c| !c.is_empty()) {
            None => topic.classification,
            Some(c) => Classification::parse(c).ok_or_else(|| {
                AppError::invalid("classification", "须为 none、internal 或 secret")
            })?,
        };
        let material_id = self.material_id;
        db::materials::insert(
            &mut tx,
            &NewMaterial {
                material_id,
                topic_id: id,
                file_name: &file_name,
                content_type: kind.content_type(),
                size_bytes: self.sniffer.size() as i64,
                sha256: &self.sha.finalize(),
                classification,
                uploaded_by: user.user_id,
                prerequisite_kind: match self.purpose {
                    Purpose::Material | Purpose::Closing(_) => None,
                    Purpose::Attachment(k) => Some(k.as_str()),
                },
            },
        )
        .await?;
        let info = db::materials::list(&mut tx, id)
            .await?
            .into_iter()
            .find(|m| m.material_id == material_id)
            .ok_or_else(|| anyhow::anyhow!("uploaded material not found"))?;
        let change = Change::new(
            Chain::PartyGroup(topic.party_group_id),
            "material.upload",
            "material",
        )
        .entity(material_id)
        .after(&info);
        Ok((tx, info, change))
    }
}

/// A material's file for a reader entitled to it (else 404); a read of a classified one is
/// audited before a byte goes out.
pub async fn open_file(
    state: &Services,
    user: &CurrentUser,
    id: TopicId,
    material_id: Uuid,
) -> Result<MaterialFile, AppError> {
    let topic = visible_topic(state, user, id).await?;
    let mut conn = state.pool.acquire().await?;
    let file = db::materials::file(&mut conn, id, material_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (position, relation) = relation_to(&mut conn, user, &topic).await?;
    let secret = file.classification == Classification::Secret;
    user.can_in(
        Action::ReadMaterial { secret },
        topic.party_group_id,
        position,
        &relation,
    )
    .map_err(|_| AppError::NotFound)?;
    drop(conn);
    let none = Classification::Unclassified;
    if file.classification != none || topic.classification != none {
        let tx = state.pool.begin().await?;
        let change = Change::new(
            Chain::PartyGroup(topic.party_group_id),
            "material.read",
            "material",
        )
        .entity(material_id);
        state.commit(tx, user, change).await?;
    }
    Ok(file)
}

/// A file's bytes chunk by chunk, read on a connection of its own: memory holds one chunk.
pub async fn chunks(
    state: &Services,
    material_id: Uuid,
) -> Result<impl futures_util::Stream<Item = sqlx::Result<Vec<u8>>> + use<>, AppError> {
    let conn = state.pool.acquire().await?;
    Ok(futures_util::stream::unfold(
        (conn, 0i32),
        move |(mut conn, n)| async move {
            match db::materials::chunk(&mut conn, material_id, n).await {
                Ok(Some(data)) => Some((Ok(data), (conn, n + 1))),
                Ok(None) => None,
                Err(e) => Some((Err(e), (conn, i32::MAX))),
            }
        },
    ))
}
