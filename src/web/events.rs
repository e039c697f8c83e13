//! Live meeting screens: every change to a meeting is sent with PostgreSQL `NOTIFY` in the
//! transaction that makes it (by the change's audit entry: migration `meeting_changed_parts`);
//! each server instance listens once and fans the snapshot out to its screens of that meeting
//! over Server-Sent Events. Nothing a screen needs lives only in one instance's memory: on
//! (re)connect it reads the snapshot from the database.
//!
//! Each snapshot is encoded as an event once and the same bytes go to every screen. Every
//! snapshot is the whole live state, so a screen that has fallen behind (a slow phone, a busy
//! server) is sent only the newest one waiting: it loses nothing, and the server does not
//! write stale states to it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use super::AppState;
use super::error::AppError;
use super::extract::{CurrentUser, Path};
use crate::app::Services;
use crate::app::meeting::live::CHANGED_CHANNEL;
use crate::db;
use crate::domain::ids::MeetingId;

/// The NOTIFY channel meeting snapshots travel on.
pub const CHANNEL: &str = "yishi_meeting";

/// A stream is ended after this long so that the browser reconnects and the viewer's access is
/// checked again.
const STREAM_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Snapshots of one meeting buffered per screen; a screen further behind skips to the newest.
const BUFFER: usize = 64;

/// A comment line sent when nothing happened for this long, so that proxies keep the stream
/// open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The screens of this server instance, by meeting; and the sessions that ended.
pub struct Hub {
    channels: Mutex<HashMap<MeetingId, broadcast::Sender<Bytes>>>,
    closed: AtomicBool,
    /// Whether the listener is following the channel now: until it is, a screen may miss a
    /// change, so the instance is not ready (`/readyz`).
    listening: AtomicBool,
    /// Payloads of [`db::sessions::ENDED_CHANNEL`]: a session's hash (hex) or `user:<id>`.
    ended: broadcast::Sender<String>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub {
            channels: Mutex::default(),
            closed: AtomicBool::new(false),
            listening: AtomicBool::new(false),
            ended: broadcast::channel(BUFFER).0,
        }
    }
}

impl Hub {
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Release);
    }

    /// A receiver of the meeting's snapshots, as events. After [`Hub::close`] it yields nothing.
    pub fn subscribe(&self, meeting_id: MeetingId) -> broadcast::Receiver<Bytes> {
        if self.closed.load(Ordering::Acquire) {
            return broadcast::channel(1).1;
        }
        let mut channels = self.channels.lock().expect("hub lock");
        channels
            .entry(meeting_id)
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe()
    }

    fn dispatch(&self, meeting_id: MeetingId, event: Bytes) {
        let mut channels = self.channels.lock().expect("hub lock");
        if let Some(tx) = channels.get(&meeting_id)
            && tx.send(event).is_err()
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
            let _ = tx.send(event(&resync(*id)));
        }
    }

    /// Sessions and users whose streams must end, from now on.
    pub fn ended(&self) -> broadcast::Receiver<String> {
        self.ended.subscribe()
    }

    fn end(&self, payload: &str) {
        let _ = self.ended.send(payload.to_owned());
    }

    /// Ends every stream, so that a graceful shutdown does not wait for open screens.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.channels.lock().expect("hub lock").clear();
    }
}

fn resync(meeting_id: MeetingId) -> String {
    serde_json::json!({"meeting_id": meeting_id, "kind": "resync"}).to_string()
}

/// Listens on [`CHANNEL`] for the life of the process and hands each snapshot to the hub.
pub fn spawn_listener(pool: PgPool, hub: Arc<Hub>, services: Arc<Services>) {
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
            if let Err(e) = listener
                .listen_all([CHANNEL, db::sessions::ENDED_CHANNEL, CHANGED_CHANNEL])
                .await
            {
                tracing::warn!(error = %e, "meeting events: LISTEN failed, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            // Whatever was missed while not listening is read again.
            services.sessions.clear();
            services.live.set_following(true);
            hub.set_listening(true);
            hub.resync_all();
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) if n.channel() == db::sessions::ENDED_CHANNEL => {
                        services.sessions.forget(n.payload());
                        hub.end(n.payload());
                    }
                    Ok(Some(n)) if n.channel() == CHANGED_CHANNEL => {
                        services.live.forget(n.payload());
                    }
                    Ok(Some(n)) => {
                        let payload = n.payload();
                        if let Some(id) = meeting_of(payload) {
                            hub.dispatch(id, event(payload));
                        }
                    }
                    // The connection was lost and notifications sent meanwhile are gone:
                    // listen again, then every screen reads its snapshot again.
                    Ok(None) => {
                        lost(&hub, &services);
                        break;
                    }
                    Err(_) if pool.is_closed() => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "meeting events: listener failed");
                        lost(&hub, &services);
                        break;
                    }
                }
            }
        }
    });
}

/// Until it listens again, screens may miss changes and cached reads may be stale.
fn lost(hub: &Hub, services: &Services) {
    hub.set_listening(false);
    services.live.set_following(false);
}

/// The meeting a snapshot is about, read from its first field without parsing the rest.
fn meeting_of(payload: &str) -> Option<MeetingId> {
    let rest = payload.strip_prefix(r#"{"meeting_id" : ""#)?;
    MeetingId::parse(rest.get(..36)?).ok()
}

/// Live changes of one meeting: first the current snapshot, then one event per change.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/events", tag = "meetings",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "text/event-stream of `meeting` events (JSON snapshots: status, present, current item with who has spoken and voted)"),
              (status = 404, body = super::error::Problem)))]
pub async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
) -> Result<Response, AppError> {
    crate::app::meeting::visible_meeting(&state, &user, id).await?;
    // Subscribe before reading, so that no change falls between the snapshot and the stream.
    let rx = state.hub.subscribe(id);
    let ended = state.hub.ended();
    let mut conn = state.pool.acquire().await?;
    let first = db::meetings::snapshot(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    // The stream ends with the session: when it expires, or at once when it is signed out
    // or the user's rights change (on whichever instance that happens).
    let deadline = (Instant::now() + STREAM_LIFETIME).min(user.session_expires);
    let viewer = Viewer {
        session: hex::encode(&user.session_hash),
        user: format!("user:{}", user.user_id),
    };
    let events = stream::unfold(
        (Some(event(&first)), rx, ended),
        move |(first, mut rx, mut ended)| {
            let viewer = viewer.clone();
            async move {
                if let Some(first) = first {
                    return Some((Ok::<_, Infallible>(first), (None, rx, ended)));
                }
                let next = tokio::select! {
                    next = next_event(&mut rx, deadline) => next?,
                    () = viewer.ends(&mut ended) => return None,
                };
                Some((Ok(next), (None, rx, ended)))
            }
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(events),
    )
        .into_response())
}

/// Whose stream it is: the session (hash, hex) and the user, as end notices name them.
#[derive(Clone)]
struct Viewer {
    session: String,
    user: String,
}

impl Viewer {
    /// Returns when a notice names this viewer's session or user (or notices stop coming).
    async fn ends(&self, ended: &mut broadcast::Receiver<String>) {
        loop {
            match ended.recv().await {
                Ok(who) if who == self.session || who == self.user => return,
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    }
}

/// What a screen is sent next: the newest snapshot once one has come, a keep-alive comment
/// after a quiet while, nothing at the deadline or when the hub closes.
async fn next_event(rx: &mut broadcast::Receiver<Bytes>, deadline: Instant) -> Option<Bytes> {
    loop {
        let wake = deadline.min(Instant::now() + KEEP_ALIVE);
        match tokio::time::timeout_at(wake, rx.recv()).await {
            Ok(Ok(event)) => return Some(newest(rx, event)),
            // Snapshots were dropped from the buffer; a newer one is still waiting.
            Ok(Err(RecvError::Lagged(_))) => continue,
            Ok(Err(RecvError::Closed)) => return None,
            Err(_) if Instant::now() >= deadline => return None,
            Err(_) => return Some(Bytes::from_static(b":\n\n")),
        }
    }
}

/// The last of the events waiting, `event` if none is.
fn newest(rx: &mut broadcast::Receiver<Bytes>, mut event: Bytes) -> Bytes {
    loop {
        match rx.try_recv() {
            Ok(newer) => event = newer,
            Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty | TryRecvError::Closed) => return event,
        }
    }
}

/// A snapshot as a `meeting` event (one `data:` line per line of it, as the format requires).
fn event(snapshot: &str) -> Bytes {
    let mut out = String::with_capacity(snapshot.len() + 24);
    out.push_str("event: meeting\n");
    for line in snapshot.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meeting_is_read_from_the_snapshot_as_postgresql_writes_it() {
        let id = MeetingId::new();
        let payload = format!(r#"{{"meeting_id" : "{id}", "kind" : "ballot"}}"#);
        assert_eq!(meeting_of(&payload), Some(id));
        assert_eq!(meeting_of(r#"{"kind" : "x"}"#), None);
    }

    #[tokio::test]
    async fn a_closed_hub_ends_every_stream() {
        let hub = Hub::default();
        let id = MeetingId::new();
        let mut rx = hub.subscribe(id);
        hub.dispatch(id, event("a"));
        assert_eq!(rx.recv().await.unwrap(), event("a"));
        hub.close();
        assert!(rx.recv().await.is_err());
        assert!(hub.subscribe(id).recv().await.is_err());
    }

    #[test]
    fn a_snapshot_is_one_event_with_a_data_line_per_line() {
        assert_eq!(
            &event(r#"{"a":1}"#)[..],
            b"event: meeting\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(&event("x\ny")[..], b"event: meeting\ndata: x\ndata: y\n\n");
    }

    #[tokio::test]
    async fn a_screen_that_fell_behind_is_sent_the_newest_snapshot_only() {
        let hub = Hub::default();
        let id = MeetingId::new();
        let mut rx = hub.subscribe(id);
        let deadline = Instant::now() + Duration::from_secs(60);
        hub.dispatch(id, event("1"));
        assert_eq!(next_event(&mut rx, deadline).await, Some(event("1")));
        for n in 2..=5 {
            hub.dispatch(id, event(&n.to_string()));
        }
        assert_eq!(next_event(&mut rx, deadline).await, Some(event("5")));
        // Further behind than the buffer holds: still the newest, no error.
        for n in 0..BUFFER + 10 {
            hub.dispatch(id, event(&n.to_string()));
        }
        let last = (BUFFER + 9).to_string();
        assert_eq!(next_event(&mut rx, deadline).await, Some(event(&last)));
    }

    #[tokio::test]
    async fn an_ended_session_or_user_ends_the_viewers_stream() {
        let hub = Hub::default();
        let viewer = Viewer {
            session: "abcd".into(),
            user: "user:1".into(),
        };
        let mut ended = hub.ended();
        hub.end("other");
        hub.end("user:1");
        tokio::time::timeout(Duration::from_secs(1), viewer.ends(&mut ended))
            .await
            .expect("the user's notice ends it");
        let mut ended = hub.ended();
        hub.end("abcd");
        tokio::time::timeout(Duration::from_secs(1), viewer.ends(&mut ended))
            .await
            .expect("the session's notice ends it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_stream_is_kept_alive_until_its_deadline() {
        let hub = Hub::default();
        let id = MeetingId::new();
        let mut rx = hub.subscribe(id);
        let deadline = Instant::now() + KEEP_ALIVE * 2 + Duration::from_secs(1);
        let keep_alive = Some(Bytes::from_static(b":\n\n"));
        assert_eq!(next_event(&mut rx, deadline).await, keep_alive);
        assert_eq!(next_event(&mut rx, deadline).await, keep_alive);
        assert_eq!(next_event(&mut rx, deadline).await, None);
    }
}
