"""Each class of inbound email has the spec's effect on its lead, through the real path:
real message bytes → classify → store.record (matched to our outbox row) →
runtime/inbound.apply_mail on a real SQLite workspace (issue 16).

reply → Replied; out-of-office → Finished / Out of office with the return date
kept; bounce → Finished / Bounced; a delay, a challenge-response notice, an
autoresponder or spam finish nothing (the lead waits)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from runtime import inbound
from runtime.channels.email import store
from runtime.channels.email.inbound.classify import classify_message
from storage.db import transaction
from tests.test_mail_storage import db, sent  # noqa: F401 (the workspace fixture)
from tests.test_runtime_actors import MON

DATA = Path(__file__).parent / "data" / "inbound"


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
