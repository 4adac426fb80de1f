"""The sandbox LinkedIn driver: the driver protocol of `protocol.py` over the seeded world.

Behaves like the gateway driver where the runtime can tell: the same content
validation (`check_note`, `check_message`, `check_inmail`), the same errors
(transient 429/5xx-like failures as `RateLimited` / `GatewayUnavailable`,
`AccountDisconnected` while the world has the identity disconnected), and
the same idempotency: a `SendKey` already delivered is found by look-up and
returned with `reconciled=True`, never delivered twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence

import trio

from runtime.channels.linkedin.protocol import AccountDisconnected, AccountInfo, Attachment, GatewayUnavailable, InboundMessage, InvitationSent, LeadRef, MessageSent, PostReaction, Profile, RateLimited, Relation, SentInvitation, check_inmail, check_message, check_note
from sequences.model import Reaction
from runtime.channels.base import SendKey
from runtime.sandbox.world import SandboxWorld

INVITATION_PREFIX = "inv-"  # the sandbox's invitation id is this + the delivery's key


class SandboxLinkedIn:
    """One identity's LinkedIn in the sandbox world."""

    def __init__(self, world: SandboxWorld, identity_id: int, now: Callable[[], datetime]) -> None:
        self.world = world
        self.identity_id = identity_id
        self._now = now

    async def _call(self, what: str) -> None:
        """Latency, then the failures a real gateway shows (checked before anything happens)."""
        delay = self.world.latency(what)
        if delay:
            await trio.sleep(delay)
        else:
            await trio.lowlevel.checkpoint()
        if self.world.is_disconnected(self.identity_id, "linkedin"):
            raise AccountDisconnected("the sandbox account is disconnected", code="disconnected", status=401)
        if self.world.fails_transiently(what):
            if len(what) % 2:
                raise RateLimited("sandbox: too many requests", code="too_many_requests", retry_after=60, status=429)
            raise GatewayUnavailable("sandbox: upstream error", code="upstream", retry_after=30, status=502)

    async def _send(self, action: str, lead: LeadRef, key: SendKey) -> tuple[str, bool]:
        found = self.world.lookup(key.key)
        if found is not None:
            return found.lead, True
        await self._call(key.key)
        d = self.world.deliver(key=key.key, identity_id=self.identity_id, channel="linkedin", action=action,
                               lead=lead.identifier, at=self._now())
        return d.lead, False

    async def account(self) -> AccountInfo:
        await self._call(f"account:{self.identity_id}")
        return AccountInfo(provider_id=f"sandbox-{self.identity_id}")

    async def profile(self, lead: LeadRef) -> Profile:
        return Profile(provider_id=lead.identifier, public_id=lead.public_id)

    async def visit_profile(self, lead: LeadRef) -> Profile:
        await self._call(f"visit:{self.identity_id}:{lead.identifier}")
        return Profile(provider_id=lead.identifier, public_id=lead.public_id)

    async def react_to_last_post(self, lead: LeadRef, reaction: Reaction | None) -> PostReaction:
        await self._call(f"react:{self.identity_id}:{lead.identifier}")
        return PostReaction(post_id=f"post-{lead.identifier}", reaction=reaction or Reaction.LIKE)

    async def send_invitation(self, lead: LeadRef, note: str | None, key: SendKey) -> InvitationSent:
        check_note(note)
        pid, reconciled = await self._send("connection_request", lead, key)
        return InvitationSent(invitation_id=f"{INVITATION_PREFIX}{key.key}", provider_id=pid, reconciled=reconciled)

    async def withdraw_invitation(self, invitation_id: str) -> None:
        await self._call(f"withdraw:{invitation_id}")
        self.world.withdraw(invitation_id.removeprefix(INVITATION_PREFIX), self._now())

    async def sent_invitations(self) -> list[SentInvitation]:
        await self._call(f"invitations:{self.identity_id}")
        return [SentInvitation(invitation_id=f"{INVITATION_PREFIX}{d.key}", provider_id=d.lead, sent_at=d.at)
                for d in self.world.pending_invitations(self.identity_id, self._now())]

    async def send_message(self, lead: LeadRef, chunks: Sequence[str], key: SendKey) -> MessageSent:
        kept = check_message(chunks)
        pid, reconciled = await self._send("linkedin_message", lead, key)
        return MessageSent(chat_id=f"chat-{self.identity_id}-{pid}", provider_id=pid,
                           message_ids=tuple(f"{key.key}#{i}" for i in range(len(kept))), reconciled=reconciled)

    async def send_inmail(self, lead: LeadRef, subject: str, body: str, key: SendKey) -> MessageSent:
        check_inmail(subject, body)
        pid, reconciled = await self._send("inmail", lead, key)
        return MessageSent(chat_id=f"chat-{self.identity_id}-{pid}", provider_id=pid, message_ids=(key.key,),
                           reconciled=reconciled)

    async def send_attachment(self, lead: LeadRef, text: str | None, attachment: Attachment, key: SendKey) -> MessageSent:
        pid, reconciled = await self._send("linkedin_attachment", lead, key)
        return MessageSent(chat_id=f"chat-{self.identity_id}-{pid}", provider_id=pid, reconciled=reconciled)

    async def send_voice_message(self, lead: LeadRef, voice: Attachment, key: SendKey) -> MessageSent:
        pid, reconciled = await self._send("voice_message", lead, key)
        return MessageSent(chat_id=f"chat-{self.identity_id}-{pid}", provider_id=pid, reconciled=reconciled)

    async def is_connection(self, lead: LeadRef) -> bool:
        return False

    async def has_prior_conversation(self, lead: LeadRef) -> bool:
        return self.world.traits(lead.identifier).prior_conversation

    async def relations_since(self, since: datetime | None) -> list[Relation]:
        return []  # acceptances arrive as pushed events (runtime/sandbox/feed.py), like the gateway's webhooks

    async def inbound_messages_since(self, since: datetime | None) -> list[InboundMessage]:
        return []

    async def inmail_credits(self) -> int | None:
        return None

    async def aclose(self) -> None:
        return None
