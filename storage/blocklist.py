"""The blocklist: leads, emails, companies and domains never to contact.

Values are stored in the form the audience check (storage.audience) compares
against, so each check is one index lookup on UNIQUE (kind, value):
- `email`: the normalised address; `domain`: lower case, without "@";
- `company`: lower case, trimmed;
- `lead`: a contact id, a normalised email or a normalised LinkedIn URL.
Adding an entry twice is not an error (the first reason is kept).
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlite_utils

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


def add_block(db: sqlite_utils.Database, kind: str, value: str, *, now: datetime, reason: str = "") -> BlockEntry:
    normalised = normalise_block_value(kind, value)
    with transaction(db):
        db.execute(
            "INSERT INTO blocklist (kind, value, reason, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, value) DO NOTHING",
            [kind, normalised, reason, now.astimezone(timezone.utc).isoformat()],
        )
        row = next(db.query("SELECT * FROM blocklist WHERE kind = ? AND value = ?", [kind, normalised]))
    return BlockEntry.from_row(row)


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
    """Whether any entry matches this contact (the same rules as campaign enrolment)."""
    checks: list[tuple[str, str]] = []
    if contact.id is not None:
        checks.append(("lead", str(contact.id)))
    if contact.email:
        email = contact.email.lower()
        checks += [("lead", email), ("email", email), ("domain", email.rpartition("@")[2])]
    if contact.linkedin_url:
        checks.append(("lead", contact.linkedin_url))
    if contact.company:
        checks.append(("company", contact.company.strip().lower()))
    return any(
        db.execute("SELECT 1 FROM blocklist WHERE kind = ? AND value = ?", check).fetchone() for check in checks
    )
