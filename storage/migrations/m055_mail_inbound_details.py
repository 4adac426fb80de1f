"""`mail_inbound.details`: what the classifier found besides the class (issue 16).

Why: an out-of-office keeps the date the person is back, a challenge-response
notice its verification link (shown to the user, never followed), a delay its
reason, and every message the signals that decided its class. One JSON object
(`return_date`, `challenge_link`, `auto`, `signals`), so the next finding needs
no new column.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE mail_inbound ADD COLUMN details TEXT NOT NULL DEFAULT '{}'")
