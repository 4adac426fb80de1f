"""A reply by hand on LinkedIn, through the runtime and the gateway contract server (real HTTP on
loopback): the lead replies, the user's reply is queued through storage, and the next run of the
runtime sends it once, in the lead's chat, counted in the identity's message bucket (issue 15)."""

from __future__ import annotations

import pytest

from storage.campaigns import pause_campaign
from storage.conversation_view import InboxFilter, conversations
from sequences.statuses import Substatus, Wait
from storage.replies import queue_reply, reply_wait
from tests.support.campaign_workspace import ok_json
from tests.support.linkedin_fixtures import *  # noqa: F401,F403
from tests.support.linkedin_fixtures import EPOCH
from tests.test_linkedin_runtime import DAY, clock, leads, our_messages, run, runtime, workspace  # noqa: F401


@pytest.mark.trio
async def test_a_linkedin_reply_by_hand_goes_once_through_the_gateway(tmp_path, gateway, clock):  # noqa: F811
    gateway.control("member", {"provider_id": "ACoM1", "accept_after_polls": 1,
                               "reply": {"text": "Sure, let's talk. Thanks for the message, it is a good time for us.",
                                         "after_polls": 0}})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1)
    await run(runtime(ws_dir, db, clock), 6)
    assert leads(db, cid)[1][0] == "replied"
    conv = conversations(db, InboxFilter(channel="linkedin"))[0]
    assert conv.tags == ["Interested", "English"]
    before = len(our_messages(gateway)["ACoM1"])
    ledger = db.execute("SELECT count(*) FROM action_ledger WHERE bucket = 'message'").fetchone()[0]

    queued = queue_reply(db, conv.id, "Great, Tuesday at 10?", now=EPOCH + 6 * DAY)
    await run(runtime(ws_dir, db, clock), 2, start=EPOCH + 6 * DAY)
    assert our_messages(gateway)["ACoM1"][before:] == ["Great, Tuesday at 10?"]  # once
    assert db.execute("SELECT state FROM outbox WHERE key = ?", [queued.key]).fetchone()[0] == "sent"
    assert db.execute("SELECT count(*) FROM action_ledger WHERE bucket = 'message'").fetchone()[0] == ledger + 1
    assert leads(db, cid)[1][0] == "replied"  # the reply stepped nothing
    last = db.execute("SELECT direction, kind, body FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
                      [conv.id]).fetchone()
    assert last == ("out", "reply", "Great, Tuesday at 10?")


@pytest.mark.trio
async def test_a_reply_by_hand_goes_after_its_campaign_stopped_and_says_when(tmp_path, gateway, clock):  # noqa: F811
    """The supervisor runs an identity's actor for a queued reply even with no running campaign; while
    the reply waits for working hours, the app and the CLI say until when (what the lane wrote)."""
    gateway.control("member", {"provider_id": "ACoM1", "accept_after_polls": 1,
                               "reply": {"text": "Sure, let's talk. Thanks for the message, it is a good time for us.",
                                         "after_polls": 0}})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1)
    await run(runtime(ws_dir, db, clock), 6)
    conv = conversations(db, InboxFilter(channel="linkedin"))[0]
    pause_campaign(db, cid, now=EPOCH + 6 * DAY, actor="test")
    before = len(our_messages(gateway)["ACoM1"])

    queued = ok_json(ws_dir, "conversations", "reply", str(conv.id), "--text", "Still keen: Tuesday at 10?")
    assert queued["wait"] is None  # the runtime has not seen it yet and its lane says nothing

    # Sunday: outside the identity's working hours (Mon-Fri 09-18 UTC); the lane says when it opens
    await run(runtime(ws_dir, db, clock), 0.5, start=EPOCH + 6 * DAY)
    monday = EPOCH + 7 * DAY
    assert reply_wait(db, conv.id).wait == Wait(Substatus.OUTSIDE_WORKING_HOURS, None, monday)
    shown = ok_json(ws_dir, "conversations", "show", str(conv.id))["reply_wait"]
    assert shown["until"] == monday.isoformat() and "Next opening Mon 09 Mar 09:00 (UTC)" in shown["text"]

    await run(runtime(ws_dir, db, clock), 2, start=EPOCH + 6.5 * DAY)
    assert our_messages(gateway)["ACoM1"][before:] == ["Still keen: Tuesday at 10?"]
    assert db.execute("SELECT state FROM outbox WHERE key = ?", [queued["key"]]).fetchone()[0] == "sent"
    assert reply_wait(db, conv.id) is None
    assert db.execute("SELECT status FROM campaigns WHERE id = ?", [cid]).fetchone()[0] == "paused"
