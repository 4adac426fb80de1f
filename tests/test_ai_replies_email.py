"""An automatic AI answer on real mail: the lead answers over SMTP, the IMAP watcher records and tags it,
the runtime asks the AI test server (real HTTP on loopback) and sends the answer once over Postfix,
threaded under the lead's message (In-Reply-To, References), counted in the inbox's email bucket."""

from __future__ import annotations

import email as email_mod

import msgspec
import pytest

from runtime.clock import wall_now
from storage.campaigns import Settings
from storage.conversation_view import InboxFilter, conversations
from storage.reply_agent import notes
from tests.support.ai_replies import ANSWER, answers, configure_ai, is_tagging
from tests.support.ai_server import start_ai_server
from tests.support.email_campaign import TWO_EMAILS, ana_workspace, body_text, connect_ana, run_service_while
from tests.support.lead_answers import ANSWER_ID, answer_first_email
from tests.support.mailstack import mailbox
from tests.support.seed import running_campaign
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(150)


def test_an_automatic_answer_goes_once_over_smtp_threaded(mail_stack, tmp_path):
    ana, bob = mail_stack.new_user("ana"), mail_stack.new_user("bob")
    ai = start_ai_server(key=None, answer=answers)
    ws, db = ana_workspace(tmp_path / "ws", [{"first_name": "Bob", "company": "Bobco", "email": bob.address}])
    configure_ai(ws.dir, ai.url)
    cid = running_campaign(db, identity=1, sequence=TWO_EMAILS, name="C", contact_ids=[1], now=wall_now())
    db.execute("UPDATE campaigns SET settings = ? WHERE id = ?",
               [msgspec.json.encode(Settings(reply_handling="auto", ai_prompt="Offer a 20-minute demo of Anaflow.")).decode(),
                cid])
    connect_ana(db, ws, mail_stack, ana)
    seen: dict = {}

    def drive(other) -> None:
        first = answer_first_email(mail_stack, bob, ana.address,
                                   "Sounds good, tell me more. Thanks for the note, this is the right time for us.\n")
        mail_stack.wait_for(lambda: len(mailbox(mail_stack, bob)) >= 2, timeout=60, what="bob receives the AI's answer")
        wait_until(lambda: other.execute("SELECT count(*) FROM outbox WHERE key LIKE 'reply:%' AND state = 'sent'"
                                         ).fetchone()[0] == 1, timeout=30, interval=0.2, what="the answer settled")
        seen["first"], seen["reply"] = first, email_mod.message_from_bytes(mailbox(mail_stack, bob)[1])

    try:
        run_service_while(db, ws, drive)
    finally:
        ai.stop()

    reply, first = seen["reply"], seen["first"]
    assert reply["Subject"] == "Re: Quick question"
    assert reply["In-Reply-To"] == ANSWER_ID
    assert reply["References"].split() == [first["Message-ID"], ANSWER_ID]
    assert ANSWER in body_text(reply)
    assert len(mailbox(mail_stack, bob)) == 2  # the first email and the answer, once; no follow-up
    assert db.execute("SELECT count(*) FROM action_ledger WHERE bucket = 'email'").fetchone()[0] == 2  # both counted
    conv = conversations(db, InboxFilter())[0]
    assert [n.note for n in notes(db, conv.id)] == ["answered automatically by the AI"]
    asked = [r["json"]["messages"][-1]["content"] for r in ai.completions() if not is_tagging(r)]
    assert len(asked) == 1 and "Anaflow" in asked[0] and "Bobco" in asked[0] and "right time for us" in asked[0]
    assert db.execute("SELECT status FROM enrollments").fetchone()[0] == "replied"
