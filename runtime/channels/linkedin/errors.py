"""How a Unipile-style gateway's HTTP errors become the driver protocol's errors.

Pure functions, no I/O: the gateway driver calls `error_from_response` for
every non-2xx answer, and the mapping is tested on its own. The gateway speaks
RFC 7807-like bodies: `{"status": 422, "type": "errors/cannot_resend_yet",
"title": "...", "detail": "..."}`; the `errors/` prefix is optional here.

Mapping (spec substatuses in quotes):

| HTTP | type | error | runtime does |
|---|---|---|---|
| 429 | too_many_requests | RateLimited | keep queued, wait Retry-After |
| 422 | cannot_resend_yet, already_invited_recently | InvitationCooldown | keep queued, "Connection withdrawn" |
| 422 | limit_exceeded, custom_invite_limit_reached | LimitReached | keep queued, "Identity limits" |
| 422 | insufficient_credits | InMailCreditsExhausted | lead Error "InMail credits limit" |
| 422 | not_allowed_inmail | LeadUnreachable | lead Error "Identity misconfiguration" |
| 422 | cannot_invite_attendee | LeadUnreachable | lead Error "System error" |
| 401 | disconnected_account, … | AccountDisconnected | identity disconnected, "LinkedIn disconnected" |
| 403 | account_restricted, … | AccountRestricted | pause the identity's LinkedIn queue |
| 404 | (profile) | LeadUnreachable | lead Error "Invalid LinkedIn ID" |
| 5xx | provider_error, … | GatewayUnavailable | driver retries, then keep queued / "System error" |
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

from runtime.channels.linkedin.protocol import AccountDisconnected, AccountRestricted, GatewayUnavailable, InMailCreditsExhausted, InvitationCooldown, LeadUnreachable, LimitReached, LinkedInError, RateLimited
from sequences.statuses import Substatus

DEFAULT_RETRY_AFTER = 60.0
"""Seconds to wait after a 429 that names no Retry-After."""


def error_type(body: Any) -> str:
    """The gateway's error type without the `errors/` prefix, lower case ("" if none)."""
    if not isinstance(body, Mapping):
        return ""
    raw = body.get("type") or body.get("code") or body.get("error") or ""
    if not isinstance(raw, str):
        return ""
    return raw.rsplit("/", 1)[-1].strip().lower()


def _detail(body: Any) -> str:
    if not isinstance(body, Mapping):
        return ""
    parts = [str(body[k]) for k in ("title", "detail") if isinstance(body.get(k), str) and body[k]]
    return ": ".join(parts)[:300]


def _action_kind(action: str) -> str:
    """The bucket a refused action belongs to ("invite", "inmail", "message", "other")."""
    lowered = action.lower()
    for word, kind in (("invitation", "invite"), ("inmail", "inmail"), ("message", "message"),
                       ("attachment", "message")):
        if word in lowered:
            return kind
    return "other"


def retry_after_seconds(value: str | None, now: datetime | None) -> float | None:
    """Retry-After as seconds: delta-seconds, or an HTTP date relative to `now`
    (the runtime's clock; without it a date form cannot be honoured → None)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    if now is None:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def error_from_response(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    action: str,
    now: datetime | None = None,
) -> LinkedInError:
    """The protocol error for one non-2xx gateway answer.

    `action` names what was attempted ("invite", "message", "inmail", "profile",
    …); it picks the `LimitReached.kind` and words the message. Messages say what
    happened and what to do, and never include request headers (the API key).
    """
    kind = error_type(body)
    detail = _detail(body)
    suffix = f" ({detail})" if detail else ""
    what = f"LinkedIn gateway refused {action}"

    if status == 429:
        wait = retry_after_seconds(headers.get("retry-after"), now)
        return RateLimited(
            f"{what}: too many requests; retrying after {wait if wait is not None else DEFAULT_RETRY_AFTER:.0f}s{suffix}",
            code=kind or "too_many_requests", status=status,
            retry_after=wait if wait is not None else DEFAULT_RETRY_AFTER,
        )
    if status == 401:
        return AccountDisconnected(
            f"the LinkedIn account is disconnected at the gateway ({kind or 'unauthorized'}); "
            f"reconnect it with `enginy identity connect-linkedin`, then retry the leads{suffix}",
            code=kind or "disconnected_account", status=status,
        )
    if status == 403:
        return AccountRestricted(
            f"LinkedIn restricted this account ({kind or 'forbidden'}); its LinkedIn queue is paused "
            f"— check the account on linkedin.com before resuming{suffix}",
            code=kind or "account_restricted", status=status,
        )
    if status == 404:
        return LeadUnreachable(
            f"{what}: not found{suffix}", code=kind or "not_found", status=status,
            substatus=Substatus.INVALID_LINKEDIN_ID,
        )
    if status == 422 or status == 400:
        if kind in ("cannot_resend_yet", "already_invited_recently"):
            return InvitationCooldown(
                f"LinkedIn does not accept a new invitation to this person yet ({kind}){suffix}",
                code=kind, status=status,
            )
        if kind in ("limit_exceeded", "custom_invite_limit_reached"):
            limit_kind = "invite_note" if kind == "custom_invite_limit_reached" else _action_kind(action)
            return LimitReached(
                f"LinkedIn's limit for this account is reached ({kind}); trying again later{suffix}",
                code=kind, status=status, kind=limit_kind,
            )
        if kind == "insufficient_credits":
            return InMailCreditsExhausted(
                f"the identity has no InMail credits left{suffix}", code=kind, status=status,
            )
        if kind == "not_allowed_inmail":
            return LeadUnreachable(
                f"this identity may not send an InMail to this person (not_allowed_inmail: "
                f"InMail needs Premium or Sales Navigator, and an open profile or credits){suffix}",
                code=kind, status=status, substatus=Substatus.IDENTITY_MISCONFIGURATION,
            )
        if kind == "cannot_invite_attendee":
            return LeadUnreachable(
                f"LinkedIn does not let this identity invite this person (cannot_invite_attendee){suffix}",
                code=kind, status=status, substatus=Substatus.SYSTEM_ERROR,
            )
        return LeadUnreachable(
            f"{what}: {kind or 'invalid request'} (HTTP {status}){suffix}",
            code=kind or "invalid_request", status=status, substatus=Substatus.SYSTEM_ERROR,
        )
    if status >= 500:
        wait = retry_after_seconds(headers.get("retry-after"), now)
        return GatewayUnavailable(
            f"the LinkedIn gateway failed (HTTP {status}, {kind or 'server error'}){suffix}",
            code=kind or "server_error", status=status, retry_after=wait,
        )
    return LeadUnreachable(
        f"{what}: unexpected HTTP {status}{suffix}", code=kind or f"http_{status}", status=status,
    )
