//! 议事 (yishi): runs the meetings of a party group (党组) exactly as its working rules require.
//!
//! `domain` holds the rules and nothing else; `db` the SQL; `web` the pages and the API;
//! `audit` the hash-chained log every state change writes to in its own transaction.

pub mod app;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod display;
pub mod domain;
pub mod embedded_pg;
pub mod gongwen;
pub mod keys;
pub mod memory;
pub mod random;
#[cfg(test)]
mod source_tree;
pub mod spreadsheet;
pub mod telemetry;
pub mod web;

pub use web::{AppState, app};

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
