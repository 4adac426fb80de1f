"""`enginy run` sends real mail: the Service (as cli/run.py builds it, sandbox world
included) picks the SMTP driver for a real IMAP/SMTP inbox through
runtime/drivers.py — nothing injected — and starts the IMAP watcher, so a reply
from the lead stops the sequence and a dead address ends as Bounced."""

from __future__ import annotations

import pytest

from runtime.clock import wall_now
from storage.campaigns import launch_campaign
from storage.timeline import clock_position
from tests.support.email_campaign import TWO_EMAILS, ana_workspace, connect_ana, run_service_while
from tests.support.lead_answers import answer_first_email
from tests.support.mailstack import mailbox
from tests.support.seed import draft_campaign, running_campaign
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(150)


def run_campaign(mail_stack, tmp_path, *, connect_while_running: bool):
    """Bob and a dead address get a two-email sequence from Ana's real inbox; bob answers.
    With `connect_while_running`, the runtime starts with no inbox and a draft campaign:
    another process connects the inbox and launches the campaign while it runs."""
    ana = mail_stack.new_user("ana")
    bob = mail_stack.new_user("bob")
    ghost = "ghost-nobody@example.test"
    ws, db = ana_workspace(tmp_path / "ws", [{"first_name": f"Lead{i}", "email": address}
                                             for i, address in enumerate([bob.address, ghost], 1)])
    campaign = draft_campaign if connect_while_running else running_campaign
    campaign(db, identity=1, sequence=TWO_EMAILS, name="C", contact_ids=[1, 2], now=wall_now())
    if not connect_while_running:
        connect_ana(db, ws, mail_stack, ana)

    def statuses(d):
        return {r["contact_id"]: (r["status"], r["substatus"]) for r in d.query("SELECT * FROM enrollments")}

    outcome: dict = {}

    def drive(other) -> None:
        """Another process's view: (connect and launch,) wait for bob's mail, answer it, wait for
        the effects."""
        if connect_while_running:
            # the runtime is up (its heartbeat saved a clock position), watching nothing
            mail_stack.wait_for(lambda: clock_position(other), timeout=30, what="the runtime runs")
            connect_ana(other, ws, mail_stack, ana)
            launch_campaign(other, 1, now=wall_now(), actor="you")
        outcome["first"] = answer_first_email(mail_stack, bob, ana.address, "Sure, call me.")
        wait_until(lambda: statuses(other)[1][0] == "replied" and statuses(other)[2][0] == "finished",
                   timeout=60, interval=0.2, what="the reply to stop lead 1 and the bounce to finish lead 2")

    world = run_service_while(db, ws, drive)
    return db, world, statuses(db), outcome, ana, bob


def test_enginy_run_service_sends_over_smtp_and_watches_the_inbox(mail_stack, tmp_path):
    db, world, s, outcome, ana, bob = run_campaign(mail_stack, tmp_path, connect_while_running=False)
    assert s[1][0] == "replied"  # the watcher Service started saw bob's answer
    assert s[2] == ("finished", "bounced")  # refused at RCPT or bounced by DSN: either way Bounced
    assert outcome["first"]["Subject"] == "Quick question"
    assert len(mailbox(mail_stack, bob)) == 1  # no follow-up after the reply
    # the world (sandbox) got nothing: the real inbox went through SMTP
    assert not [d for d in world.deliveries.values() if d.action == "email"]
    assert len(mailbox(mail_stack, ana, "Sent")) >= 1  # the driver keeps a copy in Sent


def test_an_inbox_connected_while_running_sends_and_is_watched(mail_stack, tmp_path):
    """No restart: the supervisor rebuilds Ana's actor with the new inbox, the watcher manager starts its IMAP watcher."""
    db, world, s, outcome, ana, bob = run_campaign(mail_stack, tmp_path, connect_while_running=True)
    assert outcome["first"]["Subject"] == "Quick question"  # sent over SMTP from the inbox connected later
    assert s[1][0] == "replied"  # its watcher saw bob's answer
    assert len(mailbox(mail_stack, bob)) == 1
    assert not [d for d in world.deliveries.values() if d.action == "email"]
