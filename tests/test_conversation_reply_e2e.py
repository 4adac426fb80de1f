"""A reply by hand, end to end on real mail: the lead answers over SMTP, the IMAP watcher records and
tags it, the user's reply is queued through storage (as the app and `enginy conversations reply` do),
and the runtime sends it once over Postfix, threaded under the lead's answer (In-Reply-To, References)."""

from __future__ import annotations

import email as email_mod

import pytest

from runtime.clock import wall_now
from storage.activity_kinds import Milestone
from storage.conversation_view import InboxFilter, conversations, thread
from storage.replies import queue_reply
from tests.support.email_campaign import TWO_EMAILS, ana_workspace, body_text, connect_ana, run_service_while
from tests.support.lead_answers import ANSWER_ID, answer_first_email
from tests.support.mailstack import mailbox
from tests.support.seed import running_campaign
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(150)


def test_a_reply_by_hand_goes_once_through_the_outbox_threaded(mail_stack, tmp_path):
    ana, bob = mail_stack.new_user("ana"), mail_stack.new_user("bob")
    ws, db = ana_workspace(tmp_path / "ws", [{"first_name": "Bob", "email": bob.address}])
    running_campaign(db, identity=1, sequence=TWO_EMAILS, name="C", contact_ids=[1], now=wall_now())
    connect_ana(db, ws, mail_stack, ana)
    seen: dict = {}

    def drive(other) -> None:
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

    run_service_while(db, ws, drive)

    assert seen["tags"] == ["Interested", "English"]  # tagged by the rules when recorded
    milestones = db.execute("SELECT milestones FROM enrollments").fetchone()[0]
    assert milestones & Milestone.EM_POSITIVE  # Positive = a positive tag
    reply, first = seen["reply"], seen["first"]
    assert reply["Subject"] == "Re: Quick question"
    assert reply["In-Reply-To"] == ANSWER_ID
    assert reply["References"].split() == [first["Message-ID"], ANSWER_ID]
    assert "Tuesday at 10?" in body_text(reply)
    assert len(mailbox(mail_stack, bob)) == 2  # the first email and the reply, once; no follow-up
    assert db.execute("SELECT count(*) FROM action_ledger WHERE bucket = 'email'").fetchone()[0] == 2  # both counted
    kinds = [m.kind for m in seen["thread"].messages]
    assert kinds == ["email", "reply", "reply"] and [m.direction for m in seen["thread"].messages] == ["out", "in", "out"]
    assert seen["thread"].messages[-1].in_reply_to == ANSWER_ID
    assert db.execute("SELECT count(*) FROM activity WHERE kind = 'email_reply_sent'").fetchone()[0] == 1
    assert db.execute("SELECT status FROM enrollments").fetchone()[0] == "replied"  # the reply stepped nothing
