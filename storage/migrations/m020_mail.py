"""Email channel state: IMAP watch positions, classified inbound mail, tracking.

* `mail_watch` — per inbox and folder, the UIDVALIDITY and the highest UID
  already recorded, so a restart resumes exactly where it stopped and a
  UIDVALIDITY change is noticed (then the folder is re-scanned, and the
  fingerprint below keeps anything from being processed twice).
* `mail_inbound` — every inbound message, classified, with the outbox row it
  answers; `applied_at` is set in the same transaction that applies its
  effect, so an effect is applied exactly once even across a crash.
  `fingerprint` is the Message-ID (else a hash of the header block), unique
  per inbox.
* `mail_tracking` / `mail_tracking_events` — open/click/unsubscribe tokens
  (random, committed with the message before it is sent) and what came back.
"""

SCHEMA = """
CREATE TABLE mail_watch (
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (inbox_id, folder)
);

CREATE TABLE mail_inbound (
    id INTEGER PRIMARY KEY,
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    message_id TEXT,
    received_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    hard INTEGER,
    status TEXT,
    recipients TEXT NOT NULL DEFAULT '[]',
    in_reply_to TEXT,
    from_addr TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    outbox_id INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
    enrollment_id INTEGER REFERENCES enrollments(id) ON DELETE SET NULL,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    matched_by TEXT,
    applied_at TEXT,
    effect TEXT,
    UNIQUE (inbox_id, fingerprint)
);
CREATE INDEX mail_inbound_pending ON mail_inbound(id) WHERE applied_at IS NULL;
CREATE INDEX mail_inbound_enrollment ON mail_inbound(enrollment_id);
CREATE INDEX outbox_message_id ON outbox(message_id) WHERE message_id IS NOT NULL;

CREATE TABLE mail_tracking (
    token TEXT PRIMARY KEY,
    outbox_key TEXT NOT NULL,
    enrollment_id INTEGER,
    contact_id INTEGER,
    links TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
CREATE INDEX mail_tracking_key ON mail_tracking(outbox_key);

CREATE TABLE mail_tracking_events (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL REFERENCES mail_tracking(token) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('open', 'click', 'unsubscribe')),
    link_index INTEGER,
    at TEXT NOT NULL,
    applied_at TEXT
);
CREATE INDEX mail_tracking_events_pending ON mail_tracking_events(id) WHERE applied_at IS NULL;
"""


def migrate(db) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
