"""The runtime as one object: open it on a database, run it under any Trio clock.

    rt = Runtime(db, world=SandboxWorld(seed))           # sandbox channels
    await rt.run(epoch=start, until=start + 3 days)       # inside trio.run(...)

`run` starts the supervisor (which starts the actors), the sandbox feed when
there is a world, the AI agent after replies when there is a workspace (runtime/ai/agent.py), and stops on `request_stop()` or at `until`: identity actors
start no new action, the sends already on the wire may finish and record
their outcome (for at most `STOP_GRACE_S` seconds of workspace time), then
every actor is cancelled. A send cut off after the grace stays `sending` and
is settled by look-up on the next start. See runtime/service.py for the
process around it (lease, signals, speed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import sqlite_utils
import trio

from runtime.actors.supervisor import Supervisor
from runtime.ai.agent import ReplyAgent
from runtime.ai.provider import ai_client_of
from runtime.clock import Clock
from runtime.drivers import email_for, linkedin_for
from runtime.leads import CampaignInfo, QueuedJob
from runtime.sandbox.feed import Feed
from runtime.sandbox.world import SandboxWorld


STOP_GRACE_S = 30.0  # how long a stop waits for sends already on the wire (an SMTP DATA, a gateway call)


class NoDriver(Exception):
    pass


class Runtime:
    def __init__(self, db: sqlite_utils.Database, *, world: SandboxWorld | None = None, seed: int = 0,
                 poll_interval: float = 1.0, workspace: str | None = None,
                 linkedin_factory: Callable[[dict], object] | None = None,
                 email_factory: Callable[[dict], object] | None = None,
                 ai_factory: Callable[[], object | None] | None = None) -> None:
        self.db = db
        self.workspace = workspace
        self.world = world
        self.seed = seed if world is None else world.seed
        self.poll_interval = poll_interval
        self._linkedin_factory = linkedin_factory
        self._email_factory = email_factory
        self._ai_factory = ai_factory
        self._ai = None  # the AI client, made when a campaign first needs one
        self.clock: Clock | None = None
        self.supervisor = Supervisor(self)
        self._stop = trio.Event()
        self.stopping = False  # set on stop: identity actors start no new action
        self.change_hooks: list[Callable[[], None]] = []  # called when the supervisor saw another process commit
        self.inbound_hooks: list[Callable[[], None]] = []  # called after an inbound effect was applied (a reply)
        # more long-running tasks started with the actors (`await nursery.start(task)`), e.g.
        # the IMAP watchers a Service adds for real inboxes; they need the clock `run` creates
        self.background: list[Callable] = []

    # -- drivers ------------------------------------------------------------

    def linkedin_driver(self, identity: dict):
        if self._linkedin_factory is not None:
            return self._linkedin_factory(identity)
        return linkedin_for(self, identity)

    def email_driver(self, identity: dict):
        if self._email_factory is not None:
            return self._email_factory(identity)
        return email_for(self, identity)

    def ai_client(self):
        """The workspace's AI endpoint client (runtime/ai/client.py), or None when none is configured:
        made once, when a step first needs an AI variable (a workspace without AI never reads [ai])."""
        if self._ai is None:
            if self._ai_factory is not None:
                self._ai = self._ai_factory()
            elif self.workspace is not None:
                self._ai = ai_client_of(self.workspace)
        return self._ai

    # -- what actors tell each other -------------------------------------------

    def campaign_info(self, campaign_id: int) -> CampaignInfo | None:
        actor = self.supervisor.campaigns.get(campaign_id)
        return actor.info if actor is not None else None

    def after_change(self, campaign_id: int | None, queued: list[QueuedJob]) -> None:
        """After a commit that stepped leads outside an actor: file the jobs, wake the campaign."""
        for hook in self.inbound_hooks:
            hook()
        actor = self.supervisor.campaigns.get(campaign_id) if campaign_id is not None else None
        if actor is not None:
            for job in queued:
                actor.identity.file(job)
            actor.wake()

    def on_change(self) -> None:
        for hook in self.change_hooks:
            hook()

    # -- running --------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self, *, epoch: datetime, until: datetime | None = None,
                  task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.clock = Clock(epoch)
        async with trio.open_nursery() as nursery:
            await nursery.start(self.supervisor.run)
            if self.world is not None:
                await nursery.start(Feed(self, self.world).run)
            for task in self.background:
                await nursery.start(task)
            if self.workspace is not None:  # the AI agent after replies (simulations have no workspace, no AI)
                await nursery.start(ReplyAgent(self).run)
            if until is not None:
                nursery.start_soon(self._stop_at, until)
            task_status.started(self)
            await self._stop.wait()
            await self._drain()
            nursery.cancel_scope.cancel()

    async def _drain(self) -> None:
        """Let the sends on the wire finish and record their outcome before cancelling."""
        self.stopping = True
        actors = list(self.supervisor.identities.values())
        with trio.move_on_after(STOP_GRACE_S):
            for actor in actors:
                await actor.idle()

    async def _stop_at(self, until: datetime) -> None:
        await self.clock.sleep_until(until)
        self.request_stop()
