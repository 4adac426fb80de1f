"""Webhook intake: what a Unipile-style gateway pushes, as protocol records.

Polling stays the source of truth (webhooks may lag by hours or be lost); a
pushed event only lets the poller learn sooner. `parse_event` is pure: the
runtime's HTTP endpoint (or a test) hands it the decoded JSON body and feeds
the result into the same paths as a poll — the reply/acceptance handlers are
idempotent on message_id / provider_id, so an event seen both ways counts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runtime.channels.linkedin.protocol import InboundMessage, Relation
from runtime.channels.linkedin.gateway import parse_time


@dataclass(frozen=True)
class AccountStatus:
    account_id: str
    status: str  # OK, CREDENTIALS (disconnected), ERROR, STOPPED, …

    @property
    def disconnected(self) -> bool:
        return self.status.upper() in ("CREDENTIALS", "ERROR", "STOPPED", "DELETED")


@dataclass(frozen=True)
class WebhookEvent:
    account_id: str
    payload: InboundMessage | Relation | AccountStatus


def parse_event(body: Any, *, received_at: datetime) -> WebhookEvent | None:
    """The event in a webhook body, or None when it is not one we use
    (our own sent messages, other event kinds, malformed bodies)."""
    if not isinstance(body, dict):
        return None
    status = body.get("AccountStatus")
    if isinstance(status, dict) and status.get("account_id"):
        return WebhookEvent(str(status["account_id"]),
                            AccountStatus(str(status["account_id"]), str(status.get("message") or "")))
    account_id = body.get("account_id")
    if not account_id:
        return None
    event = body.get("event")
    if event == "message_received":
        sender = body.get("sender") if isinstance(body.get("sender"), dict) else {}
        sender_id = sender.get("attendee_provider_id")
        own = body.get("account_info", {}).get("user_id") if isinstance(body.get("account_info"), dict) else None
        if body.get("is_sender") in (1, True) or not sender_id or sender_id == own:
            return None  # our own message echoed back
        if not body.get("chat_id") or not body.get("message_id"):
            return None
        return WebhookEvent(str(account_id), InboundMessage(
            chat_id=str(body["chat_id"]), message_id=str(body["message_id"]),
            sender_provider_id=str(sender_id), text=str(body.get("message") or ""),
            sent_at=parse_time(body.get("timestamp")) or received_at))
    if event == "new_relation":
        pid = body.get("user_provider_id")
        if not pid:
            return None
        return WebhookEvent(str(account_id), Relation(str(pid), body.get("user_public_identifier"), received_at))
    return None
