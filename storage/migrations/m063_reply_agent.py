"""The AI agent after a reply (issue 15): what it did with each lead's message, and what the app asked of it.

Why: an automatic answer must go once per message of the lead, even across a
crash, so each human reply the agent looks at gets one `agent_replies` row
(keyed by the message) whose state moves to `answered` in the transaction that
queues the answer; a failure stays on the row as the conversation's note. The
app cannot call the AI (it writes intents): a copilot suggestion or a wizard
simulation is an `ai_requests` row the runtime answers. The agent reads new
messages from a cursor (runtime_state `agent_message_cursor`), started here at
the newest message so replies that came before this version are left alone.
"""


_SCHEMA = """
CREATE TABLE agent_replies (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'answered', 'skipped', 'failed', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT,
    note TEXT,
    outbox_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX agent_replies_pending ON agent_replies(next_at) WHERE state = 'pending';
CREATE INDEX agent_replies_conversation ON agent_replies(conversation_id, message_id);

CREATE TABLE ai_requests (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('suggest', 'simulate')),
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    prompt TEXT,
    lead_text TEXT,
    state TEXT NOT NULL CHECK (state IN ('asked', 'ready', 'failed')),
    text TEXT,
    error TEXT,
    actor TEXT NOT NULL DEFAULT '',
    requested_at TEXT NOT NULL,
    answered_at TEXT
);
CREATE INDEX ai_requests_asked ON ai_requests(id) WHERE state = 'asked'
"""


def migrate(db) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.conn.execute(statement)
    newest = db.conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
    db.conn.execute("INSERT INTO runtime_state (key, value) VALUES ('agent_message_cursor', ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [str(newest)])
