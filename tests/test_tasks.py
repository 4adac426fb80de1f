"""Tasks: a Task step creates one with its due date, the listing's tabs and filters, complete and
reopen (logged, counted by the campaign's Tasks metrics), and `enginy tasks` on a real workspace."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import trio

from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from sequences.model import Delay, Email, Sequence, Task
from storage.activity_kinds import Kind
from storage.db import open_db
from storage.metrics import campaign_metrics
from storage.tasks import Show, TaskError, TaskFilter, complete_task, create_task, list_tasks, parse_due, reopen_task, \
    task_counts
from tests.support.campaign_workspace import enginy, fails, ok_json
from tests.support.seed import contacts, running_campaign, sandbox_identity

MON = datetime(2026, 3, 23, 8, 0, tzinfo=timezone.utc)


def call_sequence(due_days: int | None = 2) -> Sequence:
    return Sequence(start="call", nodes=[
        Task(id="call", title="Call {first_name}", notes="About {company}", task_type="call", due_days=due_days,
             next="mail"),
        Email(id="mail", subject="Hi", body="Hello {first_name}", delay=Delay(days=30))])


def workspace(path, *, campaigns=(("Calls", "Ana"),), leads=3):
    db = open_db(path / "ws.db")
    for name in {who for _, who in campaigns}:
        sandbox_identity(db, name, now=MON, email=f"{name.lower()}@sandbox.invalid")
    contacts(db, [{"first_name": f"Lead{i}", "company": f"Co{i}", "email": f"l{i}@example.com"}
                  for i in range(1, leads + 1)], now=MON)
    for name, who in campaigns:
        running_campaign(db, identity=who, sequence=call_sequence(), name=name,
                         contact_ids=list(range(1, leads + 1)), now=MON)
    return db


@pytest.mark.trio
async def test_a_task_step_creates_a_due_task_per_lead(tmp_path, autojump_clock):
    db = workspace(tmp_path)
    with trio.fail_after(10_000_000):
        await Runtime(db, world=SandboxWorld(1), poll_interval=600.0).run(epoch=MON, until=MON + timedelta(days=1))
    rows = db.execute("SELECT title, notes, kind, status, created_at, due_at FROM tasks ORDER BY id").fetchall()
    assert [r[:4] for r in rows] == [(f"Call Lead{i}", f"About Co{i}", "call", "pending") for i in (1, 2, 3)]
    for *_, created, due in rows:  # due two days after the step ran, on the runtime's clock
        assert datetime.fromisoformat(due) - datetime.fromisoformat(created) == timedelta(days=2)
    assert campaign_metrics(db, 1).metrics["tasks"] == {"pending": 3, "completed": 0}
    shown = list_tasks(db, TaskFilter(), now=MON + timedelta(days=3))
    assert [t.contact for t in shown] == ["Lead1", "Lead2", "Lead3"]
    assert all(t.overdue and t.campaign == "Calls" and t.identity == "Ana" for t in shown)


def test_tabs_filters_complete_and_reopen(tmp_path):
    db = workspace(tmp_path, campaigns=(("Calls", "Ana"), ("Other", "Bob")), leads=2)
    lead = {name: db.execute("SELECT e.id FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id"
                             " WHERE k.name = ? ORDER BY e.id LIMIT 1", [name]).fetchone()[0]
            for name in ("Calls", "Other")}
    late = create_task(db, lead["Calls"], title="Send the deck", now=MON, actor="you", due_at=MON + timedelta(hours=1))
    later = create_task(db, lead["Calls"], title="Follow up", now=MON, actor="you", due_at=MON + timedelta(days=5))
    undated = create_task(db, lead["Other"], title="Research", now=MON, actor="you")
    now = MON + timedelta(days=1)
    assert [t.id for t in list_tasks(db, TaskFilter(), now=now)] == [late, later, undated]  # due first, no date last
    assert [t.id for t in list_tasks(db, TaskFilter(show=Show.OVERDUE), now=now)] == [late]
    bob = db.execute("SELECT id FROM identities WHERE name = 'Bob'").fetchone()[0]
    assert [t.id for t in list_tasks(db, TaskFilter(identity_id=bob), now=now)] == [undated]
    assert [t.id for t in list_tasks(db, TaskFilter(campaign_id=1), now=now)] == [late, later]

    complete_task(db, late, now=now, actor="you")
    assert task_counts(db, TaskFilter(), now=now) == {"pending": 2, "overdue": 0, "completed": 1, "all": 3}
    assert campaign_metrics(db, 1).metrics["tasks"] == {"pending": 1, "completed": 1}
    with pytest.raises(TaskError, match="already completed"):
        complete_task(db, late, now=now, actor="you")
    reopen_task(db, late, now=now, actor="you")
    assert [t.id for t in list_tasks(db, TaskFilter(show=Show.OVERDUE), now=now)] == [late]
    kinds = [k for (k,) in db.execute("SELECT kind FROM activity WHERE channel = 'task' ORDER BY id")]
    assert kinds[-2:] == [Kind.TASK_COMPLETED, Kind.TASK_REOPENED]
    with pytest.raises(TaskError, match="no task #99"):
        reopen_task(db, 99, now=now, actor="you")
    with pytest.raises(TaskError, match="needs a title"):
        create_task(db, lead["Calls"], title=" \n", now=now, actor="you")


def test_due_dates_as_people_type_them():
    assert parse_due("", MON) is None
    assert parse_due("+3d", MON) == MON + timedelta(days=3)
    assert parse_due("2", MON) == MON + timedelta(days=2)
    assert parse_due("2026-04-01", MON) == datetime(2026, 4, 1, 23, 59, 59, tzinfo=timezone.utc)
    assert parse_due("tomorrow", MON) == datetime(2026, 3, 24, 23, 59, 59, tzinfo=timezone.utc)
    with pytest.raises(TaskError, match="YYYY-MM-DD"):
        parse_due("next week", MON)


def test_tasks_cli(tmp_path):
    from storage.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    db = ws.open_db()
    sandbox_identity(db, "Ana", now=MON, email="ana@sandbox.invalid")
    contacts(db, [{"first_name": "Eve\x1b[31m", "email": "eve@example.com"}], now=MON)
    running_campaign(db, identity="Ana", sequence=call_sequence(), name="Calls", contact_ids=[1], now=MON)
    db.conn.close()
    made = ok_json(ws.dir, "tasks", "add", "Calls", "--contact", "eve@example.com", "--title", "Call Eve",
                   "--due", "2020-01-01")
    assert made["title"] == "Call Eve" and made["due_at"].startswith("2020-01-01T23:59:59")
    listed = ok_json(ws.dir, "tasks", "list", "--show", "overdue", "--campaign", "Calls")
    assert [t["id"] for t in listed["tasks"]] == [made["id"]] and listed["counts"]["overdue"] == 1
    human = enginy(ws.dir, "tasks", "list", "--identity", "Ana").stdout
    assert "Call Eve" in human and "\x1b" not in human and human.startswith("!")
    assert ok_json(ws.dir, "tasks", "done", str(made["id"]))[0]["status"] == "completed"
    assert fails(ws.dir, "tasks", "done", str(made["id"])) == f"enginy: task #{made['id']} is already completed"
    assert ok_json(ws.dir, "tasks", "reopen", str(made["id"]))[0]["status"] == "pending"
    assert fails(ws.dir, "tasks", "done", str(made["id"]), "999") == "enginy: no task #999"
    assert ok_json(ws.dir, "tasks", "list")["tasks"][0]["status"] == "pending"  # all or none
    assert "use pending, overdue" in fails(ws.dir, "tasks", "list", "--show", "later")
    assert "YYYY-MM-DD" in fails(ws.dir, "tasks", "add", "Calls", "--contact", "1", "--title", "x", "--due", "soon")
