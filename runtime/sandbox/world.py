"""The sandbox world: seeded people who accept, reply, bounce and go on holiday.

Used by `enginy demo`, `enginy simulate` and the tests in place of LinkedIn and
the mail servers. Same seed → same world: each lead's behaviour is drawn from
`Random(f"{seed}:{lead}")`, so it does not depend on the order leads are met.

The world keeps its own record of every delivery (the *witness* the crash
tests compare against: "exactly one copy per (lead, step)"), keyed by the
outbox idempotency key. With a `path` it is an SQLite file of its own, written
with its own commit at the instant of "delivery" — exactly what a real remote
server would remember if the runtime were killed right after the call.

What happens next (acceptance, reply, bounce, out-of-office) is derived from
the deliveries and the seed, so it is never stored: after a restart the world
rebuilds the same future from its record, and the runtime's cursor
(runtime_state `sandbox_cursor`) skips what it already applied.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from storage import sandbox_world as record


def _unit(key: str) -> float:
    """A number in [0, 1) that only `key` decides: a draw made once per call (every send
    asks whether it fails), where seeding a `random.Random` (~5 us) was 1 % of a simulation."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2.0 ** 64


@dataclass(frozen=True)
class Profile:
    """Probabilities and latencies of the world (per lead unless said otherwise)."""

    accept: float = 0.35
    accept_hours: tuple[float, float] = (2.0, 96.0)
    linkedin_reply: float = 0.15  # replies to the lead's n-th LinkedIn message, n in 1..3
    email_reply: float = 0.08
    positive: float = 0.4
    reply_hours: tuple[float, float] = (0.5, 48.0)
    bounce: float = 0.04
    out_of_office: float = 0.05
    prior_conversation: float = 0.03
    transient_failure: float = 0.01  # per call: 429 / 5xx-like
    latency_s: tuple[float, float] = (0.4, 2.5)


@dataclass(frozen=True)
class Traits:
    accepts: bool
    accept_after: timedelta
    li_reply_on: int  # 0 = never replies on LinkedIn
    email_reply_on: int
    positive: bool
    reply_after: timedelta
    bounces: bool
    out_of_office: bool
    prior_conversation: bool


@dataclass(frozen=True, order=True)
class Inbound:
    """Something the lead did, due at `at`; `key` is the outbox key of the delivery it answers."""

    at: datetime
    seq: int
    kind: str = field(compare=False)  # accepted | replied | bounced | out_of_office
    channel: str = field(compare=False)
    identity_id: int = field(compare=False)
    key: str = field(compare=False)
    lead: str = field(compare=False)
    positive: bool = field(compare=False, default=False)

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}|{self.seq:012d}"


@dataclass(frozen=True)
class Delivery:
    key: str
    identity_id: int
    channel: str
    action: str
    lead: str
    at: datetime
    seq: int


class SandboxWorld:
    """The shared world of every sandbox driver of a runtime."""

    def __init__(self, seed: int, *, path: Path | str | None = None, profile: Profile = Profile()) -> None:
        self.seed = seed
        self.profile = profile
        self._traits: dict[str, Traits] = {}
        self.deliveries: dict[str, Delivery] = {}
        self._messages: dict[tuple[int, str, str], int] = {}  # (identity, lead, channel) -> count
        self._events: list[Inbound] = []
        self._calls: dict[str, int] = {}
        self.disconnected: set[tuple[int, str]] = set()
        self.withdrawn: dict[str, datetime] = {}  # invitation (delivery key) -> when it was withdrawn
        self._invitations: dict[int, list[Delivery]] = {}  # identity -> its connection requests
        self.on_schedule = None  # called when a new inbound event is scheduled (wakes the feed)
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = record.open_record(path)
            for key, identity_id, channel, action, lead, at, seq in record.deliveries(self._db):
                self._remember(Delivery(key, identity_id, channel, action, lead, datetime.fromisoformat(at), seq))
            self.withdrawn = {k: datetime.fromisoformat(at) for k, at in record.withdrawals(self._db)}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- people -------------------------------------------------------------

    def traits(self, lead: str) -> Traits:
        t = self._traits.get(lead)
        if t is None:
            r = random.Random(f"{self.seed}:{lead}")
            p = self.profile
            t = Traits(
                accepts=r.random() < p.accept,
                accept_after=timedelta(hours=r.uniform(*p.accept_hours)),
                li_reply_on=r.randint(1, 3) if r.random() < p.linkedin_reply else 0,
                email_reply_on=r.randint(1, 3) if r.random() < p.email_reply else 0,
                positive=r.random() < p.positive,
                reply_after=timedelta(hours=r.uniform(*p.reply_hours)),
                bounces=r.random() < p.bounce,
                out_of_office=r.random() < p.out_of_office,
                prior_conversation=r.random() < p.prior_conversation,
            )
            self._traits[lead] = t
        return t

    # -- calls --------------------------------------------------------------

    def attempt(self, what: str) -> int:
        """Count calls for `what` (a key or an action+lead): seeds the transient failures."""
        n = self._calls.get(what, 0) + 1
        self._calls[what] = n
        return n

    def fails_transiently(self, what: str) -> bool:
        n = self.attempt(what)
        if self.profile.transient_failure <= 0 or n > 3:
            return False  # a call that failed three times goes through: the world is not hostile forever
        return _unit(f"{self.seed}:fail:{what}:{n}") < self.profile.transient_failure

    def latency(self, what: str) -> float:
        lo, hi = self.profile.latency_s
        if hi <= 0:
            return 0.0
        return lo + (hi - lo) * _unit(f"{self.seed}:lat:{what}")

    def is_disconnected(self, identity_id: int, channel: str) -> bool:
        return (identity_id, channel) in self.disconnected

    def disconnect(self, identity_id: int, channel: str) -> None:
        self.disconnected.add((identity_id, channel))

    def reconnect(self, identity_id: int, channel: str) -> None:
        self.disconnected.discard((identity_id, channel))

    # -- deliveries -----------------------------------------------------------

    def lookup(self, key: str) -> Delivery | None:
        return self.deliveries.get(key)

    def deliver(self, *, key: str, identity_id: int, channel: str, action: str, lead: str, at: datetime) -> Delivery:
        """Record a delivery (idempotent on `key`: the same key is never delivered twice)."""
        found = self.deliveries.get(key)
        if found is not None:
            return found
        d = Delivery(key, identity_id, channel, action, lead, at.astimezone(timezone.utc), len(self.deliveries) + 1)
        if self._db is not None:
            record.add_delivery(self._db, seq=d.seq, key=d.key, identity_id=d.identity_id, channel=d.channel,
                                action=d.action, lead=d.lead, at=d.at.isoformat())
        self._remember(d)
        return d

    def _remember(self, d: Delivery) -> None:
        self.deliveries[d.key] = d
        t = self.traits(d.lead)
        if d.action == "connection_request":
            self._invitations.setdefault(d.identity_id, []).append(d)
            accepted = self._accepted_at(d)
            if accepted is not None:
                self._schedule(d, "accepted", accepted)
            return
        if d.channel not in ("linkedin", "email") or d.action in ("visit_profile", "react_to_post"):
            return
        count_key = (d.identity_id, d.lead, d.channel)
        n = self._messages.get(count_key, 0) + 1
        self._messages[count_key] = n
        if d.channel == "email" and n == 1 and t.bounces:
            self._schedule(d, "bounced", d.at + timedelta(minutes=2))
        elif d.channel == "email" and n == 1 and t.out_of_office:
            self._schedule(d, "out_of_office", d.at + timedelta(minutes=3))
        elif n == (t.li_reply_on if d.channel == "linkedin" else t.email_reply_on):
            self._schedule(d, "replied", d.at + t.reply_after, positive=t.positive)

    def _schedule(self, d: Delivery, kind: str, at: datetime, positive: bool = False) -> None:
        heapq.heappush(self._events, Inbound(at, d.seq, kind, d.channel, d.identity_id,
                                             d.key, d.lead, positive))
        if self.on_schedule is not None:
            self.on_schedule()

    # -- inbound --------------------------------------------------------------

    def next_event_at(self) -> datetime | None:
        return self._events[0].at if self._events else None

    def pop_due(self, now: datetime, after_cursor: str = "") -> list[Inbound]:
        """Inbound events due at `now`, in order, skipping those at or before `after_cursor`
        and acceptances of invitations withdrawn before the lead got to them."""
        out = []
        while self._events and self._events[0].at <= now:
            ev = heapq.heappop(self._events)
            gone = ev.kind == "accepted" and ev.key in self.withdrawn and self.withdrawn[ev.key] <= ev.at
            if ev.cursor > after_cursor and not gone:
                out.append(ev)
        return out

    # -- invitations ------------------------------------------------------------

    def pending_invitations(self, identity_id: int, now: datetime) -> list[Delivery]:
        """The identity's invitations LinkedIn would list at `now`: sent, neither accepted nor withdrawn."""
        out = []
        for d in self._invitations.get(identity_id, ()):
            accepted = self._accepted_at(d)
            if d.key not in self.withdrawn and (accepted is None or accepted > now):
                out.append(d)
        return out

    def _accepted_at(self, d: Delivery) -> datetime | None:
        """When the lead accepts this invitation (None: never), unless it is withdrawn first."""
        t = self.traits(d.lead)
        return d.at + t.accept_after if t.accepts else None

    def withdraw(self, key: str, at: datetime) -> None:
        """The sender withdrew the invitation: the lead can no longer accept it (remembered on disk)."""
        if key in self.withdrawn or key not in self.deliveries:
            return
        self.withdrawn[key] = at.astimezone(timezone.utc)
        if self._db is not None:
            record.add_withdrawal(self._db, key, at.isoformat())

    def sent_by(self, identity_id: int | None = None) -> list[Delivery]:
        return [d for d in self.deliveries.values() if identity_id is None or d.identity_id == identity_id]
