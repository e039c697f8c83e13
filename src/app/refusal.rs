//! rules.md: a blocked action writes nothing "except the refusal in the audit log". The refused
//! action's own transaction was rolled back, so the refusal is recorded in a transaction of its
//! own.

use super::{AppError, CurrentUser, Services};
use crate::audit::{Chain, Change};

/// A governance refusal of a signed-in user's request.
pub struct Refused<'a> {
    pub rule: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub detail: &'a str,
}

pub async fn record(state: &Services, user: &CurrentUser, r: Refused<'_>) -> Result<(), AppError> {
    let change = Change::new(Chain::Org, "rule.refused", "rule")
        .entity(r.rule)
        .after(serde_json::json!({ "method": r.method, "path": r.path, "detail": r.detail }));
    let tx = state.pool.begin().await?;
    state.commit(tx, user, change).await
}
