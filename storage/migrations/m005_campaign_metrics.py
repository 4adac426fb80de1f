"""Campaign metrics and identity contact details.

`enrollments.milestones` is a bit set of what has ever happened to a lead in
its campaign (started, invited, accepted, contacted, replied, positive …; the
bits are `storage.activity_kinds.Milestone`). Writers never set it by hand:
`storage.activity.record()` ORs in the bits implied by each activity kind, so
the metric contract lives in one place.

Why bits on the enrollment rather than counting the activity log: every
campaign metric is then one pass over a covering index
(`enrollments_metrics`), grouped by (status, node_id, milestones), which gives
the audience chips, the per-step lead counts and every funnel figure at once,
with no counter that a writer could forget to maintain. The activity log can
hold several rows per lead per kind; counting distinct leads there is what
would be slow.

`activity_campaign_kind` serves the message counts (emails sent, bounced) and
the activity tab's stage/kind filters.

Identities get the spec's remaining contact details (phone, meeting URL).
"""

SCHEMA = """
ALTER TABLE enrollments ADD COLUMN milestones INTEGER NOT NULL DEFAULT 0;
CREATE INDEX enrollments_metrics ON enrollments(campaign_id, status, node_id, milestones);
CREATE INDEX activity_campaign_kind ON activity(campaign_id, kind);
ALTER TABLE identities ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN meeting_url TEXT NOT NULL DEFAULT ''
"""


def migrate(db) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
