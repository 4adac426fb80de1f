"""`queue_views`: the queue monitor's view of each identity, as the runtime last published it.

The runtime builds each identity's queue view (runtime/queue_view.py: working
hours, buckets, lanes, blocked leads) and writes it here at most once a real
second, only when it changed; the TUI's Queues screen reads it (the app never
imports the runtime), and shows its age when no runtime runs. One row per
identity, the view as JSON text, `published_at` in workspace time.
"""


def migrate(db) -> None:
    db.conn.execute("""
CREATE TABLE queue_views (
    identity_id INTEGER PRIMARY KEY REFERENCES identities(id) ON DELETE CASCADE,
    view TEXT NOT NULL,
    published_at TEXT NOT NULL
)""")
