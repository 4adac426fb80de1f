"""The email channel's storage (storage/mail.py) on a real SQLite file, and the
two-step design it serves: a recorded message waits, unapplied, until
runtime/inbound.apply_mail applies it in one transaction with its effects."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime import inbound
from sequences.model import Email, Sequence
from storage import mail as mail_db
from storage.activity import iso
from storage.db import transaction
from storage.records import MailInbound, OutboxItem, SentEmail
from tests.test_runtime_actors import MON, workspace

AT = iso(MON)


@pytest.fixture
def db(tmp_path):
    """Identity 1 with inbox 1, three leads (l<i>@example.com) enrolled in a running one-email campaign."""
    return workspace(tmp_path, Sequence(start="m", nodes=[Email(id="m", subject="Hi", body="hello")]), leads=3,
                     tz="UTC")


def sent(db, key: str, enrollment_id: int, *, message_id: str | None = None, subject: str = "Hi",
         state: str = "sent", inbox_id: int = 1) -> int:
    item = OutboxItem(key=key, enrollment_id=enrollment_id, campaign_id=1, identity_id=1, inbox_id=inbox_id,
                      channel="email", action="email", payload={"subject": subject}, state=state,
                      message_id=message_id, created_at=AT, updated_at=AT)
    with transaction(db):
        return db.execute(f"INSERT INTO outbox ({', '.join(item.to_row())}) VALUES"
                          f" ({', '.join('?' * len(item.to_row()))})", list(item.to_row().values())).lastrowid


def inbound_mail(fingerprint: str, *, kind: str = "reply", outbox_id: int | None = None,
                 contact_id: int | None = None, from_addr: str = "l1@example.com", body: str = "") -> MailInbound:
    return MailInbound(inbox_id=1, folder="INBOX", uidvalidity=7, uid=1, fingerprint=fingerprint, received_at=AT,
                       kind=kind, hard=False, recipients=["ana@sandbox.invalid"], from_addr=from_addr,
                       subject="Re: Hi", body=body, outbox_id=outbox_id, enrollment_id=contact_id,
                       contact_id=contact_id, matched_by="message-id" if outbox_id else None)


def test_the_watch_position_is_one_row_per_folder_moved_in_place(db):
    assert mail_db.watch_state(db, 1, "INBOX") is None
    with transaction(db):
        mail_db.set_watch_state(db, 1, "INBOX", uidvalidity=7, last_uid=10, now=MON)
    with transaction(db):
        mail_db.set_watch_state(db, 1, "INBOX", uidvalidity=7, last_uid=25, now=MON + timedelta(minutes=1))
    state = mail_db.watch_state(db, 1, "INBOX")
    assert (state.uidvalidity, state.last_uid, state.updated_at) == (7, 25, iso(MON + timedelta(minutes=1)))
    assert mail_db.watch_state(db, 1, "Other") is None
    assert db.execute("SELECT COUNT(*) FROM mail_watch").fetchone()[0] == 1


def test_a_message_is_recorded_once_and_listed_until_it_is_marked_applied(db):
    outbox_id = sent(db, "k1", 1, message_id="<m1@x>")
    with transaction(db):
        first = mail_db.add_inbound(db, inbound_mail("mid:a", outbox_id=outbox_id, contact_id=1))
        again = mail_db.add_inbound(db, inbound_mail("mid:a", outbox_id=outbox_id, contact_id=1))
        other = mail_db.add_inbound(db, inbound_mail("mid:b"))
    assert first is not None and again is None and other == first + 1
    waiting = mail_db.unapplied(db)
    assert [(m.id, m.outbox_key) for m in waiting] == [(first, "k1"), (other, None)]
    assert waiting[0].recipients == ["ana@sandbox.invalid"] and waiting[0].hard is False
    assert mail_db.is_unapplied(db, first)
    with transaction(db):
        mail_db.mark_applied(db, first, effect="replied", now=MON)
    assert not mail_db.is_unapplied(db, first) and not mail_db.is_unapplied(db, 999)
    assert [m.id for m in mail_db.unapplied(db)] == [other]
    assert db.execute("SELECT applied_at, effect FROM mail_inbound WHERE id = ?", [first]).fetchone() == (AT, "replied")


def test_matching_finds_our_email_by_message_id_or_by_its_recipient(db):
    sent(db, "old", 1, subject="First")
    newest = sent(db, "new", 1, message_id="<m2@x>", subject="Second", state="unknown")
    sent(db, "queued", 1, state="queued")
    sent(db, "failed", 1, state="failed")
    sent(db, "other-lead", 2)
    assert mail_db.sent_email_by_message_id(db, "<m2@x>") == SentEmail(outbox_id=newest, key="new", enrollment_id=1,
                                                                         contact_id=1)
    assert mail_db.sent_email_by_message_id(db, "<nope@x>") is None
    recent = mail_db.recent_emails_to(db, "L1@Example.COM", 1)
    assert [(s.key, s.subject, s.contact_id) for s in recent] == [("new", "Second", 1), ("old", "First", 1)]
    assert mail_db.recent_emails_to(db, "l1@example.com", 2) == []
    assert [s.key for s in mail_db.recent_emails_to(db, "l1@example.com", 1, limit=1)] == ["new"]


def test_a_tracking_token_is_made_once_per_email_with_its_campaign_settings(db):
    db.execute("UPDATE campaigns SET settings = '{\"track_opens\": true}' WHERE id = 1")
    sent(db, "k1", 1)
    first = mail_db.tracking_for_send(db, "k1", new_token="tok-first-1234", now=MON)
    retried = mail_db.tracking_for_send(db, "k1", new_token="tok-second-123", now=MON)
    assert first.token == retried.token == "tok-first-1234"
    assert (first.track_opens, first.track_clicks, first.campaign_id, first.identity_id) == (True, False, 1, 1)
    assert (first.enrollment_id, first.contact_id) == (1, 1)
    assert mail_db.tracking_for_send(db, "unknown", new_token="tok-x-12345678", now=MON) is None
    mail_db.set_tracked_links(db, "tok-first-1234", ["https://a.example/", "https://b.example/"])
    assert mail_db.tracked_email(db, "tok-first-1234").links == ["https://a.example/", "https://b.example/"]
    assert mail_db.tracked_email(db, "tok-none-12345") is None
    with transaction(db):
        mail_db.add_tracking_event(db, "tok-first-1234", "click", MON, 1)
    assert db.execute("SELECT kind, link_index, applied_at FROM mail_tracking_events").fetchall() == [("click", 1, AT)]


def _snapshot(db) -> tuple:
    return (db.execute("SELECT COUNT(*) FROM activity").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM blocklist").fetchone()[0],
            db.execute("SELECT status, substatus FROM enrollments WHERE id = 1").fetchone())


def test_an_effect_that_fails_half_way_leaves_nothing_written_and_the_mail_waiting(db, monkeypatch):
    """apply_mail applies each message in one transaction with its marking: an unsubscribe whose
    blocklisting fails keeps neither its reply nor its mark, and is applied whole on the next pass."""
    outbox_id = sent(db, "k1", 1, message_id="<m1@x>")
    with transaction(db):
        mail_id = mail_db.add_inbound(db, inbound_mail("mid:u", kind="unsubscribe", outbox_id=outbox_id, contact_id=1,
                                                       body="unsubscribe me"))
    before = _snapshot(db)

    def fails(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(inbound, "block_contact", fails)
    with pytest.raises(RuntimeError):
        inbound.apply_mail(db, MON)
    assert _snapshot(db) == before and mail_db.is_unapplied(db, mail_id)
    assert not db.conn.in_transaction

    monkeypatch.undo()
    inbound.apply_mail(db, MON)
    assert not mail_db.is_unapplied(db, mail_id)
    assert db.execute("SELECT effect FROM mail_inbound WHERE id = ?", [mail_id]).fetchone() == ("blocklisted",)
    assert db.execute("SELECT kind, value FROM blocklist ORDER BY kind").fetchall() == [("email", "l1@example.com"),
                                                                                        ("lead", "1")]
    assert db.execute("SELECT body FROM messages WHERE direction = 'in'").fetchall() == [("unsubscribe me",)]
    after = _snapshot(db)
    assert after[3] != before[3]
    assert inbound.apply_mail(db, MON) == [] and _snapshot(db) == after  # applied once, never twice
