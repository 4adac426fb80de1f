"""The sandbox's watcher: delivers the world's inbound events to the runtime at their time.

It plays the part real watchers play (IMAP, LinkedIn polling/webhooks): one
timer, sleeping until the world's next event. Each event is applied in its
own transaction together with the cursor (runtime_state `sandbox_cursor`),
so after a crash an event is applied exactly once.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import trio

from runtime import inbound
from runtime.sandbox.world import Inbound, SandboxWorld
from storage.db import transaction
from storage.runtime_state import get_state, set_state

if TYPE_CHECKING:
    from runtime.engine import Runtime

CURSOR = "sandbox_cursor"
#: What the sandbox's people write (placeholders: the sandbox has no words of its own, and an empty
#: message in the inbox read as a bug).
SANDBOX_TEXT = {"replied": "(sandbox reply)", "out_of_office": "(sandbox out-of-office notice)"}


def cursor(db) -> str:
    return get_state(db, CURSOR) or ""


class Feed:
    def __init__(self, rt: "Runtime", world: SandboxWorld) -> None:
        self.rt = rt
        self.world = world
        self._wake = trio.Event()
        world.on_schedule = self.wake

    def wake(self) -> None:
        self._wake.set()

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        db = self.rt.db
        after = cursor(db)
        task_status.started()
        while True:
            self._wake = trio.Event()
            now = self.rt.clock.now()
            for ev in self.world.pop_due(now, after):
                self.deliver(ev)
                after = ev.cursor
            nxt = self.world.next_event_at()
            deadline = self.rt.clock.trio_deadline(nxt) if nxt is not None else math.inf
            with trio.move_on_at(deadline):
                await self._wake.wait()

    def deliver(self, ev: Inbound) -> None:
        rt = self.rt
        sig = inbound.Signal(kind=ev.kind, key=ev.key, at=ev.at, channel=ev.channel, positive=ev.positive,
                             text=SANDBOX_TEXT.get(ev.kind, ""))
        with transaction(rt.db):
            campaign_id, queued = inbound.apply(rt.db, sig, rt.clock.now(), info_for=rt.campaign_info)
            set_state(rt.db, CURSOR, ev.cursor)
        rt.after_change(campaign_id, queued)
