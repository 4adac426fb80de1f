"""The LinkedIn driver protocol: what the runtime may ask of LinkedIn.

Two implementations speak it: `sandbox` (a seeded, simulated
LinkedIn for the demo, simulations and tests) and `gateway` (an httpx
client of a Unipile-style REST gateway). The runtime only ever sees this
module's types, so both drivers must:

- return the result records below (plain frozen dataclasses, no I/O attached);
- raise only `LinkedInError` subclasses below, each of which says what the
  runtime must do with the job (`disposition`) and, for lead errors, which
  substatus of the spec's reference the lead gets (`substatus`, the
  `sequences.statuses.Substatus` itself);
- validate content the same way, with `check_note`, `check_message`,
  `check_inmail` (a note over 300 characters fails identically in both);
- never send twice for one idempotency key (`SendKey`). When the previous
  attempt's outcome is unknown (`SendKey.resumed`, or a timeout inside the
  driver), the driver looks the action up on LinkedIn first and returns the
  found result with `reconciled=True` instead of sending again.

Rate limits and spacing (1 visit / 4 min, 5 evaluations / 30 min …) are the
identity actor's job, not the driver's: the driver does one action per call.
A call of `relations_since`, `sent_invitations` or `is_connection` counts as
one "evaluate connection request" for the spec's 5-per-30-minutes limit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, Sequence, runtime_checkable

from runtime.channels.base import SendKey
from sequences.limits import INMAIL_MAX_CHARS, INMAIL_SUBJECT_MAX_CHARS, MESSAGE_MAX_CHARS, NOTE_MAX_CHARS
from sequences.model import Reaction
from sequences.statuses import Substatus


class Disposition(enum.StrEnum):
    """What the runtime does with a job whose driver call raised."""

    RETRY_LATER = "retry_later"
    """Keep the job queued; try again after `retry_after` seconds (lead stays In progress)."""
    LEAD_ERROR = "lead_error"
    """This lead goes to Error with `substatus`; the user may fix and retry it."""
    IDENTITY_DISCONNECTED = "identity_disconnected"
    """The identity's LinkedIn is disconnected: mark it, error its leads with
    "LinkedIn disconnected"; they resume after a reconnect + retry."""
    IDENTITY_RESTRICTED = "identity_restricted"
    """LinkedIn restricted the account: pause the identity's LinkedIn queue and tell the user."""
    OUTCOME_UNKNOWN = "outcome_unknown"
    """The action may or may not have happened and a look-up could not tell:
    mark the outbox row `unknown`; retry later with `SendKey(resumed=True)`."""


# --------------------------------------------------------------------------
# Errors


class LinkedInError(Exception):
    """Base of every error a LinkedIn driver raises.

    `code` is the gateway's error type (e.g. "cannot_resend_yet") or a driver
    code; `substatus` the lead's substatus, if any; `retry_after` the
    seconds to wait before retrying, if the job stays queued. The message never
    contains a secret (API keys are never part of a driver's error text).
    """

    disposition: Disposition = Disposition.LEAD_ERROR
    default_substatus: Substatus | None = Substatus.SYSTEM_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        substatus: Substatus | None = None,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.substatus = substatus if substatus is not None else self.default_substatus
        self.retry_after = retry_after
        self.status = status


class InvalidAction(LinkedInError):
    """The job's content is invalid (note too long, empty message, no subject …).
    Raised before any network call; the lead goes to Error with the substatus."""


class LeadUnreachable(LinkedInError):
    """LinkedIn refuses this action for this lead for good (unknown profile,
    `cannot_invite_attendee`, `not_allowed_inmail` …)."""


class InMailCreditsExhausted(LinkedInError):
    """No InMail credits left (`insufficient_credits`): Error "InMail credits limit"."""

    default_substatus = Substatus.INMAIL_CREDITS_LIMIT


class RateLimited(LinkedInError):
    """HTTP 429: back off and keep the job queued; honour `retry_after` (Retry-After)."""

    disposition = Disposition.RETRY_LATER
    default_substatus = None


class LimitReached(LinkedInError):
    """LinkedIn's own cap for the account is reached (`limit_exceeded`, the
    monthly cap of invitations with a note …): keep queued, retry another day.
    `kind` tells which action kind is blocked ("invite", "invite_note", "message", "inmail")."""

    disposition = Disposition.RETRY_LATER
    default_substatus = Substatus.IDENTITY_LIMITS

    def __init__(self, message: str, *, kind: str = "invite", **kw) -> None:
        super().__init__(message, **kw)
        self.kind = kind


class InvitationCooldown(LinkedInError):
    """LinkedIn will not take a new invitation to this person yet
    (`cannot_resend_yet`, `already_invited_recently`), typically within 3 weeks
    of a withdrawal: keep queued, substatus "Connection withdrawn"."""

    disposition = Disposition.RETRY_LATER
    default_substatus = Substatus.CONNECTION_WITHDRAWN


class GatewayUnavailable(LinkedInError):
    """5xx or network failure that persisted through the driver's retries.
    Keep queued and retry later; after the runtime's own budget, "System error"."""

    disposition = Disposition.RETRY_LATER
    default_substatus = Substatus.SYSTEM_ERROR


class AccountDisconnected(LinkedInError):
    """HTTP 401 (disconnected account, checkpoint, bad API key)."""

    disposition = Disposition.IDENTITY_DISCONNECTED
    default_substatus = Substatus.LINKEDIN_DISCONNECTED


class AccountRestricted(LinkedInError):
    """HTTP 403: LinkedIn restricted the account; pause its LinkedIn queue."""

    disposition = Disposition.IDENTITY_RESTRICTED
    default_substatus = None


class OutcomeUnknown(LinkedInError):
    """A send timed out (or the connection dropped after the request left) and
    the look-up that would settle it failed as well."""

    disposition = Disposition.OUTCOME_UNKNOWN
    default_substatus = None


# --------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class LeadRef:
    """How the driver finds a lead: LinkedIn's internal id ("LinkedIn Profile
    ID", e.g. ACoAAB…) and/or the public slug of the profile URL."""

    provider_id: str | None = None
    public_id: str | None = None

    @property
    def identifier(self) -> str:
        if self.provider_id:
            return self.provider_id
        if self.public_id:
            return self.public_id
        raise InvalidAction(
            "the lead has no LinkedIn profile id or URL", code="no_identifier",
            substatus=Substatus.LINKEDIN_URL_NOT_FOUND,
        )


@dataclass(frozen=True)
class Attachment:
    """A file to send (attachment or voice message), fully in memory: LinkedIn
    attachments are small and the outbox must be able to resend the same bytes."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


# --------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class AccountInfo:
    """The connected LinkedIn account (GET /users/me): proves the connection works."""

    provider_id: str
    public_id: str | None = None
    first_name: str = ""
    last_name: str = ""
    headline: str = ""
    premium: bool | None = None
    sales_navigator: bool | None = None


@dataclass(frozen=True)
class Profile:
    """A lead's profile as seen by the identity (also the result of a visit)."""

    provider_id: str
    public_id: str | None = None
    first_name: str = ""
    last_name: str = ""
    headline: str = ""
    network_distance: int | None = None  # 1 = 1st-degree connection
    pending_invitation: bool = False

    @property
    def is_connection(self) -> bool:
        return self.network_distance == 1


@dataclass(frozen=True)
class PostReaction:
    """The reaction placed; `post_id` None when the lead has no post to react to."""

    post_id: str | None
    reaction: Reaction | None


@dataclass(frozen=True)
class InvitationSent:
    invitation_id: str | None
    provider_id: str
    reconciled: bool = False  # found by look-up after an unknown outcome, not sent now


@dataclass(frozen=True)
class MessageSent:
    """A message (all its chunks), InMail, attachment or voice message, delivered."""

    chat_id: str | None
    provider_id: str
    message_ids: tuple[str, ...] = ()
    reconciled: bool = False  # at least one chunk was found already sent, not resent
    inmail_credits_left: int | None = None


@dataclass(frozen=True)
class SentInvitation:
    """A pending invitation of the identity, as LinkedIn lists it."""

    invitation_id: str
    provider_id: str
    public_id: str | None = None
    sent_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class Relation:
    """A 1st-degree connection; `connected_at` when LinkedIn says (acceptance time)."""

    provider_id: str
    public_id: str | None = None
    connected_at: datetime | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message a lead sent to the identity (a reply)."""

    chat_id: str
    message_id: str
    sender_provider_id: str
    text: str
    sent_at: datetime
    attachments: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------
# Validation shared by every driver (raised before any network call)


def check_note(note: str | None) -> str | None:
    """A connection note: optional, at most 300 characters. Returns the note
    (None for an empty one: an empty note is an invitation without note)."""
    if note is None or not note.strip():
        return None
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidAction(
            f"the connection note has {len(note)} characters; LinkedIn allows {NOTE_MAX_CHARS}",
            code="note_too_long", substatus=Substatus.MESSAGE_TOO_LONG,
        )
    return note


def check_message(chunks: Sequence[str]) -> list[str]:
    """Message chunks: at least one non-empty, each within 1,900 characters.
    Blank chunks are dropped (an AI variable may render empty)."""
    if isinstance(chunks, str):
        raise TypeError("chunks must be a sequence of strings, not one string")
    kept = [c for c in chunks if c and c.strip()]
    if not chunks:
        raise InvalidAction("the LinkedIn message has no content", code="missing_message",
                            substatus=Substatus.MISSING_LINKEDIN_MESSAGE)
    if not kept:
        raise InvalidAction("the LinkedIn message is empty", code="empty_message",
                            substatus=Substatus.EMPTY_MESSAGE)
    for c in kept:
        if len(c) > MESSAGE_MAX_CHARS:
            raise InvalidAction(
                f"a LinkedIn message has {len(c)} characters; the limit is {MESSAGE_MAX_CHARS}",
                code="message_too_long", substatus=Substatus.MESSAGE_TOO_LONG,
            )
    return kept


def check_inmail(subject: str | None, body: str | None) -> tuple[str, str]:
    if not subject or not subject.strip():
        raise InvalidAction("the InMail has no subject", code="missing_subject",
                            substatus=Substatus.MISSING_INMAIL_SUBJECT)
    if len(subject) > INMAIL_SUBJECT_MAX_CHARS:
        raise InvalidAction(
            f"the InMail subject has {len(subject)} characters; the limit is {INMAIL_SUBJECT_MAX_CHARS}",
            code="subject_too_long", substatus=Substatus.INMAIL_MESSAGE_TOO_LONG,
        )
    if not body or not body.strip():
        raise InvalidAction("the InMail has no message", code="missing_inmail_message",
                            substatus=Substatus.MISSING_INMAIL_MESSAGE)
    if len(body) > INMAIL_MAX_CHARS:
        raise InvalidAction(
            f"the InMail has {len(body)} characters; the limit is {INMAIL_MAX_CHARS}",
            code="inmail_too_long", substatus=Substatus.INMAIL_MESSAGE_TOO_LONG,
        )
    return subject, body


# --------------------------------------------------------------------------
# The protocol


@runtime_checkable
class LinkedInDriver(Protocol):
    """One identity's LinkedIn. Every method is a Trio coroutine doing one
    LinkedIn action (or one look-up); rate limiting and scheduling are the
    caller's. Errors: only `LinkedInError` subclasses."""

    async def account(self) -> AccountInfo:
        """Read the connected account's own profile (checks the connection)."""

    async def profile(self, lead: LeadRef) -> Profile:
        """Read a lead's profile without notifying them (resolves ids)."""

    async def visit_profile(self, lead: LeadRef) -> Profile:
        """Visit Profile: read the profile so that LinkedIn notifies a visit."""

    async def react_to_last_post(self, lead: LeadRef, reaction: Reaction | None) -> PostReaction:
        """React to the lead's most recent post; `reaction=None` = the reaction
        the post received most. No post → PostReaction(None, None), no error."""

    async def send_invitation(self, lead: LeadRef, note: str | None, key: SendKey) -> InvitationSent:
        """Send Connection Request, optional note (≤ 300 characters)."""

    async def withdraw_invitation(self, invitation_id: str) -> None:
        """Withdraw a pending invitation (already gone counts as done)."""

    async def sent_invitations(self) -> list[SentInvitation]:
        """All pending invitations the identity has sent."""

    async def send_message(self, lead: LeadRef, chunks: Sequence[str], key: SendKey) -> MessageSent:
        """LinkedIn Message: the chunks one after another, like a chat."""

    async def send_inmail(self, lead: LeadRef, subject: str, body: str, key: SendKey) -> MessageSent:
        """LinkedIn InMail (spends a credit)."""

    async def send_attachment(
        self, lead: LeadRef, text: str | None, attachment: Attachment, key: SendKey
    ) -> MessageSent:
        """LinkedIn Attachment: a message carrying a file."""

    async def send_voice_message(self, lead: LeadRef, voice: Attachment, key: SendKey) -> MessageSent:
        """LinkedIn Voice Message: an uploaded audio file."""

    async def is_connection(self, lead: LeadRef) -> bool:
        """Condition "Is already a connection"."""

    async def has_prior_conversation(self, lead: LeadRef) -> bool:
        """"Skip contacts with prior conversations": a chat with the lead exists."""

    async def relations_since(self, since: datetime | None) -> list[Relation]:
        """Connections made at/after `since` (all when None): acceptance detection."""

    async def inbound_messages_since(self, since: datetime | None) -> list[InboundMessage]:
        """Messages received from others at/after `since`: reply detection."""

    async def inmail_credits(self) -> int | None:
        """InMail credits left, None when the gateway cannot tell."""

    async def aclose(self) -> None:
        """Release connections; the driver is unusable afterwards."""
