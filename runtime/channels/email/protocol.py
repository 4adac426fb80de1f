"""The email driver protocol: what the identity actor may ask of an inbox, and what it gets back.

Two drivers speak it: `sandbox` (the seeded world) and `smtp` (real SMTP
submission). `send(email, key) -> EmailSent`, where the Message-ID inside
`email` was committed to the outbox before the call, and a `key.resumed`
send first looks the Message-ID up (sandbox: the world's record; SMTP: the
Sent folder) so an email whose fate is unknown is never sent blindly again.
Errors say what the runtime does with the job: `EmailTransient` (keep
queued, retry later; `EmailOutcomeUnknown` when DATA went out and no answer
came back), `EmailRejected` (a hard bounce at RCPT), `EmailDisconnected`
(the inbox's credentials no longer work: its leads get "Email disconnected").
"""

from __future__ import annotations

from dataclasses import dataclass


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
    references: tuple[str, ...] = ()  # the thread's Message-IDs, oldest first (a reply by hand)


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


class EmailRejected(EmailError):
    """The server refused the recipient (5xx at RCPT): nothing was sent; a hard bounce."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = None


class EmailOutcomeUnknown(EmailTransient):
    """DATA was sent but no final answer came back and Sent has no copy: settle later by look-up."""
