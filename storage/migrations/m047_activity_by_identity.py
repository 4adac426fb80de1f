"""Index the activity log by identity, kind and time: the Identities screen's statistics.

Why: `enginy identity stats` and the Identities screen count one identity's
sends, acceptances, replies and bounces over a date range. Without this
index each count scanned the whole log (millions of rows in a large
workspace); with it each is a range over (identity_id, kind, at).
"""


def migrate(db) -> None:
    db.conn.execute("CREATE INDEX IF NOT EXISTS activity_identity_kind ON activity(identity_id, kind, at)")
