"""The spec's LinkedIn queue order, and a bounded in-memory window over a durable queue.

Order ("How Enginy prioritizes queued LinkedIn actions"): the lead's message
depth first (more messages already received goes first), then campaign
priority (High > Medium > Low), then a random tie-break. The three are packed
into one integer `sort_key` (smaller runs first) stored on the outbox row, so
an index serves "the next N jobs of this identity's bucket" without sorting.

The queued jobs live in the outbox table (durable, possibly thousands per
identity); an identity actor keeps only the best `capacity` of each bucket in
a `RankedWindow` and reloads from the index when it runs dry.
"""

from __future__ import annotations

import bisect
from typing import Generic, Hashable, Iterable, TypeVar

PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}
MAX_DEPTH = 255
TIEBREAK_BITS = 32


def sort_key(message_depth: int, priority: str, tiebreak: int) -> int:
    """Smaller runs first: deeper leads, then higher priority, then the seeded tie-break."""
    depth = min(max(message_depth, 0), MAX_DEPTH)
    return ((MAX_DEPTH - depth) << 34) | (PRIORITY_RANK[priority] << TIEBREAK_BITS) | (tiebreak & 0xFFFFFFFF)


T = TypeVar("T")


class RankedWindow(Generic[T]):
    """The best `capacity` items of a larger ordered set held elsewhere.

    Invariant: every item of the full set that is not in the window ranks
    after every item in it. `spilled` says the full set has more items than
    the window holds, so an empty window must be refilled from storage
    (`refill`) rather than taken to mean "nothing queued".
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._keys: list[tuple[int, Hashable]] = []
        self._items: dict[Hashable, T] = {}
        self.spilled = False

    def __len__(self) -> int:
        return len(self._keys)

    def offer(self, key: int, ident: Hashable, item: T) -> bool:
        """A new item joined the full set. Returns True if the window keeps it."""
        if ident in self._items:
            return True
        entry = (key, ident)
        if self.spilled and self._keys and entry > self._keys[-1]:
            # Items outside the window may rank before this one: leave it to a refill.
            return False
        if self.spilled and not self._keys:
            return False
        bisect.insort(self._keys, entry)
        self._items[ident] = item
        if len(self._keys) > self.capacity:
            _, dropped = self._keys.pop()
            del self._items[dropped]
            self.spilled = True
            return dropped != ident
        return True

    def peek(self) -> tuple[int, T] | None:
        if not self._keys:
            return None
        key, ident = self._keys[0]
        return key, self._items[ident]

    def pop(self) -> T:
        _, ident = self._keys.pop(0)
        return self._items.pop(ident)

    def discard(self, ident: Hashable) -> None:
        if ident in self._items:
            del self._items[ident]
            self._keys = [e for e in self._keys if e[1] != ident]

    def discard_where(self, pred) -> int:
        """Drop items matching `pred` (e.g. a paused campaign's); they stay in storage."""
        gone = [i for i, item in self._items.items() if pred(item)]
        for i in gone:
            del self._items[i]
        if gone:
            self._keys = [e for e in self._keys if e[1] in self._items]
            self.spilled = True
        return len(gone)

    def needs_refill(self) -> bool:
        return self.spilled and not self._keys

    def refill(self, rows: Iterable[tuple[int, Hashable, T]]) -> None:
        """Replace the window with the best rows from storage (sorted, at most `capacity`)."""
        self._keys.clear()
        self._items.clear()
        n = 0
        for key, ident, item in rows:
            self._keys.append((key, ident))
            self._items[ident] = item
            n += 1
        self._keys.sort()
        self.spilled = n >= self.capacity
        while len(self._keys) > self.capacity:
            _, dropped = self._keys.pop()
            del self._items[dropped]

    def items(self) -> list[T]:
        return [self._items[i] for _, i in self._keys]


def decode(key: int) -> tuple[int, str, int]:
    """(message depth, priority, tie-break) packed in a `sort_key` (the queue monitor's "why here")."""
    rank = (key >> TIEBREAK_BITS) & 0b11
    priority = next(name for name, r in PRIORITY_RANK.items() if r == rank)
    return MAX_DEPTH - (key >> 34), priority, key & 0xFFFFFFFF
