"""Punctuation in names and companies indexed by FTS5 (replaces m044's trigger-filled table).

Why: m044 listed (mark, contact) pairs with triggers whose screening GLOB
(~1.3 µs a row) and per-mark instr() body (~10 µs a punctuated row) made
writing contacts about twice as expensive (a bulk insert of 300,000: 2.4 →
5.0 s of CPU). This FTS5 index answers the same searches for ~0.4 µs a row.

Its tokenizer keeps only punctuation and symbols as token characters
(unicode61, `categories 'P* S*'`: letters, digits and spaces separate
tokens), so the tokens of "Smith & Co., Inc." are "&", ".," and "."; a name
without marks adds nothing. `detail=none, columnsize=0`: only which contacts
have which runs of marks, no positions or sizes. A mark can sit inside a
longer run (the "," of ".,"), so the search reads the few distinct runs from
`contact_marks_vocab` and matches every run that contains its mark — the
exact set of contacts with that mark (storage/search.py).

External content (`content='contacts'`) and the three triggers work as the
word index of m041 does: whoever writes contacts need not know it exists.

The drops are `IF EXISTS`: a database that ran the old m044 has its table and
triggers, one that reaches m044 today (a no-op) has none; both end here alike.
"""

STATEMENTS = (
    "DROP TRIGGER IF EXISTS contact_marks_insert",
    "DROP TRIGGER IF EXISTS contact_marks_delete",
    "DROP TRIGGER IF EXISTS contact_marks_update",
    "DROP TABLE IF EXISTS contact_marks",
    "DROP TABLE IF EXISTS search_marks",
    """
CREATE VIRTUAL TABLE contact_marks USING fts5(
    first_name, last_name, company,
    content='contacts', content_rowid='id',
    tokenize="unicode61 categories 'P* S*'", detail=none, columnsize=0
)
""",
    "CREATE VIRTUAL TABLE contact_marks_vocab USING fts5vocab(contact_marks, 'row')",
    """
CREATE TRIGGER contact_marks_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contact_marks (rowid, first_name, last_name, company)
    VALUES (new.id, new.first_name, new.last_name, new.company);
END
""",
    """
CREATE TRIGGER contact_marks_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contact_marks (contact_marks, rowid, first_name, last_name, company)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.company);
END
""",
    """
CREATE TRIGGER contact_marks_update AFTER UPDATE OF first_name, last_name, company ON contacts BEGIN
    INSERT INTO contact_marks (contact_marks, rowid, first_name, last_name, company)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.company);
    INSERT INTO contact_marks (rowid, first_name, last_name, company)
    VALUES (new.id, new.first_name, new.last_name, new.company);
END
""",
    "INSERT INTO contact_marks (contact_marks) VALUES ('rebuild')",
)


def migrate(db) -> None:
    for statement in STATEMENTS:
        db.conn.execute(statement)
