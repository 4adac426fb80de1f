"""Contacts and lists: the queries the CLI, the TUI and campaign audiences share.

Every listing is keyset-paged (storage.paging) so a million contacts cost the
same per page as a hundred. Deleting a list removes its memberships only:
contacts may be in other lists and in campaigns, and their history stays.
Functions that write take `now` (the storage layer never reads the clock).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

import sqlite_utils

from storage.db import transaction
from storage.paging import Page, iterate, page
from storage.records import Contact, ContactList

PAGE = 50


def _stamp(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc).isoformat()


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- lists -------------------------------------------------------------------------


def get_list(db: sqlite_utils.Database, name: str) -> ContactList | None:
    row = next(db.query("SELECT * FROM lists WHERE name = ?", [name]), None)
    return ContactList.from_row(row) if row else None


def ensure_list(db: sqlite_utils.Database, name: str, *, now: datetime, created_by: str = "") -> int:
    """The id of the list called `name`, creating it if there is none."""
    name = name.strip()
    if not name:
        raise ValueError("a list needs a name")
    with transaction(db):
        db.execute(
            "INSERT INTO lists (name, created_by, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            [name, created_by, _stamp(now)],
        )
        return db.execute("SELECT id FROM lists WHERE name = ?", [name]).fetchone()[0]


def rename_list(db: sqlite_utils.Database, name: str, new_name: str) -> ContactList:
    """Give a list another name (campaigns that enrolled it keep their contacts; the activity log
    keeps the old name it recorded)."""
    new_name = new_name.strip()
    if not new_name:
        raise ValueError("a list needs a name")
    with transaction(db):
        found = get_list(db, name)
        if found is None:
            raise KeyError(name)
        if new_name != found.name and get_list(db, new_name) is not None:
            raise ValueError(f"there is already a list called {new_name!r}")
        db.execute("UPDATE lists SET name = ? WHERE id = ?", [new_name, found.id])
        return get_list(db, new_name)  # type: ignore[return-value]


def set_list_tags(db: sqlite_utils.Database, name: str, *, add: Iterable[str] = (),
                  remove: Iterable[str] = ()) -> list[str]:
    """Add and remove tags of a list (the "Tags" filter of the Lists screen and the wizard's step 2);
    return its tags, sorted. Tags are trimmed; empty ones are ignored; adding one it has is a no-op."""
    added = {t.strip() for t in add if t.strip()}
    removed = {t.strip() for t in remove if t.strip()}
    with transaction(db):
        found = get_list(db, name)
        if found is None:
            raise KeyError(name)
        tags = sorted((set(found.tags) | added) - removed, key=str.casefold)
        db.execute("UPDATE lists SET tags = ? WHERE id = ?", [json.dumps(tags), found.id])
    return tags


def delete_list(db: sqlite_utils.Database, name: str) -> int:
    """Delete a list and its memberships (not its contacts); return how many members it had."""
    with transaction(db):
        found = get_list(db, name)
        if found is None:
            raise KeyError(name)
        members = list_size(db, found.id)
        db.execute("DELETE FROM lists WHERE id = ?", [found.id])
    return members


def list_size(db: sqlite_utils.Database, list_id: int) -> int:
    """How many contacts the list holds."""
    return db.execute("SELECT count(*) FROM list_members WHERE list_id = ?", [list_id]).fetchone()[0]


def list_member_ids(db: sqlite_utils.Database, list_id: int) -> list[int]:
    """The ids of the list's contacts, in id order (a whole list at once: for seeding, not for paging)."""
    return [r[0] for r in db.execute("SELECT contact_id FROM list_members WHERE list_id = ? ORDER BY contact_id",
                                     [list_id])]


# -- contacts ----------------------------------------------------------------------


def _contact_filter(search: str | None, list_id: int | None) -> tuple[str, list[Any]]:
    conditions, params = [], []
    if list_id is not None:
        conditions.append("id IN (SELECT contact_id FROM list_members WHERE list_id = ?)")
        params.append(list_id)
    if search:
        conditions.append(
            "(first_name || ' ' || last_name LIKE ?1x OR email LIKE ?1x OR company LIKE ?1x"
            " OR job_title LIKE ?1x OR linkedin_url LIKE ?1x)".replace("?1x", "? ESCAPE '\\'")
        )
        params += [_like(search)] * 5
    return " AND ".join(conditions), params


def contacts_page(
    db: sqlite_utils.Database,
    *,
    search: str | None = None,
    list_id: int | None = None,
    after=None,
    limit: int = PAGE,
) -> Page[Contact]:
    """Contacts in id order, optionally within a list and matching `search` anywhere."""
    where, params = _contact_filter(search, list_id)
    result = page(db, "contacts", where=where, params=params, after=after, limit=limit)
    return Page(rows=[Contact.from_row(r) for r in result.rows], after=result.after)


def iter_contacts(db: sqlite_utils.Database, *, list_id: int | None = None) -> Iterator[Contact]:
    """Every contact (of a list), page by page: bounded memory for exports."""
    where, params = _contact_filter(None, list_id)
    for row in iterate(db, "contacts", where=where, params=params):
        yield Contact.from_row(row)


def custom_keys(db: sqlite_utils.Database, *, list_id: int | None = None) -> list[str]:
    """Every custom field name in use, sorted: the step form's variables and export columns.

    The workspace's names are kept by triggers (m049: a few rows, whatever the number of
    contacts); a list's are read from its members' fields (an export reads them all anyway)."""
    if list_id is None:
        return [r[0] for r in db.execute("SELECT key FROM contact_custom_keys WHERE n > 0 ORDER BY key")]
    where, params = _contact_filter(None, list_id)
    sql = "SELECT DISTINCT j.key FROM contacts, json_each(contacts.custom) AS j WHERE "
    return sorted(r[0] for r in db.execute(sql + where.replace("id IN", "contacts.id IN"), params))


def get_contact(db: sqlite_utils.Database, contact_id: int) -> Contact | None:
    row = next(db.query("SELECT * FROM contacts WHERE id = ?", [contact_id]), None)
    return Contact.from_row(row) if row else None


def find_contact(
    db: sqlite_utils.Database, *, email: str | None = None, linkedin_url: str | None = None
) -> Contact | None:
    """The contact with this (normalised) email, else with this LinkedIn URL."""
    for column, value in (("email", email), ("linkedin_url", linkedin_url)):
        if value:
            row = next(db.query(f"SELECT * FROM contacts WHERE {column} = ?", [value]), None)
            if row:
                return Contact.from_row(row)
    return None
