"""`outbox.accepted_at`: when the mail server took an email (250 to DATA).

Why: after the 250 the driver still files a copy in the Sent folder, and only
then is the row `sent`. A runtime killed in between used to find no copy in
Sent on restart and send the email again. This mark, committed right after the
250, tells the restart that the email is out: it files the copy, never resends.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE outbox ADD COLUMN accepted_at TEXT")
