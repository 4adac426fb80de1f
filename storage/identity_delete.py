"""Deleting an identity: what goes with it, said before, and removed in one transaction.

The spec (identities.md, "What Is an Identity?"): "If you delete an identity
that has an active campaign, reconnecting it later won't reattach it to the
campaign. The campaign will lose that identity." A campaign here always has
its identity (`campaigns.identity_id` is NOT NULL, and only a Draft may change
it), so losing it means the campaign goes too, with its leads, log and queued
actions, as `delete_campaign` removes one. Also gone: the identity's inboxes
(and their mail records), its conversations (a conversation is between one
identity and one contact), its pending jobs and action ledger, its LinkedIn
invitations, and its secrets (inbox passwords, LinkedIn API key — asked for
in the same transaction, forgotten by whoever holds the secret store:
storage/secret_purges.py). Activity rows not of a deleted campaign stay, without
the identity, and one `identity_deleted` row says who deleted what.

Order matters because several references have no ON DELETE action: campaigns
first (their leads, outbox rows and log cascade), then the rows that still
name the identity or its inboxes, then the identity (its inboxes, invitations
and queue view cascade). One BEGIN IMMEDIATE … COMMIT: a kill at any point
leaves either the whole identity or none of it. A running runtime sees the
commit and stops the identity's actors (supervisor: their campaigns are gone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils

from storage import secret_purges
from storage.activity import record
from storage.activity_kinds import Kind
from storage.db import transaction
from storage.identities import get_identity
from storage.share_links import revoke_links

WARNING = ("If you delete an identity that has an active campaign, reconnecting it later won't reattach it to "
           "the campaign. The campaign will lose that identity.")


class DeletionPlan(msgspec.Struct, frozen=True):
    """What deleting the identity removes (shown before, returned after)."""

    identity_id: int
    name: str
    campaigns: list[dict[str, Any]]  # id, name, status, leads, active (in progress or paused)
    inboxes: list[str]
    conversations: int
    pending_jobs: int
    pending_invitations: int
    secrets: list[str]

    def to_dict(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)

    def lines(self, most: int | None = None) -> list[str]:
        """What goes, in words, one line each, the spec's warning last (the CLI and the app show these;
        names are raw: each caller escapes them). `most` campaigns are named, the rest counted."""
        out = [f"Deleting identity #{self.identity_id} {self.name} removes, for good:"]
        named = self.campaigns if most is None else self.campaigns[:most]
        for c in named:
            out.append(f"  campaign #{c['id']} {c['name']} ({c['status']}, {c['leads']} leads, "
                       f"{c['active']} mid-sequence) with its leads, log and queued actions")
        if rest := self.campaigns[len(named):]:
            out.append(f"  and {len(rest)} more campaign(s) with {sum(c['leads'] for c in rest)} leads")
        if not self.campaigns:
            out.append("  no campaign")
        out += [f"  inbox {email} and its stored password" for email in self.inboxes]
        out.append(f"  {self.conversations} conversation(s), {self.pending_jobs} pending job(s), "
                   f"{self.pending_invitations} pending LinkedIn invitation(s) (not withdrawn on LinkedIn)")
        if any(s.startswith("linkedin-") for s in self.secrets):
            out.append("  its LinkedIn gateway API key")
        out.append(f"Warning: {WARNING}")
        return out


def deletion_plan(db: sqlite_utils.Database, ref: int | str) -> DeletionPlan:
    """What `delete_identity` would remove now (IdentityError if there is no such identity)."""
    ident = get_identity(db, ref)
    iid = ident["id"]
    campaigns = [dict(r) for r in db.query(
        "SELECT c.id, c.name, c.status,"
        " (SELECT COUNT(*) FROM enrollments e WHERE e.campaign_id = c.id) AS leads,"
        " (SELECT COUNT(*) FROM enrollments e WHERE e.campaign_id = c.id"
        "  AND e.status IN ('in_progress', 'paused')) AS active"
        " FROM campaigns c WHERE c.identity_id = ? ORDER BY c.id", [iid])]
    inboxes = db.query("SELECT id, email FROM inboxes WHERE identity_id = ? ORDER BY id", [iid])
    inbox_rows = list(inboxes)
    one = lambda sql: db.execute(sql, [iid]).fetchone()[0]  # noqa: E731
    secrets = [secret_purges.inbox_secret_name(b["id"]) for b in inbox_rows]
    if ident["linkedin_driver"] == "gateway":
        secrets.append(secret_purges.linkedin_secret_name(iid))
    return DeletionPlan(
        identity_id=iid, name=ident["name"], campaigns=campaigns, inboxes=[b["email"] for b in inbox_rows],
        conversations=one("SELECT COUNT(*) FROM conversations WHERE identity_id = ?"),
        pending_jobs=one("SELECT COUNT(*) FROM outbox WHERE identity_id = ?"
                         " AND state IN ('queued', 'claimed', 'sending', 'unknown')"),
        pending_invitations=one("SELECT COUNT(*) FROM linkedin_invitations WHERE identity_id = ? AND state = 'pending'"),
        secrets=secrets)


def delete_identity(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str) -> DeletionPlan:
    """Delete the identity and everything `deletion_plan` lists, in one transaction; returns the plan."""
    with transaction(db):
        plan = deletion_plan(db, ref)
        iid = plan.identity_id
        inboxes = "(SELECT id FROM inboxes WHERE identity_id = ?)"
        for campaign in plan.campaigns:  # leads, their log, tasks and outbox rows cascade
            db.execute("DELETE FROM campaigns WHERE id = ?", [campaign["id"]])
        db.execute("DELETE FROM conversations WHERE identity_id = ?", [iid])  # their messages cascade
        db.execute("DELETE FROM outbox WHERE identity_id = ?", [iid])
        db.execute("DELETE FROM action_ledger WHERE identity_id = ?", [iid])
        for table in ("enrollments", "conversations", "outbox", "action_ledger"):  # other identities' rows
            db.execute(f"UPDATE {table} SET inbox_id = NULL WHERE inbox_id IN {inboxes}", [iid])
        db.execute("UPDATE activity SET identity_id = NULL WHERE identity_id = ?", [iid])
        secret_purges.request(db, plan.secrets, now)
        revoke_links(db, iid, now)  # their gateway keys are forgotten too; the rows cascade
        db.execute("DELETE FROM identities WHERE id = ?", [iid])  # inboxes, invitations, queue view cascade
        record(db, kind=Kind.IDENTITY_DELETED, now=now, actor=actor,
               detail={"identity_id": iid, "name": plan.name, "campaigns": [c["name"] for c in plan.campaigns],
                       "inboxes": plan.inboxes})
    return plan
