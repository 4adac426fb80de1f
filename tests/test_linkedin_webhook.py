"""Webhook bodies (Unipile shapes) become the same records a poll yields."""

from datetime import datetime, timezone

from runtime.channels.linkedin.protocol import InboundMessage, Relation
from runtime.channels.linkedin.webhook import AccountStatus, parse_event

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_message_received():
    ev = parse_event({"event": "message_received", "account_id": "acc_1", "chat_id": "c1", "message_id": "m1",
                      "message": "Sounds good", "timestamp": "2026-03-02T10:00:00.000Z",
                      "sender": {"attendee_provider_id": "ACoM1"}, "account_info": {"user_id": "ACoME"}},
                     received_at=AT)
    assert ev.account_id == "acc_1" and isinstance(ev.payload, InboundMessage)
    assert ev.payload.text == "Sounds good" and ev.payload.sent_at.hour == 10


def test_own_messages_and_junk_are_ignored():
    own = {"event": "message_received", "account_id": "a", "chat_id": "c", "message_id": "m",
           "sender": {"attendee_provider_id": "ACoME"}, "account_info": {"user_id": "ACoME"}}
    assert parse_event(own, received_at=AT) is None
    for junk in (None, [], {}, {"event": "message_received"}, {"event": "reaction", "account_id": "a"},
                 {"event": "message_received", "account_id": "a", "sender": {"attendee_provider_id": "x"}}):
        assert parse_event(junk, received_at=AT) is None


def test_new_relation_and_account_status():
    ev = parse_event({"event": "new_relation", "account_id": "a", "user_provider_id": "ACoM2",
                      "user_public_identifier": "lead-2"}, received_at=AT)
    assert ev.payload == Relation("ACoM2", "lead-2", AT)
    st = parse_event({"AccountStatus": {"account_id": "a", "account_type": "LINKEDIN", "message": "CREDENTIALS"}},
                     received_at=AT)
    assert isinstance(st.payload, AccountStatus) and st.payload.disconnected
