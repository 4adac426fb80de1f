"""Adding contacts to a campaign's audience, in bulk, with a report of what was skipped.

One `INSERT … SELECT` per request, so a million-contact list is enrolled in
seconds inside one transaction, never row by row from Python. Rules:

* a contact already in the campaign is not added twice (UNIQUE(campaign, contact));
* a contact once removed from the campaign can never come back: its
  enrollment row stays (Finished / Deleted), so it is skipped and reported;
* blocklisted contacts are skipped and reported: blocklist `lead` entries
  match the contact's id, email or LinkedIn URL; `email`, `domain` and
  `company` entries match the lower-cased email, email domain and company
  (blocklist values are stored lower-case);
* archived campaigns take no new contacts (they never run again).

New enrollments are Not started with `due_at` = the time they were added, so
the runtime's "what is due" query (status not_started/in_progress, due_at <=
now) starts them at the beginning of the sequence, even after launch (spec
FAQ Q4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils

from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.campaigns import CampaignError, get_campaign
from storage.db import transaction


class AddReport(msgspec.Struct, kw_only=True):
    """What happened to each contact of the request."""

    campaign_id: int
    requested: int
    added: int
    already_in: int
    removed_before: int
    blocklisted: int

    def summary(self) -> str:
        """One line for the CLI and the app (wizard, Contacts screen): what was added, and why the rest was not."""
        parts = [f"{self.added} added of {self.requested}"]
        if self.already_in:
            parts.append(f"{self.already_in} already in the campaign")
        if self.removed_before:
            parts.append(f"{self.removed_before} removed from it before (never re-added)")
        if self.blocklisted:
            parts.append(f"{self.blocklisted} blocklisted")
        return ", ".join(parts)


_BLOCK_TESTS = {
    "lead": "EXISTS (SELECT 1 FROM blocklist b WHERE b.kind = 'lead' AND b.value IN"
            " (CAST(c.id AS TEXT), lower(c.email), c.linkedin_url))",
    "email": "EXISTS (SELECT 1 FROM blocklist b WHERE b.kind = 'email' AND b.value = lower(c.email))",
    "domain": "EXISTS (SELECT 1 FROM blocklist b WHERE b.kind = 'domain'"
              " AND b.value = lower(substr(c.email, instr(c.email, '@') + 1)))",
    "company": "(c.company <> '' AND EXISTS (SELECT 1 FROM blocklist b WHERE b.kind = 'company'"
               " AND b.value = lower(c.company)))",
}
"""SQL true for a contact row `c` that a blocklist entry of that kind matches (index lookups)."""


def _blocked(db: sqlite_utils.Database) -> str:
    """The blocklist test for the kinds actually present: with no blocklist, no per-row cost."""
    kinds = sorted(k for k in _BLOCK_TESTS
                   if db.execute("SELECT 1 FROM blocklist WHERE kind = ? LIMIT 1", [k]).fetchone())
    return "(" + " OR ".join(_BLOCK_TESTS[k] for k in kinds) + ")" if kinds else "0"


def _enroll(db: sqlite_utils.Database, campaign_ref: int | str, source: str, params: list[Any], *,
            now: datetime, actor: str, what: dict[str, Any]) -> AddReport:
    """Enroll the contact ids selected by `source` (SQL yielding a `contact_id` column)."""
    at = iso(now)
    with transaction(db):
        campaign = get_campaign(db, campaign_ref)
        if campaign["status"] == "archived":
            raise CampaignError(f"campaign {campaign['name']!r} is archived: it takes no new contacts")
        cid = campaign["id"]
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _enroll_ids (contact_id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM _enroll_ids")
        db.execute(f"INSERT OR IGNORE INTO _enroll_ids (contact_id) {source}", params)
        requested = db.execute("SELECT COUNT(*) FROM _enroll_ids").fetchone()[0]
        already, removed = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(e.removed), 0) FROM _enroll_ids s"
            " JOIN enrollments e ON e.campaign_id = ? AND e.contact_id = s.contact_id", [cid]).fetchone()
        added = db.execute(
            "INSERT INTO enrollments (campaign_id, contact_id, status, due_at, enrolled_at, updated_at)"
            " SELECT ?, s.contact_id, 'not_started', ?, ?, ? FROM _enroll_ids s JOIN contacts c ON c.id = s.contact_id"
            " WHERE NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.campaign_id = ? AND e.contact_id = s.contact_id)"
            f" AND NOT {_blocked(db)} ORDER BY s.contact_id",
            [cid, at, at, at, cid],
        ).rowcount
        db.execute("DELETE FROM _enroll_ids")
        report = AddReport(campaign_id=cid, requested=requested, added=added, already_in=already - removed,
                           removed_before=removed, blocklisted=requested - already - added)
        record(db, kind=Kind.CONTACTS_ADDED, now=now, campaign_id=cid, actor=actor,
               detail={**what, **msgspec.structs.asdict(report)})
    return report


def add_list(db: sqlite_utils.Database, campaign_ref: int | str, list_ref: int | str, *, now: datetime,
             actor: str) -> AddReport:
    """Enroll every contact of a list (by id or exact name)."""
    rows = list(db.query("SELECT id, name FROM lists WHERE id = ? OR name = ?",
                         [int(list_ref) if str(list_ref).isdigit() else -1, str(list_ref)]))
    if not rows:
        names = [r["name"] for r in db.query("SELECT name FROM lists ORDER BY id DESC LIMIT 10")]
        known = f" (lists: {', '.join(names)})" if names else " (none yet: `enginy contacts import FILE.csv --list NAME`)"
        raise CampaignError(f"no list {str(list_ref)!r}{known}")
    lst = next((r for r in rows if r["name"] == str(list_ref)), rows[0])
    return _enroll(db, campaign_ref, "SELECT contact_id FROM list_members WHERE list_id = ?", [lst["id"]],
                   now=now, actor=actor, what={"list": lst["name"]})


def add_contacts(db: sqlite_utils.Database, campaign_ref: int | str, contact_ids: list[int], *, now: datetime,
                 actor: str) -> AddReport:
    """Enroll contacts picked one by one (unknown ids are ignored and not counted as requested)."""
    ids = sorted(set(int(i) for i in contact_ids))
    if not ids:
        raise CampaignError("no contacts given")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS _picked_ids (id INTEGER PRIMARY KEY)")
    with transaction(db):
        db.execute("DELETE FROM _picked_ids")
        db.conn.executemany("INSERT OR IGNORE INTO _picked_ids (id) VALUES (?)", [(i,) for i in ids])
        report = _enroll(db, campaign_ref, "SELECT p.id FROM _picked_ids p JOIN contacts c ON c.id = p.id", [],
                         now=now, actor=actor, what={"contacts": len(ids)})
        db.execute("DELETE FROM _picked_ids")
    return report
