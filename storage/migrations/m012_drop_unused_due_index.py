"""Drop `enrollments_due` (campaign, due_at): `enrollments_due_status` (m011) replaced it.

No query reads it any more (the campaign actor asks per status), yet every
step of every lead rewrote it: one b-tree update per enrollment write saved.
"""


def migrate(db) -> None:
    db.conn.execute("DROP INDEX IF EXISTS enrollments_due")
