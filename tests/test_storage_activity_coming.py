"""The Activity tab lists the actions coming next, "In progress", above the past ones.

The state is what a real runtime left (on Trio's MockClock, against the
sandbox world): eight leads, two invitations a day, one working day run —
two invitations sent, six still queued. Paging by key must walk the whole
list once, in order, in either direction and across the boundary between
the coming actions and the log, as the virtual table pages it.
"""

from __future__ import annotations

from datetime import timedelta

import trio
import trio.testing

from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from storage.activity_view import COMING, ActivityFilter, ActivitySource
from storage.reader import Reader
from tests.test_runtime_actors import MON, QUIET, invites_only, workspace


def ran(tmp_path):
    db = workspace(tmp_path, invites_only(), leads=8, invites=2)
    rt = Runtime(db, world=SandboxWorld(5, profile=QUIET), poll_interval=600.0)
    trio.run(lambda: rt.run(epoch=MON, until=MON + timedelta(hours=20)),
             clock=trio.testing.MockClock(autojump_threshold=0))
    return db


def walk(source, page: int, backward: bool = False) -> list:
    """Every row, a page at a time from the top (or, backward, from the end), each page after the last's key."""
    step = source.before if backward else source.after
    rows, key = [], None
    while chunk := step(key, page):
        rows += chunk
        key = chunk[-1].id
    return rows


def test_coming_actions_lead_the_list_and_page_across_the_boundary(tmp_path):
    db = ran(tmp_path)
    queued = [r[0] for r in db.execute("SELECT id FROM outbox WHERE state = 'queued' ORDER BY id DESC")]
    logged = [r[0] for r in db.execute("SELECT id FROM activity WHERE campaign_id = 1 AND kind != 'condition_evaluated'"
                                          " ORDER BY id DESC")]
    assert len(queued) == 6 and len(logged) >= 2
    reader = Reader(tmp_path / "ws.db")
    try:
        source = ActivitySource(reader, ActivityFilter(1))
        whole = walk(source, 1000)
        assert [r.id for r in whole] == [COMING + i for i in queued] + logged
        coming = whole[:6]
        assert {r.status for r in coming} == {"in_progress"} and {r.kind for r in coming} == {"linkedin_invite_sent"}
        assert all(r.first_name and r.first_name.startswith("Lead") for r in coming)  # its recipient
        assert {r.status for r in whole[6:]} == {"completed"}
        for page in (1, 4, 5, 6, 7):  # pages that end before, on and after the boundary
            assert [r.id for r in walk(source, page)] == [r.id for r in whole], page
            assert [r.id for r in walk(source, page, backward=True)] == [r.id for r in whole][::-1], page
        # the table reloads its window from the key just before its first row (virtual_table._just_before)
        assert source.after(whole[0].id + 1, 3) == whole[:3]
        assert source.after(whole[6].id + 1, 2) == whole[6:8]
        assert source.before(whole[6].id, 2) == [whole[5], whole[4]]
        assert source.count() == (len(whole), True)
        # a far jump lands in the right part of the list
        assert source.after(source.seek(0.0), 1) == whole[:1]
        assert source.after(source.seek(1.0), 1) == whole[-1:]
        # the filters narrow the coming actions too: a recipient, a stage, a search by name or action
        lead = coming[2]
        mine = walk(ActivitySource(reader, ActivityFilter(1, contact_id=lead.contact_id)), 10)
        assert [r.id for r in mine] == [lead.id]
        staged = walk(ActivitySource(reader, ActivityFilter(1, node_id="invite")), 10)
        assert staged == [r for r in whole if r.node_id == "invite"] and staged[:6] == coming
        named = walk(ActivitySource(reader, ActivityFilter(1, search=lead.first_name)), 10)
        assert lead.id in [r.id for r in named] and all(r.first_name == lead.first_name for r in named)
        invites = walk(ActivitySource(reader, ActivityFilter(1, search="invite sent")), 10)
        assert invites == [r for r in whole if r.kind == "linkedin_invite_sent"] and len(invites) == 8
        assert walk(ActivitySource(reader, ActivityFilter(1, search="email")), 10) == []
        # a date range keeps them: they happen now
        since = ActivitySource(reader, ActivityFilter(1, since=(MON + timedelta(days=5)).isoformat()))
        assert walk(since, 10) == coming
    finally:
        reader.close()
