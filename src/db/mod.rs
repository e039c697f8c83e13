//! SQL, one module per aggregate. Functions take a `&mut PgConnection` (a pooled connection or a
//! transaction) so the caller decides the transaction; none of them decides a rule.

/// One optional row by `query_as!`, with ` for update` added when `$lock` is true: sqlx checks
/// both statements when it compiles them.
macro_rules! optional_row {
    ($conn:expr, $lock:expr, $row:ty, $sql:literal, $($arg:expr),+ $(,)?) => {
        if $lock {
            sqlx::query_as!($row, $sql + " for update", $($arg),+)
                .fetch_optional($conn)
                .await
        } else {
            sqlx::query_as!($row, $sql, $($arg),+).fetch_optional($conn).await
        }
    };
}

pub mod audit_log;
pub mod circulations;
pub mod deliberation;
pub mod emergencies;
pub mod followup;
pub mod materials;
pub mod meetings;
pub mod notifications;
pub mod party_groups;
pub mod records;
pub mod roster_imports;
pub mod sections;
pub mod sessions;
pub mod topics;
pub mod users;
pub mod vocabulary;

// Dates travel as `YYYY-MM-DD` (api.md), not as time's default tuple.
pub mod dates {
    time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");
}
pub use dates::iso_date;

/// The name of the constraint a database error violated, if any, so callers can turn a named
/// constraint into the user-facing refusal it stands for.
pub fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}
