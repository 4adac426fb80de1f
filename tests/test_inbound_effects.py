"""Each class of inbound email has the spec's effect on its lead, through the real path:
real message bytes → classify → store.record (matched to our outbox row) →
runtime/inbound.apply_mail on a real SQLite workspace (issue 16).

reply → Replied; out-of-office → Finished / Out of office with the return date
kept; bounce → Finished / Bounced; a delay, a challenge-response notice, an
autoresponder or spam finish nothing; a delay holds the lead's next step
(Delivery delayed) until a bounce ends it or the wait is over."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from runtime import inbound
from runtime.channels.email import store
from runtime.channels.email.inbound.classify import classify_message
from runtime.leads import CampaignInfo, advance
from sequences.model import Delay, Email, Sequence
from sequences.statuses import Substatus, Wait, explain, local_time, wait_of
from sequences.step import DELIVERY_DELAY_WAIT, ActionDone, Due, Start
from storage.activity import iso
from storage.db import transaction
from storage.leads import lead_rows, load_campaign
from storage.records import UnappliedMail
from tests.test_mail_storage import db, sent  # noqa: F401 (the workspace fixture)
from tests.test_runtime_actors import MON, workspace

DATA = Path(__file__).parent / "data" / "inbound"
MAIL = Path(__file__).parent / "data" / "mail"


def _receive(db, name: str, *, ours: str | None = None, lead_address: str | None = None) -> dict:  # noqa: F811
    """Deliver corpus file `name` as an answer to lead 1's email; returns its row after apply_mail."""
    raw = (DATA / name).read_bytes()
    if lead_address:
        raw = raw.replace(lead_address.encode(), b"l1@example.com")
    sent(db, "k1", 1, message_id=f"<{ours}>" if ours else None)
    c = classify_message(raw)
    with transaction(db):
        mail_id = store.record(db, inbox_id=1, folder="INBOX", uidvalidity=7, uid=1, raw=raw, c=c, body="", now=MON)
    inbound.apply_mail(db, MON)
    row = db.execute("SELECT kind, effect, details, outbox_id FROM mail_inbound WHERE id = ?", [mail_id]).fetchone()
    return {"kind": row[0], "effect": row[1], "details": msgspec.json.decode(row[2]), "matched": row[3] is not None}


def _lead(db) -> tuple:
    return db.execute("SELECT status, substatus FROM enrollments WHERE id = 1").fetchone()


def test_a_human_reply_marks_the_lead_replied(db):  # noqa: F811
    got = _receive(db, "enginy-reply-human-de-holiday-mention.eml", ours="enginy.71.1@sender.test")
    assert got["kind"] == "reply" and got["effect"] == "replied" and got["matched"]
    assert _lead(db)[0] == "replied"


def test_a_polish_out_of_office_finishes_the_lead_and_keeps_the_return_date(db):  # noqa: F811
    got = _receive(db, "enginy-ooo-polish.eml", ours="enginy.67.1@sender.test")
    assert got["kind"] == "auto_reply" and got["details"]["return_date"] == "2026-08-17"
    assert got["effect"] == "out_of_office until 2026-08-17"
    assert _lead(db) == ("finished", "out_of_office")
    detail = db.execute("SELECT detail FROM activity WHERE kind = 'email_auto_reply_received'").fetchone()[0]
    assert msgspec.json.decode(detail)["return_date"] == "2026-08-17"


def test_a_bare_failure_from_the_null_sender_bounces_the_lead(db):  # noqa: F811
    got = _receive(db, "enginy-bare-not-valid-user.eml", ours="enginy.61.1@sender.test")
    assert got["kind"] == "bounce" and got["effect"] == "bounced hard"
    assert _lead(db) == ("finished", "bounced")


@pytest.mark.parametrize("name, ours, address, kind, effect_start", [
    ("enginy-delay-exim-prose.eml", None, "gil@slow.test", "delay", "waiting: delivery delayed"),
    ("enginy-challenge-boxbe.eml", "enginy.62.1@sender.test", None, "challenge", "waiting: challenge-response"),
    ("enginy-thank-you-precedence-bulk.eml", "enginy.65.1@sender.test", None, "auto_reply", "none: autoresponder"),
    ("enginy-spam-flagged-fake-reply.eml", None, None, "spam", "none"),
])
def test_what_is_not_an_answer_finishes_nothing(db, name, ours, address, kind, effect_start):  # noqa: F811
    before = _lead(db)
    got = _receive(db, name, ours=ours, lead_address=address)
    assert got["kind"] == kind and got["effect"].startswith(effect_start)
    assert _lead(db) == before and before[0] not in ("finished", "replied")
    assert db.execute("SELECT COUNT(*) FROM activity WHERE kind LIKE 'email_%_received' OR kind = 'email_bounced'"
                      ).fetchone()[0] == 0


def test_a_challenge_keeps_its_link_for_the_user(db):  # noqa: F811
    got = _receive(db, "enginy-challenge-boxbe.eml", ours="enginy.62.1@sender.test")
    assert got["details"]["challenge_link"] == "https://www.boxbe.test/anno?tc=81234_5678&c=1"
    assert "verification link" in got["details"]["signals"]


# ------------------------------------------------------------------ a delay holds the next step
TWO_EMAILS = Sequence(start="m1", nodes=[Email(id="m1", subject="Hi", body="hello", next="m2"),
                                         Email(id="m2", subject="Again", body="following up", delay=Delay(days=1))])


@pytest.fixture
def two_step(tmp_path):
    """Lead 1 of a running two-email campaign whose first email went out at MON (outbox 1:m1:0, its
    Message-ID <enginy.1@sender.test>): the follow-up is due a day later (Scheduled)."""
    db = workspace(tmp_path, TWO_EMAILS, leads=1, tz="UTC")
    info = CampaignInfo.of(load_campaign(db, 1))
    info.choose_inbox = lambda row: 1  # what the campaign actor sets: the identity's inbox 1
    with transaction(db):
        advance(db, info, lead_rows(db, [1])[0], Start(), MON, identity_id=1)
        db.execute("UPDATE outbox SET state = 'sent', message_id = '<enginy.1@sender.test>' WHERE key = '1:m1:0'")
        advance(db, info, lead_rows(db, [1])[0], ActionDone(node="m1", at=MON), MON, identity_id=1)
    assert _due(db) == ("in_progress", "scheduled", iso(MON + timedelta(days=1)))
    return db


def _due(db) -> tuple:
    return db.execute("SELECT status, substatus, due_at FROM enrollments WHERE id = 1").fetchone()


def _deliver(db, path: Path, address: str, at) -> None:
    raw = path.read_bytes().replace(address.encode(), b"l1@example.com")
    with transaction(db):
        store.record(db, inbox_id=1, folder="INBOX", uidvalidity=7, uid=int(at.timestamp()), raw=raw,
                     c=classify_message(raw), body="", now=at)
    inbound.apply_mail(db, at)


def test_a_delay_notice_holds_the_next_step_with_its_reason_and_a_later_bounce_ends_the_lead(two_step):
    db, later = two_step, MON + timedelta(hours=4)
    _deliver(db, MAIL / "delayed-warning.eml", "kim@slow.test", later)  # RFC 3464, Action: delayed
    until = later + DELIVERY_DELAY_WAIT
    assert _due(db) == ("in_progress", "delivery_delayed", iso(until))  # waits, never finishes
    assert db.execute("SELECT effect FROM mail_inbound").fetchone()[0].startswith("waiting: delivery delayed (4.4.1)")
    assert db.execute("SELECT COUNT(*) FROM activity WHERE kind = 'email_bounced'").fetchone()[0] == 0
    wait = wait_of(*db.execute("SELECT status, substatus, wait_cap, wait_until, due_at FROM enrollments"
                               " WHERE id = 1").fetchone())
    assert wait == Wait(Substatus.DELIVERY_DELAYED, None, until)
    assert explain(Substatus.DELIVERY_DELAYED, wait=wait).endswith(f"Goes on {local_time(until, ZoneInfo('UTC'))}.")
    _deliver(db, MAIL / "postfix-dsn-5.1.1.eml", "bob@shop.test", later + timedelta(days=1))  # the server gives up
    assert _due(db) == ("finished", "bounced", None)


def test_a_delay_that_resolves_lets_the_lead_go_on_after_the_wait(two_step):
    db = two_step
    _deliver(db, DATA / "enginy-delay-exim-prose.eml", "gil@slow.test", MON)  # prose, no DSN part
    info = CampaignInfo.of(load_campaign(db, 1))
    for at, expected in ((MON + timedelta(days=2), "delivery_delayed"), (MON + DELIVERY_DELAY_WAIT, "queued")):
        with transaction(db):
            advance(db, info, lead_rows(db, [1])[0], Due(), at, identity_id=1)
        assert _due(db)[:2] == ("in_progress", expected)  # not before the wait ends; then the follow-up is queued
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE key = '1:m2:0'").fetchone()[0] == 1


def test_an_auto_reply_recorded_before_m055_is_applied_as_the_out_of_office_it_was_taken_for():
    """Rows recorded before m055 have `details` {} (no `auto`): the code that recorded them applied
    every auto_reply as an out-of-office, and so does effect_of (docs/email.md)."""
    old = UnappliedMail(inbox_id=1, folder="INBOX", uidvalidity=7, uid=1, fingerprint="mid:x", received_at=iso(MON),
                        kind="auto_reply", outbox_key="1:m:0")
    assert store.effect_of(old) == store.Effect("out_of_office", "out_of_office", text="")
    told = msgspec.structs.replace(old, details={"auto": "autoresponder"})
    assert store.effect_of(told).signal is None
