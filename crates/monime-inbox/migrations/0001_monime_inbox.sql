-- monime-inbox: the claims of PgInbox, one row per processed event (or dedupe key).
-- Copy this file into your own migrations, or let `PgInbox::create_table` run it. Another
-- table name: replace `monime_inbox` everywhere, also as the prefix of the index name.
CREATE TABLE IF NOT EXISTS monime_inbox (
    event_id text PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
-- `PgInbox::prune` deletes by age.
CREATE INDEX IF NOT EXISTS monime_inbox_processed_at ON monime_inbox (processed_at);
