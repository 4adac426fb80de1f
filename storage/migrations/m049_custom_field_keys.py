"""The workspace's custom field names, kept by triggers: what the step form offers.

Why: the step form (personalisation variables, the custom condition's field)
offers every custom field in use, which was `SELECT DISTINCT key FROM
contacts, json_each(custom)` — a pass over every contact and its JSON on the
first form the editor opened (seconds at a million contacts, on the UI
thread). `contact_custom_keys` holds each name with the number of contacts
having it, so the names are a read of a handful of rows.

Triggers on `contacts` keep it in the transaction of the change, whoever
writes (the import's set-based INSERT … SELECT and its merges, edits,
deletes, the sqlite3 shell). They fire only for contacts with custom fields
(`custom` is '{}' otherwise) and, on update, only when `custom` changed. A
name whose count falls to 0 keeps its row (readers skip n = 0).
"""

STATEMENTS = (
    """
CREATE TABLE contact_custom_keys (
    key TEXT PRIMARY KEY,
    n INTEGER NOT NULL
) WITHOUT ROWID
""",
    # ("WHERE true": an INSERT … SELECT with an upsert needs a WHERE for SQLite to parse ON CONFLICT)
    """
CREATE TRIGGER contact_custom_keys_insert AFTER INSERT ON contacts WHEN new.custom <> '{}' BEGIN
    INSERT INTO contact_custom_keys (key, n) SELECT key, 1 FROM json_each(new.custom) WHERE true
    ON CONFLICT DO UPDATE SET n = n + 1;
END
""",
    """
CREATE TRIGGER contact_custom_keys_delete AFTER DELETE ON contacts WHEN old.custom <> '{}' BEGIN
    UPDATE contact_custom_keys SET n = n - 1 WHERE key IN (SELECT key FROM json_each(old.custom));
END
""",
    """
CREATE TRIGGER contact_custom_keys_update AFTER UPDATE OF custom ON contacts WHEN new.custom IS NOT old.custom BEGIN
    UPDATE contact_custom_keys SET n = n - 1 WHERE key IN (SELECT key FROM json_each(old.custom));
    INSERT INTO contact_custom_keys (key, n) SELECT key, 1 FROM json_each(new.custom) WHERE true
    ON CONFLICT DO UPDATE SET n = n + 1;
END
""",
    """
INSERT INTO contact_custom_keys (key, n)
SELECT j.key, count(*) FROM contacts, json_each(contacts.custom) AS j WHERE contacts.custom <> '{}' GROUP BY j.key
""",
)


def migrate(db) -> None:
    for statement in STATEMENTS:
        db.conn.execute(statement)
