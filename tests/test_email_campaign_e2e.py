"""A campaign with email steps run by the real Runtime against the loopback mail stack:
the emails go out over SMTP, the watcher sees what comes back, and the lead's
sequence reacts — a reply stops it, an out-of-office finishes it, a hard
bounce finishes it as Bounced, an unsubscribe blocklists the contact.
Plus the tracking endpoint (click redirect, one-click unsubscribe)."""

from __future__ import annotations

import threading
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer

import pytest
import trio
import trio.testing

from runtime.channels.email.wiring import smtp_driver
from runtime.email_watchers import run_watchers
from runtime.channels.email.protocol import OutgoingEmail
from runtime.channels.email.smtp import InboxAccount, SmtpEmail
from runtime.channels.base import SendKey
from runtime.channels.email.config import InboxSettings
from runtime.engine import Runtime
from runtime.secrets import SecretStore, inbox_secret_name
from sequences.model import Delay, Email, Sequence
from storage.activity import iso
from storage.campaigns import Settings
from storage.db import open_db, transaction
from storage.identities import create_identity
from tests.support.mailstack import mailbox
from tests.support.seed import contacts, running_campaign

MON = datetime(2026, 3, 23, 10, 0, tzinfo=timezone.utc)  # a Monday, inside 09-18 UTC working hours
pytestmark = pytest.mark.timeout(150)


def build(tmp_path, stack, ana, leads: list[str], *, tracking=False, list_unsubscribe=False, provider="imap",
          secret=None, seq=None):
    """A workspace with Ana's inbox on the stack (its password, or `secret`: an OAuth grant's JSON for
    `provider` google/microsoft), running one email campaign (`seq`, else two emails 2 days apart)."""
    db = open_db(tmp_path / "enginy.db", check_same_thread=False)
    store = SecretStore(tmp_path, "file")
    at = iso(MON)
    seq = seq or Sequence(start="e1", nodes=[
        Email(id="e1", subject="Quick question", body="Hi {first_name}, see https://acme.test/deck", next="e2"),
        Email(id="e2", body="Just following up.", delay=Delay(days=2)),
    ])
    create_identity(db, "Ana", now=MON, actor="you", first_name="Ana", last_name="Sender", timezone="UTC")
    with transaction(db):  # what `enginy inbox connect` writes (cli/inbox.py; storage has no function for it yet)
        db.execute("INSERT INTO inboxes (id, identity_id, email, provider, imap_host, imap_port, smtp_host, smtp_port,"
                   " tls_mode, ca_file, per_day, per_hour, list_unsubscribe, created_at, updated_at)"
                   " VALUES (1, 1, ?, ?, ?, ?, ?, ?, 'starttls', ?, 80, 10, ?, ?, ?)",
                   [ana.address, provider, stack.host, stack.imap_port, stack.host, stack.smtp_port, str(stack.ca_file),
                    int(list_unsubscribe), at, at])
    contacts(db, [{"first_name": f"Lead{i}", "email": address} for i, address in enumerate(leads, 1)], now=MON)
    running_campaign(db, identity=1, sequence=seq, name="C", contact_ids=list(range(1, len(leads) + 1)), now=MON,
                     settings=Settings(track_opens=tracking, track_clicks=tracking))
    store.save(inbox_secret_name(1), secret or ana.password)
    return db, store


def statuses(db):
    return {r["contact_id"]: (r["status"], r["substatus"]) for r in db.query("SELECT * FROM enrollments")}


RATE = 600.0  # simulated seconds per real second: the runtime's pacing (minutes) passes quickly,
# while the 2-day follow-up stays days away for the whole test (real mail needs real time).


def run_campaign(db, store, until_done, *, base_url="", actions=None, timeout=60.0, rate=RATE):
    async def main():
        rt = Runtime(db, workspace=None, poll_interval=0.2,
                     email_factory=lambda ident: smtp_driver(rt, ident, store, base_url=base_url))
        async with trio.open_nursery() as nursery:
            await nursery.start(lambda task_status: rt.run(epoch=MON, task_status=task_status))
            await nursery.start(lambda task_status: run_watchers(rt, store, idle_chunk=1.0, task_status=task_status))
            with trio.fail_after(timeout * rate):
                if actions is not None:
                    await actions(rt)
                while not until_done(db):
                    await trio.sleep(60)  # simulated: 0.1 s real
            rt.request_stop()
            nursery.cancel_scope.cancel()
    trio.run(main, clock=trio.testing.MockClock(rate=rate))


def test_campaign_emails_go_out_and_replies_ooo_bounces_unsubscribes_take_effect(mail_stack, tmp_path):
    ana = mail_stack.new_user("ana")
    replier = mail_stack.new_user("replier")
    away = mail_stack.new_user("away", vacation="Back on Monday.")
    stopper = mail_stack.new_user("stopper")
    ghost = "ghost-nobody@example.test"
    db, store = build(tmp_path, mail_stack, ana, [replier.address, away.address, ghost, stopper.address])

    def lead_says(user, text):
        def go():
            msgs = mailbox(mail_stack, user)
            import email as email_mod
            first = email_mod.message_from_bytes(msgs[0])
            acct = InboxAccount(99, InboxSettings(user.address, mail_stack.host, mail_stack.imap_port, mail_stack.host,
                                                  mail_stack.smtp_port, "starttls", str(mail_stack.ca_file)), user.password)
            driver = SmtpEmail({99: acct}.get, lambda: MON)

            async def send():
                await driver.send(OutgoingEmail(99, user.address, ana.address, "Re: Quick question", text,
                                                message_id=f"<{user.address.split('@')[0]}-answer@example.test>",
                                                in_reply_to=first["Message-ID"]), SendKey("x", MON))
                await driver.aclose()
            trio.run(send)
        return go

    async def actions(rt):
        while db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").fetchone()[0] < 4:
            await trio.sleep(60)
        await trio.to_thread.run_sync(lambda: mail_stack.wait_for(lambda: mailbox(mail_stack, replier)
                                                                  and mailbox(mail_stack, stopper)))
        await trio.to_thread.run_sync(lead_says(replier, "Yes, let's talk Tuesday."))
        await trio.to_thread.run_sync(lead_says(stopper, "Please remove me from your list."))

    def done(d):
        s = statuses(d)
        return s[1][0] == "replied" and s[2][0] == "finished" and s[3][0] == "finished" and \
            d.execute("SELECT COUNT(*) FROM mail_inbound WHERE applied_at IS NOT NULL").fetchone()[0] >= 4

    run_campaign(db, store, done, actions=actions)
    s = statuses(db)
    assert s[1][0] == "replied"
    assert s[2] == ("finished", "out_of_office")
    assert s[3] == ("finished", "bounced")
    kinds = {r["kind"]: r for r in db.query("SELECT * FROM mail_inbound")}
    assert set(kinds) == {"reply", "auto_reply", "bounce", "unsubscribe"}
    assert all(r["outbox_id"] for r in kinds.values())
    assert db.execute("SELECT COUNT(*) FROM blocklist WHERE kind = 'email' AND value = ?",
                      [stopper.address]).fetchone()[0] == 1
    # the follow-up (2 days later) never went to the lead who replied
    assert len(mailbox(mail_stack, replier)) == 1
    sent = db.execute("SELECT COUNT(*) FROM outbox WHERE node_id = 'e2' AND state = 'sent'").fetchone()[0]
    assert sent == 0


def test_tracking_click_redirect_and_one_click_unsubscribe(mail_stack, tmp_path):
    from cli.tracking import make_handler

    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    db, store = build(tmp_path, mail_stack, ana, [lead.address], tracking=True, list_unsubscribe=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(str(tmp_path / "enginy.db")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        run_campaign(db, store, lambda d: d.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").fetchone()[0] == 1,
                     base_url=base)
        import email as email_mod
        msg = email_mod.message_from_bytes(mail_stack.wait_for(lambda: mailbox(mail_stack, lead))[0])
        html = msg.get_payload()[1].get_payload(decode=True).decode()
        token = db.execute("SELECT token FROM mail_tracking").fetchone()[0]
        assert f"{base}/c/{token}/0" in html and f"{base}/o/{token}.gif" in html
        assert f"<{base}/u/{token}>" in msg["List-Unsubscribe"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"{base}/c/{token}/0")
        except urllib.error.HTTPError as exc:
            assert exc.code == 302 and exc.headers["Location"] == "https://acme.test/deck"
        with pytest.raises(urllib.error.HTTPError):
            opener.open(f"{base}/c/{token}/7")  # no open redirect to unknown links
        urllib.request.urlopen(urllib.request.Request(f"{base}/u/{token}", data=b"List-Unsubscribe=One-Click"))
        assert db.execute("SELECT COUNT(*) FROM blocklist WHERE kind = 'lead' AND value = '1'").fetchone()[0] == 1
        assert statuses(db)[1] == ("finished", "blocked")
        kinds = [r[0] for r in db.execute("SELECT kind FROM activity WHERE kind LIKE 'email_%' ORDER BY id")]
        assert "email_clicked" in kinds
    finally:
        server.shutdown()
