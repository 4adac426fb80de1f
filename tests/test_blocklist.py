"""`enginy blocklist` end to end: entries added with the real command, a sandbox campaign run
for simulated days, and the blocked leads never contacted — Finished · Blocked (campaigns.md).

Plus the command's answers: one-line errors (exit 2) for bad input, `--json` on list,
and a clear refusal to remove what is not there.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import trio

from runtime.engine import Runtime
from runtime.sandbox.world import Profile, SandboxWorld
from sequences.model import Delay, Email, Sequence
from storage import identities
from storage.audience import add_contacts
from storage.campaigns import create_campaign, launch_campaign
from storage.contact_import import import_contacts
from storage.workspace import init_workspace
from tests.support.campaign_workspace import enginy, fails, ok_json

MON = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)  # a Monday, an hour before 09-18 UTC working hours
QUIET = Profile(accept=0.0, linkedin_reply=0.0, email_reply=0.0, bounce=0.0, out_of_office=0.0,
                prior_conversation=0.0, transient_failure=0.0, latency_s=(0.0, 0.0))
PEOPLE = [  # (email, company); contact ids follow this order
    ("ada@ex.com", "Acme"),        # 1: blocked by email
    ("bob@spam.example", "Acme"),  # 2: blocked by domain
    ("cy@corp.example", "Globex"),  # 3: blocked by company
] + [(f"lead{i}@fine{i}.example", "Acme") for i in range(4, 13)]  # 4-12: the campaign goes on for them
LATE = ("eve@spam.example", "Acme")  # 13: on a blocked domain before being added to the campaign


def build(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    db = ws.open_db()
    csv = tmp_path / "leads.csv"
    csv.write_text("first_name,last_name,email,company\n" + "".join(
        f"P{i},Test,{email},{company}\n" for i, (email, company) in enumerate(PEOPLE + [LATE], 1)))
    import_contacts(db, csv, list_name="Leads", now=MON)
    iid = identities.create_identity(db, "Ana", now=MON, actor="test", timezone="UTC", email="ana@acme.test")
    identities.connect_sandbox(db, iid, now=MON, actor="test")
    seq = Sequence(start="e1", nodes=[Email(id="e1", subject="Hi", body="Hi {first_name}", next="e2"),
                                      Email(id="e2", body="Following up.", delay=Delay(days=2))])
    cid = create_campaign(db, identity=iid, now=MON, actor="test", sequence=seq, name="C")
    add_contacts(db, cid, list(range(1, len(PEOPLE) + 1)), now=MON, actor="test")
    launch_campaign(db, cid, now=MON, actor="test")
    return ws.dir, db, cid


def statuses(db) -> dict[int, tuple[str, str | None]]:
    return {r["contact_id"]: (r["status"], r["substatus"]) for r in db.query("SELECT * FROM enrollments")}


def sent_to(db, world) -> dict[int, list[str]]:
    """Contact id → the nodes the sandbox world received for it."""
    contact_of = dict(db.execute("SELECT id, contact_id FROM enrollments").fetchall())
    got: dict[int, list[str]] = {}
    for d in sorted(world.deliveries.values(), key=lambda d: d.seq):
        enrollment, node, _ = d.key.split(":")
        got.setdefault(contact_of[int(enrollment)], []).append(node)
    return got


@pytest.mark.trio
async def test_blocklisted_leads_are_never_contacted_and_finish_as_blocked(tmp_path, autojump_clock):
    ws, db, cid = build(tmp_path)
    for kind, value, finished in (("email", "Ada@Ex.com", 1), ("domain", "@SPAM.example", 1), ("company", "globex", 1)):
        out = ok_json(ws, "blocklist", "add", kind, value)
        assert out["added"] is True and out["finished"] == finished, out
    assert {c: s for c, s in statuses(db).items() if c <= 3} == {c: ("finished", "blocked") for c in (1, 2, 3)}
    late = add_contacts(db, cid, [13], now=MON, actor="test")
    assert (late.added, late.blocklisted) == (0, 1)  # enrolment skips a blocklisted contact

    world = SandboxWorld(5, profile=QUIET)
    rt = Runtime(db, world=world, poll_interval=600.0)
    live: dict[str, int] = {}
    async with trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: rt.run(epoch=MON, until=MON + timedelta(days=5),
                                                       task_status=task_status))
        while not any(d.key.endswith(":e1:0") for d in world.deliveries.values()):
            await trio.sleep(60)
        # The runtime is running, some first emails are out, others wait in its queue:
        # block one lead of each kind with the real command, while it runs.
        got = sent_to(db, world)
        live["sent"] = min(got)
        live["queued"] = max(c for c, in db.execute(
            "SELECT e.contact_id FROM outbox o JOIN enrollments e ON e.id = o.enrollment_id WHERE o.state = 'queued'"))
        assert live["queued"] not in got
        for contact in (live["sent"], live["queued"]):
            r = enginy(ws, "blocklist", "add", "contact", str(contact), "--reason", "asked us to stop")
            assert r.returncode == 0 and "1 lead finished as Blocked" in r.stdout, r.stderr
    got = sent_to(db, world)
    assert not {1, 2, 3, 13} & got.keys()  # blocked before the run: never contacted
    assert got[live["sent"]] == ["e1"]  # blocked after its first email: no follow-up
    assert live["queued"] not in got  # its queued job was cancelled, not sent
    assert db.execute("SELECT o.state FROM outbox o JOIN enrollments e ON e.id = o.enrollment_id"
                      " WHERE e.contact_id = ?", [live["queued"]]).fetchone()[0] == "cancelled"
    blocked = {1, 2, 3, live["sent"], live["queued"]}
    assert {c: s for c, s in statuses(db).items() if c in blocked} == {c: ("finished", "blocked") for c in blocked}
    others = set(range(4, 13)) - blocked
    assert others and all(got[c] == ["e1", "e2"] for c in others)  # everyone else got the whole sequence
    assert {e["value"] for e in ok_json(ws, "blocklist", "list")} == {
        "ada@ex.com", "spam.example", "globex", str(live["sent"]), str(live["queued"])}


def test_add_list_remove_and_their_errors(tmp_path):
    ws, db, _ = build(tmp_path)
    assert ok_json(ws, "blocklist", "list") == []
    assert enginy(ws, "blocklist", "list").stdout.strip() == "the blocklist is empty"
    out = ok_json(ws, "blocklist", "add", "domain", "Spam.Example", "--reason", "spam trap")
    assert out == {**out, "kind": "domain", "value": "spam.example", "reason": "spam trap", "added": True,
                   "finished": 1}
    again = enginy(ws, "blocklist", "add", "domain", "spam.example")  # no confirmation, and twice is fine
    assert again.returncode == 0 and "already on the blocklist" in again.stdout
    assert ok_json(ws, "blocklist", "add", "contact", "5")["kind"] == "contact"
    assert ok_json(ws, "blocklist", "add", "company", " Globex ")["value"] == "globex"
    entries = ok_json(ws, "blocklist", "list")
    assert [(e["kind"], e["value"], e["reason"]) for e in entries] == [
        ("domain", "spam.example", "spam trap"), ("contact", "5", "added by you"), ("company", "globex", "added by you")]
    assert [e["value"] for e in ok_json(ws, "blocklist", "list", "--kind", "contact")] == ["5"]
    text = enginy(ws, "blocklist", "list").stdout
    assert "spam.example" in text and "spam trap" in text and len(text.strip().splitlines()) == 3

    assert "unknown kind 'phone'" in fails(ws, "blocklist", "add", "phone", "1")
    assert "not an email address" in fails(ws, "blocklist", "add", "email", "nope")
    assert "not a domain" in fails(ws, "blocklist", "add", "domain", "localhost")
    assert "no contact with id 99" in fails(ws, "blocklist", "add", "contact", "99")
    assert "by its id" in fails(ws, "blocklist", "add", "contact", "Ada")
    assert "unknown kind" in fails(ws, "blocklist", "list", "--kind", "phones")

    removed = ok_json(ws, "blocklist", "remove", "domain", "@SPAM.example")
    assert removed == {"kind": "domain", "value": "spam.example", "removed": True}
    assert "domain spam.example is not on the blocklist" in fails(ws, "blocklist", "remove", "domain", "spam.example")
    assert [e["kind"] for e in json.loads(enginy(ws, "blocklist", "list", "--json").stdout)] == ["contact", "company"]
    # a removed entry no longer keeps the contact out of a campaign (its finished lead stays finished)
    assert statuses(db)[2] == ("finished", "blocked")
