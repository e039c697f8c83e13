//! Integration tests through the real router against a real PostgreSQL.

mod audit;
mod audit_attacks;
mod authz_matrix;
mod fixtures;
mod input;
mod mail;
mod materials;
mod meetings;
mod organisation;
mod pages;
mod paper;
mod probe;
mod records;
mod roster;
mod secret_ballot;
mod separation;
mod session;
mod support;
mod topics;
mod waiting;
