"""The workspace's custom field names (what the step form offers) come from `contact_custom_keys`,
kept by triggers (m049): right after imports, merges, edits and deletes, and on an upgraded
workspace; read without a pass over the contacts."""

from __future__ import annotations

from pathlib import Path

from storage.bulk_load import triggers_deferred
from storage.contact_import import import_contacts
from storage.contacts import custom_keys
from storage.db import connect, migrate, transaction
from storage.workspace import init_workspace
from tests.tui_support import NOW


def scanned(db) -> list[str]:
    """The truth: every name in any contact's fields, by a pass over all of them."""
    return [r[0] for r in db.execute("SELECT DISTINCT j.key FROM contacts, json_each(contacts.custom) AS j ORDER BY 1")]


def csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_names_follow_imports_merges_edits_and_deletes(tmp_path: Path) -> None:
    db = init_workspace(tmp_path / "ws").open_db()
    assert custom_keys(db) == [] == scanned(db)
    first = csv(tmp_path, "a.csv", "email,first_name,Plan,Seats\na@x.com,Ann,gold,3\nb@x.com,Bob,,\n")
    import_contacts(db, first, list_name="A", now=NOW)
    assert custom_keys(db) == ["Plan", "Seats"] == scanned(db)
    # a second file merges into Ann (same email) and brings a new name; a dry run leaves nothing
    second = csv(tmp_path, "b.csv", "email,Région\na@x.com,Île-de-France\nc@x.com,Bretagne\n")
    import_contacts(db, second, list_name="B", now=NOW, dry_run=True)
    assert custom_keys(db) == ["Plan", "Seats"]
    import_contacts(db, second, list_name="B", now=NOW)
    assert custom_keys(db) == ["Plan", "Région", "Seats"] == scanned(db)
    with transaction(db):  # an edit drops Seats from the only contact that had it
        db.execute("""UPDATE contacts SET custom = json_remove(custom, '$.Seats') WHERE email = 'a@x.com'""")
    assert custom_keys(db) == ["Plan", "Région"] == scanned(db)
    with transaction(db):
        db.execute("DELETE FROM contacts WHERE email = 'c@x.com'")  # Région is still Ann's
        assert custom_keys(db) == ["Plan", "Région"] == scanned(db)
        db.execute("DELETE FROM contacts WHERE email = 'a@x.com'")
    assert custom_keys(db) == [] == scanned(db)


def test_an_upgraded_workspace_has_its_names_and_reading_them_scans_no_contact(tmp_path: Path) -> None:
    db = connect(tmp_path / "old.db")
    migrate(db, upto="m047_activity_by_identity")
    with transaction(db):
        db.execute("INSERT INTO contacts (first_name, email, custom, created_at, updated_at)"
                   """ VALUES ('Ann', 'a@x.com', '{"Plan": "gold", "Seats": "3"}', ?, ?),"""
                   """ ('Bob', 'b@x.com', '{}', ?, ?)""", [NOW.isoformat()] * 4)
    migrate(db)
    assert custom_keys(db) == ["Plan", "Seats"] == scanned(db)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    custom_keys(db)
    db.conn.set_trace_callback(None)
    (read,) = statements
    assert [r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {read}")] == ["SCAN contact_custom_keys"]  # no contact read


def test_a_bulk_fill_rebuilds_the_names_once(tmp_path: Path) -> None:
    """storage.bulk_load drops the INSERT triggers for a fresh workspace's fill and rebuilds what they keep."""
    db = init_workspace(tmp_path / "ws").open_db()
    with transaction(db), triggers_deferred(db, ["contacts"]):
        db.conn.executemany("INSERT INTO contacts (first_name, custom, created_at, updated_at) VALUES (?, ?, 't', 't')",
                            [("Ann", '{"Plan": "gold"}'), ("Bob", '{"Plan": "", "Seats": "2"}'), ("Cy", "{}")])
    assert custom_keys(db) == ["Plan", "Seats"] == scanned(db)
    assert db.execute("SELECT key, n FROM contact_custom_keys ORDER BY key").fetchall() == [("Plan", 2), ("Seats", 1)]
