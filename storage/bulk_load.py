"""Filling a fresh workspace in bulk: what triggers derive is rebuilt once, not row by row.

Inserted contacts feed three FTS5 indexes (m041 and m048 words, m045 punctuation) and
inserted enrollments feed the per-campaign counts (m043), each through an
AFTER INSERT trigger. Row by row that was two thirds of building a simulation's
workspace (500,000 leads: ~10 s of CPU); rebuilt once at the end it is ~1.5 s.
A rebuild reads the whole table, so this pays only when the batch is (nearly)
all of it, as in `enginy simulate`'s throw-away workspace.

Only triggers whose derived data this module knows how to rebuild may be
deferred: an INSERT trigger added later without a rebuild here is refused,
rather than silently left out of date.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterable, Iterator

import sqlite_utils

#: table -> INSERT trigger -> the statements that recompute what it maintains.
REBUILDS: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "contact_search_insert": ("INSERT INTO contact_search (contact_search) VALUES ('rebuild')",),
        "contact_marks_insert": ("INSERT INTO contact_marks (contact_marks) VALUES ('rebuild')",),
        "contact_details_insert": ("INSERT INTO contact_details (contact_details) VALUES ('rebuild')",),
        "contact_custom_keys_insert": (
            "DELETE FROM contact_custom_keys",
            "INSERT INTO contact_custom_keys (key, n) SELECT j.key, count(*) FROM contacts, json_each(contacts.custom) AS j"
            " WHERE contacts.custom <> '{}' GROUP BY j.key",
        ),
    },
    "enrollments": {
        # NOT INDEXED: one pass over the table, not an index walk with a row look-up each
        "enrollment_counts_insert": (
            "DELETE FROM enrollment_counts",
            "INSERT INTO enrollment_counts (campaign_id, status, node_id, n)"
            " SELECT campaign_id, status, coalesce(node_id, ''), count(*) FROM enrollments NOT INDEXED"
            " GROUP BY campaign_id, status, coalesce(node_id, '')",
            "DELETE FROM enrollment_milestone_counts",
            "INSERT INTO enrollment_milestone_counts (campaign_id, milestones, n)"
            " SELECT campaign_id, milestones, count(*) FROM enrollments NOT INDEXED GROUP BY campaign_id, milestones",
        ),
    },
}

_FIRES_ON_INSERT = re.compile(r"^\s*CREATE\s+TRIGGER\s+[^(]*?\bINSERT\s+ON\b", re.IGNORECASE | re.DOTALL)


def insert_triggers(db: sqlite_utils.Database, table: str) -> dict[str, str]:
    """The table's INSERT triggers: name -> CREATE statement."""
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table])
    return {name: sql for name, sql in rows if _FIRES_ON_INSERT.match(sql)}


@contextmanager
def triggers_deferred(db: sqlite_utils.Database, tables: Iterable[str]) -> Iterator[None]:
    """Inside the caller's transaction: drop the tables' INSERT triggers, let the caller
    insert, then rebuild what they derive and create them again. An error undoes it
    all with the caller's rollback (SQLite's DDL is transactional)."""
    if not db.conn.in_transaction:
        raise RuntimeError("triggers_deferred needs the caller's transaction")
    deferred: list[tuple[str, str, tuple[str, ...]]] = []
    for table in tables:
        known = REBUILDS.get(table, {})
        for name, sql in insert_triggers(db, table).items():
            if name not in known:
                raise ValueError(f"trigger {name} on {table}: no bulk rebuild is known for it")
            deferred.append((name, sql, known[name]))
    for name, _, _ in deferred:
        db.execute(f"DROP TRIGGER {name}")
    yield
    for _, sql, rebuild in deferred:
        for statement in rebuild:
            db.execute(statement)
        db.execute(sql)
