"""Drop the index enrollments_metrics: nothing reads it since m043, and every lead's step wrote it.

Why: (campaign_id, status, node_id, milestones) served the grouped pass that
m043 replaced with trigger-kept counts. No query's plan uses it now (every
statement on enrollments the storage, TUI and metrics tests run was checked
with EXPLAIN QUERY PLAN: a count by campaign and status uses enrollments_chip,
just as covering). Yet a step that moves a lead to another node or status, and
every new milestone bit, rewrote its entry: ~2 % of a large simulation.
"""


def migrate(db) -> None:
    db.conn.execute("DROP INDEX IF EXISTS enrollments_metrics")
