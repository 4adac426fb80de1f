"""`enginy forecast` on a small real workspace: a copy runs, the original stays byte-identical.

The workspace is built with the storage functions a user's commands call
(identity + sandbox connection, contacts in lists, campaigns created, filled
and launched), with a tight invitation cap (5 a day) so the cap must show up
as the bottleneck: a 4-lead high-priority campaign is done on the first
working day, a 300-lead one needs 60 working days and cannot finish in 7.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from storage.timeline import save_position
from sequences.model import ConnectionRequest, Sequence
from storage.activity import iso
from storage.audience import add_list
from storage.campaigns import create_campaign, launch_campaign
from storage.identities import connect_sandbox, create_identity
from tests.support.campaign_workspace import NOW, add_contacts, enginy, fails, make_workspace

INVITE_ONLY = Sequence(start="invite", nodes=[ConnectionRequest(id="invite", note="Hi {first_name}")])


def _campaign(db, name: str, list_name: str, priority: str) -> int:
    cid = create_campaign(db, identity="Ana", now=NOW, actor="you", sequence=INVITE_ONLY, name=name, priority=priority)
    add_list(db, cid, list_name, now=NOW, actor="you")
    return cid


def build(tmp_path, *, launch: bool = True):
    folder, db = make_workspace(tmp_path)
    create_identity(db, "Ana", now=NOW, actor="you", timezone="Europe/Madrid", working_days="mon-fri",
                    daily_connection_limit=5)
    connect_sandbox(db, "Ana", now=NOW, actor="you")
    add_contacts(db, 4, list_name="Few")
    add_contacts(db, 300, list_name="Many", start=101)
    small = _campaign(db, "Small", "Few", "high")
    huge = _campaign(db, "Huge", "Many", "low")
    past = _campaign(db, "Past", "Many", "medium")
    # the history of an earlier campaign: 25 leads invited, 10 of them accepted (acceptance rate 0.4)
    db.execute("UPDATE enrollments SET status = 'finished', milestones = 1 | 2 | 4 | (CASE WHEN contact_id < 111"
               " THEN 8 ELSE 0 END) WHERE campaign_id = ? AND contact_id < 126", [past])
    db.execute("DELETE FROM enrollments WHERE campaign_id = ? AND contact_id >= 126", [past])
    if launch:
        launch_campaign(db, small, now=NOW, actor="you")
        launch_campaign(db, huge, now=NOW, actor="you")
    save_position(db, NOW)
    db.close()  # checkpoints the WAL: the database file alone now holds the workspace
    return folder, small, huge


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_forecast_finds_the_cap_and_leaves_the_workspace_alone(tmp_path):
    folder, small, huge = build(tmp_path)
    db_file = folder / "enginy.db"
    assert db_file.is_file()
    before = digest(db_file)

    runs = []
    for _ in range(2):
        r = enginy(folder, "forecast", "--days", "7", "--json")
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""  # no progress when --json
        runs.append(json.loads(r.stdout))
    assert digest(db_file) == before

    report = runs[0]
    assert report["start"] == iso(NOW) and report["sim_days"] == 7
    assert report["rates"]["accept"] == {"value": 0.4, "source": "observed", "sample": 25}
    assert report["rates"]["email_reply"]["source"] == "default"
    by_id = {c["campaign"]: c for c in report["campaigns"]}
    assert set(by_id) == {small, huge}  # drafts and finished history are not forecast

    s, h = by_id[small], by_id[huge]
    assert s["remaining_leads_now"] == 4 and s["remaining_leads_after"] == 0
    finished = datetime.fromisoformat(s["finishes_at"])
    assert NOW <= finished < datetime.fromisoformat(report["end"])
    assert h["remaining_leads_now"] == 300 and h["finishes_at"] is None
    # Mon 10:00 Madrid → next Mon 10:00: five full days of 5 invitations (4 went to the small
    # campaign), and the next Monday's first hour may hold one more
    assert 300 - 22 <= h["remaining_leads_after"] <= 300 - 21
    for c in (s, h):
        assert c["bottleneck"]["identity"] == "Ana" and c["bottleneck"]["cap"] == "connection_request"
        assert 0.95 <= c["bottleneck"]["utilization"] <= 1.0

    a, b = ({k: v for k, v in run.items() if k != "wall_s"} for run in runs)
    assert a == b


def test_forecast_without_running_campaigns_is_one_line(tmp_path):
    folder, _, _ = build(tmp_path, launch=False)
    before = digest(folder / "enginy.db")
    line = fails(folder, "forecast", "--days", "3")
    assert "no running campaigns" in line
    assert digest(folder / "enginy.db") == before
