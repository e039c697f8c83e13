//! What the pages, the API and the commands do, between `web` (or `main`) and `domain`: each
//! function loads what a rule reads, asks `domain` and answers, knowing nothing of HTTP.

pub mod account;
pub mod actor;
pub mod audit_reading;
pub mod ballot_box;
pub mod deliberation;
pub mod duties;
pub mod error;
pub mod followup;
pub mod home;
pub mod input;
pub mod mail;
pub mod meeting;
pub mod minutes;
pub mod organisation;
pub mod paper_vote;
pub mod refusal;
pub mod session_cache;
pub mod summary;
pub mod topic;

use std::sync::Arc;

use sqlx::PgPool;

use crate::audit::AuditLog;
use crate::config::Config;
use crate::keys::BallotKey;

pub use actor::CurrentUser;
pub use error::{AppError, FieldError};

/// One line of a person's to-do list on the home page (`home`).
pub struct Todo {
    pub waiting: crate::domain::waiting::Waiting,
    pub label: String,
    pub href: String,
}

impl Todo {
    /// The home page's line for `waiting` about `subject`, linking to `href`.
    pub fn new(
        waiting: crate::domain::waiting::Waiting,
        subject: &str,
        href: impl Into<String>,
    ) -> Todo {
        Todo {
            waiting,
            label: waiting.line(subject),
            href: href.into(),
        }
    }
}

/// What every action works with: the database, the configuration, the audit log and the ballot
/// key (both kept outside the database).
pub struct Services {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub audit: Arc<AuditLog>,
    pub ballot: Arc<BallotKey>,
    /// An argon2 hash checked when a login is unknown, so that costs as much as a wrong password.
    pub dummy_hash: Arc<str>,
    pub sessions: Arc<session_cache::SessionCache>,
    /// This instance's read models of the meetings it shows.
    pub live: Arc<meeting::LiveMeetings>,
}

impl Services {
    /// The last step of most actions: the audit entry, in the action's own transaction, then
    /// the commit; so an action and its entry land together or not at all.
    pub async fn commit(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        user: &CurrentUser,
        change: crate::audit::Change,
    ) -> Result<(), AppError> {
        self.audit
            .append(&mut tx, &user.audit_actor(), change)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reads (or creates) the key files and starts signing audit checkpoints, so it must be
    /// called within the tokio runtime.
    pub fn new(pool: PgPool, config: Config) -> anyhow::Result<Services> {
        let keys = crate::keys::Keys::load_or_create(&config)?;
        let audit = Arc::new(AuditLog::new(keys.audit, config.checkpoint_file.clone()));
        crate::audit::keeper::spawn(pool.clone(), audit.clone(), config.checkpoint_interval);
        let dummy_hash = crate::auth::password::hash_blocking(&crate::random::hex(16))?;
        Ok(Services {
            dummy_hash: dummy_hash.into(),
            pool,
            config: Arc::new(config),
            audit,
            ballot: Arc::new(keys.ballot),
            sessions: Arc::default(),
            live: Arc::default(),
        })
    }
}
