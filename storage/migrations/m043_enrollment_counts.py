"""Per-campaign enrollment counts kept by triggers: the audience chips, stage counts and funnel at any size.

Why: the chips, the per-step counts and the funnel were one grouped pass over
the covering index enrollments_metrics (m005). At a million leads that pass
reads 1M index entries (~0.16 s of SQLite) and, with varied milestone bits,
hands Python ~300,000 (status, node, milestones) groups (~0.8 s holding the
GIL, which froze the TUI's painting while it ran); the audience table's chip
count alone was a 300,000-entry index range (~14 ms) on every chip change.

Two small tables hold the same figures as running totals:

* `enrollment_counts` — leads by (campaign, status, node): the chips, the
  "progress by action" counts and the exact count of any chip × stage filter,
  in a handful of rows;
* `enrollment_milestone_counts` — leads by (campaign, milestones bit set):
  every funnel figure (a figure is the sum over the bit sets that have its
  bits), at most one row per distinct bit set.

Triggers on `enrollments` keep them in the same transaction as the change,
whoever writes (bulk adds, the runtime's steps, lead intents, milestone bits,
campaign duplication or deletion, the sqlite3 shell): a writer cannot forget
them. An update fires only when campaign, status or node (resp. milestones)
really changed. A count that falls to 0 keeps its row (readers skip n = 0), so
a lead moving back and forth reuses it; deleting a campaign deletes its rows.
A node id of NULL (no step yet / done) is stored as ''.
"""

STATEMENTS = (
    """
CREATE TABLE enrollment_counts (
    campaign_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    node_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, status, node_id)
) WITHOUT ROWID
""",
    """
CREATE TABLE enrollment_milestone_counts (
    campaign_id INTEGER NOT NULL,
    milestones INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, milestones)
) WITHOUT ROWID
""",
    """
CREATE TRIGGER enrollment_counts_insert AFTER INSERT ON enrollments BEGIN
    INSERT INTO enrollment_counts (campaign_id, status, node_id, n)
    VALUES (new.campaign_id, new.status, coalesce(new.node_id, ''), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO enrollment_milestone_counts (campaign_id, milestones, n)
    VALUES (new.campaign_id, new.milestones, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END
""",
    """
CREATE TRIGGER enrollment_counts_delete AFTER DELETE ON enrollments BEGIN
    UPDATE enrollment_counts SET n = n - 1
    WHERE campaign_id = old.campaign_id AND status = old.status AND node_id = coalesce(old.node_id, '');
    UPDATE enrollment_milestone_counts SET n = n - 1
    WHERE campaign_id = old.campaign_id AND milestones = old.milestones;
END
""",
    """
CREATE TRIGGER enrollment_counts_update AFTER UPDATE OF campaign_id, status, node_id ON enrollments
WHEN old.campaign_id IS NOT new.campaign_id OR old.status IS NOT new.status
    OR coalesce(old.node_id, '') IS NOT coalesce(new.node_id, '')
BEGIN
    UPDATE enrollment_counts SET n = n - 1
    WHERE campaign_id = old.campaign_id AND status = old.status AND node_id = coalesce(old.node_id, '');
    INSERT INTO enrollment_counts (campaign_id, status, node_id, n)
    VALUES (new.campaign_id, new.status, coalesce(new.node_id, ''), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END
""",
    """
CREATE TRIGGER enrollment_milestone_counts_update AFTER UPDATE OF campaign_id, milestones ON enrollments
WHEN old.campaign_id IS NOT new.campaign_id OR old.milestones IS NOT new.milestones
BEGIN
    UPDATE enrollment_milestone_counts SET n = n - 1
    WHERE campaign_id = old.campaign_id AND milestones = old.milestones;
    INSERT INTO enrollment_milestone_counts (campaign_id, milestones, n)
    VALUES (new.campaign_id, new.milestones, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END
""",
    """
CREATE TRIGGER enrollment_counts_campaign_delete AFTER DELETE ON campaigns BEGIN
    DELETE FROM enrollment_counts WHERE campaign_id = old.id;
    DELETE FROM enrollment_milestone_counts WHERE campaign_id = old.id;
END
""",
    # the existing rows, counted once (the covering index enrollments_metrics serves both)
    """
INSERT INTO enrollment_counts (campaign_id, status, node_id, n)
SELECT campaign_id, status, coalesce(node_id, ''), count(*) FROM enrollments
GROUP BY campaign_id, status, coalesce(node_id, '')
""",
    """
INSERT INTO enrollment_milestone_counts (campaign_id, milestones, n)
SELECT campaign_id, milestones, count(*) FROM enrollments GROUP BY campaign_id, milestones
""",
)


def migrate(db) -> None:
    for statement in STATEMENTS:
        db.conn.execute(statement)
