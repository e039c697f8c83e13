//! Live meeting screens: every change to a meeting is sent with PostgreSQL `NOTIFY` in the
//! transaction that makes it (see `db::meetings::publish`); each server instance listens once
//! and fans the snapshot out to its screens of that meeting over Server-Sent Events. Nothing a
//! screen needs lives only in one instance's memory: on (re)connect it reads the snapshot from
//! the database.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio::time::Instant;
use uuid::Uuid;

use super::AppState;
use super::error::AppError;
use super::extract::{CurrentUser, parse_id};
use crate::db;

/// The NOTIFY channel meeting snapshots travel on.
pub const CHANNEL: &str = "yishi_meeting";

/// A stream is ended after this long so that the browser reconnects and the viewer's access is
/// checked again.
const STREAM_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Snapshots of one meeting buffered per screen before it must resynchronise.
const BUFFER: usize = 64;

/// The screens of this server instance, by meeting.
#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<Uuid, broadcast::Sender<Arc<str>>>>,
    closed: AtomicBool,
}

impl Hub {
    /// A receiver of the meeting's snapshots. After [`Hub::close`] it yields nothing.
    pub fn subscribe(&self, meeting_id: Uuid) -> broadcast::Receiver<Arc<str>> {
        if self.closed.load(Ordering::Acquire) {
            return broadcast::channel(1).1;
        }
        let mut channels = self.channels.lock().expect("hub lock");
        channels
            .entry(meeting_id)
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe()
    }

    fn dispatch(&self, meeting_id: Uuid, payload: Arc<str>) {
        let mut channels = self.channels.lock().expect("hub lock");
        if let Some(tx) = channels.get(&meeting_id)
            && tx.send(payload).is_err()
        {
            // Nobody watches this meeting here any more.
            channels.remove(&meeting_id);
        }
    }

    /// Tells every screen to read the snapshot again (after the listener lost its connection
    /// and may have missed notifications).
    fn resync_all(&self) {
        let channels = self.channels.lock().expect("hub lock");
        for (id, tx) in channels.iter() {
            let _ = tx.send(resync(*id).into());
        }
    }

    /// Ends every stream, so that a graceful shutdown does not wait for open screens.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.channels.lock().expect("hub lock").clear();
    }
}

fn resync(meeting_id: Uuid) -> String {
    serde_json::json!({"meeting_id": meeting_id, "kind": "resync"}).to_string()
}

/// Listens on [`CHANNEL`] for the life of the process and hands each snapshot to the hub.
pub fn spawn_listener(pool: PgPool, hub: Arc<Hub>) {
    tokio::spawn(async move {
        loop {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                // The server is shutting down.
                Err(_) if pool.is_closed() => return,
                Err(e) => {
                    tracing::warn!(error = %e, "meeting events: cannot connect, retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "meeting events: LISTEN failed, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            hub.resync_all();
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        let payload = n.payload();
                        if let Some(id) = meeting_of(payload) {
                            hub.dispatch(id, payload.into());
                        }
                    }
                    // The connection was lost; it is re-established on the next call and
                    // notifications sent meanwhile are gone.
                    Ok(None) => hub.resync_all(),
                    Err(_) if pool.is_closed() => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "meeting events: listener failed");
                        break;
                    }
                }
            }
        }
    });
}

/// The meeting a snapshot is about, read from its first field without parsing the rest.
fn meeting_of(payload: &str) -> Option<Uuid> {
    let rest = payload.strip_prefix(r#"{"meeting_id" : ""#)?;
    Uuid::parse_str(rest.get(..36)?).ok()
}

/// Live changes of one meeting: first the current snapshot, then one event per change.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/events", tag = "meetings",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "text/event-stream of `meeting` events (JSON snapshots: status, present, current item with who has spoken and voted)"),
              (status = 404, body = super::error::Problem)))]
pub async fn events_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let id = parse_id(&id)?;
    super::meetings::visible_meeting(&state, &user, id).await?;
    // Subscribe before reading, so that no change falls between the snapshot and the stream.
    let rx = state.hub.subscribe(id);
    let mut conn = state.pool.acquire().await?;
    let first = db::meetings::snapshot(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let deadline = Instant::now() + STREAM_LIFETIME;
    let events = stream::unfold((Some(first), rx), move |(first, mut rx)| async move {
        if let Some(snapshot) = first {
            return Some((Ok(event(&snapshot)), (None, rx)));
        }
        let payload = tokio::time::timeout_at(deadline, rx.recv()).await.ok()?;
        let data = match payload {
            Ok(p) => p.to_string(),
            Err(broadcast::error::RecvError::Lagged(_)) => resync(id),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event(&data)), (None, rx)))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

fn event(data: &str) -> Event {
    Event::default().event("meeting").data(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meeting_is_read_from_the_snapshot_as_postgresql_writes_it() {
        let id = Uuid::now_v7();
        let payload = format!(r#"{{"meeting_id" : "{id}", "kind" : "ballot"}}"#);
        assert_eq!(meeting_of(&payload), Some(id));
        assert_eq!(meeting_of(r#"{"kind" : "x"}"#), None);
    }

    #[tokio::test]
    async fn a_closed_hub_ends_every_stream() {
        let hub = Hub::default();
        let id = Uuid::now_v7();
        let mut rx = hub.subscribe(id);
        hub.dispatch(id, "a".into());
        assert_eq!(&*rx.recv().await.unwrap(), "a");
        hub.close();
        assert!(rx.recv().await.is_err());
        assert!(hub.subscribe(id).recv().await.is_err());
    }
}
