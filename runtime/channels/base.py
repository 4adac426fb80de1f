"""What every channel's drivers share: the idempotency key of one send.

Both channels' drivers take a `SendKey` for each send the outbox hands them,
so it lives here rather than in either channel's protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SendKey:
    """Idempotency for one outbox row. `key` is committed before the first
    attempt; `first_attempt_at` bounds the look-up (nothing sent before it can
    be ours); `resumed=True` when a previous attempt's outcome is unknown (the
    runtime was killed mid-send, or the driver raised OutcomeUnknown); `accepted=True`
    when that attempt's email was taken by the server before the runtime stopped."""

    key: str
    first_attempt_at: datetime
    resumed: bool = False
    accepted: bool = False  # an email the server already took (250): file its Sent copy, never send again
