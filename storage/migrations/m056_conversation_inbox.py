"""The conversation inbox (issue 15): unread marks, newest-first paging, a reply's threading headers.

Why: the inbox lists conversations newest first and filters on unread, so
`conversations.unread` (set when the lead's message is recorded, cleared when
the user reads it or marks it) and an index on (updated_at, id) for the keyset
page; an inbound message keeps the subject, Message-ID and In-Reply-To it came
with (columns m001 already has) so a reply by hand can thread under it.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE conversations ADD COLUMN unread INTEGER NOT NULL DEFAULT 0")
    db.conn.execute("CREATE INDEX conversations_recent ON conversations(updated_at DESC, id DESC)")
