//! Session tokens. The same random token is the browser's cookie and the API's bearer token;
//! the database stores only its sha256, and a new token is issued at every sign-in (so a
//! session id is never carried across a login).

use sha2::{Digest, Sha256};

pub const COOKIE: &str = "yishi_session";
/// Sign-in failures are counted over this window.
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// The longest wait a run of failures imposes.
const MAX_WAIT_SECS: i64 = 15 * 60;
/// Failures of one login from one address before each further attempt must wait.
const FREE_PER_PAIR: i64 = 3;
/// Failures from one address (any login) before its attempts wait: generous, as a whole
/// office may sign in through one proxy.
const FREE_PER_ADDR: i64 = 100;
/// The longest login kept in the failure count and the audit log.
pub const LOGIN_KEPT_CHARS: usize = 64;

/// Recent sign-in failures: of this login from this address, and from this address at all,
/// each with the time of the last one.
#[derive(Debug, Clone, Copy)]
pub struct Failures {
    pub pair: i64,
    pub pair_last_secs_ago: i64,
    pub addr: i64,
    pub addr_last_secs_ago: i64,
}

/// How long a sign-in attempt must still wait (seconds), if at all. Throttling is per login
/// *and* address, with waits that double after each failure (2 s, 4 s, … 15 min): a stranger
/// elsewhere cannot lock a user out, and guessing from one place gets slow fast. One address
/// trying many logins waits too, but only after far more failures.
pub fn wait(f: Failures) -> Option<i64> {
    let remaining = |failures: i64, free: i64, ago: i64| {
        let required = if failures < free {
            0
        } else {
            (1i64 << (failures - free + 1).min(20)).min(MAX_WAIT_SECS)
        };
        required - ago
    };
    let wait = remaining(f.pair, FREE_PER_PAIR, f.pair_last_secs_ago).max(remaining(
        f.addr,
        FREE_PER_ADDR,
        f.addr_last_secs_ago,
    ));
    (wait > 0).then_some(wait)
}

/// The part of a submitted login that is counted and audited: without NUL, at most
/// [`LOGIN_KEPT_CHARS`] characters.
pub fn kept_login(raw: &str) -> String {
    raw.chars()
        .filter(|c| *c != '\0')
        .take(LOGIN_KEPT_CHARS)
        .collect()
}

pub struct NewToken {
    /// Given to the client once; never stored.
    pub token: String,
    pub hash: Vec<u8>,
    pub csrf_token: String,
}

pub fn new_token() -> NewToken {
    let token = crate::random::hex(32);
    NewToken {
        hash: token_hash(&token),
        token,
        csrf_token: crate::random::hex(16),
    }
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(pair: i64, pair_ago: i64, addr: i64, addr_ago: i64) -> Failures {
        Failures {
            pair,
            pair_last_secs_ago: pair_ago,
            addr,
            addr_last_secs_ago: addr_ago,
        }
    }

    #[test]
    fn sign_in_waits_grow_per_login_and_address() {
        assert_eq!(wait(failures(0, 0, 0, 0)), None);
        assert_eq!(wait(failures(2, 0, 2, 0)), None);
        assert_eq!(wait(failures(3, 0, 3, 0)), Some(2));
        assert_eq!(wait(failures(3, 2, 3, 2)), None, "the wait is over");
        assert_eq!(wait(failures(4, 1, 4, 1)), Some(3));
        assert_eq!(
            wait(failures(12, 0, 12, 0)),
            Some(900),
            "at most 15 minutes"
        );
        assert_eq!(wait(failures(60, 0, 60, 0)), Some(900));
        // Many logins from one address: waits only past a hundred failures.
        assert_eq!(wait(failures(0, 0, 99, 0)), None);
        assert_eq!(wait(failures(0, 0, 101, 0)), Some(4));
    }

    #[test]
    fn the_kept_login_is_bounded_and_without_nul() {
        assert_eq!(kept_login("zhang\0wei"), "zhangwei");
        assert_eq!(kept_login(&"a".repeat(3000)).len(), LOGIN_KEPT_CHARS);
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 64);
        assert_eq!(a.hash, token_hash(&a.token));
        assert_ne!(a.hash, a.token.as_bytes());
    }

    #[test]
    fn same_secret_compares_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
