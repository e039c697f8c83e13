//! The organisation: party groups with their memberships and settings, sections and user
//! accounts.

mod party_groups;
mod people;

pub use party_groups::*;
pub use people::*;
