"""Queries on `linkedin_invitations` (see m030): record, settle, list, history.

Every write takes `now` (ISO text is written); every write that belongs
together runs in one transaction. Lists are keyset-paged by id.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

import sqlite_utils

from sequences.limits import INVITATION_COOLDOWN
from storage.db import transaction



def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(timezone.utc).isoformat()


def record_sent(
    db: sqlite_utils.Database,
    *,
    identity_id: int,
    provider_id: str,
    sent_at: datetime,
    invitation_id: str | None = None,
    public_id: str | None = None,
    note: str | None = None,
    contact_id: int | None = None,
    campaign_id: int | None = None,
    enrollment_id: int | None = None,
    outbox_key: str | None = None,
) -> int:
    """An invitation enginy sent. Idempotent on `outbox_key` (a reconciled
    resend updates the same row) and on the gateway's `invitation_id`."""
    with transaction(db):
        row = None
        if outbox_key is not None:
            row = db.execute("SELECT id FROM linkedin_invitations WHERE outbox_key = ?", [outbox_key]).fetchone()
        if row is None and invitation_id is not None:
            row = db.execute(
                "SELECT id FROM linkedin_invitations WHERE identity_id = ? AND invitation_id = ?",
                [identity_id, invitation_id],
            ).fetchone()
        values = dict(identity_id=identity_id, provider_id=provider_id, public_id=public_id,
                      contact_id=contact_id, campaign_id=campaign_id, enrollment_id=enrollment_id,
                      outbox_key=outbox_key, invitation_id=invitation_id, note=note, source="enginy",
                      updated_at=_iso(sent_at))
        if row is not None:
            keep = {k: v for k, v in values.items() if v is not None}
            sets = ", ".join(f"{k} = ?" for k in keep)
            db.execute(f"UPDATE linkedin_invitations SET {sets} WHERE id = ?", [*keep.values(), row[0]])
            return row[0]
        cur = db.execute(
            "INSERT INTO linkedin_invitations (identity_id, provider_id, public_id, contact_id, campaign_id,"
            " enrollment_id, outbox_key, invitation_id, note, source, state, sent_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'enginy', 'pending', ?, ?)",
            [identity_id, provider_id, public_id, contact_id, campaign_id, enrollment_id, outbox_key,
             invitation_id, note, _iso(sent_at), _iso(sent_at)],
        )
        return cur.lastrowid


def sync_pending(
    db: sqlite_utils.Database,
    identity_id: int,
    listed: Iterable[dict],
    *,
    now: datetime,
) -> dict:
    """Reconcile our pending rows with the gateway's list of pending invitations.

    `listed`: dicts with invitation_id, provider_id, public_id, sent_at (datetime|None), note.
    Listed but unknown → inserted as `external` (sent outside enginy) or
    linked to our pending row for the same person. Ours pending but not listed
    → `gone` (accepted, declined or withdrawn elsewhere; acceptance is
    settled by `mark_accepted` from the relations poll). Returns counts.
    """
    listed = list(listed)
    added = linked = gone = 0
    with transaction(db):
        pending = {r["provider_id"]: r for r in db.query(
            "SELECT id, provider_id, public_id, invitation_id FROM linkedin_invitations"
            " WHERE identity_id = ? AND state = 'pending'", [identity_id])}
        # an invitation sent to a contact known by its profile URL only: matched by the URL's slug
        by_public = {r["public_id"]: r for r in pending.values() if r["public_id"]}
        seen = set()
        for item in listed:
            pid = item["provider_id"]
            ours = pending.get(pid) or by_public.get(item.get("public_id"))
            if ours is not None:
                seen.add(ours["provider_id"])
                holder = db.execute("SELECT id FROM linkedin_invitations WHERE identity_id = ? AND invitation_id = ?",
                                    [identity_id, item["invitation_id"]]).fetchone()
                if holder is not None and holder[0] != ours["id"]:
                    # Two of our rows invite one person (the lead is in two campaigns of this identity):
                    # LinkedIn holds one invitation, already linked to the other row.
                    continue
                if ours["invitation_id"] != item["invitation_id"] or ours["provider_id"] != pid:
                    db.execute("UPDATE linkedin_invitations SET invitation_id = ?, provider_id = ?, updated_at = ?"
                               " WHERE id = ?", [item["invitation_id"], pid, _iso(now), ours["id"]])
                    linked += 1
                continue
            seen.add(pid)
            exists = db.execute(
                "SELECT 1 FROM linkedin_invitations WHERE identity_id = ? AND invitation_id = ?",
                [identity_id, item["invitation_id"]]).fetchone()
            if exists:
                continue
            db.execute(
                "INSERT INTO linkedin_invitations (identity_id, provider_id, public_id, invitation_id, note,"
                " source, state, sent_at, updated_at) VALUES (?, ?, ?, ?, ?, 'external', 'pending', ?, ?)",
                [identity_id, pid, item.get("public_id"), item["invitation_id"], item.get("note"),
                 _iso(item.get("sent_at") or now), _iso(now)],
            )
            added += 1
        for pid, ours in pending.items():
            if pid not in seen:
                db.execute("UPDATE linkedin_invitations SET state = 'gone', updated_at = ? WHERE id = ?",
                           [_iso(now), ours["id"]])
                gone += 1
        db.execute(
            "INSERT INTO linkedin_sync (identity_id, invitations_synced_at, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(identity_id) DO UPDATE SET invitations_synced_at = excluded.invitations_synced_at,"
            " updated_at = excluded.updated_at",
            [identity_id, _iso(now), _iso(now)],
        )
    return {"added": added, "linked": linked, "gone": gone}


def mark_accepted(db: sqlite_utils.Database, identity_id: int, provider_id: str, at: datetime) -> int:
    """The person accepted: settle their pending (or just-gone) invitation. Returns rows changed."""
    with transaction(db):
        cur = db.execute(
            "UPDATE linkedin_invitations SET state = 'accepted', accepted_at = ?, updated_at = ?"
            " WHERE identity_id = ? AND provider_id = ? AND state IN ('pending', 'gone')",
            [_iso(at), _iso(at), identity_id, provider_id],
        )
        return cur.rowcount


def mark_withdrawn(db: sqlite_utils.Database, row_id: int, at: datetime, by: str) -> None:
    """Withdrawn by enginy ('auto' after the threshold, 'manual' by the user): starts the cooldown."""
    if by not in ("auto", "manual"):
        raise ValueError("by must be 'auto' or 'manual'")
    with transaction(db):
        db.execute(
            "UPDATE linkedin_invitations SET state = 'withdrawn', withdrawn_at = ?, withdrawn_by = ?,"
            " reinvite_after = ?, updated_at = ?, withdraw_requested_at = NULL WHERE id = ?",
            [_iso(at), by, _iso(at + INVITATION_COOLDOWN), _iso(at), row_id],
        )


_COLUMNS = ("id, identity_id, provider_id, public_id, contact_id, campaign_id, enrollment_id, invitation_id,"
            " note, source, state, sent_at, accepted_at, withdrawn_at, withdrawn_by, reinvite_after,"
            " withdraw_requested_at")


def request_withdrawal(db: sqlite_utils.Database, identity_id: int, *, now: datetime, actor: str) -> int:
    """The app's bulk withdrawal (it never calls the gateway): mark every pending invitation of the
    identity for withdrawal and touch the identity row, so a running runtime restarts its actor at
    once and the LinkedIn watcher withdraws the marked ones first (`withdrawal_requested`), recording
    each as withdrawn by 'manual'. Returns how many were marked."""
    from storage.activity import record
    from storage.activity_kinds import Kind

    with transaction(db):
        marked = db.execute("UPDATE linkedin_invitations SET withdraw_requested_at = ?, updated_at = ?"
                            " WHERE identity_id = ? AND state = 'pending' AND withdraw_requested_at IS NULL",
                            [_iso(now), _iso(now), identity_id]).rowcount
        if marked:
            db.execute("UPDATE identities SET updated_at = ? WHERE id = ?", [_iso(now), identity_id])
            record(db, kind=Kind.IDENTITY_EDITED, now=now, identity_id=identity_id, actor=actor,
                   detail={"withdraw_requested": marked})
        return marked


def withdrawal_requested(db: sqlite_utils.Database, identity_id: int) -> list[dict]:
    """Pending invitations the user asked to withdraw, oldest first."""
    return list(db.query(f"SELECT {_COLUMNS} FROM linkedin_invitations WHERE identity_id = ? AND state = 'pending'"
                         " AND withdraw_requested_at IS NOT NULL ORDER BY sent_at, id", [identity_id]))


def recent_withdrawals(db: sqlite_utils.Database, identity_id: int, limit: int = 5) -> list[dict]:
    """The latest withdrawn invitations, newest first (the configuration's history)."""
    return list(db.query(f"SELECT {_COLUMNS} FROM linkedin_invitations WHERE identity_id = ? AND state = 'withdrawn'"
                         " ORDER BY withdrawn_at DESC, id DESC LIMIT ?", [identity_id, limit]))


def pending(db: sqlite_utils.Database, identity_id: int) -> list[dict]:
    """Pending invitations, oldest first (a few hundred at most: LinkedIn caps pending ones)."""
    return list(db.query(f"SELECT {_COLUMNS} FROM linkedin_invitations"
                         " WHERE identity_id = ? AND state = 'pending' ORDER BY sent_at, id", [identity_id]))


def for_member(db: sqlite_utils.Database, identity_id: int, provider_id: str) -> list[dict]:
    return list(db.query(f"SELECT {_COLUMNS} FROM linkedin_invitations"
                         " WHERE identity_id = ? AND provider_id = ? ORDER BY id", [identity_id, provider_id]))


def history(db: sqlite_utils.Database, identity_id: int, *, state: str | None = None,
            after_id: int = 0, limit: int = 500) -> list[dict]:
    """All invitations of an identity (or one state), keyset-paged by id."""
    sql = f"SELECT {_COLUMNS} FROM linkedin_invitations WHERE identity_id = ? AND id > ?"
    args: list = [identity_id, after_id]
    if state is not None:
        sql += " AND state = ?"
        args.append(state)
    sql += " ORDER BY id LIMIT ?"
    args.append(limit)
    return list(db.query(sql, args))


def count_in_state(db: sqlite_utils.Database, identity_id: int, state: str) -> int:
    """How many of the identity's invitations are in `state` (index linkedin_invitations_pending)."""
    return db.execute("SELECT COUNT(*) FROM linkedin_invitations WHERE identity_id = ? AND state = ?",
                      [identity_id, state]).fetchone()[0]


def withdrawn_histories(db: sqlite_utils.Database, identity_id: int) -> dict[str, list[dict]]:
    """Every invitation of the people who had one withdrawn (for the re-invite rule)."""
    out: dict[str, list[dict]] = {}
    for row in db.query(
        f"SELECT {_COLUMNS} FROM linkedin_invitations WHERE identity_id = ? AND provider_id IN"
        " (SELECT provider_id FROM linkedin_invitations WHERE identity_id = ? AND state = 'withdrawn')"
        " ORDER BY id", [identity_id, identity_id]):
        out.setdefault(row["provider_id"], []).append(row)
    return out


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def is_accepted(db: sqlite_utils.Database, identity_id: int, provider_id: str) -> bool:
    """Whether the member accepted an invitation of this identity (they are a 1st-degree relation)."""
    return db.execute("SELECT 1 FROM linkedin_invitations WHERE identity_id = ? AND provider_id = ?"
                      " AND state = 'accepted'", [identity_id, provider_id]).fetchone() is not None


def oldest_awaiting(db: sqlite_utils.Database, identity_id: int) -> datetime | None:
    """When the identity's oldest invitation still awaiting an answer was sent ('gone': no longer
    listed, its answer unknown); None when none awaits."""
    r = db.execute("SELECT MIN(sent_at) FROM linkedin_invitations WHERE identity_id = ?"
                   " AND state IN ('pending', 'gone')", [identity_id]).fetchone()
    return datetime.fromisoformat(r[0]) if r and r[0] else None


def awaiting_key(db: sqlite_utils.Database, identity_id: int, provider_id: str, public_id: str | None) -> str | None:
    """The outbox key of the latest invitation still awaiting an answer that this member (by
    provider id, public id or profile URL slug) answers."""
    row = db.execute(
        "SELECT outbox_key FROM linkedin_invitations WHERE identity_id = ? AND state IN ('pending', 'gone')"
        " AND outbox_key IS NOT NULL AND (provider_id = ? OR provider_id = ? OR provider_id LIKE ?)"
        " ORDER BY id DESC LIMIT 1",
        [identity_id, provider_id, public_id or provider_id, f"%/in/{public_id or provider_id}%"]).fetchone()
    return row[0] if row else None


def outbox_key_of(db: sqlite_utils.Database, row_id: int) -> str | None:
    r = db.execute("SELECT outbox_key FROM linkedin_invitations WHERE id = ?", [row_id]).fetchone()
    return r[0] if r else None
