"""storage.bulk_load: a bulk fill with its INSERT triggers deferred ends with exactly the
search indexes and counts that the triggers keep row by row, and with the triggers back."""

from __future__ import annotations

import contextlib

import pytest

import runtime.simulation as simulation
from storage.bulk_load import insert_triggers, triggers_deferred
from storage.db import open_db, transaction

TABLES = ("contacts", "enrollments")


def derived(db) -> dict:
    """Everything the INSERT triggers derive, in comparable form."""
    def rows(sql, *args):
        return sorted(db.execute(sql, args).fetchall())

    return {
        "words": {w: rows("SELECT rowid FROM contact_search WHERE contact_search MATCH ?", w)
                  for w in ("first17", "last4242", "company", "\"company 5\"", "sales")},
        "details": {w: rows("SELECT rowid FROM contact_details WHERE contact_details MATCH ?", w)
                    for w in ("example", "head", "sales*")},
        "marks": rows("SELECT term, doc FROM contact_marks_vocab"),
        "marked": rows("SELECT rowid FROM contact_marks WHERE contact_marks MATCH '\"@\"'"),
        "counts": rows("SELECT campaign_id, status, node_id, n FROM enrollment_counts WHERE n != 0"),
        "milestones": rows("SELECT campaign_id, milestones, n FROM enrollment_milestone_counts WHERE n != 0"),
        "custom keys": rows("SELECT key, n FROM contact_custom_keys WHERE n != 0"),
    }


def built(tmp_path, name: str, *, bulk: bool):
    db = open_db(tmp_path / name)
    if not bulk:
        simulation.triggers_deferred = lambda db, tables: contextlib.nullcontext()
    try:
        simulation.build(db, identities=3, leads_per_identity=400, seed=7)
    finally:
        simulation.triggers_deferred = triggers_deferred
    with transaction(db):  # a name with marks, so the punctuation index has something to hold
        db.execute("UPDATE contacts SET last_name = 'O''Brien @ Co.' WHERE id IN (5, 6)")
    return db


def test_a_bulk_fill_derives_what_row_by_row_triggers_derive(tmp_path):
    row_by_row = built(tmp_path, "rows.db", bulk=False)
    bulk = built(tmp_path, "bulk.db", bulk=True)
    expected = derived(row_by_row)
    assert expected["words"]["first17"] and expected["marked"] == [(5,), (6,)]  # the comparison has substance
    assert sum(n for *_, n in expected["counts"]) == 1200
    assert derived(bulk) == expected
    for index in ("contact_search", "contact_marks", "contact_details"):  # FTS5's own check: the index matches its content table
        bulk.execute(f"INSERT INTO {index} ({index}) VALUES ('integrity-check')")


def test_the_triggers_are_back_afterwards(tmp_path):
    db = built(tmp_path, "bulk.db", bulk=True)
    before = {t: insert_triggers(db, t) for t in TABLES}
    assert set(before["contacts"]) == {"contact_search_insert", "contact_marks_insert", "contact_details_insert",
                                       "contact_custom_keys_insert"}
    with transaction(db):
        db.execute("INSERT INTO contacts (id, first_name, last_name, created_at, updated_at)"
                   " VALUES (99999, 'Zebedee', 'Ng', 'now', 'now')")
        db.execute("INSERT INTO enrollments (campaign_id, contact_id, enrolled_at, updated_at)"
                   " VALUES (1, 99999, 'now', 'now')")
    assert db.execute("SELECT rowid FROM contact_search WHERE contact_search MATCH 'zebedee'").fetchall() == [(99999,)]
    assert db.execute("SELECT n FROM enrollment_counts WHERE campaign_id = 1 AND status = 'not_started'"
                      " AND node_id = ''").fetchone()[0] == 201


def test_an_error_inside_leaves_the_triggers_and_data_as_they_were(tmp_path):
    db = open_db(tmp_path / "w.db")
    before = {t: insert_triggers(db, t) for t in TABLES}
    with pytest.raises(ZeroDivisionError):
        with transaction(db), triggers_deferred(db, TABLES):
            db.execute("INSERT INTO contacts (first_name, created_at, updated_at) VALUES ('Ann', 'now', 'now')")
            1 / 0
    assert {t: insert_triggers(db, t) for t in TABLES} == before
    assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0


def test_an_insert_trigger_it_cannot_rebuild_is_refused(tmp_path):
    db = open_db(tmp_path / "w.db")
    db.execute("CREATE TABLE audit (contact_id INTEGER)")
    db.execute("CREATE TRIGGER contacts_audit AFTER INSERT ON contacts BEGIN"
               " INSERT INTO audit VALUES (new.id); END")
    with pytest.raises(ValueError, match="contacts_audit"):
        with transaction(db), triggers_deferred(db, TABLES):
            pass
    assert "contacts_audit" in insert_triggers(db, "contacts")


def test_it_needs_the_callers_transaction(tmp_path):
    db = open_db(tmp_path / "w.db")
    with pytest.raises(RuntimeError, match="transaction"):
        with triggers_deferred(db, TABLES):
            pass
