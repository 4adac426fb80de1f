"""Automatic AI replies on LinkedIn, through the runtime and the gateway contract server (real HTTP on
loopback) and the project's OpenAI-compatible test server: a lead who replies gets the AI's answer once,
in their chat, counted in the identity's message bucket; a lead who said no, asked to stop or is away
gets none, and the conversation says why (issue 15)."""

from __future__ import annotations

import msgspec
import pytest

from storage.campaigns import get_campaign, settings_of, update_campaign
from storage.conversation_view import InboxFilter, conversations
from storage.reply_agent import notes
from tests.support.ai_replies import ANSWER, answers, configure_ai, is_tagging
from tests.support.ai_server import start_ai_server
from tests.support.linkedin_fixtures import *  # noqa: F401,F403
from tests.support.linkedin_fixtures import EPOCH
from tests.test_linkedin_runtime import DAY, clock, leads, our_messages, run, runtime, workspace  # noqa: F401

REPLIES = {
    "ACoM1": "Sounds good, tell me more about it. Thanks for the message.",
    "ACoM2": "Not interested, thanks. We are all set with our current tools.",
    "ACoM3": "Please unsubscribe me and remove me from your list.",
    "ACoM4": "I am out of the office until 16 March with limited access to email.",
}


@pytest.fixture
def ai():
    server = start_ai_server(key=None, answer=answers)
    yield server
    server.stop()


def automatic(ws_dir, db, cid, ai_url: str, prompt: str = "We sell Acme analytics; offer a 20-minute call.") -> None:
    configure_ai(ws_dir, ai_url)
    settings = msgspec.structs.replace(settings_of(get_campaign(db, cid)), reply_handling="auto", ai_prompt=prompt)
    update_campaign(db, cid, now=EPOCH, actor="test", settings=settings)


@pytest.mark.trio
async def test_automatic_answers_go_once_and_never_to_no_stop_or_away(tmp_path, gateway, clock, ai):  # noqa: F811
    for provider, text in REPLIES.items():
        gateway.control("member", {"provider_id": provider, "accept_after_polls": 1,
                                   "reply": {"text": text, "after_polls": 0}})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=4)
    automatic(ws_dir, db, cid, ai.url)
    await run(runtime(ws_dir, db, clock), 6)
    assert all(status == "replied" for status, _ in leads(db, cid).values())
    sent = our_messages(gateway)
    assert sent["ACoM1"][-1] == ANSWER and sent["ACoM1"].count(ANSWER) == 1
    for provider in ("ACoM2", "ACoM3", "ACoM4"):
        assert ANSWER not in sent[provider], provider

    by_lead = {c.name: c for c in conversations(db, InboxFilter(channel="linkedin"))}
    said = {name: [n.note for n in notes(db, c.id)] for name, c in by_lead.items()}
    assert said["Lead1 Test"] == ["answered automatically by the AI"]
    assert said["Lead2 Test"] == ["not answered automatically: tagged Not interested"]
    assert said["Lead3 Test"] == ["not answered automatically: tagged Unsubscribe"]
    assert said["Lead4 Test"] == ["not answered automatically: tagged Out of office"]
    # the answer went through the outbox and the ledger like any send, and stepped nothing
    row = db.execute("SELECT state, key FROM outbox WHERE key LIKE 'reply:%'").fetchall()
    assert len(row) == 1 and row[0][0] == "sent" and row[0][1].startswith(f"reply:{by_lead['Lead1 Test'].id}:ai-")
    # the prompt carried the campaign's prompt, the lead's data and their reply
    asked = [r["json"]["messages"][-1]["content"] for r in ai.completions()
             if not is_tagging(r)]
    assert len(asked) == 1 and "Acme analytics" in asked[0] and "Lead1" in asked[0] and REPLIES["ACoM1"] in asked[0]
    # junk from the AI's tagging is ignored: the rules' tags stand
    assert by_lead["Lead1 Test"].tags == ["Interested", "English"]

    # a restart sends nothing again (once per message, even across runs)
    await run(runtime(ws_dir, db, clock), 1, start=EPOCH + 6 * DAY)
    assert our_messages(gateway)["ACoM1"].count(ANSWER) == 1
