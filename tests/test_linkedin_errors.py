"""The pure mapping from gateway answers to protocol errors (no server needed)."""

from datetime import datetime, timezone

import pytest

from runtime.channels.linkedin.protocol import AccountDisconnected, Disposition, GatewayUnavailable, LimitReached, RateLimited
from sequences.statuses import Substatus
from runtime.channels.linkedin.errors import error_from_response, error_type, retry_after_seconds

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_error_type_strips_prefix_and_tolerates_junk():
    assert error_type({"type": "errors/Cannot_Resend_Yet"}) == "cannot_resend_yet"
    assert error_type({"type": 5}) == "" and error_type("nope") == "" and error_type(None) == ""


@pytest.mark.parametrize("value,expected", [
    ("120", 120.0), (" 0 ", 0.0), ("-5", 0.0), ("Mon, 02 Mar 2026 09:02:00 GMT", 120.0),
    ("Mon, 02 Mar 2026 08:00:00 GMT", 0.0), ("soon", None), (None, None), ("", None),
])
def test_retry_after_forms(value, expected):
    assert retry_after_seconds(value, NOW) == expected


def test_retry_after_date_needs_a_clock():
    assert retry_after_seconds("Mon, 02 Mar 2026 09:02:00 GMT", None) is None


def test_429_with_http_date():
    e = error_from_response(429, None, {"retry-after": "Mon, 02 Mar 2026 09:10:00 GMT"}, action="x", now=NOW)
    assert isinstance(e, RateLimited) and e.retry_after == 600


def test_limit_kind_follows_the_action():
    body = {"type": "errors/limit_exceeded"}
    assert error_from_response(422, body, {}, action="the invitation").kind == "invite"
    assert error_from_response(422, body, {}, action="the message").kind == "message"
    e = error_from_response(422, {"type": "errors/custom_invite_limit_reached"}, {}, action="the invitation")
    assert isinstance(e, LimitReached) and e.kind == "invite_note" and e.substatus == Substatus.IDENTITY_LIMITS


def test_status_classes():
    assert isinstance(error_from_response(401, {}, {}, action="x"), AccountDisconnected)
    e = error_from_response(503, {"type": "errors/provider_error"}, {"retry-after": "7"}, action="x")
    assert isinstance(e, GatewayUnavailable) and e.retry_after == 7 and e.disposition == Disposition.RETRY_LATER
    weird = error_from_response(418, {}, {}, action="x")
    assert weird.disposition == Disposition.LEAD_ERROR and weird.code == "http_418"
