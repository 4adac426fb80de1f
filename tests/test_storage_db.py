"""The database every part builds on: migrations, upgrades in place, file modes, pragmas.

The upgrade test is generic on purpose: for *every* migration that exists (now
and added later by any area), a database stopped just before it and holding
data must upgrade to exactly the schema a fresh database gets, without losing
a row. A new migration is covered the moment its file exists.
"""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from storage.db import (
    GroupVoid, applied_migrations, connect, grouped_commits, migrate, migration_names, open_db, open_scratch_db,
    transaction,
)

NOW = "2026-11-23T14:00:00+00:00"


def _schema(db) -> set[tuple[str, str, str]]:
    """Every table/index/trigger/view of the main schema with its SQL (migrations table excluded)."""
    return {
        (row[0], row[1], " ".join((row[2] or "").split()))
        for row in db.conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != '_migrations'"
        )
    }


def _seed_m001(db) -> dict[str, int]:
    """One row in each central m001 table, linked the way real data is."""
    with transaction(db):
        c = db.conn
        c.execute("INSERT INTO identities (id, name, created_at, updated_at) VALUES (1, 'Ana', ?, ?)", [NOW, NOW])
        c.execute(
            "INSERT INTO inboxes (id, identity_id, email, created_at, updated_at) VALUES (1, 1, 'ana@x.io', ?, ?)",
            [NOW, NOW],
        )
        c.execute(
            "INSERT INTO contacts (id, first_name, email, custom, created_at, updated_at)"
            " VALUES (1, 'Bo', 'bo@y.io', '{\"team\":\"ops\"}', ?, ?)",
            [NOW, NOW],
        )
        c.execute("INSERT INTO lists (id, name, created_at) VALUES (1, 'Leads', ?)", [NOW])
        c.execute("INSERT INTO list_members VALUES (1, 1, ?)", [NOW])
        c.execute(
            "INSERT INTO campaigns (id, name, identity_id, sequence, created_at, updated_at)"
            " VALUES (1, 'Q4', 1, '{}', ?, ?)",
            [NOW, NOW],
        )
        c.execute(
            "INSERT INTO enrollments (id, campaign_id, contact_id, enrolled_at, updated_at) VALUES (1, 1, 1, ?, ?)",
            [NOW, NOW],
        )
        c.execute("INSERT INTO activity (at, campaign_id, enrollment_id, kind) VALUES (?, 1, 1, 'x')", [NOW])
        c.execute(
            "INSERT INTO outbox (key, identity_id, channel, action, created_at, updated_at)"
            " VALUES ('k1', 1, 'email', 'send', ?, ?)",
            [NOW, NOW],
        )
        c.execute("INSERT INTO blocklist (kind, value, created_at) VALUES ('domain', 'z.io', ?)", [NOW])
    return _counts(db)


def _counts(db) -> dict[str, int]:
    tables = ("identities", "inboxes", "contacts", "lists", "list_members", "campaigns", "enrollments",
              "activity", "outbox", "blocklist")
    return {t: db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_migrations_are_numbered_uniquely_and_start_with_the_initial_schema():
    names = migration_names()
    assert names[0] == "m001_initial"
    numbers = [n[1:4] for n in names]
    assert len(numbers) == len(set(numbers)), f"two migrations share a number: {names}"


def test_open_applies_every_migration_once_and_reopening_applies_none(tmp_path):
    db = open_db(tmp_path / "w.db")
    assert applied_migrations(db) == sorted(migration_names())
    db.close()
    db = connect(tmp_path / "w.db")
    assert migrate(db) == []


@pytest.mark.parametrize("stop_after", migration_names())
def test_a_database_stopped_at_any_migration_upgrades_in_place(tmp_path, stop_after):
    fresh = open_db(tmp_path / "fresh.db")

    old = connect(tmp_path / "old.db")
    migrate(old, upto="m001_initial")
    before = _seed_m001(old)
    migrate(old, upto=stop_after)
    names = migration_names()
    assert applied_migrations(old) == names[: names.index(stop_after) + 1]
    old.close()

    upgraded = open_db(tmp_path / "old.db")
    assert applied_migrations(upgraded) == applied_migrations(fresh)
    assert _schema(upgraded) == _schema(fresh)
    assert _counts(upgraded) == before
    row = upgraded.conn.execute("SELECT first_name, email, custom FROM contacts WHERE id = 1").fetchone()
    assert row == ("Bo", "bo@y.io", '{"team":"ops"}')
    assert upgraded.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert upgraded.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_database_wal_and_shm_files_are_private_even_with_a_permissive_umask(tmp_path):
    old_umask = os.umask(0)
    try:
        db = open_db(tmp_path / "w.db")
        with transaction(db):
            db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('a', ?)", [NOW])
        reader = connect(tmp_path / "w.db")
        reader.conn.execute("SELECT count(*) FROM lists").fetchone()
        paths = [tmp_path / "w.db", tmp_path / "w.db-wal", tmp_path / "w.db-shm"]
        for path in paths:
            assert path.exists(), path
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    finally:
        os.umask(old_umask)


def test_wal_mode_and_foreign_keys_are_on(tmp_path):
    db = open_db(tmp_path / "w.db")
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: a commit survives power loss
    with pytest.raises(sqlite3.IntegrityError):
        db.conn.execute("INSERT INTO list_members VALUES (99, 99, ?)", [NOW])


def test_schema_has_the_tables_and_the_indexes_the_queries_rely_on(tmp_path):
    db = open_db(tmp_path / "w.db")
    tables = set(db.table_names())
    assert {
        "identities", "inboxes", "contacts", "lists", "list_members", "campaigns", "enrollments", "activity",
        "conversations", "messages", "tasks", "action_ledger", "outbox", "blocklist", "saved_filters",
        "user_templates", "runtime_lease", "_migrations",
    } <= tables
    indexes = {row[1]: row for row in db.conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type='index'")}
    # Duplicate detection of contacts depends on these two being unique.
    for name in ("contacts_email", "contacts_linkedin_url"):
        assert "UNIQUE" in indexes[name][3].upper() and indexes[name][2] == "contacts"
    plan = " ".join(
        str(r[-1]) for r in db.conn.execute("EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE email = ?", ["a@b.c"])
    )
    assert "contacts_email" in plan
    plan = " ".join(
        str(r[-1]) for r in db.conn.execute(
            "EXPLAIN QUERY PLAN SELECT contact_id FROM list_members WHERE list_id = ? AND contact_id > ?"
            " ORDER BY contact_id LIMIT 50", [1, 0])
    )
    assert "SCAN" not in plan  # keyset paging of a list never walks the whole table


def test_transaction_rolls_back_everything_on_error_and_nests(tmp_path):
    db = open_db(tmp_path / "w.db")
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('a', ?)", [NOW])
            with transaction(db):  # a savepoint of the outer one
                db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('b', ?)", [NOW])
            raise RuntimeError("boom")
    assert db.conn.execute("SELECT count(*) FROM lists").fetchone()[0] == 0
    assert not db.conn.in_transaction


def test_an_error_inside_a_nested_transaction_undoes_only_the_inner_writes(tmp_path):
    db = open_db(tmp_path / "w.db")
    with transaction(db):
        db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('kept', ?)", [NOW])
        with pytest.raises(RuntimeError):
            with transaction(db):
                db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('undone', ?)", [NOW])
                raise RuntimeError("the inner step failed and was handled")
        db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('after', ?)", [NOW])
    assert [r[0] for r in db.conn.execute("SELECT name FROM lists ORDER BY id")] == ["kept", "after"]


def test_grouped_commits_publish_at_commit_and_restore_the_journal(tmp_path):
    db = open_scratch_db(tmp_path / "scratch.db")
    with grouped_commits(db) as commit:
        with transaction(db):
            db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('one', ?)", [NOW])
        assert db.conn.in_transaction  # nothing committed yet: the group is still open
        commit()
        with transaction(db):
            db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('two', ?)", [NOW])
    assert not db.conn.in_transaction
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "memory"
    db.close()
    fresh = connect(tmp_path / "scratch.db")
    assert [r[0] for r in fresh.conn.execute("SELECT name FROM lists ORDER BY id")] == ["one", "two"]


def test_a_failed_transaction_voids_its_group_so_a_half_write_is_never_published(tmp_path):
    db = open_scratch_db(tmp_path / "scratch.db")
    with pytest.raises(GroupVoid, match="void") as void:
        with grouped_commits(db) as commit:
            with transaction(db):
                db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('one', ?)", [NOW])
            commit()
            with pytest.raises(RuntimeError, match="boom"):  # the error itself reaches its caller as always
                with transaction(db):
                    db.conn.execute("INSERT INTO lists (name, created_at) VALUES ('half', ?)", [NOW])
                    raise RuntimeError("boom")
            commit()
    assert "boom" in str(void.value.__cause__)
    assert not db.conn.in_transaction
    db.close()
    fresh = connect(tmp_path / "scratch.db")
    assert [r[0] for r in fresh.conn.execute("SELECT name FROM lists ORDER BY id")] == ["one"]


def test_a_void_group_fails_at_its_end_when_nothing_commits_after(tmp_path):
    db = open_scratch_db(tmp_path / "scratch.db")
    with pytest.raises(GroupVoid):
        with grouped_commits(db):
            try:
                with transaction(db):
                    raise KeyError("swallowed by a careless caller")
            except KeyError:
                pass

def test_a_new_scratch_database_gets_large_pages_and_a_copied_one_keeps_its_own(tmp_path):
    fresh = open_scratch_db(tmp_path / "new.db")
    assert fresh.execute("PRAGMA page_size").fetchone()[0] == 16384
    assert (tmp_path / "new.db").stat().st_mode & 0o777 == 0o600
    fresh.close()
    workspace = open_db(tmp_path / "workspace.db")
    with transaction(workspace):
        workspace.conn.execute("INSERT INTO lists (name, created_at) VALUES ('kept', ?)", [NOW])
    own = workspace.execute("PRAGMA page_size").fetchone()[0]
    target = sqlite3.connect(tmp_path / "copy.db")
    workspace.conn.backup(target)
    target.close()
    workspace.close()
    copy = open_scratch_db(tmp_path / "copy.db")
    assert copy.execute("PRAGMA page_size").fetchone()[0] == own != 16384
    assert [r[0] for r in copy.conn.execute("SELECT name FROM lists")] == ["kept"]
