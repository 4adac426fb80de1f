"""The first schema: everything a workspace holds.

Times are ISO-8601 UTC text (sortable). JSON columns hold msgspec-encoded
structures (sequence, settings, custom fields, step-function state). Indexes
serve the screens' keyset paging and the actors' "what is due" queries, so no
query ever needs to load a whole audience.
"""

SCHEMA = """
CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    email TEXT,
    job_title TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL DEFAULT '',
    linkedin_url TEXT,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    working_days TEXT NOT NULL DEFAULT 'mon,tue,wed,thu,fri',
    work_start TEXT NOT NULL DEFAULT '09:00',
    work_end TEXT NOT NULL DEFAULT '18:00',
    linkedin_driver TEXT CHECK (linkedin_driver IN ('sandbox', 'gateway', 'manual')),
    linkedin_connected INTEGER NOT NULL DEFAULT 0,
    linkedin_account_id TEXT,
    gateway_url TEXT,
    premium INTEGER NOT NULL DEFAULT 0,
    sales_navigator INTEGER NOT NULL DEFAULT 0,
    inmail_credits INTEGER NOT NULL DEFAULT 0,
    daily_connection_limit INTEGER NOT NULL DEFAULT 20,
    daily_message_limit INTEGER NOT NULL DEFAULT 100,
    monthly_conversation_limit INTEGER,
    withdraw_enabled INTEGER NOT NULL DEFAULT 1,
    withdraw_after_days INTEGER NOT NULL DEFAULT 21,
    linkedin_queue_paused INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE inboxes (
    id INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    provider TEXT NOT NULL DEFAULT 'imap' CHECK (provider IN ('imap', 'google', 'microsoft', 'sandbox')),
    imap_host TEXT,
    imap_port INTEGER,
    smtp_host TEXT,
    smtp_port INTEGER,
    tls_mode TEXT NOT NULL DEFAULT 'implicit' CHECK (tls_mode IN ('implicit', 'starttls', 'none')),
    ca_file TEXT,
    per_day INTEGER NOT NULL DEFAULT 30 CHECK (per_day BETWEEN 1 AND 80),
    per_hour INTEGER NOT NULL DEFAULT 5 CHECK (per_hour BETWEEN 1 AND 10),
    signature_text TEXT NOT NULL DEFAULT '',
    signature_html TEXT NOT NULL DEFAULT '',
    connected INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (identity_id, email)
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL DEFAULT '',
    job_title TEXT NOT NULL DEFAULT '',
    linkedin_url TEXT,
    linkedin_id TEXT,
    email TEXT,
    phone TEXT,
    timezone TEXT,
    custom TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX contacts_email ON contacts(email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_linkedin_url ON contacts(linkedin_url) WHERE linkedin_url IS NOT NULL;
CREATE INDEX contacts_company ON contacts(company);

CREATE TABLE lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    tags TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE list_members (
    list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX list_members_contact ON list_members(contact_id);

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    identity_id INTEGER NOT NULL REFERENCES identities(id),
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'archived')),
    priority TEXT NOT NULL DEFAULT 'medium' CHECK (priority IN ('high', 'medium', 'low')),
    tags TEXT NOT NULL DEFAULT '[]',
    folder TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    sequence TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    launched_at TEXT,
    scheduled_at TEXT,
    archived_at TEXT
);
CREATE INDEX campaigns_status ON campaigns(status);
CREATE INDEX campaigns_identity ON campaigns(identity_id);

CREATE TABLE enrollments (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    status TEXT NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started', 'in_progress', 'paused', 'error', 'finished', 'replied')),
    substatus TEXT,
    node_id TEXT,
    due_at TEXT,
    inbox_id INTEGER REFERENCES inboxes(id),
    message_depth INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '{}',
    enrolled_at TEXT NOT NULL,
    started_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX enrollments_chip ON enrollments(campaign_id, status, id);
CREATE INDEX enrollments_due ON enrollments(campaign_id, due_at)
    WHERE status IN ('not_started', 'in_progress');
CREATE INDEX enrollments_contact ON enrollments(contact_id);

CREATE TABLE activity (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,
    enrollment_id INTEGER REFERENCES enrollments(id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contacts(id),
    identity_id INTEGER REFERENCES identities(id),
    kind TEXT NOT NULL,
    node_id TEXT,
    channel TEXT,
    status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('completed', 'in_progress')),
    detail TEXT NOT NULL DEFAULT '{}',
    actor TEXT NOT NULL DEFAULT 'system'
);
CREATE INDEX activity_campaign ON activity(campaign_id, id);
CREATE INDEX activity_enrollment ON activity(enrollment_id, id);
CREATE INDEX activity_campaign_node ON activity(campaign_id, node_id, id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    identity_id INTEGER NOT NULL REFERENCES identities(id),
    channel TEXT NOT NULL CHECK (channel IN ('linkedin', 'email')),
    inbox_id INTEGER REFERENCES inboxes(id),
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,
    external_id TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (identity_id, contact_id, channel)
);
CREATE INDEX conversations_campaign ON conversations(campaign_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    kind TEXT NOT NULL DEFAULT 'message',
    at TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL DEFAULT '',
    message_id TEXT,
    in_reply_to TEXT,
    enrollment_id INTEGER REFERENCES enrollments(id) ON DELETE SET NULL,
    positive INTEGER
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE UNIQUE INDEX messages_message_id ON messages(message_id) WHERE message_id IS NOT NULL;

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,
    enrollment_id INTEGER REFERENCES enrollments(id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contacts(id),
    node_id TEXT,
    title TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'todo',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed')),
    created_at TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX tasks_campaign ON tasks(campaign_id, status);

-- Every executed channel action. Caps are counted from here, never from memory,
-- so a restart grants no fresh allowance.
CREATE TABLE action_ledger (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    identity_id INTEGER NOT NULL REFERENCES identities(id),
    inbox_id INTEGER REFERENCES inboxes(id),
    bucket TEXT NOT NULL,
    campaign_id INTEGER,
    enrollment_id INTEGER,
    outbox_id INTEGER
);
CREATE INDEX action_ledger_bucket ON action_ledger(identity_id, bucket, at);
CREATE INDEX action_ledger_inbox ON action_ledger(inbox_id, at) WHERE inbox_id IS NOT NULL;

-- One row per channel action to perform. `key` is the idempotency key,
-- committed before any network call.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    enrollment_id INTEGER REFERENCES enrollments(id) ON DELETE CASCADE,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,
    identity_id INTEGER NOT NULL REFERENCES identities(id),
    inbox_id INTEGER REFERENCES inboxes(id),
    node_id TEXT,
    channel TEXT NOT NULL,
    action TEXT NOT NULL,
    bucket TEXT,
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'claimed', 'sending', 'sent', 'failed', 'unknown', 'cancelled')),
    message_id TEXT,
    external_id TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_pending ON outbox(identity_id, state) WHERE state IN ('queued', 'claimed', 'sending', 'unknown');
CREATE INDEX outbox_enrollment ON outbox(enrollment_id);

CREATE TABLE blocklist (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('lead', 'email', 'company', 'domain')),
    value TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (kind, value)
);

CREATE TABLE saved_filters (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    UNIQUE (scope, name)
);

CREATE TABLE user_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    sequence TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- At most one runtime executes a workspace: it holds this single row and
-- refreshes heartbeat_at; a stale heartbeat may be taken over.
CREATE TABLE runtime_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    stop_requested INTEGER NOT NULL DEFAULT 0
);
"""


def migrate(db) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
