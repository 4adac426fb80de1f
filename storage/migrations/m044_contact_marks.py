"""Which contacts' names and companies contain each punctuation mark, for searches FTS cannot serve.

Why: a search with no letters or digits ("&", "@", "-", "'") has no word for
the FTS index (m041), so the audience list walked every lead testing LIKE: at
a million leads a page took 0.5–1 s, and a mark nobody has read the whole
campaign (~4 s with the count). Such a search can only match a contact whose
"first last" or company contains each of its marks, so `contact_marks` lists,
per mark, the contacts that have it: the rarest mark of the search is one
range of the primary key, and LIKE re-checks those few contacts exactly.

Marks are the 32 ASCII punctuation characters and some common typographic
ones (`search_marks` lists them; a search whose only marks are others keeps
the LIKE walk). Triggers keep the table in step with every insert, delete
and update of first_name / last_name / company, as m041 does for the FTS
index; a contact without any mark costs one GLOB per write.
"""

MARKS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~’‘“”–—…€£¥·«»¿¡©®™°§"

#: True for text containing at least one of MARKS (SQLite GLOB: ranges of ASCII punctuation, then the others)
HAS_MARK = "GLOB '*[!-/:-@[-`{-~’‘“”–—…€£¥·«»¿¡©®™°§]*'"

TEXT = "{0}.first_name || ' ' || {0}.last_name || ' ' || {0}.company"

STATEMENTS = (
    "CREATE TABLE search_marks (mark TEXT PRIMARY KEY) WITHOUT ROWID",
    """
CREATE TABLE contact_marks (
    mark TEXT NOT NULL,
    contact_id INTEGER NOT NULL,
    PRIMARY KEY (mark, contact_id)
) WITHOUT ROWID
""",
    f"""
CREATE TRIGGER contact_marks_insert AFTER INSERT ON contacts WHEN {TEXT.format('new')} {HAS_MARK} BEGIN
    INSERT OR IGNORE INTO contact_marks (mark, contact_id)
    SELECT mark, new.id FROM search_marks WHERE instr({TEXT.format('new')}, mark) > 0;
END
""",
    f"""
CREATE TRIGGER contact_marks_delete AFTER DELETE ON contacts WHEN {TEXT.format('old')} {HAS_MARK} BEGIN
    DELETE FROM contact_marks WHERE contact_id = old.id
        AND mark IN (SELECT mark FROM search_marks WHERE instr({TEXT.format('old')}, mark) > 0);
END
""",
    f"""
CREATE TRIGGER contact_marks_update AFTER UPDATE OF first_name, last_name, company ON contacts
WHEN {TEXT.format('old')} {HAS_MARK} OR {TEXT.format('new')} {HAS_MARK} BEGIN
    DELETE FROM contact_marks WHERE contact_id = old.id
        AND mark IN (SELECT mark FROM search_marks WHERE instr({TEXT.format('old')}, mark) > 0);
    INSERT OR IGNORE INTO contact_marks (mark, contact_id)
    SELECT mark, new.id FROM search_marks WHERE instr({TEXT.format('new')}, mark) > 0;
END
""",
)


def migrate(db) -> None:
    for statement in STATEMENTS:
        db.conn.execute(statement)
    db.conn.executemany("INSERT INTO search_marks (mark) VALUES (?)", [(m,) for m in MARKS])
    db.conn.execute(
        f"INSERT INTO contact_marks (mark, contact_id) SELECT m.mark, c.id FROM contacts c JOIN search_marks m"
        f" ON instr({TEXT.format('c')}, m.mark) > 0 WHERE {TEXT.format('c')} {HAS_MARK}")
