"""LinkedIn invitations: every invitation an identity sent, its fate, and the withdrawal history.

Why a table of our own (and not only the gateway's list): LinkedIn lists only
*pending* invitations, yet the spec needs the history of withdrawals, the
3-week cooldown after each one (no re-invite before `reinvite_after`) and the
"re-invite once, then move on" rule — all of which outlive the pending list.
`source` tells invitations sent by enginy from those found on the account
("connection sent but not by platform"). The gateway's API key is never
stored here (see runtime/secrets.py).
"""

SCHEMA = """
CREATE TABLE linkedin_invitations (
    id INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL,
    public_id TEXT,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,
    enrollment_id INTEGER REFERENCES enrollments(id) ON DELETE SET NULL,
    outbox_key TEXT UNIQUE,
    invitation_id TEXT,
    note TEXT,
    source TEXT NOT NULL DEFAULT 'enginy' CHECK (source IN ('enginy', 'external')),
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'accepted', 'withdrawn', 'gone')),
    sent_at TEXT NOT NULL,
    accepted_at TEXT,
    withdrawn_at TEXT,
    withdrawn_by TEXT CHECK (withdrawn_by IN ('auto', 'manual')),
    reinvite_after TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX linkedin_invitations_pending ON linkedin_invitations(identity_id, state, sent_at);
CREATE INDEX linkedin_invitations_member ON linkedin_invitations(identity_id, provider_id, id);
CREATE INDEX linkedin_invitations_history ON linkedin_invitations(identity_id, id);
CREATE UNIQUE INDEX linkedin_invitations_gateway_id
    ON linkedin_invitations(identity_id, invitation_id) WHERE invitation_id IS NOT NULL;

-- Where each identity's LinkedIn pollers left off (acceptances, replies), so a
-- restart neither misses nor reprocesses an event.
CREATE TABLE linkedin_sync (
    identity_id INTEGER PRIMARY KEY REFERENCES identities(id) ON DELETE CASCADE,
    relations_since TEXT,
    messages_since TEXT,
    invitations_synced_at TEXT,
    updated_at TEXT NOT NULL
);
"""


def migrate(db) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
