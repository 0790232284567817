-- monime-inbox: the deliveries of PgQueue, stored at once when they arrive and processed
-- later by workers. Copy this file into your own migrations, or let `PgQueue::create_table`
-- run it. Another table name: replace `monime_deliveries` everywhere, also as the prefix of
-- the index names.
CREATE TABLE IF NOT EXISTS monime_deliveries (
    -- The dedupe key: the event id, or the key the receiver chose (see `DedupeKey`).
    key text PRIMARY KEY,
    event_id text NOT NULL,
    event_name text NOT NULL,
    -- The body exactly as received, and the Monime-Signature header that covered it.
    body bytea NOT NULL,
    signature text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- pending: waiting for a worker (again, after a failure, when attempts > 0);
    -- done: processed, kept until pruned; dead: set aside after the last attempt.
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    -- Leases taken, each one an attempt.
    attempts integer NOT NULL DEFAULT 0,
    due_at timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz,
    last_error text,
    done_at timestamptz
)
-- Room on each page for the lease's update to stay on the page (a HOT update: no new index
-- entries), since every processed row is updated twice.
WITH (fillfactor = 70);
-- Workers lease due rows in due order. Pruning, a daily job, scans the table instead of
-- keeping a second index up to date on every processed row.
CREATE INDEX IF NOT EXISTS monime_deliveries_due ON monime_deliveries (due_at)
    WHERE status = 'pending';
