//! Session tokens. The same random token is the browser's cookie and the API's bearer token;
//! the database stores only its sha256, and a new token is issued at every sign-in (so a
//! session id is never carried across a login).

use sha2::{Digest, Sha256};

pub const COOKIE: &str = "yishi_session";
/// Sign-in failures are counted over this window.
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// Failures for one login within the window before sign-in answers 429.
pub const MAX_FAILURES_PER_LOGIN: i64 = 5;
/// Failures from one client address within the window before sign-in answers 429.
pub const MAX_FAILURES_PER_ADDR: i64 = 20;

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
