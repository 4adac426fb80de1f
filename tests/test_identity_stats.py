"""Identity statistics (`enginy identity stats`) on a real workspace after a simulated run.

The runtime runs a few simulated days against the sandbox world; the figures
are then checked against what the world received (sends per local day in
the identity's time zone) and against the leads' own milestones.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import trio
from trio.testing import MockClock

from runtime.engine import Runtime
from runtime.sandbox.world import Profile, SandboxWorld
from sequences.model import AcceptedConnection, ConnectionRequest, Email, LinkedInMessage, Sequence
from storage.activity_kinds import Milestone
from storage.identities import get_identity
from storage.identity_stats import identity_stats, stats_of_identities
from storage.workspace import open_workspace
from tests.support.campaign_workspace import enginy, fails, ok_json
from tests.support.seed import contacts, running_campaign, sandbox_identity

MON = datetime(2026, 3, 23, 0, 0, tzinfo=timezone.utc)
NY = ZoneInfo("America/New_York")
DAYS = 6
WORLD = Profile(accept=0.6, accept_hours=(1.0, 20.0), linkedin_reply=0.5, email_reply=0.4, bounce=0.25,
                out_of_office=0.0, prior_conversation=0.0, transient_failure=0.0, latency_s=(0.0, 0.0))


def sequence() -> Sequence:
    return Sequence(start="invite", nodes=[
        ConnectionRequest(id="invite", next="acc"),
        AcceptedConnection(id="acc", within_days=2, yes="thanks", no="mail"),
        LinkedInMessage(id="thanks", chunks=["thanks!"]),
        Email(id="mail", subject="Hello {first_name}", body="hi"),
    ])


@pytest.fixture
def ran(ws):
    """A workspace folder whose identity Ana (New York) ran 60 leads for six days; and the world."""
    db = open_workspace(ws).open_db()
    sandbox_identity(db, "Ana", now=MON, email="ana@sandbox.invalid", per_day=12, per_hour=5,
                     timezone="America/New_York", daily_connection_limit=15)
    contacts(db, [{"first_name": f"Lead{i}", "company": "Acme", "linkedin_url": f"https://www.linkedin.com/in/l{i}",
                   "linkedin_id": f"ACo{i}", "email": f"l{i}@example.com"} for i in range(1, 61)], now=MON)
    running_campaign(db, identity=1, sequence=sequence(), name="C1", contact_ids=list(range(1, 61)), now=MON)
    world = SandboxWorld(7, profile=WORLD)
    runtime = Runtime(db, world=world, poll_interval=600.0)
    trio.run(lambda: runtime.run(epoch=MON, until=MON + timedelta(days=DAYS)),
             clock=MockClock(autojump_threshold=0))
    return ws, db, world


def per_local_day(world, action: str) -> dict[date, int]:
    out: dict[date, int] = {}
    for d in world.deliveries.values():
        if d.action == action:
            day = d.at.astimezone(NY).date()
            out[day] = out.get(day, 0) + 1
    return out


def leads_with(db, bit: Milestone) -> int:
    return db.execute("SELECT COUNT(*) FROM enrollments WHERE milestones & ?", [int(bit)]).fetchone()[0]


def test_stats_per_local_day_match_what_the_world_received(ran):
    ws, db, world = ran
    ana = get_identity(db, "Ana")
    first, last = MON.astimezone(NY).date(), (MON + timedelta(days=DAYS)).astimezone(NY).date()
    invites, messages, emails = (per_local_day(world, a) for a in ("connection_request", "linkedin_message", "email"))
    assert sum(invites.values()) == 60 and sum(emails.values()) > 0 and sum(messages.values()) > 0
    day = first
    while day <= last:  # each local day on its own: the boundaries are the identity's midnights
        s = identity_stats(db, ana, day, day)
        assert (s.connections_sent, s.linkedin_messages_sent, s.emails_sent) == \
            (invites.get(day, 0), messages.get(day, 0), emails.get(day, 0)), day
        assert s.messages_sent == s.linkedin_messages_sent + s.emails_sent
        assert s.messages_allowed == 100 + 12  # LinkedIn messages a day + the inbox's emails a day
        day += timedelta(days=1)
    whole = identity_stats(db, ana, first, last)
    assert whole.connections_sent == 60
    assert whole.connections_accepted == leads_with(db, Milestone.LI_ACCEPTED) > 0
    assert whole.replied == leads_with(db, Milestone.LI_REPLIED | Milestone.EM_REPLIED) > 0  # either channel
    bounced = leads_with(db, Milestone.EM_BOUNCED)
    assert whole.emails_bounced == bounced > 0
    assert whole.bounce_rate == round(100 * bounced / whole.emails_sent, 1)
    assert whole.messages_allowed == (100 + 12) * ((last - first).days + 1)


def test_default_period_is_today_in_the_identitys_time_zone(ran):
    _, db, _ = ran
    ana = get_identity(db, "Ana")
    late_utc = datetime(2026, 3, 25, 2, 30, tzinfo=timezone.utc)  # still Tuesday the 24th in New York
    [s] = stats_of_identities(db, [ana], late_utc)
    assert (s.date_from, s.date_to) == ("2026-03-24", "2026-03-24")
    assert s.connections_sent == identity_stats(db, ana, date(2026, 3, 24), date(2026, 3, 24)).connections_sent


def test_cli_stats_json_and_errors(ran):
    ws, db, world = ran
    out = ok_json(ws, "identity", "stats", "Ana", "--from", "2026-03-23", "--to", "2026-03-29", "--json")
    [s] = out
    assert s["name"] == "Ana" and s["connections_sent"] == 60
    assert s["messages_sent"] == sum(1 for d in world.deliveries.values() if d.action in ("linkedin_message", "email"))
    assert s["bounce_rate"] is not None and s["messages_allowed"] == 112 * 7
    human = enginy(ws, "identity", "stats", "--from", "2026-03-23", "--to", "2026-03-29")
    assert human.returncode == 0 and "connections" in human.stdout and "60 sent" in human.stdout
    assert "expected a date" in fails(ws, "identity", "stats", "--from", "23/03/2026")
    assert "ends (2026-03-22) before it starts" in fails(ws, "identity", "stats", "--from", "2026-03-23",
                                                          "--to", "2026-03-22")
    assert "no identity 'Bob'" in fails(ws, "identity", "stats", "Bob")


def test_linkedin_status_tells_restricted_from_paused(ws):
    from storage.db import transaction
    from storage.identities import create_identity, linkedin_lost, set_linkedin_paused
    from storage.identity_stats import identity_rows

    db = open_workspace(ws).open_db()
    sandbox_identity(db, "Ana", now=MON)
    sandbox_identity(db, "Bob", now=MON)
    create_identity(db, "Cy", now=MON, actor="you")
    set_linkedin_paused(db, 2, True, now=MON, actor="you")
    with transaction(db):
        linkedin_lost(db, 1, disconnected=False, why="LinkedIn restricted the account", now=MON + timedelta(hours=1))
    rows = {r.stats.name: (r.linkedin, r.inboxes_connected, r.inboxes) for r in identity_rows(db, MON)}
    assert rows == {"Ana": ("restricted", 1, 1), "Bob": ("paused", 1, 1), "Cy": ("not connected", 0, 0)}
    set_linkedin_paused(db, 1, False, now=MON + timedelta(hours=2), actor="you")
    set_linkedin_paused(db, 1, True, now=MON + timedelta(hours=3), actor="you")  # paused by the user this time
    assert [r.linkedin for r in identity_rows(db, MON, search="an")] == ["paused"]
