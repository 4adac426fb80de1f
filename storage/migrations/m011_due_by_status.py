"""The due index by status: the campaign actor reads due in-progress leads and
not-yet-started leads separately (it starts new leads only while the identity's
queue has room), so each read must be an index range, not a scan past a million
not-started rows."""


def migrate(db) -> None:
    db.conn.execute(
        "CREATE INDEX enrollments_due_status ON enrollments(campaign_id, status, due_at)"
        " WHERE status IN ('not_started', 'in_progress')")
