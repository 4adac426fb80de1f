"""Per-inbox switch for the List-Unsubscribe header (on by default).

Some vacation responders (Dovecot Pigeonhole, Gmail) do not answer mail that
carries List-* headers, so an inbox whose campaigns rely on seeing
out-of-office replies may turn the header off.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE inboxes ADD COLUMN list_unsubscribe INTEGER NOT NULL DEFAULT 1")
