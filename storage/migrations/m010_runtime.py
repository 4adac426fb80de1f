"""What the runtime needs beyond m001: an indexable queue order on the outbox, and its own small state.

* `outbox.sort_key` — the spec's LinkedIn queue order (message depth, campaign
  priority, seeded tie-break) packed into one integer (runtime/queue_order.py),
  with a partial index so an identity actor reads "the next N queued jobs of
  this bucket" by walking an index, never sorting thousands of rows.
* `outbox.first_attempt_at` — bounds the driver's look-up when an attempt's
  outcome is unknown (nothing sent before it can be ours).
* `runtime_state` — key/value facts that must survive a restart: the
  workspace clock position (so time never runs backwards across runs at
  different speeds) and the sandbox world's inbound-event cursor.
"""

SCHEMA = """
ALTER TABLE outbox ADD COLUMN sort_key INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN first_attempt_at TEXT;
CREATE INDEX outbox_queue ON outbox(identity_id, bucket, inbox_id, sort_key) WHERE state = 'queued';
CREATE INDEX action_ledger_outbox ON action_ledger(outbox_id);
CREATE TABLE runtime_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""


def migrate(db) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
