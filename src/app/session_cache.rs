//! The live sessions this server instance has seen lately, so that a request does not read its
//! session from the database each time.
//!
//! An entry is trusted for [`FRESH`] at most; after that the next request reads the session
//! again, which also moves its idle deadline on in the database. Whatever ends a session or
//! changes what it carries (signing out, a password change, a deactivation, roles, the
//! section's reach, the unread count) sends a `NOTIFY` on [`db::sessions::ENDED_CHANNEL`] in the
//! same transaction; every instance forgets the entries it names as the notification arrives,
//! so that takes effect everywhere within the notification's delay. The cache is used only
//! while this instance follows that channel (`/readyz`): a lost listener connection could have
//! dropped notifications, so the cache is emptied when it listens again.
//!
//! A request that read the database before an invalidation must not store what it read after
//! it: every invalidation moves a generation on, and an entry read under an older generation is
//! not kept.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::sessions::LiveSession;
use crate::domain::ids::UserId;

/// How long an entry is used before the session is read again. Below a minute, so that an
/// active session's `last_seen_at` (written at most once a minute) stays within two minutes.
pub const FRESH: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct SessionCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Vec<u8>, Entry>,
    generation: u64,
}

struct Entry {
    live: LiveSession,
    read_at: Instant,
}

impl SessionCache {
    /// The session of `hash` as last read, with its remaining lifetime counted down, while it
    /// is fresh.
    pub fn get(&self, hash: &[u8]) -> Option<LiveSession> {
        let inner = self.inner.lock().expect("session cache lock");
        let entry = inner.entries.get(hash)?;
        let age = entry.read_at.elapsed();
        let remaining = entry.live.expires_in_secs - age.as_secs() as i64;
        (age < FRESH && remaining > 0).then(|| LiveSession {
            expires_in_secs: remaining,
            ..entry.live.clone()
        })
    }

    /// The generation to pass to [`SessionCache::keep`] for a read that starts now.
    pub fn generation(&self) -> u64 {
        self.inner.lock().expect("session cache lock").generation
    }

    /// Keeps a session read from the database, unless something was invalidated since the read
    /// began (`generation`).
    pub fn keep(&self, generation: u64, hash: Vec<u8>, live: &LiveSession) {
        let mut inner = self.inner.lock().expect("session cache lock");
        if inner.generation != generation {
            return;
        }
        // Expired entries go when the map grows, so it holds about the sessions of one FRESH.
        if inner.entries.len() >= 1024 {
            inner.entries.retain(|_, e| e.read_at.elapsed() < FRESH);
        }
        inner.entries.insert(
            hash,
            Entry {
                live: live.clone(),
                read_at: Instant::now(),
            },
        );
    }

    /// Forgets what a [`db::sessions::ENDED_CHANNEL`] payload names: a session by the hex of
    /// its hash, or every session of a user (`user:<id>`, `unread:<id>`).
    pub fn forget(&self, payload: &str) {
        let user = payload
            .strip_prefix("user:")
            .or_else(|| payload.strip_prefix("unread:"))
            .and_then(|id| UserId::parse(id).ok());
        match (user, hex::decode(payload)) {
            (Some(user), _) => self.forget_user(user),
            (None, Ok(hash)) => self.forget_session(&hash),
            (None, Err(_)) => self.clear(),
        }
    }

    pub fn forget_session(&self, hash: &[u8]) {
        let mut inner = self.inner.lock().expect("session cache lock");
        inner.generation += 1;
        inner.entries.remove(hash);
    }

    pub fn forget_user(&self, user: UserId) {
        let mut inner = self.inner.lock().expect("session cache lock");
        inner.generation += 1;
        inner.entries.retain(|_, e| e.live.user_id != user);
    }

    /// Forgets everything (the instance listens again after losing its connection).
    pub fn clear(&self) {
        let mut inner = self.inner.lock().expect("session cache lock");
        inner.generation += 1;
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(user: UserId) -> LiveSession {
        LiveSession {
            user_id: user,
            csrf_token: "t".into(),
            login: "zhang".into(),
            name: "张".into(),
            roles: Vec::new(),
            unread: 0,
            must_change_password: false,
            expires_in_secs: 600,
            served_groups: Vec::new(),
        }
    }

    #[test]
    fn a_kept_session_is_served_until_it_is_forgotten() {
        let cache = SessionCache::default();
        let (a, b) = (UserId::new(), UserId::new());
        cache.keep(cache.generation(), vec![1], &live(a));
        cache.keep(cache.generation(), vec![2], &live(a));
        cache.keep(cache.generation(), vec![3], &live(b));
        assert_eq!(cache.get(&[1]).map(|l| l.user_id), Some(a));
        cache.forget("01");
        assert!(cache.get(&[1]).is_none(), "signed out by its hash");
        assert!(cache.get(&[2]).is_some());
        cache.forget(&format!("user:{a}"));
        assert!(cache.get(&[2]).is_none(), "every session of the user");
        assert!(cache.get(&[3]).is_some(), "another user's stays");
        cache.forget(&format!("unread:{b}"));
        assert!(cache.get(&[3]).is_none(), "read again for the new count");
    }

    #[test]
    fn a_read_that_began_before_an_invalidation_is_not_kept() {
        let cache = SessionCache::default();
        let user = UserId::new();
        let before = cache.generation();
        cache.forget(&format!("user:{user}"));
        cache.keep(before, vec![1], &live(user));
        assert!(cache.get(&[1]).is_none());
        cache.keep(cache.generation(), vec![1], &live(user));
        assert!(cache.get(&[1]).is_some());
        cache.clear();
        assert!(cache.get(&[1]).is_none());
    }

    #[test]
    fn an_expired_session_is_not_served() {
        let cache = SessionCache::default();
        let mut l = live(UserId::new());
        l.expires_in_secs = 0;
        cache.keep(cache.generation(), vec![1], &l);
        assert!(cache.get(&[1]).is_none());
    }
}
