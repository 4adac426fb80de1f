"""Indexes the TUI's virtual tables page through by keyset.

The audience table pages a campaign's enrollments in id order ("all
statuses") and by stage (node); the chip index (campaign_id, status, id)
already serves one status. An index on (campaign_id) carries the rowid, so it
*is* (campaign_id, id): "WHERE campaign_id = ? AND id > ? ORDER BY id LIMIT n"
reads exactly n entries however large the campaign, instead of walking the
whole table in rowid order and skipping other campaigns' rows. Likewise
(campaign_id, node_id) is (campaign_id, node_id, id) for the stage filter.
The activity table's recipient column joins contacts by id (primary key), so
it needs nothing new.
"""

SCHEMA = """
CREATE INDEX IF NOT EXISTS enrollments_campaign ON enrollments(campaign_id);
CREATE INDEX IF NOT EXISTS enrollments_campaign_node ON enrollments(campaign_id, node_id)
"""


def migrate(db) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
