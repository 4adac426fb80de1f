"""A reply by hand, end to end on real mail: the lead answers over SMTP, the IMAP watcher records and
tags it, the user's reply is queued through storage (as the app and `enginy conversations reply` do),
and the runtime sends it once over Postfix, threaded under the lead's answer (In-Reply-To, References)."""

from __future__ import annotations

import email as email_mod
import threading
from datetime import timedelta

import pytest

from runtime.clock import wall_now
from runtime.lease import request_stop
from runtime.sandbox.world import SandboxWorld
from runtime.service import Service
from sequences.model import Delay, Email, Sequence
from storage.activity_kinds import Milestone
from storage.conversation_view import InboxFilter, conversations, thread
from storage.db import open_db
from storage.identities import create_identity
from storage.replies import queue_reply
from storage.workspace import init_workspace, open_workspace
from tests.support.lead_answers import answer_first_email
from tests.support.mailstack import mailbox
from tests.support.seed import contacts, running_campaign
from tests.support.waits import wait_until
from tests.test_email_run_service import RATE, connect_ana

pytestmark = pytest.mark.timeout(150)


def test_a_reply_by_hand_goes_once_through_the_outbox_threaded(mail_stack, tmp_path):
    ana, bob = mail_stack.new_user("ana"), mail_stack.new_user("bob")
    ws = init_workspace(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text().replace('backend = "keyring"', 'backend = "file"'))
    ws = open_workspace(ws.dir)
    db = ws.open_db(check_same_thread=False)
    now = wall_now()
    create_identity(db, "Ana", now=now, actor="you", first_name="Ana", timezone="UTC",
                    working_days="mon,tue,wed,thu,fri,sat,sun", work_start="00:00", work_end="23:59")
    contacts(db, [{"first_name": "Bob", "email": bob.address}], now=now)
    seq = Sequence(start="e1", nodes=[Email(id="e1", subject="Quick question", body="Hi {first_name}", next="e2"),
                                      Email(id="e2", body="Just following up.", delay=Delay(days=2))])
    running_campaign(db, identity=1, sequence=seq, name="C", contact_ids=[1], now=now)
    connect_ana(db, ws, mail_stack, ana)
    seen: dict = {}

    def drive() -> None:
        other = open_db(ws.db_path)
        try:
            first = answer_first_email(mail_stack, bob, ana.address, "Sounds good, let's talk next week. Thanks for the"
                                       " note, this is the right time for us.\n\n-- \nBob\n")
            wait_until(lambda: conversations(other, InboxFilter(unread=True)), timeout=60, interval=0.2,
                       what="bob's answer in the inbox")
            conv = conversations(other, InboxFilter())[0]
            seen["tags"] = conv.tags
            seen["queued"] = queue_reply(other, conv.id, "Great — Tuesday at 10?", now=wall_now())
            mail_stack.wait_for(lambda: len(mailbox(mail_stack, bob)) >= 2, timeout=60, what="bob receives the reply")
            seen["first"], seen["reply"] = first, email_mod.message_from_bytes(mailbox(mail_stack, bob)[1])
            wait_until(lambda: other.execute("SELECT state FROM outbox WHERE key = ?",
                                             [seen["queued"].key]).fetchone()[0] == "sent",
                       timeout=30, interval=0.2, what="the reply's row settled")
            seen["thread"] = thread(other, conv.id)
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
    t.join(10)

    assert seen["tags"] == ["Interested", "English"]  # tagged by the rules when recorded
    milestones = db.execute("SELECT milestones FROM enrollments").fetchone()[0]
    assert milestones & Milestone.EM_POSITIVE  # Positive = a positive tag
    reply, first = seen["reply"], seen["first"]
    assert reply["Subject"] == "Re: Quick question"
    assert reply["In-Reply-To"] == "<bob-answer@example.test>"
    assert reply["References"].split() == [first["Message-ID"], "<bob-answer@example.test>"]
    assert "Tuesday at 10?" in reply.get_payload(decode=True).decode() if not reply.is_multipart() else True
    assert len(mailbox(mail_stack, bob)) == 2  # the first email and the reply, once; no follow-up
    assert db.execute("SELECT count(*) FROM action_ledger WHERE bucket = 'email'").fetchone()[0] == 2  # both counted
    kinds = [m.kind for m in seen["thread"].messages]
    assert kinds == ["email", "reply", "reply"] and [m.direction for m in seen["thread"].messages] == ["out", "in", "out"]
    assert seen["thread"].messages[-1].in_reply_to == "<bob-answer@example.test>"
    assert db.execute("SELECT count(*) FROM activity WHERE kind = 'email_reply_sent'").fetchone()[0] == 1
    assert db.execute("SELECT status FROM enrollments").fetchone()[0] == "replied"  # the reply stepped nothing
