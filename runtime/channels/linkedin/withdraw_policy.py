"""When to withdraw a pending invitation, and when a withdrawn one may be sent again.

Pure rules from the spec, no I/O, no clock (callers pass `now`):
- automatic withdrawal: a pending invitation older than the identity's
  threshold (days) is withdrawn, if the identity enabled it;
- after a withdrawal LinkedIn refuses a new invitation to that person for
  3 weeks; enginy re-sends automatically once the cooldown has passed;
- "do this sparingly — if they ignore a second invite, move on": at most
  `MAX_INVITATIONS_PER_MEMBER` invitations per person and identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from sequences.limits import INVITATION_COOLDOWN

MAX_INVITATIONS_PER_MEMBER = 2


@dataclass(frozen=True)
class InvitationFact:
    """What the rules need of one invitation (a storage row maps onto it)."""

    provider_id: str
    sent_at: datetime
    state: str = "pending"  # pending | accepted | withdrawn | gone
    withdrawn_at: datetime | None = None
    row_id: int | None = None
    invitation_id: str | None = None


def due_for_withdrawal(
    pending: Iterable[InvitationFact], *, now: datetime, threshold_days: int, enabled: bool = True
) -> list[InvitationFact]:
    """Pending invitations at least `threshold_days` old, oldest first."""
    if not enabled:
        return []
    if threshold_days < 1:
        raise ValueError("the withdrawal threshold must be at least 1 day")
    cutoff = now - timedelta(days=threshold_days)
    due = [i for i in pending if i.state == "pending" and i.sent_at <= cutoff]
    return sorted(due, key=lambda i: i.sent_at)


def older_than(pending: Iterable[InvitationFact], *, now: datetime, days: int | None) -> list[InvitationFact]:
    """Manual withdrawal's selection: pending invitations older than `days` (all when None)."""
    cutoff = None if days is None else now - timedelta(days=days)
    chosen = [i for i in pending if i.state == "pending" and (cutoff is None or i.sent_at <= cutoff)]
    return sorted(chosen, key=lambda i: i.sent_at)


def reinvite_after(withdrawn_at: datetime) -> datetime:
    return withdrawn_at + INVITATION_COOLDOWN


@dataclass(frozen=True)
class ReinviteDecision:
    allowed: bool
    not_before: datetime | None = None  # set when waiting out the cooldown
    reason: str = ""


def may_invite(history: Sequence[InvitationFact], *, now: datetime) -> ReinviteDecision:
    """May the identity (re-)invite this person now? `history`: all its
    invitations to them, any order."""
    if any(i.state == "pending" for i in history):
        return ReinviteDecision(False, None, "an invitation is already pending")
    if any(i.state == "accepted" for i in history):
        return ReinviteDecision(False, None, "already connected")
    if len(history) >= MAX_INVITATIONS_PER_MEMBER:
        return ReinviteDecision(False, None, f"invited {len(history)} times already; moving on")
    withdrawn = [i.withdrawn_at for i in history if i.state == "withdrawn" and i.withdrawn_at]
    if withdrawn:
        ready = reinvite_after(max(withdrawn))
        if now < ready:
            return ReinviteDecision(False, ready, "3-week cooldown after a withdrawal")
    return ReinviteDecision(True)


def due_reinvites(
    histories: dict[str, Sequence[InvitationFact]], *, now: datetime
) -> list[str]:
    """People whose last invitation was withdrawn, whose cooldown has passed and
    who may still be invited once more: the automatic re-invites due now."""
    due = []
    for provider_id, history in histories.items():
        if not any(i.state == "withdrawn" for i in history):
            continue
        if may_invite(history, now=now).allowed:
            due.append(provider_id)
    return sorted(due)
