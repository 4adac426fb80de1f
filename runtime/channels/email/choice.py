"""Which inbox sends a new lead's emails — a pure policy the campaign actor asks.

Spec (identities.md, Email Configuration; FAQ Q3), given the campaign's
inboxes (all of the identity's when it names none) and what each inbox's
caps still allow today:
* Shuffle (the default): new conversations rotate across the inboxes that
  still have room today, so no inbox is drained before the others;
* no shuffle: the campaign's inboxes in their order — the first with room;
* when none has room the lead still gets an inbox (rotated, or the first) and
  waits for its cap, as any job waits in a full lane (`wait=True`);
* lead continuity: once a lead's conversation started on an inbox it stays
  there. If that inbox was disconnected the lead errors with "Email
  disconnected" (it resumes after reconnect + retry); if it was removed
  altogether, "Missing email". It is never moved to another inbox;
* with no connected inbox at all, a new lead errors "Invalid identity email".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sequences.statuses import Substatus


@dataclass(frozen=True)
class InboxSlot:
    id: int
    connected: bool
    remaining: int | None  # what the inbox's day cap still allows today (None: no cap)

    @property
    def has_room(self) -> bool:
        return self.remaining is None or self.remaining > 0


@dataclass(frozen=True)
class InboxChoice:
    inbox_id: int | None
    substatus: Substatus | None = None  # an Error substatus when the lead cannot go on
    wait: bool = False  # the inbox is at its cap: the lead's job waits for it


def choose_inbox(inboxes: Sequence[InboxSlot], *, sticky: int | None = None, allowed: Sequence[int] | None = None,
                 shuffle: bool = True, turn: int = 0) -> InboxChoice:
    """`allowed`: the campaign's inboxes in its order (None or empty: every inbox, by id);
    `turn`: what rotates the choice (the lead's id: the same lead gets the same answer
    whichever actor asks first, and a restart changes nothing)."""
    by_id = {slot.id: slot for slot in inboxes}
    if sticky is not None:
        slot = by_id.get(sticky)
        if slot is None:
            return InboxChoice(None, Substatus.MISSING_EMAIL)
        if not slot.connected:
            return InboxChoice(None, Substatus.EMAIL_DISCONNECTED)
        return InboxChoice(slot.id, wait=not slot.has_room)
    wanted = [by_id[i] for i in (allowed or sorted(by_id)) if i in by_id]
    usable = [s for s in wanted if s.connected]
    if not usable:
        return InboxChoice(None, Substatus.INVALID_IDENTITY_EMAIL)
    with_room = [s for s in usable if s.has_room]
    pool = with_room or usable
    chosen = pool[turn % len(pool)] if shuffle else pool[0]
    return InboxChoice(chosen.id, wait=not with_room)
