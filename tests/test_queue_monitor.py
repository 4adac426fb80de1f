"""The queue monitor: the view from storage after a real run, `enginy queue`, publishing, and the Queues screen.

The view is checked against the evidence it is built from (the ledger, the
outbox's queue order, the leads' substatuses) on a real SQLite workspace
after the Runtime ran on an autojump clock; the screen is driven with Pilot.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
import trio

from runtime.queue_publish import QueuePublisher
from runtime.queue_view import build
from runtime.sandbox.world import SandboxWorld
from runtime.service import Service
from sequences.model import ConnectionRequest, Sequence, VisitProfile
from sequences.statuses import Substatus
from storage import runtime_lease
from storage.db import connect, transaction
from storage.forecast import save_live
from storage.timeline import save_position
from storage.queue_view import publish, published
from storage.workspace import open_workspace
from tests.support.campaign_workspace import enginy, fails
from tests.test_runtime_actors import MON, QUIET, run_for, workspace
from tests.tui_support import NOW, make, q, settle, until
from tui.app import EnginyApp
from tui.screens.modals import ConfirmScreen
from tui.screens.queues import QueuesScreen

VISIT_THEN_INVITE = Sequence(start="visit", nodes=[VisitProfile(id="visit", next="invite"),
                                                   ConnectionRequest(id="invite", note="hi {first_name}")])
END = MON + timedelta(days=1, hours=20, minutes=30)  # Tuesday 21:30 in Madrid: closed, a day's cap spent


@pytest.mark.trio
async def test_view_matches_ledger_queue_order_and_substatuses(tmp_path, autojump_clock) -> None:
    """Two campaigns of one identity after nearly two days of the runtime."""
    db = workspace(tmp_path, VISIT_THEN_INVITE, leads=80, invites=10, campaigns=2)
    with trio.fail_after(10_000_000):
        await run_for(db, SandboxWorld(3, profile=QUIET), MON, (END - MON).total_seconds() / 86400)
    view = build(db, END, next_jobs=4).identities[0]
    tz = ZoneInfo("Europe/Madrid")
    day_start = datetime(2026, 3, 24, tzinfo=tz)

    def ledger(bucket: str) -> int:
        return db.execute("SELECT COUNT(*) FROM action_ledger WHERE identity_id = 1 AND bucket = ? AND at >= ?",
                          [bucket, day_start.astimezone(ZoneInfo("UTC")).isoformat()]).fetchone()[0]

    buckets = {b.name: b for b in view.buckets}
    assert buckets["invitations"].used == ledger("connection_request") == 10
    assert buckets["invitations"].limit == 10
    assert buckets["visits"].used == ledger("profile_visit") > 0 and buckets["visits"].limit == 50
    assert buckets["invitations"].next_refill == "2026-03-25T00:00:00+01:00"
    assert buckets["ana@sandbox.invalid per day"].limit == 30
    assert not view.working_hours.open and view.working_hours.next_change == "2026-03-25T09:00:00+01:00"

    lanes = {ln.name: ln for ln in view.lanes}
    queued = db.execute(
        "SELECT trim(c.first_name || ' ' || c.last_name), k.name FROM outbox o JOIN enrollments e ON e.id ="
        " o.enrollment_id JOIN contacts c ON c.id = e.contact_id JOIN campaigns k ON k.id = o.campaign_id"
        " WHERE o.identity_id = 1 AND o.bucket = 'connection_request' AND o.state = 'queued'"
        " ORDER BY o.sort_key").fetchall()
    invites = lanes["invitations"]
    assert invites.depth == len(queued) > 4
    assert [(j.lead, j.campaign) for j in invites.next] == [tuple(r) for r in queued[:4]]
    assert invites.next[0].why.startswith("#1: message depth 0, medium priority, tie-break ")
    assert "outside working hours" in invites.next[0].why and invites.next[1].why.endswith("goes after #1")
    assert {j.campaign for j in invites.next} == {"C1"}  # the medium campaign's jobs rank before the low one's

    counts = db.execute("SELECT substatus, COUNT(*) FROM enrollments WHERE status IN ('in_progress', 'error')"
                        " AND substatus IS NOT NULL GROUP BY 1").fetchall()
    assert counts  # the queued leads say why they wait
    assert {b.reason: b.count for b in view.blocked} == {Substatus(s).label: n for s, n in counts}


MORNING = datetime(2031, 3, 4, 9, 30, tzinfo=timezone.utc)  # a Tuesday, 10:30 in Madrid


@pytest.fixture(scope="module")
def after_run(tmp_path_factory) -> Path:
    """The seeded workspace after its runtime (the real Service) ran an hour at 3600x and stopped.

    The hour is a fixed working morning, not the wall clock's: run at 17:00 UTC, the first identity
    (Madrid) was closed all hour, did nothing, and the per-hour figures had nothing to count."""
    ws = make(tmp_path_factory.mktemp("queues_run") / "ws")
    db = open_workspace(ws).open_db()
    save_position(db, MORNING)  # the runtime starts where the workspace's clock stands (ahead of the wall)
    Service(db, world=SandboxWorld(1, path=ws / "sandbox.db"), speed=3600.0).run(until=timedelta(hours=1))
    db.close()
    return ws


def test_enginy_queue_json_shape_without_a_runtime(after_run: Path) -> None:
    ws = after_run
    assert q(ws, "SELECT COUNT(*) FROM runtime_lease") == [(0,)]  # no runtime holds the workspace
    r = enginy(ws, "queue", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out) == ["identities"] and len(out["identities"]) == 3
    ident = out["identities"][0]
    assert list(ident) == ["id", "name", "timezone", "working_hours", "buckets", "lanes", "blocked", "per_hour",
                           "forecast"]
    # actions per hour over the last day: 24 clock hours, the last one the current; every counted action
    first = (datetime.fromisoformat(ident["working_hours"]["local_time"]).astimezone(ZoneInfo("UTC"))
             .replace(minute=0, second=0) - timedelta(hours=23))
    assert len(ident["per_hour"]) == 24 and sum(ident["per_hour"]) == q(
        ws, "SELECT COUNT(*) FROM action_ledger WHERE identity_id = ? AND bucket != 'conversation' AND at >= ?",
        ident["id"], first.isoformat())[0][0] > 0
    assert ident["forecast"] is None  # no runtime kept one here (test_live_forecast…)
    assert list(ident["working_hours"]) == ["open", "local_time", "next_change"]
    assert all(list(b) == ["name", "used", "limit", "window", "next_refill", "warmup"] for b in ident["buckets"])
    assert [b["name"] for b in ident["buckets"]][:7] == [
        "invitations", "messages", "visits", "reactions", "acceptance checks", "InMail credits",
        "monthly conversations"]
    assert all(list(ln) == ["name", "depth", "next"] for ln in ident["lanes"])
    jobs = [j for i in out["identities"] for ln in i["lanes"] for j in ln["next"]]
    assert jobs and all(list(j) == ["campaign", "lead", "action", "why"] for j in jobs)
    blocked = {b["reason"]: b["count"] for b in ident["blocked"]}
    stored = q(ws, "SELECT e.substatus, COUNT(*) FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id"
                   " WHERE k.identity_id = ? AND e.status IN ('in_progress', 'error') AND e.substatus IS NOT NULL"
                   " AND NOT e.removed GROUP BY 1", ident["id"])
    assert blocked.get("Missing contact email") == 3  # as seeded (tests/tui_support.py)
    assert blocked == {Substatus(s).label: n for s, n in stored}
    one = json.loads(enginy(ws, "queue", "--identity", ident["name"], "--json").stdout)
    assert [i["id"] for i in one["identities"]] == [ident["id"]]
    text = enginy(ws, "queue").stdout
    assert "\x1b" not in text and "working hours" in text and "Missing contact email" in text
    assert "actions per hour, last 24 h: " in text and "forecast: none yet" in text
    assert "no identity 'Nobody'" in fails(ws, "queue", "--identity", "Nobody")


# A forecast as the runtime keeps it (`enginy forecast --json`'s report), fixed for the screen's tests.
FORECAST = {"start": "2026-03-02T08:55:00+00:00", "end": "2026-04-01T08:55:00+00:00", "sim_days": 30.0, "campaigns": [
    {"campaign": 1, "name": "Q4 Fintech CFOs", "identity_id": 1, "remaining_leads_now": 409, "finishes_at": None,
     "bottleneck": {"identity": "x", "cap": "connection_request", "utilization": 1.0}},
    {"campaign": 2, "name": "Spain SaaS founders", "identity_id": 1, "remaining_leads_now": 12,
     "finishes_at": "2026-03-05T16:20:00+00:00", "bottleneck": {"identity": "x", "cap": "email", "utilization": 0.45}}]}


def _published_ws(template: Path, tmp_path: Path, *, forecast: dict | None = None) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    db = connect(ws / "enginy.db")
    if forecast is not None:  # its campaigns, on the first identity
        first = q(ws, "SELECT MIN(id) FROM identities")[0][0]
        report = {**forecast, "campaigns": [{**c, "identity_id": first} for c in forecast["campaigns"]]}
        with transaction(db):
            save_live(db, json.dumps(report))
            for hours_ago in range(1, 12):  # a working day's actions, more in the morning: the sparkline's shape
                for k in range((13 - hours_ago) // 2):  # 36 visits in all, within the day's 50
                    db.execute("INSERT INTO action_ledger (at, identity_id, bucket) VALUES (?, ?, 'profile_visit')",
                               [(NOW - timedelta(hours=hours_ago, minutes=k)).astimezone(ZoneInfo("UTC")).isoformat(),
                                first])
    QueuePublisher(db).publish(NOW - timedelta(minutes=5))
    db.close()
    return ws


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("queues") / "ws")


def test_a_running_service_publishes_every_identity(after_run: Path) -> None:
    views = published(connect(after_run / "enginy.db"))
    assert [p.view.id for p in views] == [r[0] for r in q(after_run, "SELECT id FROM identities ORDER BY id")]
    assert views[0].view.buckets[0].name == "invitations"


@pytest.mark.asyncio
async def test_queues_screen_shows_the_published_view_and_pauses_confirmed(seeded: Path, tmp_path: Path) -> None:
    ws = _published_ws(seeded, tmp_path)
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("Q")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen) and app.screen.shown, "the Queues screen")
        screen = app.screen
        status = str(screen.query_one("#queues-status").render())
        assert "no runtime is running" in status and "5m ago" in status
        first = screen.shown[0][0]
        focused = app.focused
        await pilot.press("j")
        await until(pilot, lambda: screen.current == 1, "j moves to the next identity")
        await pilot.press("k", "z")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "pause asks first")
        await pilot.press("n")
        assert q(ws, "SELECT linkedin_queue_paused FROM identities WHERE id = ?", first.id) == [(0,)]
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "pause asks again")
        await pilot.press("y")
        await until(pilot, lambda: q(ws, "SELECT linkedin_queue_paused FROM identities WHERE id = ?", first.id)
                    == [(1,)], "the pause intent is written")
        await until(pilot, lambda: screen.snap.paused.get(first.id), "the screen shows it paused")
        # a newer view published by the runtime (another connection) shows within the app's poll
        db = connect(ws / "enginy.db")
        with transaction(db):
            publish(db, first.id, msgspec.json.encode(msgspec.structs.replace(first, name="Renamed live")).decode(),
                    NOW)
        db.close()
        await until(pilot, lambda: screen.shown[0][0].name == "Renamed live", "the new view is shown")
        assert "Renamed live" in str(screen.query(".queue-panel").first().render())
        assert app.focused is focused  # a live refresh never moves the focus


SIZES = [(80, 24), (160, 48)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_queues_snapshot(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    ws = _published_ws(seeded, tmp_path)

    async def open_queues(pilot) -> None:
        await pilot.press("Q")
        await settle(pilot)

    assert snap_compare(EnginyApp(open_workspace(ws), wall=lambda: NOW), terminal_size=size, run_before=open_queues)


def test_the_publisher_builds_only_when_something_shown_may_have_changed(seeded: Path, tmp_path: Path,
                                                                         monkeypatch) -> None:
    """A runtime's heartbeat asks every second; with nothing written, no commit of another process and the
    same minute, the views are not built again (tens of ms of the runtime's loop with many identities)."""
    import runtime.queue_publish as publish_module

    ws = tmp_path / "ws"
    shutil.copytree(seeded, ws)
    db, other = connect(ws / "enginy.db"), connect(ws / "enginy.db")
    builds = []
    real = publish_module.identity_queue
    monkeypatch.setattr(publish_module, "identity_queue", lambda *a, **k: builds.append(1) or real(*a, **k))
    publisher = QueuePublisher(db)
    identities = len(q(ws, "SELECT id FROM identities"))
    assert publisher.publish(NOW) == identities and len(builds) == identities
    assert publisher.publish(NOW + timedelta(seconds=20)) == 0 and len(builds) == identities  # same minute, quiet
    other.execute("UPDATE identities SET inmail_credits = inmail_credits + 1 WHERE id = 1")  # another process commits
    assert publisher.publish(NOW + timedelta(seconds=30)) >= 1 and len(builds) == 2 * identities
    publisher.publish(NOW + timedelta(minutes=1))  # a new minute: local times and windows move
    assert len(builds) == 3 * identities
    with transaction(db):  # the heartbeat's own rows: nothing shown changed
        runtime_lease.beat(db, NOW)
        save_position(db, NOW + timedelta(minutes=1, seconds=1))
    assert publisher.publish(NOW + timedelta(minutes=1, seconds=2)) == 0 and len(builds) == 3 * identities
    with transaction(db):  # the runtime's own write about one identity: only its view is built again
        db.execute("UPDATE outbox SET updated_at = updated_at WHERE id = (SELECT MIN(id) FROM outbox"
                   " WHERE identity_id = 2)")
        db.execute("UPDATE identities SET inmail_credits = inmail_credits + 1 WHERE id = 2")
    assert publisher.publish(NOW + timedelta(minutes=1, seconds=3)) == 1 and len(builds) == 3 * identities + 1


def test_live_forecast_is_kept_and_shown_per_identity(tmp_path: Path) -> None:
    """The runtime's forecast child (the one `enginy forecast`) on a workspace whose invitation cap (5 a day)
    cannot empty a 300-lead campaign: kept, then in each identity's view with the cap as bottleneck."""
    from runtime.forecast_live import LiveForecast
    from tests.test_forecast import build as forecast_workspace

    folder, small, huge = forecast_workspace(tmp_path)
    db = connect(folder / "enginy.db")
    publisher = QueuePublisher(db)
    publisher.publish(NOW)
    assert published(db)[0].view.forecast is None
    assert trio.run(LiveForecast(db, folder / "enginy.db", publisher.rebuild_all).refresh)
    assert publisher.publish(NOW + timedelta(seconds=1)) == 1  # the same minute, nothing written: still shown
    assert published(db)[0].view.forecast is not None
    view = build(db, NOW).identities[0]
    assert view.forecast is not None and view.forecast.days == 30
    by_id = {c.campaign: c for c in view.forecast.campaigns}
    assert set(by_id) == {small, huge}
    assert by_id[huge].finishes_at is None and by_id[huge].bottleneck == "invitations"
    assert by_id[huge].remaining_leads == 300 and by_id[small].finishes_at is not None
    out = json.loads(enginy(folder, "queue", "--json").stdout)
    assert out["identities"][0]["forecast"]["campaigns"][1]["bottleneck"] == "invitations"
    assert re.search(r"#\d+ Huge: 300 leads left, not within 30 days; bottleneck invitations at \d+%",
                     enginy(folder, "queue").stdout)


@pytest.mark.asyncio
async def test_queues_screen_shows_actions_per_hour_and_the_forecast_in_80_columns(seeded: Path,
                                                                                    tmp_path: Path) -> None:
    ws = _published_ws(seeded, tmp_path, forecast=FORECAST)
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("Q")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen) and app.screen.shown, "the Queues screen")
        view = app.screen.shown[0][0]
        assert len(view.per_hour) == 24
        panel = app.screen.query(".queue-panel").first()
        lines = str(panel.render()).splitlines()
        spark = next(line for line in lines if line.startswith("Actions/h"))
        assert len(spark) <= 78 and spark.endswith(f"{sum(view.per_hour):,} in 24 h")  # all of it in the panel
        text = str(panel.render())
        assert "Q4 Fintech CFOs" in text and re.search(r"not within 30 d +· invitations 100% · 409 left", text)
        assert re.search(r"Spain SaaS founders +done Thu 05 \d\d:\d\d +· email 45% · 12 left", text)
        # oldest hour first; the busiest (6 visits) full height, the others in proportion, none a dot
        assert spark.startswith("Actions/h ·············▂▃▃▄▄▆▆▇▇█▂  peak 6 · 36 in 24 h")
        assert all(len(line) <= 74 for line in lines)  # nothing wraps inside the panel at 80 columns


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_queues_forecast_snapshot(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    """The first identity's sparkline (a day of actions) and its campaigns' forecast."""
    ws = _published_ws(seeded, tmp_path, forecast=FORECAST)

    async def open_queues(pilot) -> None:
        await pilot.press("Q")
        await settle(pilot)
        if size[0] < 100:  # at 80x24 the panel's end is two pages down; at 160x48 all of it shows
            await pilot.press("pagedown", "pagedown")
            await pilot.pause(0.2)

    assert snap_compare(EnginyApp(open_workspace(ws), wall=lambda: NOW), terminal_size=size, run_before=open_queues)


def test_a_new_minute_builds_from_what_was_read_and_matches_a_fresh_build(after_run: Path, tmp_path: Path,
                                                                           monkeypatch) -> None:
    """Nothing written, the clock moves (a minute, past the hour, past midnight): the publisher reads
    nothing again, yet every view equals one built from storage at that time (rolling windows emptied,
    day caps refilled, the sparkline shifted)."""
    import runtime.queue_publish as publish_module

    ws = tmp_path / "ws"
    shutil.copytree(after_run, ws)
    db = connect(ws / "enginy.db")
    start = datetime.fromisoformat(q(ws, "SELECT MAX(at) FROM action_ledger")[0][0]) + timedelta(seconds=1)
    reads = []
    real = publish_module.Reads
    monkeypatch.setattr(publish_module, "Reads", lambda *a: reads.append(1) or real(*a))
    publisher = QueuePublisher(db)
    publisher.publish(start)
    identities = len(reads)
    used = [b.used for p in published(db) for b in p.view.buckets]
    assert sum(used) > 0 and sum(sum(p.view.per_hour) for p in published(db)) > 0  # something to move
    for later in (timedelta(minutes=1), timedelta(minutes=61), timedelta(hours=30)):
        publisher.publish(start + later)
        fresh = [msgspec.json.encode(v) for v in build(db, start + later).identities]
        assert [msgspec.json.encode(p.view) for p in published(db)] == fresh, later
    assert [b.used for p in published(db) for b in p.view.buckets] != used  # the day's caps came back
    assert sum(sum(p.view.per_hour) for p in published(db)) == 0  # a day and more without an action
    assert len(reads) == identities  # read once, built four times
