"""Lead intents waiting for the runtime: resume and retry.

Pausing and removing a lead are applied to its stored state at once (they
never start a job). Resuming and retrying do start one — the node runs again
— and running a node needs the lead's facts and the outbox, which belong to
the runtime. So those two are left on the enrollment as `intent` for the
runtime to apply through the step function (events Resumed / Retry) in its
own transaction, clearing the column as it does. The partial index keeps
"any intents pending?" a lookup, however large the audience.
"""

SCHEMA = """
ALTER TABLE enrollments ADD COLUMN intent TEXT CHECK (intent IN ('resume', 'retry'));
CREATE INDEX enrollments_intent ON enrollments(campaign_id, id) WHERE intent IS NOT NULL
"""


def migrate(db) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
