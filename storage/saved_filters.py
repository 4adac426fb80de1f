"""Saved filter sets ("+ Save current filters" of the campaigns dashboard), per screen scope.

A filter set is a small JSON object chosen by the screen; saving under an
existing name replaces it, so the user can refine a saved view in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils

from storage.activity import iso
from storage.db import transaction


def save_filter(db: sqlite_utils.Database, scope: str, name: str, query: dict[str, Any], *, now: datetime) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a saved filter needs a name")
    with transaction(db):
        db.execute(
            "INSERT INTO saved_filters (scope, name, query, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (scope, name) DO UPDATE SET query = excluded.query",
            [scope, name, msgspec.json.encode(query).decode(), iso(now)])


def saved_filters(db: sqlite_utils.Database, scope: str) -> dict[str, dict[str, Any]]:
    """Name -> filter set, in name order."""
    return {r["name"]: msgspec.json.decode(r["query"]) for r in db.query(
        "SELECT name, query FROM saved_filters WHERE scope = ? ORDER BY name", [scope])}


def delete_filter(db: sqlite_utils.Database, scope: str, name: str) -> bool:
    with transaction(db):
        return db.execute("DELETE FROM saved_filters WHERE scope = ? AND name = ?", [scope, name]).rowcount > 0
