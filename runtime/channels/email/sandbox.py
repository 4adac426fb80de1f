"""The sandbox email driver: sending an email into the seeded world (the protocol of `protocol.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import trio

from runtime.channels.base import SendKey
from runtime.channels.email.protocol import EmailDisconnected, EmailSent, EmailTransient, OutgoingEmail
from runtime.sandbox.world import SandboxWorld


class SandboxEmail:
    """One identity's inboxes in the sandbox world."""

    def __init__(self, world: SandboxWorld, identity_id: int, now: Callable[[], datetime]) -> None:
        self.world = world
        self.identity_id = identity_id
        self._now = now

    async def send(self, email: OutgoingEmail, key: SendKey) -> EmailSent:
        if self.world.lookup(key.key) is not None:
            return EmailSent(email.message_id, reconciled=True)
        delay = self.world.latency(key.key)
        if delay:
            await trio.sleep(delay)
        else:
            await trio.lowlevel.checkpoint()
        if self.world.is_disconnected(self.identity_id, "email"):
            raise EmailDisconnected(f"sandbox: {email.sender} refuses the login")
        if self.world.fails_transiently(key.key):
            raise EmailTransient("sandbox: 421 service not available, try again later")
        self.world.deliver(key=key.key, identity_id=self.identity_id, channel="email", action="email",
                           lead=email.to.lower(), at=self._now())
        return EmailSent(email.message_id)

    async def aclose(self) -> None:
        return None
