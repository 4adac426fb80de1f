"""m044 is retired (a no-op) and m045 tolerant: every workspace upgrades to one schema.

A database may have stopped before m044, after the old m044 (its trigger-filled
`contact_marks`/`search_marks`), or after m045. `OLD_M044` is what the old m044
ran (commit 75a0680), so a database "stopped at m044" is built as it really was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import connect, migrate, transaction

AT = "2026-03-02T09:00:00+00:00"

_MARKS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~’‘“”–—…€£¥·«»¿¡©®™°§"
_HAS_MARK = "GLOB '*[!-/:-@[-`{-~’‘“”–—…€£¥·«»¿¡©®™°§]*'"
_TEXT = "{0}.first_name || ' ' || {0}.last_name || ' ' || {0}.company"
OLD_M044 = (
    "CREATE TABLE search_marks (mark TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE contact_marks (mark TEXT NOT NULL, contact_id INTEGER NOT NULL,"
    " PRIMARY KEY (mark, contact_id)) WITHOUT ROWID",
    f"""CREATE TRIGGER contact_marks_insert AFTER INSERT ON contacts WHEN {_TEXT.format('new')} {_HAS_MARK} BEGIN
        INSERT OR IGNORE INTO contact_marks (mark, contact_id)
        SELECT mark, new.id FROM search_marks WHERE instr({_TEXT.format('new')}, mark) > 0;
    END""",
    f"""CREATE TRIGGER contact_marks_delete AFTER DELETE ON contacts WHEN {_TEXT.format('old')} {_HAS_MARK} BEGIN
        DELETE FROM contact_marks WHERE contact_id = old.id
            AND mark IN (SELECT mark FROM search_marks WHERE instr({_TEXT.format('old')}, mark) > 0);
    END""",
    f"""CREATE TRIGGER contact_marks_update AFTER UPDATE OF first_name, last_name, company ON contacts
    WHEN {_TEXT.format('old')} {_HAS_MARK} OR {_TEXT.format('new')} {_HAS_MARK} BEGIN
        DELETE FROM contact_marks WHERE contact_id = old.id
            AND mark IN (SELECT mark FROM search_marks WHERE instr({_TEXT.format('old')}, mark) > 0);
        INSERT OR IGNORE INTO contact_marks (mark, contact_id)
        SELECT mark, new.id FROM search_marks WHERE instr({_TEXT.format('new')}, mark) > 0;
    END""",
)


def old_m044(db) -> None:
    """Bring a database at m043 to where the old m044 left it (schema, rows, and its record)."""
    with transaction(db):
        for statement in OLD_M044:
            db.conn.execute(statement)
        db.conn.executemany("INSERT INTO search_marks (mark) VALUES (?)", [(m,) for m in _MARKS])
        db.conn.execute(f"INSERT INTO contact_marks (mark, contact_id) SELECT m.mark, c.id FROM contacts c"
                        f" JOIN search_marks m ON instr({_TEXT.format('c')}, m.mark) > 0"
                        f" WHERE {_TEXT.format('c')} {_HAS_MARK}")
        db.conn.execute("INSERT INTO _migrations (name) VALUES ('m044_contact_marks')")


def add_contacts(db) -> None:
    db.execute("INSERT INTO contacts (id, first_name, last_name, company, created_at, updated_at)"
               " VALUES (7, 'Mary-Kate', 'O''Neil', 'R&D, Ltd.', ?, ?), (8, 'No', 'Marks', 'Here', ?, ?)",
               [AT, AT, AT, AT])


def schema(db) -> list[tuple]:
    return db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"
                      " WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall()


def with_mark(db, mark: str) -> set[int]:
    return {r[0] for r in db.execute("SELECT rowid FROM contact_marks WHERE contact_marks MATCH ?",
                                     ['"' + mark.replace('"', '""') + '"'])}


def fresh(tmp_path: Path):
    db = connect(tmp_path / "fresh.db")
    migrate(db)
    return db


@pytest.mark.parametrize("stopped_at", ["m043", "m044 (old)", "m044 (retired)"])
def test_a_database_stopped_at_m043_or_m044_upgrades_to_the_fresh_schema(tmp_path: Path, stopped_at: str) -> None:
    db = connect(tmp_path / "old.db")
    migrate(db, upto="m043_enrollment_counts")
    add_contacts(db)
    if stopped_at == "m044 (old)":
        old_m044(db)
        assert db.execute("SELECT COUNT(*) FROM contact_marks").fetchone()[0] > 0
    elif stopped_at == "m044 (retired)":
        migrate(db, upto="m044_contact_marks")
        assert "contact_marks" not in {r[1] for r in schema(db)}  # today's m044 does nothing
    migrate(db)
    assert schema(db) == schema(fresh(tmp_path))
    assert with_mark(db, "&") == {7} and with_mark(db, "-") == {7} and with_mark(db, "@") == set()
    db.execute("INSERT INTO contact_marks (contact_marks, rank) VALUES ('integrity-check', 1)")
    db.execute("UPDATE contacts SET company = 'Acme' WHERE id = 7")  # the new triggers keep it in step
    assert with_mark(db, "&") == set() and with_mark(db, "-") == {7}


def test_a_database_past_m045_is_left_alone(tmp_path: Path) -> None:
    db = fresh(tmp_path)
    before = schema(db)
    assert migrate(db) == [] and schema(db) == before
