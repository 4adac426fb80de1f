"""The campaign view's reads, on a real workspace built with storage functions: the header row,
a lead's side panel, the Overview's tags and actions per day, the paused rule, the workspace time,
and the change watch the TUI polls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.activity import record
from storage.activity_kinds import Kind
from storage.audience import add_list
from storage.audience_view import AudienceFilter, AudienceSource, lead_briefs, leads_in_status
from storage.campaign_view import CampaignView, campaign_view, lead_detail
from storage.campaigns import create_campaign, launch_campaign, pause_campaign, update_campaign
from storage.identities import create_identity
from storage.lead_intents import pause_leads
from storage.metrics import AUDIENCE_KEYS, campaign_metrics, conversation_tags, daily_activity, shown_statuses
from storage.reader import ChangeWatch, Reader
from storage.records import Conversation
from storage.timeline import CLOCK_KEY, clock_position, workspace_time
from tests.support.campaign_workspace import NOW, add_contacts as make_contacts, make_workspace


@pytest.fixture
def campaign(tmp_path):
    ws, db = make_workspace(tmp_path)
    identity = create_identity(db, "Ada", now=NOW, actor="you", timezone="Europe/Madrid")
    make_contacts(db, 6)
    cid = create_campaign(db, identity="Ada", template="LinkedIn + Email", now=NOW, actor="you")
    add_list(db, cid, "Leads", now=NOW, actor="you")
    reader = Reader(ws / "enginy.db")
    yield ws, db, cid, identity, reader
    reader.close()


def enrollments(db, cid: int) -> list[tuple[int, int]]:
    return [tuple(r) for r in db.execute("SELECT id, contact_id FROM enrollments WHERE campaign_id = ? ORDER BY id",
                                         [cid])]


def converse(db, contact_id: int, identity: int, cid: int, channel: str, tags: list[str]) -> None:
    stamp = NOW.isoformat()
    conversation = db["conversations"].insert(Conversation(contact_id=contact_id, identity_id=identity, channel=channel,
                                                           campaign_id=cid, tags=tags, created_at=stamp,
                                                           updated_at=stamp).to_row()).last_pk
    # as storage.conversations.set_tags keeps them: when each tag came (here, all at NOW)
    db.execute("UPDATE conversations SET tag_times = (SELECT json_group_object(t.value, ?) FROM json_each(tags) t)"
               " WHERE id = ?", [stamp, conversation])


def test_the_header_row_is_the_campaign_with_its_identity(campaign) -> None:
    _, db, cid, identity, reader = campaign
    update_campaign(db, cid, priority="high", folder="Q1", tags=["spain"], now=NOW, actor="you")
    row = campaign_view(reader, cid)
    assert isinstance(row, CampaignView)
    assert (row.id, row.identity_id, row.identity_name, row.identity_timezone) == (cid, identity, "Ada", "Europe/Madrid")
    assert (row.status, row.priority, row.folder, row.tags, row.launched_at) == ("draft", "high", "Q1", ["spain"], None)
    assert row.settings.reply_handling and '"nodes"' in row.sequence
    assert campaign_view(reader, cid + 99) is None


def test_a_lead_detail_has_its_timeline_oldest_first_and_its_tags(campaign) -> None:
    _, db, cid, identity, reader = campaign
    (eid, contact), (_, other) = enrollments(db, cid)[:2]
    record(db, kind=Kind.LINKEDIN_INVITE_SENT, now=NOW, enrollment_id=eid, node_id="invite")
    record(db, kind=Kind.EMAIL_SENT, now=NOW + timedelta(hours=1), enrollment_id=eid, node_id="email")
    converse(db, contact, identity, cid, "linkedin", ["interested", "pricing"])
    converse(db, other, identity, cid, "email", ["not now"])
    detail = lead_detail(reader, eid, identity)
    assert detail is not None
    assert (detail.enrollment.id, detail.enrollment.status, detail.contact.id) == (eid, "not_started", contact)
    assert detail.contact.email == f"c{contact}@x{contact}.com"
    assert [a.kind for a in detail.timeline] == [Kind.LINKEDIN_INVITE_SENT.value, Kind.EMAIL_SENT.value]
    assert sorted(detail.tags) == ["interested", "pricing"]
    assert [a.kind for a in lead_detail(reader, eid, identity, limit=1).timeline] == [Kind.EMAIL_SENT.value]
    assert lead_detail(reader, eid, identity + 1).tags == []  # tags are the identity's conversations'
    assert lead_detail(reader, 10_000, identity) is None


def test_the_overview_reads_tags_and_actions_per_day(campaign) -> None:
    _, db, cid, identity, reader = campaign
    ids = enrollments(db, cid)
    for i, (_, contact) in enumerate(ids[:3]):
        converse(db, contact, identity, cid, "linkedin", ["interested"] + (["pricing"] if i == 0 else []))
    assert conversation_tags(reader.db(), cid) == [("interested", "linkedin", 3), ("pricing", "linkedin", 1)]
    for day in range(3):
        for eid, _ in ids[:day + 1]:
            record(db, kind=Kind.LINKEDIN_INVITE_SENT, now=NOW + timedelta(days=day), enrollment_id=eid)
    record(db, kind=Kind.CONDITION_EVALUATED, now=NOW, enrollment_id=ids[0][0])  # conditions left out
    since = (NOW + timedelta(days=1)).isoformat()
    assert daily_activity(reader.db(), cid, NOW.isoformat()) == [
        (NOW.strftime("%Y-%m-%d"), 1), ((NOW + timedelta(days=1)).strftime("%Y-%m-%d"), 2),
        ((NOW + timedelta(days=2)).strftime("%Y-%m-%d"), 3)]
    assert [n for _, n in daily_activity(reader.db(), cid, since)] == [2, 3]


def test_a_paused_campaign_shows_in_progress_as_paused_in_counts_and_list_alike(campaign) -> None:
    _, db, cid, _, reader = campaign
    assert shown_statuses("paused", True) == ("paused", "in_progress") and shown_statuses("in_progress", True) == ()
    assert all(shown_statuses(chip, False) == (chip,) for chip in AUDIENCE_KEYS[1:])
    launch_campaign(db, cid, now=NOW, actor="you")
    ids = enrollments(db, cid)
    db.execute("UPDATE enrollments SET status = 'in_progress' WHERE id IN (?, ?, ?)", [i for i, _ in ids[:3]])
    pause_leads(db, cid, [str(ids[3][1])], now=NOW, actor="you")
    running = campaign_metrics(db, cid).audience
    assert (running["in_progress"], running["paused"]) == (3, 1)
    pause_campaign(db, cid, now=NOW, actor="you")
    paused = campaign_metrics(db, cid).audience
    assert (paused["in_progress"], paused["paused"], paused["total"]) == (0, 4, 6)
    for chip in ("paused", "in_progress"):
        source = AudienceSource(reader, AudienceFilter(cid, status=chip, campaign_paused=True))
        listed = source.after(None, 100)
        assert len(listed) == paused[chip] == source.count()[0], chip
    assert {r.status for r in AudienceSource(reader, AudienceFilter(cid, status="paused", campaign_paused=True))
            .after(None, 100)} == {"paused", "in_progress"}


def test_the_marked_rows_name_their_contacts(campaign) -> None:
    _, db, cid, _, _ = campaign
    ids = enrollments(db, cid)
    briefs = lead_briefs(db, [ids[4][0], ids[1][0]])
    assert [(b.enrollment_id, b.contact_id) for b in briefs] == [ids[1], ids[4]]
    assert all(b.name and b.status for b in briefs)
    every = lead_briefs(db, [e for e, _ in ids])
    status = briefs[0].status  # a campaign-wide action names the first leads in that status, in id order
    assert [b.enrollment_id for b in leads_in_status(db, cid, status, 100)] == \
        [b.enrollment_id for b in every if b.status == status]


def test_the_workspace_time_never_runs_behind_the_runtime_clock(campaign) -> None:
    _, db, _, _, _ = campaign
    assert clock_position(db) is None and workspace_time(db, NOW) == NOW
    ahead = NOW + timedelta(days=3)
    db.execute("INSERT INTO runtime_state (key, value) VALUES (?, ?)", [CLOCK_KEY, ahead.isoformat()])
    assert clock_position(db) == ahead and workspace_time(db, NOW) == ahead
    assert workspace_time(db, ahead + timedelta(hours=1)) == ahead + timedelta(hours=1)


def test_the_change_watch_sees_commits_of_other_connections(campaign) -> None:
    ws, db, cid, _, _ = campaign
    watch = ChangeWatch(ws / "enginy.db")
    try:
        before = watch.version()
        assert watch.version() == before
        update_campaign(db, cid, priority="low", now=NOW, actor="you")
        assert watch.version() != before
    finally:
        watch.close()
