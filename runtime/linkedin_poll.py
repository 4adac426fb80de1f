"""LinkedIn watcher: acceptances, replies and automatic withdrawals.

LinkedIn pushes nothing we can rely on (the `new_relation` webhook lags by
hours), so a gateway identity is polled a few times a day: every
`POLL_EVERY` inside its working hours, one round =

1. `relations_since` — a new 1st-degree relation matching one of our pending
   invitations is an acceptance of that invitation's outbox key;
2. `inbound_messages_since` — a message from a lead is a reply to our latest
   delivery to them before it (a message older than all our deliveries to that
   person — an old conversation — is not a reply);
3. `auto_withdraw` (when the identity has it on, at most once a day) —
   invitations pending longer than `withdraw_after_days` are withdrawn; each is an `InvitationWithdrawn`
   for its lead (the step function waits out LinkedIn's 3-week cooldown and
   re-invites once).

Every event goes through `runtime.inbound.apply`, the path the sandbox feed
and the IMAP watchers use, in one transaction each. Relations and sent
invitations are "evaluate connection request" calls: each is written to the
action ledger (bucket `connection_evaluation`) and the round waits while the
identity's 5-per-30-minutes rule says no, so restarts never grant more.

Exactly once: an acceptance applies only to an invitation row still awaiting
it (inbound.apply marks it accepted); replies advance a cursor (time + ids seen
at that time) stored in runtime_state in the same transaction as the event.

Invitations the user asked to withdraw from the app (storage:
`request_withdrawal`, which also restarts this actor) are withdrawn at the
start of a round, before the automatic ones, recorded as withdrawn by 'manual'.

The supervisor attaches one poller to each identity actor (`attach`); it runs
in the actor's nursery, so it ends when that actor is stopped or replaced
(identity edited, reconnected) without waking up to ask.
A sandbox identity's poller only withdraws: the sandbox feed pushes its
acceptances and replies (runtime/sandbox/feed.py).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from runtime import inbound, limits
from runtime.channels.linkedin.protocol import Disposition, InboundMessage, LinkedInError
from runtime.channels.linkedin.withdraw import auto_withdraw, withdraw
from runtime.limits import ActionTimes
from storage import linkedin_invitations, outbox
from storage.activity import iso
from storage.db import transaction
from storage.identities import IdentityError, get_identity
from storage.runtime_state import get_state, set_state

if TYPE_CHECKING:
    from runtime.actors.identity import IdentityActor
    from runtime.engine import Runtime

log = logging.getLogger("enginy.linkedin.poll")

POLL_EVERY = timedelta(hours=3)
"""A few rounds per working day (≈3 in 9 hours): acceptance is seen within hours, like the webhook."""
WITHDRAW_EVERY = timedelta(days=1)
"""Withdrawal thresholds are counted in days: listing every pending invitation once a day is enough."""
SKEW = timedelta(minutes=5)
"""Tolerance between our clock and LinkedIn's when comparing send and answer times."""
LOOKBACK = timedelta(days=60)


def cursor_key(identity_id: int) -> str:
    return f"linkedin_reply_cursor:{identity_id}"


def attach(rt: "Runtime", actor: "IdentityActor") -> None:
    """The supervisor's hook: poll this actor's identity, if it has LinkedIn, for as long as the actor runs."""
    driver = actor.row.get("linkedin_driver")
    if driver in ("gateway", "sandbox"):
        actor.companions.append(LinkedInPoller(rt, actor, watch_inbound=driver == "gateway").run)


class LinkedInPoller:
    def __init__(self, rt: "Runtime", actor: "IdentityActor", *, watch_inbound: bool = True) -> None:
        self.rt = rt
        self.db = rt.db
        self.actor = actor
        self.id = actor.id
        self.watch_inbound = watch_inbound  # relations and messages (not for the sandbox: its feed pushes them)
        self.next_round: datetime | None = None
        self.next_withdrawal: datetime | None = None

    async def run(self) -> None:
        clock = self.rt.clock
        while True:
            now = clock.now()
            if self.next_round is None or now >= self.next_round:
                ready = self._evaluation_ready(now)
                self.next_round = await self.round() if ready <= now else ready
            await clock.sleep_until(self.next_round)

    # -- evaluation budget (5 per 30 min, counted from the ledger) ------------------

    def _times(self) -> ActionTimes:
        return self.actor.lanes.times.setdefault((limits.EVALUATE, None), ActionTimes())

    def _evaluation_ready(self, now: datetime) -> datetime:
        """When the identity's rules (and working hours) allow the next evaluation call."""
        return limits.earliest_allowed(self.actor.lanes.li_rules.get(limits.EVALUATE, ()), self._times(), now,
                                       self.actor.lanes.hours)

    def _spend_evaluation(self, now: datetime) -> None:
        with transaction(self.db):
            outbox.spend(self.db, at=now, identity_id=self.id, bucket=limits.EVALUATE)
        self._times().add(now)

    # -- one round -----------------------------------------------------------------

    async def round(self) -> datetime:
        """Poll once; returns when the next round is due."""
        start = self.rt.clock.now()
        if "linkedin" in self.actor.halted:
            return start + POLL_EVERY
        driver = self.actor.linkedin.driver
        try:
            if self.watch_inbound:
                await self._watch_inbound(driver, start)
            row = self._identity()
            await self._withdraw_requested(driver)
            now = self.rt.clock.now()
            if row and row.get("withdraw_enabled") and (self.next_withdrawal is None or now >= self.next_withdrawal):
                if self._evaluation_ready(now) > now:
                    return self._evaluation_ready(now)
                self._spend_evaluation(now)
                self.next_withdrawal = now + WITHDRAW_EVERY
                report = await auto_withdraw(self.db, driver, row, now)
                for row_id in report.withdrawn:
                    self._withdrawn(row_id)
        except LinkedInError as exc:
            # Sends meet the same error and settle the identity (disconnected/paused);
            # the watcher only waits: the server's hint, else the next round.
            log.warning("LinkedIn poll of identity %s failed: %s", self.id, exc)
            if exc.disposition is Disposition.RETRY_LATER and exc.retry_after:
                return self.rt.clock.now() + timedelta(seconds=exc.retry_after)
        return start + (POLL_EVERY if self.watch_inbound else WITHDRAW_EVERY)

    async def _withdraw_requested(self, driver) -> None:
        """The invitations the user asked to withdraw from the app (storage: request_withdrawal)."""
        rows = linkedin_invitations.withdrawal_requested(self.db, self.id)
        if rows:
            report = await withdraw(self.db, driver, rows, now=self.rt.clock.now(), by="manual")
            for row_id in report.withdrawn:
                self._withdrawn(row_id)

    def _identity(self) -> dict | None:
        try:
            return get_identity(self.db, self.id)
        except IdentityError:  # deleted while its actor runs
            return None

    async def _watch_inbound(self, driver, now: datetime) -> None:
        self._spend_evaluation(now)
        relations = await driver.relations_since(self._oldest_pending())
        for rel in relations:
            self._accepted(rel.provider_id, rel.public_id, rel.connected_at)
        since, seen = self._cursor()
        since = since or self._first_sent()
        for msg in sorted(await driver.inbound_messages_since(since), key=lambda m: m.sent_at):
            self._replied(msg, seen)

    def _oldest_pending(self) -> datetime:
        """How far back relations matter: our oldest invitation still awaiting an answer
        (at most LOOKBACK: LinkedIn drops invitations unanswered for months)."""
        now = self.rt.clock.now()
        sent = linkedin_invitations.oldest_awaiting(self.db, self.id)
        oldest = sent - SKEW if sent else now
        return max(oldest, now - LOOKBACK)

    def _first_sent(self) -> datetime:
        """Before any reply was seen: only messages after our first LinkedIn delivery can answer us
        (never page through an account's whole history)."""
        first = outbox.first_linkedin_sent(self.db, self.id)
        return first - SKEW if first else self.rt.clock.now()

    def _signal(self, sig: inbound.Signal, extra=None) -> None:
        rt = self.rt
        with transaction(self.db):
            campaign_id, queued = inbound.apply(self.db, sig, rt.clock.now(), info_for=rt.campaign_info)
            if extra is not None:
                extra()
        rt.after_change(campaign_id, queued)

    def _accepted(self, provider_id: str, public_id: str | None, at: datetime | None) -> None:
        """A relation that answers one of our invitations still awaiting it ('gone' = the
        invitation list no longer shows it: accepted, declined or withdrawn elsewhere)."""
        key = linkedin_invitations.awaiting_key(self.db, self.id, provider_id, public_id)
        if key is not None:
            self._signal(inbound.Signal(kind="accepted", key=key, at=at or self.rt.clock.now()))

    def _cursor(self) -> tuple[datetime | None, set[str]]:
        value = get_state(self.db, cursor_key(self.id))
        if not value:
            return None, set()
        data = json.loads(value)
        return datetime.fromisoformat(data["at"]), set(data["ids"])

    def _save_cursor(self, msg: InboundMessage, seen: set[str]) -> None:
        since, _ = self._cursor()
        ids = (seen | {msg.message_id}) if since == msg.sent_at else {msg.message_id}
        seen.clear()
        seen.update(ids)
        set_state(self.db, cursor_key(self.id), json.dumps({"at": iso(msg.sent_at), "ids": sorted(ids)}))

    def _replied(self, msg: InboundMessage, seen: set[str]) -> None:
        since, _ = self._cursor()
        if since is not None and (msg.sent_at < since or (msg.sent_at == since and msg.message_id in seen)):
            return
        key = outbox.latest_linkedin_delivery_to(self.db, self.id, msg.sender_provider_id, msg.sent_at + SKEW)
        if key is None:
            with transaction(self.db):
                self._save_cursor(msg, seen)
            return
        self._signal(inbound.Signal(kind="replied", key=key, at=msg.sent_at, text=msg.text),
                     extra=lambda: self._save_cursor(msg, seen))

    def _withdrawn(self, row_id: int) -> None:
        key = linkedin_invitations.outbox_key_of(self.db, row_id)
        if key:
            self._signal(inbound.Signal(kind="withdrawn", key=key, at=self.rt.clock.now()))
