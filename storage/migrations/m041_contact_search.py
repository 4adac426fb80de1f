"""Full-text index over contact names and companies, for the TUI's search.

Why: the audience and activity searches matched `first || ' ' || last LIKE
'%term%' OR company LIKE '%term%'`, which reads every contact of the campaign
— about 0.6–0.9 s with a million leads. An FTS5 index finds the contacts whose
words start with the typed words in a few milliseconds (storage/search.py uses it as
`"word"*` prefix queries and keeps the LIKE as an exact re-check of the hits).

The table is external-content (`content='contacts'`): it stores only the
index, not a second copy of the text, and triggers keep it in step with every
insert, delete and update of first_name / last_name / company — whoever writes
the contacts (CSV import, CLI, runtime) need not know it exists. An update that
touches other columns does not fire the update trigger. The existing rows are
indexed once here with 'rebuild'.
"""

STATEMENTS = (
    """
CREATE VIRTUAL TABLE contact_search USING fts5(
    first_name, last_name, company,
    content='contacts', content_rowid='id'
)
""",
    """
CREATE TRIGGER contact_search_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contact_search (rowid, first_name, last_name, company)
    VALUES (new.id, new.first_name, new.last_name, new.company);
END;
""",
    """
CREATE TRIGGER contact_search_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contact_search (contact_search, rowid, first_name, last_name, company)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.company);
END;
""",
    """
CREATE TRIGGER contact_search_update AFTER UPDATE OF first_name, last_name, company ON contacts BEGIN
    INSERT INTO contact_search (contact_search, rowid, first_name, last_name, company)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.company);
    INSERT INTO contact_search (rowid, first_name, last_name, company)
    VALUES (new.id, new.first_name, new.last_name, new.company);
END;
""",
    """
INSERT INTO contact_search (contact_search) VALUES ('rebuild')
""",
)


def migrate(db) -> None:
    for statement in STATEMENTS:
        db.conn.execute(statement)
