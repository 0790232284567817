-- monime-inbox: the claims of PgInbox, one row per processed event (or dedupe key).
-- Copy this file into your own migrations, or let `PgInbox::create_table` run it. Another
-- table name: replace `monime_inbox` everywhere.
CREATE TABLE IF NOT EXISTS monime_inbox (
    event_id text PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
-- No index on processed_at: `PgInbox::prune`, a daily job, scans the table instead of every
-- claim paying for a second index.
