"""Withdrawing invitations through a driver and keeping the history (automatic and manual).

The runtime's scheduler calls `auto_withdraw` for an identity a few times a
day (each call lists sent invitations once: one "evaluation"); the CLI's
`enginy linkedin withdraw` calls `refresh_pending` + `withdraw`. The rules
(which are due, when a re-invite is allowed) live in `withdraw_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from runtime.channels.linkedin.protocol import Disposition, LinkedInDriver, LinkedInError
from runtime.channels.linkedin.withdraw_policy import InvitationFact, due_for_withdrawal, due_reinvites
from storage import linkedin_invitations as store


def fact(row: dict) -> InvitationFact:
    return InvitationFact(
        provider_id=row["provider_id"], sent_at=store.parse_time(row["sent_at"]), state=row["state"],
        withdrawn_at=store.parse_time(row.get("withdrawn_at")), row_id=row["id"],
        invitation_id=row.get("invitation_id"),
    )


@dataclass
class WithdrawReport:
    withdrawn: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (identity-level error)


async def refresh_pending(db: sqlite_utils.Database, driver: LinkedInDriver, identity_id: int,
                          now: datetime) -> dict:
    """Bring our pending rows in line with the gateway's list (one evaluation)."""
    listed = await driver.sent_invitations()
    return store.sync_pending(db, identity_id, [
        {"invitation_id": i.invitation_id, "provider_id": i.provider_id, "public_id": i.public_id,
         "sent_at": i.sent_at, "note": i.note} for i in listed], now=now)


async def withdraw(db: sqlite_utils.Database, driver: LinkedInDriver, rows: list[dict], *,
                   now: datetime, by: str) -> WithdrawReport:
    """Withdraw each row's invitation and record it. An error about the whole
    identity (disconnected, restricted, rate limited) stops the run: what was
    done stays recorded; the rest waits for the next run."""
    report = WithdrawReport()
    for row in rows:
        if not row.get("invitation_id"):
            report.failed.append((row["id"], "the gateway has no id for this invitation; refresh first"))
            continue
        try:
            await driver.withdraw_invitation(row["invitation_id"])
        except LinkedInError as exc:
            if exc.disposition in (Disposition.IDENTITY_DISCONNECTED, Disposition.IDENTITY_RESTRICTED,
                                   Disposition.RETRY_LATER):
                report.stopped = str(exc)
                break
            report.failed.append((row["id"], str(exc)))
            continue
        store.mark_withdrawn(db, row["id"], now, by)
        report.withdrawn.append(row["id"])
    return report


async def auto_withdraw(db: sqlite_utils.Database, driver: LinkedInDriver, identity: dict,
                        now: datetime) -> WithdrawReport:
    """The automatic withdrawal of the identity's settings (`withdraw_enabled`,
    `withdraw_after_days`): refresh, pick the due ones, withdraw them."""
    if not identity.get("withdraw_enabled"):
        return WithdrawReport()
    await refresh_pending(db, driver, identity["id"], now)
    rows = {r["id"]: r for r in store.pending(db, identity["id"])}
    due = due_for_withdrawal([fact(r) for r in rows.values()], now=now,
                             threshold_days=int(identity["withdraw_after_days"]))
    return await withdraw(db, driver, [rows[f.row_id] for f in due], now=now, by="auto")


def reinvites_due(db: sqlite_utils.Database, identity_id: int, now: datetime) -> list[dict]:
    """The last withdrawn invitation (with its contact/campaign) of each person
    whose 3-week cooldown has passed and who may be invited once more."""
    histories = store.withdrawn_histories(db, identity_id)
    due = due_reinvites({pid: [fact(r) for r in rows] for pid, rows in histories.items()}, now=now)
    return [max((r for r in histories[pid] if r["state"] == "withdrawn"), key=lambda r: r["id"]) for pid in due]
