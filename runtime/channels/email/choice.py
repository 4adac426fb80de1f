"""Which inbox sends a lead's next email — a pure function the runtime calls.

Spec (identities.md, Email Configuration; FAQ Q3):
* Shuffle: a new conversation goes to one of the campaign's inboxes (all of
  the identity's when the campaign names none), spread by remaining
  capacity, ties rotated — so no inbox is drained before the others.
* Lead continuity: once a lead's conversation started on an inbox it stays
  there. If that inbox was disconnected the lead errors with "Email
  disconnected" (it resumes after reconnect + retry); if it was removed
  altogether, "Missing email". It is never moved to another inbox.
* With no connected inbox at all, a new lead errors "Invalid identity email".
* An inbox at its cap is not an error: the lead waits (`wait=True`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sequences.statuses import Substatus


@dataclass(frozen=True)
class InboxSlot:
    id: int
    connected: bool
    remaining_day: int
    remaining_hour: int

    @property
    def capacity(self) -> int:
        return max(0, min(self.remaining_day, self.remaining_hour))


@dataclass(frozen=True)
class InboxChoice:
    inbox_id: int | None
    substatus: Substatus | None = None  # an Error substatus when the lead cannot go on
    wait: bool = False  # the right inbox exists but is at its cap: try again later


def choose_inbox(inboxes: Sequence[InboxSlot], *, sticky: int | None, allowed: Sequence[int] | None = None,
                 turn: int = 0) -> InboxChoice:
    by_id = {slot.id: slot for slot in inboxes}
    if sticky is not None:
        slot = by_id.get(sticky)
        if slot is None:
            return InboxChoice(None, Substatus.MISSING_EMAIL)
        if not slot.connected:
            return InboxChoice(None, Substatus.EMAIL_DISCONNECTED)
        return InboxChoice(slot.id, wait=slot.capacity == 0)
    wanted = [by_id[i] for i in (allowed or [s.id for s in inboxes]) if i in by_id]
    usable = [s for s in wanted if s.connected]
    if not usable:
        return InboxChoice(None, Substatus.INVALID_IDENTITY_EMAIL)
    best = max(s.capacity for s in usable)
    if best == 0:
        return InboxChoice(None, wait=True)
    top = sorted((s for s in usable if s.capacity == best), key=lambda s: s.id)
    return InboxChoice(top[turn % len(top)].id)
