"""`enginy run` sends real mail: the Service (as cli/run.py builds it, sandbox world
included) picks the SMTP driver for a real IMAP/SMTP inbox through
runtime/drivers.py — nothing injected — and starts the IMAP watcher, so a reply
from the lead stops the sequence and a dead address ends as Bounced."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from runtime.clock import wall_now
from runtime.sandbox.world import SandboxWorld
from runtime.secrets import SecretStore, inbox_secret_name
from runtime.lease import request_stop
from runtime.service import Service
from sequences.model import Delay, Email, Sequence
from storage.activity import iso
from storage.campaigns import launch_campaign
from storage.db import open_db, transaction
from storage.identities import create_identity
from storage.timeline import clock_position
from storage.workspace import init_workspace, open_workspace
from tests.support.lead_answers import answer_first_email
from tests.support.mailstack import mailbox
from tests.support.seed import contacts, draft_campaign, running_campaign
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(150)
RATE = 600.0  # pacing minutes pass in a fraction of a second; the 2-day follow-up stays far away


def connect_ana(db, ws, mail_stack, ana) -> None:
    """What `enginy inbox connect` writes: the inbox row and its password in the secret store."""
    at = iso(wall_now())
    with transaction(db):
        db.execute("INSERT INTO inboxes (id, identity_id, email, provider, imap_host, imap_port, smtp_host, smtp_port,"
                   " tls_mode, ca_file, per_day, per_hour, list_unsubscribe, created_at, updated_at)"
                   " VALUES (1, 1, ?, 'imap', ?, ?, ?, ?, 'starttls', ?, 80, 10, 0, ?, ?)",
                   [ana.address, mail_stack.host, mail_stack.imap_port, mail_stack.host, mail_stack.smtp_port,
                    str(mail_stack.ca_file), at, at])
    SecretStore.of(ws).save(inbox_secret_name(1), ana.password)


def run_campaign(mail_stack, tmp_path, *, connect_while_running: bool):
    """Bob and a dead address get a two-email sequence from Ana's real inbox; bob answers.
    With `connect_while_running`, the runtime starts with no inbox and a draft campaign:
    another process connects the inbox and launches the campaign while it runs."""
    ana = mail_stack.new_user("ana")
    bob = mail_stack.new_user("bob")
    ghost = "ghost-nobody@example.test"
    ws = init_workspace(tmp_path / "ws")
    cfg = ws.config_path.read_text().replace('backend = "keyring"', 'backend = "file"')  # headless: no keyring
    ws.config_path.write_text(cfg)
    ws = open_workspace(ws.dir)
    db = ws.open_db(check_same_thread=False)
    now = wall_now()
    seq = Sequence(start="e1", nodes=[
        Email(id="e1", subject="Quick question", body="Hi {first_name}", next="e2"),
        Email(id="e2", body="Just following up.", delay=Delay(days=2)),
    ])
    # working hours all week, so the test does not depend on today's date
    create_identity(db, "Ana", now=now, actor="you", first_name="Ana", timezone="UTC",
                    working_days="mon,tue,wed,thu,fri,sat,sun", work_start="00:00", work_end="23:59")
    contacts(db, [{"first_name": f"Lead{i}", "email": address} for i, address in enumerate([bob.address, ghost], 1)],
             now=now)
    campaign = draft_campaign if connect_while_running else running_campaign
    campaign(db, identity=1, sequence=seq, name="C", contact_ids=[1, 2], now=now)
    if not connect_while_running:
        connect_ana(db, ws, mail_stack, ana)

    def statuses(d):
        return {r["contact_id"]: (r["status"], r["substatus"]) for r in d.query("SELECT * FROM enrollments")}

    outcome: dict = {}

    def drive() -> None:
        """Another process's view: (connect and launch,) wait for bob's mail, answer it, wait for
        the effects, `enginy stop`."""
        other = open_db(ws.db_path)
        try:
            if connect_while_running:
                # the runtime is up (its heartbeat saved a clock position), watching nothing
                mail_stack.wait_for(lambda: clock_position(other), timeout=30, what="the runtime runs")
                connect_ana(other, ws, mail_stack, ana)
                launch_campaign(other, 1, now=wall_now(), actor="you")
            outcome["first"] = answer_first_email(mail_stack, bob, ana.address, "Sure, call me.")
            wait_until(lambda: statuses(other)[1][0] == "replied" and statuses(other)[2][0] == "finished",
                       timeout=60, interval=0.2, what="the reply to stop lead 1 and the bounce to finish lead 2")
        finally:
            request_stop(other)
            other.close()

    world = SandboxWorld(1, path=ws.dir / "sandbox.db")
    service = Service(db, world=world, speed=RATE, workspace=ws.dir)
    t = threading.Thread(target=drive, daemon=True)
    t.start()
    try:
        service.run(until=timedelta(days=1))  # ends on request_stop (the day is 144 s of real time away)
    finally:
        world.close()
    t.join(10)

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
