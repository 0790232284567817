//! The tables' DDL, shipped as plain SQL migration files, and the table names a user may pick.

use std::fmt;

/// The migration that creates [`PgInbox`](crate::PgInbox)'s table, named `monime_inbox`.
/// Copy it into your migrations (sqlx, refinery, diesel, ...), or let
/// [`PgInbox::create_table`](crate::PgInbox::create_table) run it.
pub const INBOX_MIGRATION: &str = include_str!("../migrations/0001_monime_inbox.sql");

/// The migration that creates [`PgQueue`](crate::PgQueue)'s table, named `monime_deliveries`.
/// Copy it into your migrations, or let [`PgQueue::create_table`](crate::PgQueue::create_table)
/// run it.
pub const QUEUE_MIGRATION: &str = include_str!("../migrations/0002_monime_deliveries.sql");

pub(crate) const INBOX_TABLE: &str = "monime_inbox";
pub(crate) const QUEUE_TABLE: &str = "monime_deliveries";

/// A table name that is not a plain lowercase SQL identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTableName(pub String);

impl fmt::Display for InvalidTableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a table name the inbox accepts: use 1 to 63 lowercase letters, digits \
             and underscores, starting with a letter or underscore, optionally after `schema.`",
            self.0
        )
    }
}

impl std::error::Error for InvalidTableName {}

/// A checked table name, written into SQL quoted (so a reserved word such as `user` works).
#[derive(Debug, Clone)]
pub(crate) struct TableName {
    /// `"schema"."name"` or `"name"`.
    quoted: String,
    /// `name`, unquoted: the prefix of the table's index names.
    last: String,
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.quoted)
    }
}

/// `table` (`name` or `schema.name`), checked: lowercase letters, digits and underscores only,
/// so it needs no escaping inside its quotes.
pub(crate) fn table_name(table: &str) -> Result<TableName, InvalidTableName> {
    let parts: Vec<&str> = table.split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|part| valid_identifier(part)) {
        return Err(InvalidTableName(table.to_owned()));
    }
    let quoted: Vec<String> = parts.iter().map(|part| format!("\"{part}\"")).collect();
    Ok(TableName {
        quoted: quoted.join("."),
        last: parts[parts.len() - 1].to_owned(),
    })
}

fn valid_identifier(part: &str) -> bool {
    (1..=63).contains(&part.len())
        && part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && part
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `migration`, written for table `default`, for table `table` instead: the table's name
/// where the default stands alone, and its unqualified name where the default prefixes an
/// index name (an index lives in its table's schema and takes no schema of its own; with its
/// suffix it is never a reserved word).
pub(crate) fn rename(migration: &str, default: &str, table: &TableName) -> String {
    let (quoted, unqualified) = (table.quoted.as_str(), table.last.as_str());
    let mut out = String::with_capacity(migration.len());
    let mut rest = migration;
    while let Some(at) = rest.find(default) {
        out.push_str(&rest[..at]);
        rest = &rest[at + default.len()..];
        out.push_str(if rest.starts_with('_') {
            unqualified
        } else {
            quoted
        });
    }
    out.push_str(rest);
    out
}

/// The statements of `migration` for `table`, taking turns with other replicas creating the
/// same table: `IF NOT EXISTS` alone is not safe under concurrency, the loser failing on the
/// catalog in one of several ways. The turn, a lock named after the table, is held to the end
/// of the statements' transaction.
pub(crate) fn create(migration: &str, default: &str, table: &TableName) -> String {
    format!(
        "SELECT pg_advisory_xact_lock(hashtext('monime-inbox create {}'));\n{}",
        table.quoted,
        rename(migration, default, table)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_is_renamed_for_a_qualified_table_and_its_indexes() {
        let table = table_name("app.deliveries").unwrap();
        let sql = rename(QUEUE_MIGRATION, QUEUE_TABLE, &table);
        assert!(sql.contains(r#"CREATE TABLE IF NOT EXISTS "app"."deliveries" ("#));
        assert!(
            sql.contains(r#"INDEX IF NOT EXISTS deliveries_due ON "app"."deliveries" (due_at)"#)
        );
        assert!(!sql.contains(QUEUE_TABLE));
        // A reserved word is a table name like any other, quoted.
        let user = table_name("user").unwrap();
        assert!(rename(INBOX_MIGRATION, INBOX_TABLE, &user).contains(r#"EXISTS "user" ("#));
    }
}
