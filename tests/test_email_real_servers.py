"""Email against real servers on loopback (Dovecot + Postfix, tests/support/mailstack.py):
sending, genuine out-of-office and bounces, human replies, IDLE, dropped
connections, UIDVALIDITY changes and reconciliation after a crash."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import trio

from runtime.channels.email.watcher import InboxWatcher
from runtime.channels.email.protocol import EmailDisconnected, EmailRejected, OutgoingEmail
from runtime.channels.email.smtp import InboxAccount, SmtpEmail
from runtime.channels.base import SendKey
from runtime.channels.email.config import InboxSettings
from storage.db import open_db
from storage.identities import create_identity
from tests.support.mailstack import mailbox

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
pytestmark = pytest.mark.timeout(120)


def settings(stack, user, tls="starttls") -> InboxSettings:
    smtp_port = stack.smtps_port if tls == "implicit" else stack.smtp_port
    imap_port = stack.imaps_port if tls == "implicit" else stack.imap_port
    return InboxSettings(user.address, stack.host, imap_port, stack.host, smtp_port, tls, str(stack.ca_file))


def account(stack, user, *, inbox_id=1, tls="starttls", password=None, list_unsubscribe=True) -> InboxAccount:
    return InboxAccount(inbox_id, settings(stack, user, tls), password or user.password, sender_name="Ana Sender",
                        signature_text="Ana Sender\nACME Ltd", list_unsubscribe=list_unsubscribe)


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "enginy.db")
    create_identity(d, "Ana", now=NOW, actor="you")
    return d


def add_inbox(db, inbox_id: int, address: str) -> None:
    db.execute("INSERT INTO inboxes (id, identity_id, email, imap_host, imap_port, smtp_host, smtp_port, tls_mode,"
               " created_at, updated_at) VALUES (?, 1, ?, '127.0.0.1', 1, '127.0.0.1', 1, 'starttls', ?, ?)",
               [inbox_id, address, NOW.isoformat(), NOW.isoformat()])


def add_outbox(db, key: str, message_id: str, inbox_id: int = 1) -> int:
    cur = db.execute("INSERT INTO outbox (key, identity_id, inbox_id, channel, action, state, message_id, payload,"
                     " created_at, updated_at) VALUES (?, 1, ?, 'email', 'email', 'sent', ?, '{\"subject\": \"Quick question\"}', ?, ?)",
                     [key, inbox_id, message_id, NOW.isoformat(), NOW.isoformat()])
    return cur.lastrowid


def out(to: str, mid: str, *, subject="Quick question", in_reply_to=None, inbox_id=1, sender="") -> OutgoingEmail:
    return OutgoingEmail(inbox_id=inbox_id, sender=sender, to=to, subject=subject,
                         text="Hi there,\n\nWould a short call next week work? https://acme.test/deck",
                         message_id=mid, in_reply_to=in_reply_to)


def send(driver: SmtpEmail, email_: OutgoingEmail, key: str, resumed=False):
    async def main():
        try:
            return await driver.send(email_, SendKey(key, NOW, resumed))
        finally:
            await driver.aclose()
    return trio.run(main)


def driver_for(*accounts: InboxAccount) -> SmtpEmail:
    by_id = {a.id: a for a in accounts}
    return SmtpEmail(by_id.get, lambda: NOW)


def watch_until(db, acct, predicate, *, timeout=20.0, prepare=None, **kw):
    """Run a watcher until predicate(db) holds (real clock)."""
    async def main():
        watcher = InboxWatcher(db, acct, lambda: NOW, idle_chunk=1.0, **kw)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watcher.run)
            with trio.fail_after(timeout):
                if prepare is not None:
                    await prepare(watcher)
                while not predicate(db):
                    await trio.sleep(0.1)
            nursery.cancel_scope.cancel()
        return watcher
    return trio.run(main)


def inbound(db):
    return list(db.query("SELECT * FROM mail_inbound ORDER BY id"))


def prime(db, acct):
    """First contact: the watcher records the folder's position and starts after it."""
    watch_until(db, acct, lambda d: d.execute("SELECT COUNT(*) FROM mail_watch").fetchone()[0] == 1)


# ------------------------------------------------------------------ sending
def test_send_lands_in_the_mailbox_with_the_right_headers_and_in_sent(mail_stack):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    mid = "<k1.send@example.test>"
    result = send(driver_for(account(mail_stack, ana)), out(lead.address, mid), "k1")
    assert result.message_id == mid and not result.reconciled
    got = mail_stack.wait_for(lambda: mailbox(mail_stack, lead), what="delivery")
    assert len(got) == 1
    msg = email.message_from_bytes(got[0])
    assert msg["Message-ID"] == mid
    assert msg["From"] == f"Ana Sender <{ana.address}>"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.get_payload()] == ["text/plain", "text/html"]
    text = msg.get_payload()[0].get_payload(decode=True).decode()
    assert "Would a short call" in text and "-- \nAna Sender" in text.replace("\r\n", "\n")
    assert msg["List-Unsubscribe"].startswith(f"<mailto:{ana.address}?subject=unsubscribe")
    assert msg["Precedence"] is None and msg["In-Reply-To"] is None
    sent = mailbox(mail_stack, ana, "Sent")
    assert [email.message_from_bytes(m)["Message-ID"] for m in sent] == [mid]


def test_follow_up_threads_and_implicit_tls_works(mail_stack):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    d = driver_for(account(mail_stack, ana, tls="implicit"))
    send(d, out(lead.address, "<k2a@example.test>"), "k2a")
    send(d, out(lead.address, "<k2b@example.test>", in_reply_to="<k2a@example.test>"), "k2b")
    got = mail_stack.wait_for(lambda: len(mailbox(mail_stack, lead)) == 2 and mailbox(mail_stack, lead))
    second = email.message_from_bytes(got[1])
    assert second["In-Reply-To"] == "<k2a@example.test>"
    assert second["References"] == "<k2a@example.test>"


def test_wrong_password_means_disconnected_and_nothing_leaks(mail_stack):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    with pytest.raises(EmailDisconnected) as info:
        send(driver_for(account(mail_stack, ana, password="wrong-secret-123")), out(lead.address, "<k3@x.test>"), "k3")
    assert "Authentication failed" in str(info.value)
    assert "wrong-secret-123" not in str(info.value)


def test_unknown_recipient_refused_synchronously_is_rejected(mail_stack):
    # Postfix accepts any example.test address at RCPT (the LMTP hop refuses later → bounce);
    # an address outside the relay is refused right away.
    ana = mail_stack.new_user("ana")
    with pytest.raises(EmailRejected):
        send(driver_for(account(mail_stack, ana, tls="none")), out("x@elsewhere.invalid", "<k4@x.test>"), "k4")


def test_header_injection_in_contact_fields_never_adds_a_header(mail_stack):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    evil = out(lead.address, "<k5@x.test>", subject="Hello\r\nBcc: victim@example.test\r\nX-Evil: 1")
    send(driver_for(account(mail_stack, ana)), evil, "k5")
    got = mail_stack.wait_for(lambda: mailbox(mail_stack, lead))
    msg = email.message_from_bytes(got[0])
    assert msg["X-Evil"] is None and msg["Bcc"] is None
    assert msg["Subject"] == "Hello Bcc: victim@example.test X-Evil: 1"


def test_crash_between_data_and_sent_commit_is_reconciled_not_resent(mail_stack):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    d = driver_for(account(mail_stack, ana))
    send(d, out(lead.address, "<k6@example.test>"), "k6")  # the outbox commit never happened
    again = send(d, out(lead.address, "<k6@example.test>"), "k6", resumed=True)
    assert again.reconciled
    mail_stack.wait_for(lambda: mailbox(mail_stack, lead))
    assert len(mailbox(mail_stack, lead)) == 1
    # and a resumed send that really never went out is sent now
    fresh = send(d, out(lead.address, "<k7@example.test>"), "k7", resumed=True)
    assert not fresh.reconciled
    mail_stack.wait_for(lambda: len(mailbox(mail_stack, lead)) == 2, what="second delivery")


# ------------------------------------------------------------------ what comes back
def test_genuine_vacation_reply_is_an_auto_reply_matched_to_our_message(mail_stack, db):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead", vacation="I am away until Monday.")
    # Pigeonhole's vacation skips mail with List-* headers (as Gmail does): this inbox sends without.
    acct = account(mail_stack, ana, list_unsubscribe=False)
    add_inbox(db, 1, ana.address)
    prime(db, acct)
    oid = add_outbox(db, "k10", "<k10@example.test>")
    send(driver_for(acct), out(lead.address, "<k10@example.test>"), "k10")
    watch_until(db, acct, lambda d: inbound(d))
    (row,) = inbound(db)
    assert row["kind"] == "auto_reply" and row["outbox_id"] == oid and row["matched_by"] == "message-id"


def test_genuine_postfix_bounce_is_hard_5_1_1_with_the_recipient(mail_stack, db):
    ana = mail_stack.new_user("ana")
    acct = account(mail_stack, ana)
    add_inbox(db, 1, ana.address)
    prime(db, acct)
    oid = add_outbox(db, "k11", "<k11@example.test>")
    send(driver_for(acct), out("nobody-here@example.test", "<k11@example.test>"), "k11")
    watch_until(db, acct, lambda d: inbound(d))
    (row,) = inbound(db)
    assert (row["kind"], row["hard"], row["status"], row["recipients"]) == ("bounce", 1, "5.1.1", '["nobody-here@example.test"]')
    assert row["outbox_id"] == oid


def test_human_reply_sent_by_the_lead_is_a_reply_to_our_message_id(mail_stack, db):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    acct = account(mail_stack, ana)
    add_inbox(db, 1, ana.address)
    prime(db, acct)
    oid = add_outbox(db, "k12", "<k12@example.test>")
    send(driver_for(acct), out(lead.address, "<k12@example.test>"), "k12")
    reply = OutgoingEmail(inbox_id=9, sender=lead.address, to=ana.address, subject="Re: Quick question",
                          text="Yes, Tuesday works.", message_id="<lead-reply@example.test>",
                          in_reply_to="<k12@example.test>")
    send(driver_for(account(mail_stack, lead, inbox_id=9)), reply, "lead-reply")
    watch_until(db, acct, lambda d: inbound(d))
    (row,) = inbound(db)
    assert row["kind"] == "reply" and row["outbox_id"] == oid and "Tuesday" in row["body"]


def test_idle_notices_new_mail_and_a_dropped_connection_loses_nothing(mail_stack, db):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    acct = account(mail_stack, ana)
    add_inbox(db, 1, ana.address)
    prime(db, acct)
    lead_driver = driver_for(account(mail_stack, lead, inbox_id=9))

    def note(n):
        return OutgoingEmail(inbox_id=9, sender=lead.address, to=ana.address, subject=f"Re: note {n}",
                             text="hello", message_id=f"<note{n}@example.test>", in_reply_to=f"<x{n}@example.test>")

    async def scenario(watcher):
        while watcher.status != "connected":
            await trio.sleep(0.05)
        while watcher._client._idle_tag is None:  # IDLE is running (imapclient has sent the command)
            await trio.sleep(0.05)
        await trio.to_thread.run_sync(lambda: send(lead_driver, note(1), "n1"))
        while watcher.recorded < 1:   # noticed by IDLE, not by a poll (polling is off: 1 hour)
            await trio.sleep(0.05)
        watcher._client.shutdown()  # the connection drops under the watcher
        await trio.to_thread.run_sync(lambda: send(lead_driver, note(2), "n2"))
        while watcher.recorded < 2:
            await trio.sleep(0.05)

    watcher = watch_until(db, acct, lambda d: len(inbound(d)) >= 2, prepare=scenario, poll_seconds=3600)
    rows = inbound(db)
    assert [r["message_id"] for r in rows] == ["note1@example.test", "note2@example.test"]
    assert watcher.recorded == 2


def test_restart_and_uidvalidity_change_process_nothing_twice(mail_stack, db):
    ana, lead = mail_stack.new_user("ana"), mail_stack.new_user("lead")
    acct = account(mail_stack, ana)
    add_inbox(db, 1, ana.address)
    prime(db, acct)
    lead_driver = driver_for(account(mail_stack, lead, inbox_id=9))
    for n in (1, 2):
        send(lead_driver, OutgoingEmail(9, lead.address, ana.address, f"Re: q{n}", "hi", "", f"<u{n}@example.test>",
                                        f"<o{n}@example.test>"), f"u{n}")
    mail_stack.wait_for(lambda: len(mailbox(mail_stack, ana)) == 2)
    watch_until(db, acct, lambda d: len(inbound(d)) == 2)
    before = db.execute("SELECT uidvalidity FROM mail_watch").fetchone()[0]

    # A restart: a new watcher starts from the stored position and finds nothing new.
    watch_until(db, acct, lambda d: True)
    assert len(inbound(db)) == 2

    # The server rebuilds the folder: Dovecot assigns a new UIDVALIDITY.
    maildir = mail_stack.home(ana.address) / "Maildir"
    for name in os.listdir(maildir):
        if name.startswith("dovecot-uidlist") or name.startswith("dovecot.index"):
            os.unlink(maildir / name)
    send(lead_driver, OutgoingEmail(9, lead.address, ana.address, "Re: q3", "hi", "", "<u3@example.test>",
                                    "<o3@example.test>"), "u3")
    mail_stack.wait_for(lambda: len(mailbox(mail_stack, ana)) == 3)
    watch_until(db, acct, lambda d: len(inbound(d)) == 3, poll_seconds=2)
    after = db.execute("SELECT uidvalidity FROM mail_watch").fetchone()[0]
    assert after != before
    assert [r["message_id"] for r in inbound(db)] == ["u1@example.test", "u2@example.test", "u3@example.test"]
