"""`ai_values`: the AI variables generated for each lead, per step (issue 15).

Why: an AI variable (`{ai: opener}`) is written once per lead and step and
then kept: the send uses it, a retry of the lead reuses it instead of asking
the AI again (and paying for it twice), and the editor's preview shows what a
lead really got. Keyed by (enrollment, step, variable); a row is never
replaced; it goes with its enrollment.
"""


def migrate(db) -> None:
    db.conn.execute("""
        CREATE TABLE ai_values (
            enrollment_id INTEGER NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
            node_id TEXT NOT NULL,
            variable TEXT NOT NULL,
            text TEXT NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (enrollment_id, node_id, variable)
        ) WITHOUT ROWID""")
