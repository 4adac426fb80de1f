"""One campaign never stops the others, and no sequence a user can write stops the runtime.

Through the real parts: the command line refuses out-of-range values where they
enter; a campaign whose stored sequence is poisoned anyway (a row written around
the validator) errors its own leads with System error while a healthy campaign
beside it sends; and hypothesis throws random, hostile sequences at the path
`campaigns create --sequence` takes and then at the runtime on a MockClock.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from runtime.checker import check
from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from sequences.limits import MAX_DELAY_DAYS
from sequences.model import ConnectionRequest, Delay, Sequence, VisitProfile, to_json
from sequences.statuses import LeadStatus, Substatus
from storage.campaigns import CampaignError, launch_campaign, parse_sequence
from storage.db import open_db, transaction
from storage.leads import decode_state
from tests.support.campaign_workspace import fails, ok_json
from tests.support.seed import ACTOR, contacts, draft_campaign, running_campaign, sandbox_identity
from tests.test_runtime_actors import MON, QUIET

HEALTHY = Sequence(start="visit", nodes=[VisitProfile(id="visit", next="invite"),
                                         ConnectionRequest(id="invite", note="hi {first_name}")])


def two_campaigns(folder: Path, leads: int = 3):
    """Identity Ana (sandbox LinkedIn and inbox, 09-18 Madrid); leads 1..n in the healthy
    campaign #1, n+1..2n waiting for the second campaign the test makes."""
    db = open_db(folder / "ws.db")
    sandbox_identity(db, "Ana", now=MON, email="ana@sandbox.invalid", timezone="Europe/Madrid",
                     working_days="mon,tue,wed,thu,fri", work_start="09:00", work_end="18:00")
    contacts(db, [{"first_name": f"Lead{i}", "company": "Acme", "linkedin_url": f"https://www.linkedin.com/in/l{i}",
                   "linkedin_id": f"ACo{i}", "email": f"l{i}@example.com"} for i in range(1, 2 * leads + 1)], now=MON)
    running_campaign(db, identity=1, sequence=HEALTHY, name="Healthy", contact_ids=list(range(1, leads + 1)), now=MON)
    return db, list(range(leads + 1, 2 * leads + 1))


def run_days(db, days: float = 2) -> Runtime:
    rt = Runtime(db, world=SandboxWorld(5, profile=QUIET), poll_interval=600.0)
    trio.run(lambda: rt.run(epoch=MON, until=MON + timedelta(days=days)),
             clock=trio.testing.MockClock(autojump_threshold=0))
    return rt


def leads_of(db, campaign_id: int) -> list[tuple[str, str | None]]:
    return [(r[0], r[1]) for r in db.execute(
        "SELECT status, substatus FROM enrollments WHERE campaign_id = ? ORDER BY id", [campaign_id])]


def sent_by(db, campaign_id: int) -> int:
    return db.execute("SELECT COUNT(*) FROM outbox WHERE campaign_id = ? AND state = 'sent'", [campaign_id]).fetchone()[0]


def assert_legal(db) -> None:
    """Every lead in a status of the vocabulary, with a substatus of that status (Error always has one),
    and the runtime's own checker finds nothing (caps, hours, leads waiting without a reason)."""
    for status, substatus in db.execute("SELECT status, substatus FROM enrollments"):
        LeadStatus(status)
        if status == "error":
            assert substatus is not None and Substatus(substatus).status is LeadStatus.ERROR
        elif substatus is not None:
            assert Substatus(substatus).status.value == status, (status, substatus)
    assert check(db, start=MON, end=MON + timedelta(days=2))["violations"] == []


# --- refused where it enters ------------------------------------------------------


@pytest.mark.parametrize("delay, said", [
    ({"days": 10**12}, "a delay can be at most 365 days"),
    ({"hours": 10**11}, "a delay can be at most 365 days"),
    ({"days": 365, "hours": 1}, "a delay can be at most 365 days"),
    ({"days": -1}, "a delay cannot be negative"),
    ({"days": 2**70}, "a delay can be at most 365 days"),
    ({"days": "soon"}, "is not a valid sequence: Expected `int`, got `str`"),
])
def test_an_out_of_range_delay_is_refused_by_create_in_one_line(ws, tmp_path, delay, said):
    ok_json(ws, "identity", "add", "Ada", "--sandbox")
    path = tmp_path / "seq.json"
    path.write_text(json.dumps({"start": "a", "nodes": [
        {"kind": "visit_profile", "id": "a", "next": "b"},
        {"kind": "connection_request", "id": "b", "delay": delay}]}))
    line = fails(ws, "campaigns", "create", "--identity", "Ada", "--sequence", str(path))
    assert said in line
    assert ok_json(ws, "campaigns", "list") == []


def test_the_longest_delay_is_accepted_and_the_editor_refuses_one_day_more(ws):
    ok_json(ws, "identity", "add", "Ada", "--sandbox")
    ok_json(ws, "campaigns", "create", "--template", "LinkedIn Only (New)", "--identity", "Ada", "--name", "D")
    command = '{"command": "set_delay", "node": "visit", "delay": {"days": %d}}'
    ok_json(ws, "campaigns", "edit", "D", "--command", command % MAX_DELAY_DAYS)
    line = fails(ws, "campaigns", "edit", "D", "--command", command % (MAX_DELAY_DAYS + 1))
    assert "a delay can be at most 365 days" in line


def test_too_many_steps_and_huge_texts_are_refused():
    nodes = [{"kind": "visit_profile", "id": f"n{i}", "next": f"n{i + 1}" if i < 300 else None} for i in range(301)]
    with pytest.raises(CampaignError, match="at most 200 steps"):
        parse_sequence(json.dumps({"start": "n0", "nodes": nodes}))
    huge = {"start": "e", "nodes": [{"kind": "email", "id": "e", "subject": "s" * 5000, "body": "hi"}]}
    with pytest.raises(CampaignError, match="subject has 5,000 characters; at most 998"):
        parse_sequence(json.dumps(huge))


# --- one campaign never stops the others ---------------------------------------------


def test_a_poisoned_campaign_errors_its_own_leads_and_the_healthy_one_sends(tmp_path, caplog):
    db, theirs = two_campaigns(tmp_path)
    bad = draft_campaign(db, identity=1, sequence=HEALTHY, name="Poisoned", contact_ids=theirs, now=MON)
    launch_campaign(db, bad, now=MON, actor=ACTOR)
    poisoned = Sequence(start="visit", nodes=[VisitProfile(id="visit", next="invite"),
                                              ConnectionRequest(id="invite", delay=Delay(days=10**12))])
    with transaction(db):  # around the validator, as an old version or a hand edit could have written it
        db.execute("UPDATE campaigns SET sequence = ? WHERE id = ?", [to_json(poisoned).decode(), bad])
    with caplog.at_level(logging.WARNING, logger="enginy"):
        run_days(db)
    assert sent_by(db, 1) == 6  # three visits, three invitations
    assert leads_of(db, 1) == [("finished", "no_response")] * 3
    assert leads_of(db, bad) == [("error", "system_error")] * 3
    assert sent_by(db, bad) == 3  # the visits went out; the invitation's date cannot exist
    said = [r for r in caplog.records if f"campaign {bad}" in r.getMessage()]
    assert len(said) == 1 and "OverflowError" in said[0].getMessage() and not said[0].exc_info
    state = decode_state(db.execute("SELECT state FROM enrollments WHERE campaign_id = ? LIMIT 1", [bad]).fetchone()[0])
    assert state.error_detail.startswith("the sequence could not run: OverflowError")
    assert_legal(db)


def test_a_campaign_whose_sequence_cannot_be_read_errors_its_leads_once(tmp_path, caplog):
    db, theirs = two_campaigns(tmp_path)
    bad = draft_campaign(db, identity=1, sequence=HEALTHY, name="Unreadable", contact_ids=theirs, now=MON)
    launch_campaign(db, bad, now=MON, actor=ACTOR)
    with transaction(db):
        db.execute("UPDATE campaigns SET sequence = ? WHERE id = ?", ['{"start": "a", "nodes": [{"kind": "fax"}]}', bad])
    with caplog.at_level(logging.WARNING, logger="enginy"):
        rt = run_days(db)
    assert sent_by(db, 1) == 6 and sent_by(db, bad) == 0
    assert leads_of(db, bad) == [("error", "system_error")] * 3
    said = [r for r in caplog.records if f"campaign {bad}" in r.getMessage()]
    assert len(said) == 1 and "stopped" in said[0].getMessage()
    assert bad in rt.supervisor.failed and bad not in rt.supervisor.campaigns
    assert_legal(db)


# --- fuzz: random sequences through the command line's path, then the runtime ----------

_HOSTILE_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from("ab {}_\n\x1b\x07\x9b\u202e\x00é"), max_size=30),
    st.text(alphabet=st.sampled_from("ab \n\x1b\x07\x9b\u202e\x00é"), min_size=1, max_size=30),
    st.sampled_from(["{first_name}", "{nope}", "{custom.x}", "\x1b]52;c;aGk=\x07", "x" * 2000, "{" * 50, ""]),
)
_HOSTILE_NUMBER = st.sampled_from([-1, 364, 365, 366, 8760, 8761, 10**11, 10**12, 2**63, 2**64])
#: mostly small numbers, so that a good share of the sequences passes validation and really runs
_NUMBER = st.one_of(*[st.integers(0, 3)] * 6, _HOSTILE_NUMBER)


@st.composite
def hostile_sequences(draw) -> bytes:
    """A chain of 1-5 random steps (conditions branch on yes, end on no) as JSON, with hostile
    delays, counts and texts; sometimes a dangling pointer or an unknown field."""
    kinds = draw(st.lists(st.sampled_from([
        "visit_profile", "connection_request", "linkedin_message", "email", "task", "accepted_connection",
        "has_been_contacted", "custom", "inmail"]), min_size=1, max_size=5))
    nodes = []
    for i, kind in enumerate(kinds):
        nxt = f"n{i + 1}" if i + 1 < len(kinds) else None
        node = {"kind": kind, "id": f"n{i}", "delay": {"days": draw(_NUMBER), "hours": draw(_NUMBER)}}
        if kind in ("accepted_connection", "has_been_contacted", "custom"):
            node["yes"] = nxt
        else:
            node["next"] = nxt
        if kind == "connection_request":
            node["note"] = draw(_HOSTILE_TEXT)
        elif kind == "linkedin_message":
            node["chunks"] = draw(st.lists(_HOSTILE_TEXT, max_size=3))
        elif kind in ("email", "inmail"):
            node["subject"], node["body"] = draw(_HOSTILE_TEXT), draw(_HOSTILE_TEXT)
        elif kind == "task":
            node["title"] = draw(_HOSTILE_TEXT)
        elif kind in ("accepted_connection", "has_been_contacted"):
            node["within_days"] = draw(_NUMBER)
        elif kind == "custom":
            node.update(field=draw(_HOSTILE_TEXT), operator="greater_than", value=draw(_HOSTILE_TEXT))
        nodes.append(node)
    return json.dumps({"start": "n0", "nodes": nodes}).encode()


def _run_with(sequence_json: bytes, *, validated: bool) -> None:
    """Healthy campaign #1 plus campaign #2 from `sequence_json`: created as `campaigns create
    --sequence` creates it (`validated`), or written into its row around the validator."""
    with tempfile.TemporaryDirectory() as folder:
        db, theirs = two_campaigns(Path(folder), leads=2)
        if validated:
            try:
                seq = parse_sequence(sequence_json)
                cid = draft_campaign(db, identity=1, sequence=seq, name="Fuzzed", contact_ids=theirs, now=MON)
                launch_campaign(db, cid, now=MON, actor=ACTOR)
            except CampaignError as refused:
                assert str(refused) and "\n" not in str(refused)  # one clear line
                event("refused at create or launch")
                return
        else:
            cid = draft_campaign(db, identity=1, sequence=HEALTHY, name="Fuzzed", contact_ids=theirs, now=MON)
            launch_campaign(db, cid, now=MON, actor=ACTOR)
            with transaction(db):
                db.execute("UPDATE campaigns SET sequence = ? WHERE id = ?", [sequence_json.decode(), cid])
        run_days(db)
        assert sent_by(db, 1) == 4, "the healthy campaign must progress whatever its neighbour does"
        assert_legal(db)
        errored = db.execute("SELECT COUNT(*) FROM enrollments WHERE campaign_id = ? AND substatus = 'system_error'",
                             [cid]).fetchone()[0]
        event("ran; its leads hit System error" if errored else "ran")


#: CI runs a few dozen examples; `ENGINY_FUZZ_EXAMPLES=2000 pytest tests/test_reliability_sequences.py -k any_`
#: is the long run (docs/reliability.md has its figures).
EXAMPLES = int(os.environ.get("ENGINY_FUZZ_EXAMPLES", "25"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(hostile_sequences())
def test_any_sequence_create_accepts_runs_without_stopping_the_runtime(sequence_json):
    _run_with(sequence_json, validated=True)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(hostile_sequences())
def test_any_stored_sequence_even_unvalidated_never_stops_the_runtime(sequence_json):
    _run_with(sequence_json, validated=False)


def test_one_person_in_two_campaigns_of_one_identity_does_not_stop_the_runtime(tmp_path):
    """Both campaigns invite the same people; LinkedIn holds one invitation per person, which the
    poller used to link to both rows — a UNIQUE violation that stopped the runtime (and forecast)."""
    db, _ = two_campaigns(tmp_path)
    running_campaign(db, identity=1, sequence=HEALTHY, name="Same people", contact_ids=[1, 2, 3], now=MON)
    rt = Runtime(db, world=SandboxWorld(5), poll_interval=600.0)
    trio.run(lambda: rt.run(epoch=MON, until=MON + timedelta(days=3)), clock=trio.testing.MockClock(autojump_threshold=0))
    assert sent_by(db, 1) >= 3 and sent_by(db, 2) >= 3
    linked = db.execute("SELECT COUNT(*) FROM linkedin_invitations WHERE invitation_id IS NOT NULL").fetchone()[0]
    assert linked >= 3
    assert_legal(db)
