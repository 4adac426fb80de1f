"""storage/campaign_setup.py: the wizard's list filters, facets and launch checks, on a real workspace."""

from __future__ import annotations

from datetime import timedelta

from sequences.model import Sequence
from storage.audience import add_list
from storage.campaign_setup import ListFilter, audience_size, campaign_facets, list_facets, pick_lists
from storage.launch import launch_problems
from storage.campaigns import create_campaign, update_campaign
from storage.identities import connect_sandbox, create_identity
from tests.support.campaign_workspace import NOW, add_contacts, make_workspace


def _lists(db) -> None:
    add_contacts(db, 3, list_name="Founders")
    add_contacts(db, 2, list_name="alpha", start=10)
    db.execute("UPDATE lists SET created_by = 'ana', tags = '[\"q1\"]', created_at = ? WHERE name = 'alpha'",
               [(NOW - timedelta(days=40)).isoformat()])
    db.execute("UPDATE lists SET created_by = 'bo', created_at = ? WHERE name = 'Founders'", [NOW.isoformat()])


def test_list_filters_and_facets(tmp_path):
    _, db = make_workspace(tmp_path)
    _lists(db)
    names = lambda **kw: [r["name"] for r in pick_lists(db, ListFilter(**kw))]  # noqa: E731
    assert names() == ["Founders", "alpha"]  # most recent first
    assert names(sort="alpha") == ["alpha", "Founders"]  # by name, case-insensitively
    assert names(search="FOUND") == ["Founders"]
    assert names(search="%") == []  # the search is literal
    assert names(created_by="ana") == ["alpha"]
    assert names(since=(NOW - timedelta(days=7)).isoformat()) == ["Founders"]
    assert names(tag="q1") == ["alpha"]
    assert [r["members"] for r in pick_lists(db, ListFilter())] == [3, 2]
    assert list_facets(db) == (["ana", "bo"], ["q1"])


def test_launch_problems_each_in_one_line(tmp_path):
    _, db = make_workspace(tmp_path)
    add_contacts(db, 2)
    bare = create_identity(db, "Bare", now=NOW, actor="t")
    cid = create_campaign(db, identity=bare, sequence=Sequence(), now=NOW, actor="t", tags=["x"], folder="F")
    assert launch_problems(db, cid) == ["No audience: add a list or contacts (step 2)",
                                        "Sequence: the sequence has no steps"]
    assert campaign_facets(db) == (["x"], ["F"])
    add_list(db, cid, "Leads", now=NOW, actor="t")
    assert audience_size(db, cid) == 2
    db.execute("UPDATE campaigns SET sequence = ? WHERE id = ?",
               ['{"start":"e","nodes":[{"kind":"email","id":"e","subject":"","body":""}]}', cid])
    problems = launch_problems(db, cid)
    assert problems[-1] == "Bare has no connected inbox for step e (Email)"
    assert all(p.startswith("Sequence: ") for p in problems[:-1]) and len(problems) >= 2
    ready = create_campaign(db, identity=bare, template="LinkedIn Only (New)", now=NOW, actor="t")
    add_list(db, ready, "Leads", now=NOW, actor="t")
    assert launch_problems(db, ready) == [
        "Bare has no connected LinkedIn account for step visit (Visit profile)"]
    connect_sandbox(db, bare, now=NOW, actor="t")
    assert launch_problems(db, ready) == []
    update_campaign(db, ready, identity="Bare", now=NOW, actor="t")  # same identity: no change, allowed
