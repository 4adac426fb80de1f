"""Index a campaign's activity by recipient, for the activity list's name/company search.

Why: with the FTS index (m041) a search finds its few contacts at once, but
the activity list then still walked every action of the campaign
(activity_campaign) to find theirs — ~0.4 s per page at 100,000 actions. With
(campaign_id, contact_id) — which carries the rowid, so it is (campaign_id,
contact_id, id) — each matching contact's actions are one index range.
"""


def migrate(db) -> None:
    db.conn.execute("CREATE INDEX IF NOT EXISTS activity_campaign_contact ON activity(campaign_id, contact_id)")
