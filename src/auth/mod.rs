//! Passwords, session tokens and the sign-in throttle.

pub mod password;
pub mod session;
