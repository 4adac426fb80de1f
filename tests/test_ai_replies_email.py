"""An automatic AI answer on real mail: the lead answers over SMTP, the IMAP watcher records and tags it,
the runtime asks the AI test server (real HTTP on loopback) and sends the answer once over Postfix,
threaded under the lead's message (In-Reply-To, References), counted in the inbox's email bucket."""

from __future__ import annotations

import email as email_mod
import threading
from datetime import timedelta

import msgspec
import pytest

from runtime.clock import wall_now
from runtime.lease import request_stop
from runtime.sandbox.world import SandboxWorld
from runtime.service import Service
from sequences.model import Delay, Email, Sequence
from storage.campaigns import Settings
from storage.conversation_view import InboxFilter, conversations
from storage.db import open_db
from storage.identities import create_identity
from storage.reply_agent import notes
from storage.workspace import init_workspace, open_workspace
from tests.support.ai_replies import ANSWER, answers, configure_ai, is_tagging
from tests.support.ai_server import start_ai_server
from tests.support.lead_answers import answer_first_email
from tests.support.mailstack import mailbox
from tests.support.seed import contacts, running_campaign
from tests.support.waits import wait_until
from tests.test_email_run_service import RATE, connect_ana

pytestmark = pytest.mark.timeout(150)


def test_an_automatic_answer_goes_once_over_smtp_threaded(mail_stack, tmp_path):
    ana, bob = mail_stack.new_user("ana"), mail_stack.new_user("bob")
    ai = start_ai_server(key=None, answer=answers)
    ws = init_workspace(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text().replace('backend = "keyring"', 'backend = "file"'))
    configure_ai(ws.dir, ai.url)
    ws = open_workspace(ws.dir)
    db = ws.open_db(check_same_thread=False)
    now = wall_now()
    create_identity(db, "Ana", now=now, actor="you", first_name="Ana", timezone="UTC",
                    working_days="mon,tue,wed,thu,fri,sat,sun", work_start="00:00", work_end="23:59")
    contacts(db, [{"first_name": "Bob", "company": "Bobco", "email": bob.address}], now=now)
    seq = Sequence(start="e1", nodes=[Email(id="e1", subject="Quick question", body="Hi {first_name}", next="e2"),
                                      Email(id="e2", body="Just following up.", delay=Delay(days=2))])
    cid = running_campaign(db, identity=1, sequence=seq, name="C", contact_ids=[1], now=now)
    db.execute("UPDATE campaigns SET settings = ? WHERE id = ?",
               [msgspec.json.encode(Settings(reply_handling="auto", ai_prompt="Offer a 20-minute demo of Anaflow.")).decode(),
                cid])
    connect_ana(db, ws, mail_stack, ana)
    seen: dict = {}

    def drive() -> None:
        other = open_db(ws.db_path)
        try:
            first = answer_first_email(mail_stack, bob, ana.address,
                                       "Sounds good, tell me more. Thanks for the note, this is the right time for us.\n")
            mail_stack.wait_for(lambda: len(mailbox(mail_stack, bob)) >= 2, timeout=60, what="bob receives the AI's answer")
            wait_until(lambda: other.execute("SELECT count(*) FROM outbox WHERE key LIKE 'reply:%' AND state = 'sent'"
                                             ).fetchone()[0] == 1, timeout=30, interval=0.2, what="the answer settled")
            seen["first"], seen["reply"] = first, email_mod.message_from_bytes(mailbox(mail_stack, bob)[1])
        finally:
            request_stop(other)
            other.close()

    world = SandboxWorld(1, path=ws.dir / "sandbox.db")
    t = threading.Thread(target=drive, daemon=True)
    t.start()
    try:
        Service(db, world=world, speed=RATE, workspace=ws.dir).run(until=timedelta(days=1))
    finally:
        world.close()
        ai.stop()
    t.join(10)

    reply, first = seen["reply"], seen["first"]
    assert reply["Subject"] == "Re: Quick question"
    assert reply["In-Reply-To"] == "<bob-answer@example.test>"
    assert reply["References"].split() == [first["Message-ID"], "<bob-answer@example.test>"]
    body = reply.get_payload(decode=True).decode() if not reply.is_multipart() else reply.get_payload(0).get_payload(decode=True).decode()
    assert ANSWER in body
    assert len(mailbox(mail_stack, bob)) == 2  # the first email and the answer, once; no follow-up
    assert db.execute("SELECT count(*) FROM action_ledger WHERE bucket = 'email'").fetchone()[0] == 2  # both counted
    conv = conversations(db, InboxFilter())[0]
    assert [n.note for n in notes(db, conv.id)] == ["answered automatically by the AI"]
    asked = [r["json"]["messages"][-1]["content"] for r in ai.completions() if not is_tagging(r)]
    assert len(asked) == 1 and "Anaflow" in asked[0] and "Bobco" in asked[0] and "right time for us" in asked[0]
    assert db.execute("SELECT status FROM enrollments").fetchone()[0] == "replied"
