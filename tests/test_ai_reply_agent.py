"""The AI agent's decisions after a reply, on a real workspace and the AI test server (real HTTP on
loopback), one round at a time: the AI's tag where the rules found none (junk ignored), never an
automatic answer after Unsubscribe / Not interested / Out of office (whoever tagged it), once per
message, failures noted on the conversation (retried while it may help) without stopping the others."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import msgspec
import pytest
import trio

from runtime.ai.agent import ReplyAgent
from runtime.ai.replies import clean_answer, parse_tag
from runtime.clock import Clock
from sequences.limits import MESSAGE_MAX_CHARS
from sequences.model import LinkedInMessage, Sequence
from storage.campaigns import Settings
from storage.conversations import add_received, add_sent, conversation_id, set_tags, tags_of
from storage.db import transaction
from storage.identities import create_identity
from storage.reply_agent import CURSOR, notes, request_suggestion
from storage.runtime_state import set_state
from storage.workspace import init_workspace, open_workspace
from tests.support.ai_replies import ANSWER, configure_ai, is_tagging
from tests.support.ai_server import start_ai_server
from tests.support.seed import contacts, running_campaign

EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Supervisor:
    def __init__(self) -> None:
        self.synced, self.identities = 0, {}

    def sync(self) -> None:
        self.synced += 1


def workspace(tmp_path, *, leads: int, mode: str = "auto", prompt: str = "Offer a call."):
    ws = init_workspace(tmp_path / "ws")
    db = open_workspace(ws.dir).open_db()
    create_identity(db, "Ida", now=EPOCH, actor="test", timezone="UTC")
    contacts(db, [{"first_name": f"Lead{i}", "company": "Acme", "linkedin_url": f"https://www.linkedin.com/in/l{i}"}
                  for i in range(1, leads + 1)], now=EPOCH)
    cid = running_campaign(db, identity=1, sequence=Sequence(start="m", nodes=[LinkedInMessage(id="m", chunks=["Hi"])]),
                           name="C", contact_ids=list(range(1, leads + 1)), now=EPOCH)
    db.execute("UPDATE campaigns SET settings = ? WHERE id = ?",
               [msgspec.json.encode(Settings(reply_handling=mode, ai_prompt=prompt)).decode(), cid])
    return ws.dir, db


def reply(db, contact: int, text: str, *, tags: list[str] = (), kind: str = "reply") -> int:
    """The lead's message in its conversation, as runtime/inbound.py records it (tags: the rules')."""
    enrollment = db.execute("SELECT id FROM enrollments WHERE contact_id = ?", [contact]).fetchone()[0]
    with transaction(db):
        conv = conversation_id(db, identity_id=1, contact_id=contact, channel="linkedin", campaign_id=1, inbox_id=None,
                               now=EPOCH)
        add_sent(db, conv, kind="linkedin_message", at=EPOCH, subject=None, body="Hi", message_id=f"ours-{contact}",
                 enrollment_id=enrollment)
        add_received(db, conv, kind=kind, at=EPOCH, body=text, enrollment_id=enrollment)
        set_tags(db, conv, add=list(tags), now=EPOCH)
    return conv


def agent(ws_dir, db) -> ReplyAgent:
    return ReplyAgent(SimpleNamespace(db=db, clock=Clock(EPOCH), workspace=str(ws_dir), supervisor=Supervisor(),
                                      change_hooks=[], inbound_hooks=[]))


@pytest.fixture
def ai():
    server = start_ai_server(key=None)
    yield server
    server.stop()


def said(db, conv: int) -> list[tuple[str, str]]:
    return [(n.state, n.note) for n in notes(db, conv)]


@pytest.mark.trio
async def test_the_ai_tags_what_the_rules_could_not_and_no_stop_or_away_reply_is_answered(tmp_path, ai):
    ws_dir, db = workspace(tmp_path, leads=5)
    configure_ai(ws_dir, ai.url)
    tags = {"Could we talk pricing?": "Interested", "Meh.": "Not interested", "Hmm, well.": "  the label is: junk  "}
    ai.answer = lambda request: tags.get(request["json"]["messages"][-1]["content"], "None") if is_tagging(request) \
        else ANSWER
    open_conv = reply(db, 1, "Could we talk pricing?")
    no_by_ai = reply(db, 2, "Meh.")
    junk = reply(db, 3, "Hmm, well.")
    unsubscribed = reply(db, 4, "Remove me from your list.", tags=["Unsubscribe", "English"])
    away = reply(db, 5, "Back on Monday.", tags=["Out of office"])
    the_agent = agent(ws_dir, db)
    await the_agent.round()

    assert tags_of(db, open_conv) == ["Interested"] and said(db, open_conv) == [("answered", "answered automatically by the AI")]
    assert tags_of(db, no_by_ai) == ["Not interested"]
    assert said(db, no_by_ai) == [("skipped", "not answered automatically: tagged Not interested")]
    assert tags_of(db, junk) == [] and said(db, junk)[0][0] == "answered"  # junk ignored: nothing forbids an answer
    assert said(db, unsubscribed) == [("skipped", "not answered automatically: tagged Unsubscribe")]
    assert said(db, away) == [("skipped", "not answered automatically: tagged Out of office")]
    answers_asked = [r["json"]["messages"][-1]["content"] for r in ai.completions() if not is_tagging(r)]
    assert len(answers_asked) == 2 and not any("Remove me" in a or "Back on Monday" in a or "Meh." in a
                                               for a in answers_asked)
    answered = db.execute("SELECT key, json_extract(payload, '$.text') FROM outbox WHERE key LIKE 'reply:%'"
                          " ORDER BY key").fetchall()
    assert answered == sorted([(f"reply:{open_conv}:ai-2", ANSWER), (f"reply:{junk}:ai-6", ANSWER)])
    assert the_agent.rt.supervisor.synced == 2  # the runtime was told, so the identity's actor files them

    asked = len(ai.completions())
    await agent(ws_dir, db).round()  # a restart: every message is settled, nothing asked or queued again
    assert len(ai.completions()) == asked
    assert db.execute("SELECT count(*) FROM outbox WHERE key LIKE 'reply:%'").fetchone()[0] == 2


@pytest.mark.trio
async def test_failures_are_noted_retried_while_they_may_help_and_never_stop_the_others(tmp_path, ai):
    ws_dir, db = workspace(tmp_path, leads=2)
    configure_ai(ws_dir, ai.url)
    first = reply(db, 1, "Tell me more, please.", tags=["Interested"])
    second = reply(db, 2, "Sounds interesting.", tags=["Interested"])
    ai.script({"status": 500, "error": "upstream overloaded"})  # the first answer fails; the second goes
    the_agent = agent(ws_dir, db)
    await the_agent.round()
    state, note = said(db, first)[0]
    assert state == "pending" and "AI error, trying again" in note and "HTTP 500" in note
    assert said(db, second) == [("answered", "answered automatically by the AI")]

    ai.script({"status": 500, "times": 5})
    clock = the_agent.rt.clock
    for hours in (1, 2):  # retried after its backoff, then given up: the note says to answer by hand
        clock.now = lambda h=hours: EPOCH.replace(hour=9 + h)
        await the_agent.round()
    state, note = said(db, first)[0]
    assert state == "failed" and note.startswith("AI reply failed:") and "answer by hand" in note


@pytest.mark.trio
async def test_no_ai_or_no_prompt_is_a_note_and_manual_campaigns_are_only_tagged(tmp_path, ai):
    ws_dir, db = workspace(tmp_path, leads=1, prompt="")
    conv = reply(db, 1, "Interested, tell me more.", tags=["Interested"])
    await agent(ws_dir, db).round()  # no [ai]: the automatic campaign's reply cannot be answered
    assert said(db, conv)[0][0] == "failed" and "no AI provider is configured" in said(db, conv)[0][1]

    ws_dir2, db2 = workspace(tmp_path / "2", leads=1, prompt="")
    configure_ai(ws_dir2, ai.url)
    conv2 = reply(db2, 1, "Interested, tell me more.", tags=["Interested"])
    await agent(ws_dir2, db2).round()
    assert said(db2, conv2)[0][1].startswith("Missing campaign prompt")
    assert not [r for r in ai.completions() if not is_tagging(r)]  # nothing asked without a prompt

    db2.execute("UPDATE campaigns SET status = 'paused'")
    paused = reply(db2, 1, "Sounds interesting, tell me more.", tags=["Interested"])
    await agent(ws_dir2, db2).round()
    assert said(db2, paused)[-1] == ("skipped", "not answered automatically: the campaign is paused "
                                                "(a reply by hand still goes)")

    ws_dir3, db3 = workspace(tmp_path / "3", leads=1, mode="copilot")
    configure_ai(ws_dir3, ai.url)
    conv3 = reply(db3, 1, "Hmm.")
    ai.answer = lambda request: "Bad timing" if is_tagging(request) else ANSWER
    await agent(ws_dir3, db3).round()
    assert tags_of(db3, conv3) == ["Bad timing"] and said(db3, conv3) == []  # tagged; copilot answers nothing itself
    assert db3.execute("SELECT count(*) FROM outbox WHERE key LIKE 'reply:%'").fetchone()[0] == 0


@pytest.mark.trio
async def test_the_cursor_skips_old_messages_and_out_of_office_notices(tmp_path, ai):
    ws_dir, db = workspace(tmp_path, leads=2)
    configure_ai(ws_dir, ai.url)
    old = reply(db, 1, "An old reply, from before the agent.", tags=["Interested"])
    set_state(db, CURSOR, str(db.execute("SELECT max(id) FROM messages").fetchone()[0]))
    notice = reply(db, 2, "I am out of the office.", kind="out_of_office", tags=["Out of office"])
    await agent(ws_dir, db).round()
    assert said(db, old) == [] and said(db, notice) == []
    assert db.execute("SELECT count(*) FROM agent_replies").fetchone()[0] == 0


@pytest.mark.trio
async def test_a_suggestion_request_is_answered_or_says_why_not(tmp_path, ai):
    ws_dir, db = workspace(tmp_path, leads=1, mode="copilot")
    conv = reply(db, 1, "What does it cost?", tags=["Interested"])
    asked = request_suggestion(db, conv, now=EPOCH, actor="you")
    await agent(ws_dir, db).round()
    assert db.execute("SELECT state, error LIKE '%no AI provider%' FROM ai_requests WHERE id = ?", [asked]).fetchone() == ("failed", 1)
    configure_ai(ws_dir, ai.url)
    ai.answer = lambda request: "Subject: Re: pricing\n\n\"It starts at 20 EUR a seat.\""
    asked = request_suggestion(db, conv, now=EPOCH, actor="you")
    await agent(ws_dir, db).round()
    assert db.execute("SELECT state, text FROM ai_requests WHERE id = ?", [asked]).fetchone() == \
        ("ready", "It starts at 20 EUR a seat.")
    prompt = ai.completions()[-1]["json"]["messages"][-1]["content"]
    assert "Offer a call." in prompt and "Lead1" in prompt and "Acme" in prompt and "What does it cost?" in prompt


def test_tags_outside_the_fixed_set_are_junk_and_answers_are_made_sendable():
    assert parse_tag("Not interested") == "Not interested" and parse_tag(" meeting BOOKED. ") == "Meeting booked"
    for junk in ("None", "", "Interested or Not interested", "Positive", "I think the lead is Interested"):
        assert parse_tag(junk) is None, junk
    assert clean_answer("Reply: Sure, Tuesday works.", "email") == "Sure, Tuesday works."
    long = "This is one sentence. " * 200
    cut = clean_answer(long, "linkedin")
    assert len(cut) <= MESSAGE_MAX_CHARS and cut.endswith(".")
    with pytest.raises(Exception):
        clean_answer("  \"\"  ", "email")


def test_conversations_suggest_asks_the_ai_from_the_shell(tmp_path, ai):
    from tests.support.campaign_workspace import fails, ok_json

    ws_dir, db = workspace(tmp_path, leads=1, mode="copilot")
    conv = reply(db, 1, "What does it cost?", tags=["Interested"])
    assert "no AI provider is configured" in fails(ws_dir, "conversations", "suggest", str(conv))
    configure_ai(ws_dir, ai.url)
    ai.answer = lambda request: "It starts at 20 EUR a seat."
    assert ok_json(ws_dir, "conversations", "suggest", str(conv)) == {"conversation": conv,
                                                                     "suggestion": "It starts at 20 EUR a seat."}
    assert "no conversation 99" in fails(ws_dir, "conversations", "suggest", "99")
    assert db.execute("SELECT count(*) FROM outbox WHERE key LIKE 'reply:%'").fetchone()[0] == 0  # nothing sent


@pytest.mark.trio
async def test_a_suggestion_is_shown_growing_while_the_ai_streams_it(tmp_path, ai):
    """The app's request row holds the answer so far while it is still asked (the status line shows it)."""
    import threading

    ws_dir, db = workspace(tmp_path, leads=1, mode="copilot")
    conv = reply(db, 1, "What does it cost?", tags=["Interested"])
    configure_ai(ws_dir, ai.url)
    answer = "It starts at 20 EUR a seat a month, and the first month is free for teams of up to ten people."
    hold = threading.Event()
    ai.script({"content": answer, "hold": hold})
    asked = request_suggestion(db, conv, now=EPOCH, actor="you")
    row = lambda: db.execute("SELECT state, text FROM ai_requests WHERE id = ?", [asked]).fetchone()  # noqa: E731
    async with trio.open_nursery() as nursery:
        nursery.start_soon(agent(ws_dir, db).round)
        with trio.fail_after(20):
            while not (row()[0] == "asked" and row()[1]):
                await trio.sleep(0.02)
        state, partial = row()
        assert answer.startswith(partial) and len(partial) < len(answer)  # the last word is still held back
        hold.set()
    assert row() == ("ready", answer)
    assert ai.completions()[-1]["json"]["stream"] is True
