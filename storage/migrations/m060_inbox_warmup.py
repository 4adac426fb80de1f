"""`inboxes.warmup_start` / `warmup_days`: an inbox's warm-up schedule (issue 19).

Why: a new inbox that sends its full cap from day one lands in spam. While
`warmup_start` (a local date, ISO) is set, the inbox's daily cap ramps from 5
to its configured cap over `warmup_days` days (sequences/warmup.py);
NULL is an inbox not warming up, which changes nothing for existing inboxes.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE inboxes ADD COLUMN warmup_start TEXT")
    db.conn.execute("ALTER TABLE inboxes ADD COLUMN warmup_days INTEGER NOT NULL DEFAULT 21")
