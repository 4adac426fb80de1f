"""A LinkedIn sequence for a few leads, driven straight through the gateway driver on
an autojump clock (visit → invite → poll acceptance → chunked message → reply),
plus a send killed mid-flight and resumed. The runtime's actors are not used
here (they were not in the tree yet); this checks what the driver promises them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import trio

from runtime.channels.linkedin.protocol import LeadRef, OutcomeUnknown
from runtime.channels.base import SendKey
from runtime.clock import Clock
from tests.support.linkedin_fixtures import *  # noqa: F401,F403
from tests.support.linkedin_fixtures import ACCOUNT, EPOCH, make_driver

EVAL_WINDOW = timedelta(minutes=30)
EVALS_PER_WINDOW = 5


@pytest.mark.trio
async def test_sequence_through_the_gateway(gateway, autojump_clock):
    clock = Clock(EPOCH)
    d = make_driver(gateway, now=clock.now)
    leads = [LeadRef(provider_id=f"ACoM{i}") for i in (1, 2, 3)]
    gateway.control("member", {"provider_id": "ACoM1", "accept_after_polls": 2,
                               "reply": {"text": "Happy to chat", "after_polls": 0}})
    gateway.control("member", {"provider_id": "ACoM2", "accept_after_polls": 4})
    evaluations: list = []
    try:
        for lead in leads:  # visit, then invite, 4 minutes apart (the visit rate)
            await d.visit_profile(lead)
            await trio.sleep(240)
            await d.send_invitation(lead, "Hi, glad to connect", SendKey(f"inv-{lead.provider_id}", clock.now()))
        accepted: dict[str, object] = {}
        for _ in range(12):  # poll a few times a day, never more than 5 per 30 minutes
            await trio.sleep(4 * 3600)
            evaluations.append(clock.now())
            for rel in await d.relations_since(EPOCH):
                if rel.provider_id not in accepted:
                    accepted[rel.provider_id] = clock.now()
                    await d.send_message(LeadRef(provider_id=rel.provider_id), ["hi!", "thanks for connecting"],
                                         SendKey(f"msg-{rel.provider_id}", clock.now()))
        assert set(accepted) == {"ACoM1", "ACoM2"}
        replies = await d.inbound_messages_since(EPOCH)
        assert [(m.sender_provider_id, m.text) for m in replies] == [("ACoM1", "Happy to chat")]
        # nothing doubled: one invitation per lead, each message chunk once
        invites = [r["body"]["provider_id"] for r in gateway.requests("POST", ".*/users/invite")]
        assert sorted(invites) == ["ACoM1", "ACoM2", "ACoM3"]
        acc = gateway.state()["accounts"][ACCOUNT]
        ours = sorted(m["text"] for c in acc["chats"].values() for m in c["messages"] if m["is_sender"])
        assert ours == ["hi!", "hi!", "thanks for connecting", "thanks for connecting"]
        assert [i["provider_id"] for i in acc["invitations"].values()] == ["ACoM3"]  # still pending
        for i, t in enumerate(evaluations):
            window = [u for u in evaluations if t <= u < t + EVAL_WINDOW]
            assert len(window) <= EVALS_PER_WINDOW
    finally:
        await d.aclose()


@pytest.mark.trio
async def test_send_killed_mid_flight_is_resumed_without_doubling(gateway, autojump_clock):
    """The 'runtime' is cancelled while the invite is in flight (the gateway has
    applied it, its answer is slow); the outbox row is `unknown`; a new driver
    (the restarted runtime) resumes the same key and finds it."""
    clock = Clock(EPOCH)
    gateway.script({"method": "POST", "path": ".*/users/invite", "after": {"delay": 1.0}})
    first = make_driver(gateway, now=clock.now)
    key = SendKey("inv-ACoM1", clock.now())
    with trio.move_on_after(0.1) as killed:  # simulated seconds: fires while the request is in flight
        await first.send_invitation(LeadRef(provider_id="ACoM1"), None, key)
    assert killed.cancelled_caught
    # The abandoned request still reaches the gateway, which applies it; its answer is never read.
    for _ in range(100):
        if gateway.state()["accounts"][ACCOUNT]["invitations"]:
            break
        await trio.to_thread.run_sync(__import__("time").sleep, 0.05)
    await first.aclose()
    second = make_driver(gateway, now=clock.now)
    try:
        again = await second.send_invitation(LeadRef(provider_id="ACoM1"), None,
                                             SendKey(key.key, key.first_attempt_at, resumed=True))
        assert again.reconciled
        assert len(gateway.requests("POST", ".*/users/invite")) == 1
        # messages: lookup failure while resuming never turns into a blind resend
        gateway.control("member", {"provider_id": "ACoM2", "accept_after_polls": 0})
        await second.send_invitation(LeadRef(provider_id="ACoM2"), None, SendKey("inv-2", clock.now()))
        await second.relations_since(None)
        gateway.script({"method": "GET", "path": ".*/chat_attendees/.*", "times": 99, "respond": {"status": 503}})
        with pytest.raises(OutcomeUnknown):
            await second.send_message(LeadRef(provider_id="ACoM2"), ["hello"],
                                      SendKey("msg-2", clock.now(), resumed=True))
        assert gateway.requests("POST", r"/api/v1/chats.*") == []
    finally:
        await second.aclose()
