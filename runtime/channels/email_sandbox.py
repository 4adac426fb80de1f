"""The sandbox email driver: sending an email into the seeded world.

The interface the identity actor uses for any email driver (the SMTP one
included): `send(email, key) -> EmailSent`, where the Message-ID inside
`email` was committed to the outbox before the call, and a `key.resumed`
send first looks the Message-ID up (sandbox: the world's record; SMTP: the
Sent folder) so an email whose fate is unknown is never sent blindly again.
Errors: `EmailTransient` (keep queued, retry later), `EmailDisconnected`
(the inbox's credentials no longer work: its leads get "Email disconnected").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import trio

from runtime.channels.linkedin import SendKey
from runtime.sandbox.world import SandboxWorld


@dataclass(frozen=True)
class OutgoingEmail:
    inbox_id: int
    sender: str
    to: str
    subject: str
    text: str
    html: str = ""
    message_id: str = ""
    in_reply_to: str | None = None


@dataclass(frozen=True)
class EmailSent:
    message_id: str
    reconciled: bool = False


class EmailError(Exception):
    retry_after: float | None = None


class EmailTransient(EmailError):
    """Server busy / connection dropped before DATA was accepted: nothing was sent; retry later."""

    def __init__(self, message: str, retry_after: float = 60.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EmailDisconnected(EmailError):
    """Authentication fails: the inbox must be reconnected."""


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
