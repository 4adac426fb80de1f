"""`share_links`: one-time links that let an identity's owner connect their own inbox or LinkedIn (issue 19).

Why: the spec's "Share Identity Link" lets someone without access to the
workspace connect their accounts. Only the SHA-256 of the link's secret is
kept (a copy of the database never opens a live link); `used_at` and
`revoked_at` make it single-use and cancellable, `expires_at` (ISO UTC) ends
it after 24 hours. `ca_file` is the extra CA the workspace trusts for a
private mail server, chosen when the link was made (the page cannot ask for a
file path on the workspace's machine); `gateway_url` is the LinkedIn gateway
the page logs in through (its API key is in the secret store as
`share-link-<id>`), NULL: no LinkedIn on the page; `linkedin_pending` is the
gateway account waiting for the owner's two-step code (kept here, not in the page).
"""


def migrate(db) -> None:
    db.conn.execute("""
        CREATE TABLE share_links (
            id INTEGER PRIMARY KEY,
            identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ca_file TEXT,
            gateway_url TEXT,
            linkedin_pending TEXT,
            used_at TEXT,
            used_for TEXT,
            revoked_at TEXT
        )""")
    db.conn.execute("CREATE INDEX share_links_by_identity ON share_links (identity_id)")
