"""Campaign metrics on a hand-built workspace whose every number is known in advance."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from storage.activity import record, set_positive
from storage.activity_kinds import Kind
from storage.audience import add_list
from storage.campaign_export import COLUMNS, write_csv
from storage.campaigns import create_campaign, launch_campaign, pause_campaign
from storage.identities import create_identity
from sequences.wording import ago as relative
from storage.metrics import campaign_metrics, dashboard
from tests.support.campaign_workspace import NOW, add_contacts, make_workspace

K = Kind


@pytest.fixture
def built(tmp_path):
    """12 leads in "LinkedIn + Email"; what happened to each is scripted below."""
    _, db = make_workspace(tmp_path)
    create_identity(db, "Ada", now=NOW, actor="you")
    add_contacts(db, 12)
    cid = create_campaign(db, identity="Ada", template="LinkedIn + Email", now=NOW, actor="you", tags=["q1"])
    add_list(db, cid, "Leads", now=NOW, actor="you")
    launch_campaign(db, cid, now=NOW, actor="you")
    e = {c: db.execute("SELECT id FROM enrollments WHERE contact_id = ?", [c]).fetchone()[0] for c in range(1, 13)}

    def did(contact, *kinds):
        for kind in kinds:
            record(db, kind=kind, now=NOW, enrollment_id=e[contact])

    def at(contact, status, node=None, substatus=None):
        db.execute("UPDATE enrollments SET status = ?, node_id = ?, substatus = ? WHERE id = ?",
                   [status, node, substatus, e[contact]])

    # 1: visited, invited, accepted, messaged, replied positively on LinkedIn
    did(1, K.LINKEDIN_PROFILE_VISITED, K.LINKEDIN_INVITE_SENT, K.LINKEDIN_INVITE_ACCEPTED,
        K.LINKEDIN_MESSAGE_SENT, K.LINKEDIN_REPLY_RECEIVED)
    set_positive(db, enrollment_id=e[1], channel="linkedin", positive=True, now=NOW, actor="you")
    at(1, "replied")
    # 2: invited, not accepted yet: waiting at the acceptance condition
    did(2, K.LINKEDIN_PROFILE_VISITED, K.LINKEDIN_INVITE_SENT, K.CONDITION_EVALUATED)
    at(2, "in_progress", "accepted", "waiting_to_connect")
    # 3: two emails, a click, a reply (tagged positive, then untagged)
    did(3, K.EMAIL_SENT, K.EMAIL_OPENED, K.EMAIL_CLICKED, K.EMAIL_SENT, K.EMAIL_REPLY_RECEIVED)
    set_positive(db, enrollment_id=e[3], channel="email", positive=True, now=NOW)
    set_positive(db, enrollment_id=e[3], channel="email", positive=False, now=NOW)
    at(3, "replied")
    # 4: an email, then an out-of-office auto-reply: contacted, not replied
    did(4, K.EMAIL_SENT, K.EMAIL_AUTO_REPLY_RECEIVED)
    at(4, "finished", None, "out_of_office")
    # 5: an email that bounced
    did(5, K.EMAIL_SENT, K.EMAIL_BOUNCED)
    at(5, "finished", None, "bounced")
    # 6: failed at the first email step
    did(6, K.CONDITION_EVALUATED, K.STEP_FAILED)
    at(6, "error", "visit", "missing_contact_email")
    # 7: visited, now waiting before the invitation; 8: paused at the same step
    did(7, K.LINKEDIN_PROFILE_VISITED)
    at(7, "in_progress", "invite", "scheduled")
    did(8, K.LINKEDIN_PROFILE_VISITED)
    at(8, "paused", "invite")
    # 9-12: not started; 12 pending action only (not done yet)
    record(db, kind=K.LINKEDIN_PROFILE_VISITED, now=NOW, enrollment_id=e[12], status="in_progress")
    # tasks: 2 pending, 1 completed; and an email of another campaign that must not count
    for status in ("pending", "pending", "completed"):
        db.execute("INSERT INTO tasks (campaign_id, title, status, created_at) VALUES (?, 'Call', ?, ?)",
                   [cid, status, NOW.isoformat()])
    other = create_campaign(db, identity="Ada", template="Email Only", now=NOW + timedelta(hours=1), actor="you")
    record(db, kind=K.EMAIL_SENT, now=NOW, campaign_id=other)
    return db, cid, other


def test_every_overview_figure(built):
    db, cid, _ = built
    m = campaign_metrics(db, cid)
    assert m.status == "running"
    assert m.audience == {"total": 12, "not_started": 4, "in_progress": 2, "paused": 1, "error": 1,
                          "finished": 2, "replied": 2}
    assert m.metrics["all"] == {"total": 12, "started": 8, "contacted": 4, "replied": 2, "positive": 1,
                                "out_of_office": 1, "reply_rate": 0.5}
    assert m.metrics["linkedin"] == {"engaged": 4, "invited": 2, "accepted": 1, "contacted": 1, "replied": 1,
                                     "positive": 1}
    assert m.metrics["email"] == {"sent": 4, "clicked": 1, "replied": 1, "positive": 0, "bounced": 1}
    assert m.metrics["tasks"] == {"pending": 2, "completed": 1}


def test_progress_by_action_counts_leads_at_each_step(built):
    db, cid, _ = built
    steps = {s.step: (s.leads, s.errors) for s in campaign_metrics(db, cid).steps}
    assert steps["visit"] == (1, 1) and steps["invite"] == (2, 0) and steps["accepted"] == (1, 0)
    assert sum(n for n, _ in steps.values()) == 4  # replied / finished / not started leads are at no step
    first = campaign_metrics(db, cid).steps[0]
    assert (first.step, first.depth, first.label) == ("visit", 0, "Visit profile")


def test_a_paused_campaign_shows_its_running_leads_as_paused(built):
    db, cid, _ = built
    pause_campaign(db, cid, now=NOW, actor="you")
    a = campaign_metrics(db, cid).audience
    assert (a["in_progress"], a["paused"], a["not_started"], a["total"]) == (0, 3, 4, 12)
    assert db.execute("SELECT COUNT(*) FROM enrollments WHERE status = 'in_progress'").fetchone()[0] == 2


def test_dashboard_cards_and_relative_times(built):
    db, cid, other = built
    cards = dashboard(db, now=NOW + timedelta(days=40))
    assert [c["id"] for c in cards] == [other, cid]  # newest first
    card = cards[1]
    assert (card["total"], card["started"], card["contacted"], card["replied"]) == (12, 8, 4, 2)
    assert card["channels"] == ["linkedin", "email"] and card["tags"] == ["q1"] and card["identity"] == "Ada"
    assert card["created"] == "1 mo ago"
    assert [c["id"] for c in dashboard(db, now=NOW, statuses=("draft",))] == [other]
    assert [c["id"] for c in dashboard(db, now=NOW, tag="q1")] == [cid]
    assert [c["id"] for c in dashboard(db, now=NOW, search="ada")] == [other, cid]
    assert relative(NOW.isoformat(), NOW + timedelta(hours=14, minutes=5)) == "14h ago"
    assert relative(NOW.isoformat(), NOW + timedelta(seconds=30)) == "just now"


def test_csv_export_has_the_same_numbers(built):
    db, cid, other = built
    out = io.StringIO()
    assert write_csv(db, out, now=NOW, campaign_ids=[cid]) == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == 1
    r = rows[0]
    assert (r["audience_total"], r["all_started"], r["all_contacted"], r["all_reply_rate"]) == ("12", "8", "4", "0.5")
    assert (r["linkedin_accepted"], r["email_sent"], r["email_bounced"], r["tasks_pending"]) == ("1", "4", "1", "2")
    assert r["channels"] == "linkedin;email" and r["tags"] == "q1"


def test_positive_is_one_fact_in_the_figures_and_the_tagged_conversations(built):
    """"Positive 2" beside "No tagged conversations yet" (issue 18): Positive is a conversation
    with a positive tag, so tagging one moves both figures, and untagging moves both back."""
    from storage.conversations import conversation_id, set_tags
    from storage.metrics import conversation_tags

    db, cid, _ = built
    identity, contact = db.execute(
        "SELECT k.identity_id, e.contact_id FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id"
        " WHERE e.campaign_id = ? AND e.contact_id = 7", [cid]).fetchone()
    conv = conversation_id(db, identity_id=identity, contact_id=contact, channel="email", campaign_id=cid,
                           inbox_id=None, now=NOW)
    before = campaign_metrics(db, cid).metrics["email"]["positive"]
    set_tags(db, conv, add=["Interested"], now=NOW)
    assert campaign_metrics(db, cid).metrics["email"]["positive"] == before + 1
    assert ("Interested", "email", 1) in conversation_tags(db, cid)
    set_tags(db, conv, remove=["Interested"], now=NOW)
    assert campaign_metrics(db, cid).metrics["email"]["positive"] == before
    assert not [t for t in conversation_tags(db, cid) if t[0] == "Interested" and t[1] == "email"]
