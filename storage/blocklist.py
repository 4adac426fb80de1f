"""The blocklist: leads, emails, companies and domains never to contact.

Values are stored in the form the audience check (storage.audience) compares
against, so each check is one index lookup on UNIQUE (kind, value):
- `email`: the normalised address; `domain`: lower case, without "@";
- `company`: lower case, trimmed;
- `lead`: a contact id, a normalised email or a normalised LinkedIn URL.
Adding an entry twice is not an error (the first reason is kept).

What "blocked" means is written once, as SQL, in `storage.audience._BLOCK_TESTS`:
enrolment skips such contacts, the runtime's pre-send check (runtime/outbox.py)
cancels their jobs, and `is_blocked` / `blocked_enrollments` here ask the same.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlite_utils

from storage.audience import _BLOCK_TESTS
from storage.contact_fields import clean_line, normalise_email, normalise_linkedin
from storage.db import transaction
from storage.paging import Page, page
from storage.records import BlockEntry, Contact

KINDS = ("lead", "email", "company", "domain")


class BlockValueError(ValueError):
    """The value cannot be a blocklist entry of that kind (the message says why)."""


def normalise_block_value(kind: str, value: str) -> str:
    value = clean_line(value)
    if kind not in KINDS:
        raise BlockValueError(f"kind must be one of {', '.join(KINDS)}")
    if kind == "email":
        email = normalise_email(value)
        if email is None:
            raise BlockValueError(f"not an email address: {value!r}")
        return email
    if kind == "domain":
        domain = value.lower().lstrip("@").strip(".")
        if "." not in domain or " " in domain:
            raise BlockValueError(f"not a domain: {value!r}")
        return domain
    if kind == "company":
        if not value:
            raise BlockValueError("a company name is needed")
        return value.lower()
    if value.isdigit():
        return value
    normalised = normalise_email(value) if "@" in value else normalise_linkedin(value)
    if normalised is None:
        raise BlockValueError(f"a lead is a contact id, an email or a LinkedIn profile URL, not {value!r}")
    return normalised


def add_block(db: sqlite_utils.Database, kind: str, value: str, *, now: datetime,
              reason: str = "") -> tuple[BlockEntry, bool]:
    """The entry, and whether it is new (False: it was already there, unchanged)."""
    normalised = normalise_block_value(kind, value)
    with transaction(db):
        added = db.execute(
            "INSERT INTO blocklist (kind, value, reason, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, value) DO NOTHING",
            [kind, normalised, reason, now.astimezone(timezone.utc).isoformat()],
        ).rowcount > 0
        row = next(db.query("SELECT * FROM blocklist WHERE kind = ? AND value = ?", [kind, normalised]))
    return BlockEntry.from_row(row), added


def remove_block(db: sqlite_utils.Database, kind: str, value: str) -> bool:
    """Remove an entry; False when there was none."""
    with transaction(db):
        cursor = db.execute("DELETE FROM blocklist WHERE kind = ? AND value = ?",
                            [kind, normalise_block_value(kind, value)])
    return cursor.rowcount > 0


def blocklist_page(db: sqlite_utils.Database, *, kind: str | None = None, after=None, limit: int = 50) -> Page[BlockEntry]:
    where, params = ("kind = ?", [kind]) if kind else ("", [])
    result = page(db, "blocklist", where=where, params=params, after=after, limit=limit)
    return Page(rows=[BlockEntry.from_row(r) for r in result.rows], after=result.after)


def is_blocked(db: sqlite_utils.Database, contact: Contact) -> bool:
    """Whether any entry matches this contact (the same SQL as enrolment and the pre-send check)."""
    tests = " OR ".join(_BLOCK_TESTS.values())
    row = db.execute(f"SELECT {tests} FROM (SELECT ? AS id, ? AS email, ? AS linkedin_url, ? AS company) c",
                     [contact.id, contact.email, contact.linkedin_url, contact.company or ""]).fetchone()
    return bool(row[0])


_LIVE = ("not_started", "in_progress", "paused", "error")
"""Lead statuses a block still changes (the others are final: Finished, Replied)."""


def blocked_enrollments(db: sqlite_utils.Database, kind: str) -> list[tuple[int, int, int]]:
    """(enrollment, campaign, campaign's identity) of every live lead an entry of `kind` matches."""
    if kind not in KINDS:
        raise BlockValueError(f"kind must be one of {', '.join(KINDS)}")
    marks = ", ".join("?" for _ in _LIVE)
    return db.execute(
        "SELECT e.id, e.campaign_id, k.identity_id FROM campaigns k"
        f" JOIN enrollments e ON e.campaign_id = k.id AND e.status IN ({marks})"
        f" JOIN contacts c ON c.id = e.contact_id WHERE {_BLOCK_TESTS[kind]} ORDER BY e.id",
        list(_LIVE),
    ).fetchall()
