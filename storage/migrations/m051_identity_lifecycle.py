"""What deleting an identity, the app's bulk withdrawal and the likings opt-out need.

Why:
* `identities.likings_opt_out` — the identity's "Likings opt-out" setting
  (identity-configuration.md): when on, the runtime never likes or reacts to a
  lead's post for it; its "React to last post" steps are skipped.
* `linkedin_invitations.withdraw_requested_at` — the app never calls the
  gateway: its bulk withdrawal marks the pending invitations here and the
  runtime's LinkedIn watcher of that identity withdraws them.
* `secret_purges` — secrets (inbox passwords, LinkedIn API keys) to forget.
  Only the runtime and the CLI may touch the secret store; a disconnect or a
  deletion made in the app (or a CLI killed half-way) writes the names here in
  the same transaction, and whoever holds the store next forgets them. A new
  secret saved under the same name cancels its purge.
"""


def migrate(db) -> None:
    conn = db.conn
    conn.execute("ALTER TABLE identities ADD COLUMN likings_opt_out INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE linkedin_invitations ADD COLUMN withdraw_requested_at TEXT")
    conn.execute("CREATE TABLE secret_purges (name TEXT PRIMARY KEY, requested_at TEXT NOT NULL) WITHOUT ROWID")
