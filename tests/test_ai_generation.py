"""AI variables end to end: the runtime generates them over real HTTP (tests/support/ai_server.py),
stores them once per lead and step, sends them, and turns failures into lead errors.

The campaign runs on an autojump clock against the sandbox world and a real SQLite file. A
request to the AI server runs in a worker thread on real sockets; while one is in flight the
test keeps the simulated clock from jumping ahead (`hold_clock`), as a real clock would wait.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
import trio

from runtime.ai.client import AIClient, Endpoint
from runtime.ai.generate import messages_for
from runtime.engine import Runtime
from runtime.sandbox.world import Profile, SandboxWorld
from sequences.model import Email, Sequence
from sequences.render import PREVIEW_LEAD
from sequences.statuses import LeadStatus, Substatus
from sequences.step import AIFailed, Due, LeadFacts, Retry, State, Start, step
from storage.ai_variables import sample_values, set_prompt, values_of
from storage.campaigns import Settings
from storage.db import open_db
from storage.lead_intents import retry_leads
from tests.support.ai_server import start_ai_server
from tests.support.seed import contacts, running_campaign, sandbox_identity

MON = datetime(2026, 3, 23, 8, 0, tzinfo=timezone.utc)  # Monday 10:00 in Madrid
QUIET = Profile(accept=0.0, linkedin_reply=0.0, email_reply=0.0, bounce=0.0, out_of_office=0.0,
                prior_conversation=0.0, transient_failure=0.0, latency_s=(0.0, 0.0))


def ai_email(body: str = "Hi {first_name}, {ai: opener}") -> Sequence:
    return Sequence(start="e1", nodes=[Email(id="e1", subject="Hello {first_name}", body=body)])


# --- the rule, pure -----------------------------------------------------------------------------


def test_a_step_waits_for_its_ai_values_then_renders_them():
    seq, lead = ai_email(), LeadFacts(first_name="Ana", email="ana@example.com")
    waiting = step(seq, State(), lead, Start(), MON)
    assert waiting.jobs == () and waiting.state.status is LeadStatus.IN_PROGRESS
    assert waiting.state.substatus is Substatus.GENERATING_AI and waiting.state.due_at <= MON  # still due
    ready = msgspec.structs.replace(lead, ai_values={"e1": {"opener": "Loved your talk."}})
    sent = step(seq, waiting.state, ready, Due(), MON)
    assert [j.payload.text for j in sent.jobs] == ["Hi Ana, Loved your talk."]


def test_an_ai_failure_is_an_error_that_a_retry_runs_again():
    seq, lead = ai_email(), LeadFacts(first_name="Ana", email="ana@example.com")
    waiting = step(seq, State(), lead, Start(), MON).state
    failed = step(seq, waiting, lead, AIFailed("e1", Substatus.AI_ERROR, "HTTP 500"), MON).state
    assert (failed.status, failed.substatus, failed.error_detail) == (LeadStatus.ERROR, Substatus.AI_ERROR, "HTTP 500")
    again = step(seq, failed, lead, Retry(), MON).state
    assert again.substatus is Substatus.GENERATING_AI
    late = step(seq, msgspec.structs.replace(waiting, substatus=Substatus.SCHEDULED), lead,
                AIFailed("e1", Substatus.AI_ERROR), MON).state
    assert late.status is LeadStatus.IN_PROGRESS  # a lead no longer waiting ignores a late failure


def test_the_prompt_carries_the_lead_and_the_campaign():
    chat = messages_for("opener", "One friendly sentence about their role.", ai_email().nodes[0],
                        LeadFacts(first_name="Zoë", company="Acme\nInc", custom={"city": "Lyon"}),
                        "We sell pipes.")
    assert "We sell pipes." in chat[0].content
    assert "Company: Acme Inc" in chat[1].content and "city: Lyon" in chat[1].content
    assert "One friendly sentence" in chat[1].content and "Zoë" in chat[1].content


# --- the runtime, over real HTTP ------------------------------------------------------------------


def congratulate(request: dict) -> str:
    """The AI server's answer: written from the company the prompt names."""
    prompt = request["json"]["messages"][-1]["content"]
    company = next((line.split(": ", 1)[1] for line in prompt.splitlines() if line.startswith("Company: ")), "?")
    return f"Congrats on {company}."


@pytest.fixture
def ai_server():
    server = start_ai_server(answer=congratulate)
    yield server
    server.stop()


class CountingClient(AIClient):
    """The real client, counting requests in flight so the test can hold the simulated clock."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self.in_flight = 0
        self._lock = threading.Lock()

    def ask_once(self, messages, *, max_output=None, on_text=None):
        with self._lock:
            self.in_flight += 1
        try:
            return super().ask_once(messages, max_output=max_output, on_text=on_text)
        finally:
            with self._lock:
                self.in_flight -= 1


async def hold_clock(client: CountingClient) -> None:
    """While a request is on the wire, stay runnable so the autojump clock does not leap over it
    (between requests, wake every simulated second to look)."""
    while True:
        if client.in_flight:
            await trio.lowlevel.checkpoint()
        else:
            await trio.sleep(1.0)


def workspace(tmp_path, *, campaigns: dict[str, Sequence], leads: int = 2, prompts: dict[str, str] | None = None):
    db = open_db(tmp_path / "ws.db")
    sandbox_identity(db, "Ana", now=MON, email="ana@sandbox.invalid", per_day=50, per_hour=10,
                     timezone="Europe/Madrid", working_days="mon,tue,wed,thu,fri", work_start="09:00", work_end="18:00")
    contacts(db, [{"first_name": f"Lead{i}", "company": f"Company{i}", "job_title": "CTO",
                   "email": f"l{i}@example.com"} for i in range(1, leads + 1)], now=MON)
    ids = {}
    for name, seq in campaigns.items():
        settings = Settings(ai_prompt="We sell observability.", ai_variables=dict(prompts or {}))
        ids[name] = running_campaign(db, identity=1, sequence=seq, name=name, now=MON, settings=settings,
                                     contact_ids=list(range(1, leads + 1)))
    return db, ids


async def run(db, client: CountingClient, start: datetime, hours: float = 1) -> None:
    rt = Runtime(db, world=SandboxWorld(1, profile=QUIET), poll_interval=600.0, ai_factory=lambda: client)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(hold_clock, client)
        await rt.run(epoch=start, until=start + timedelta(hours=hours))
        nursery.cancel_scope.cancel()


def client_for(server, **options) -> CountingClient:
    return CountingClient(Endpoint(server.url, "test-model", key=server.key, **options))


def leads(db) -> list[dict]:
    return list(db.query("SELECT id, contact_id, status, substatus, state FROM enrollments ORDER BY id"))


def sent_texts(db) -> list[str]:
    return [msgspec.json.decode(r["payload"])["text"]
            for r in db.query("SELECT payload FROM outbox WHERE state = 'sent' ORDER BY enrollment_id")]


@pytest.mark.trio
async def test_each_lead_gets_its_own_text_generated_once_from_its_data(tmp_path, autojump_clock, ai_server):
    db, _ = workspace(tmp_path, campaigns={"AI": ai_email()}, prompts={"opener": "One line about their company."})
    client = client_for(ai_server, max_retries=0)
    await run(db, client, MON)
    asked = ai_server.completions()
    assert len(asked) == 2  # one per lead and step
    users = sorted(r["json"]["messages"][1]["content"] for r in asked)
    assert "First name: Lead1" in users[0] and "Company: Company1" in users[0] and "One line about" in users[0]
    assert "Company: Company2" in users[1]
    assert all("We sell observability." in r["json"]["messages"][0]["content"] for r in asked)
    texts = sent_texts(db)
    assert texts == ["Hi Lead1, Congrats on Company1.", "Hi Lead2, Congrats on Company2."]
    stored = [values_of(db, lead["id"]) for lead in leads(db)]
    assert [v["e1"]["opener"] for v in stored] == [t.split(", ", 1)[1] for t in texts]
    assert {lead["status"] for lead in leads(db)} == {"finished"}
    sample_lead, sample = sample_values(db, 1, "e1")  # what the editor's preview shows
    assert sample == {"opener": f"Congrats on {sample_lead.company}."} and sample_lead.first_name.startswith("Lead")

    await run(db, client, MON + timedelta(hours=3))  # a restart asks nothing again
    assert len(ai_server.completions()) == 2


@pytest.mark.trio
async def test_a_500_is_a_retryable_error_and_the_retry_reuses_what_was_written(tmp_path, autojump_clock, ai_server):
    seq = ai_email("{ai: opener}\n\n{ai: closing}")
    db, ids = workspace(tmp_path, campaigns={"AI": seq}, leads=1,
                        prompts={"opener": "An opener.", "closing": "A closing line."})
    ai_server.script({"content": "Opening words."}, {"status": 500, "error": "overloaded", "times": 2})
    client = client_for(ai_server, max_retries=1)
    await run(db, client, MON)
    [lead] = leads(db)
    assert (lead["status"], lead["substatus"]) == ("error", Substatus.AI_ERROR.value)
    assert "HTTP 500" in msgspec.json.decode(lead["state"])["error_detail"]
    assert values_of(db, lead["id"]) == {"e1": {"opener": "Opening words."}}  # kept for the retry
    assert sent_texts(db) == []

    retry_leads(db, ids["AI"], now=MON + timedelta(hours=2), actor="test")
    ai_server.script({"content": "Best, Ana."})
    await run(db, client, MON + timedelta(hours=2))
    assert len(ai_server.completions()) == 4  # 1 + 2 failed attempts + the closing only
    assert sent_texts(db) == ["Opening words.\n\nBest, Ana."]
    assert leads(db)[0]["status"] == "finished"


@pytest.mark.trio
async def test_a_timeout_is_an_ai_error_too(tmp_path, autojump_clock, ai_server):
    db, _ = workspace(tmp_path, campaigns={"AI": ai_email()}, leads=1, prompts={"opener": "An opener."})
    ai_server.script({"delay": 1.0})
    await run(db, client_for(ai_server, max_retries=0, timeout=0.2), MON)
    [lead] = leads(db)
    assert (lead["status"], lead["substatus"]) == ("error", Substatus.AI_ERROR.value)
    assert "no answer" in msgspec.json.decode(lead["state"])["error_detail"]


@pytest.mark.trio
async def test_a_missing_prompt_or_provider_errors_the_lead_and_other_campaigns_send(tmp_path, autojump_clock,
                                                                                     ai_server):
    plain = Sequence(start="e1", nodes=[Email(id="e1", subject="Hi", body="Hello {first_name}")])
    db, ids = workspace(tmp_path, campaigns={"AI": ai_email(), "Plain": plain}, leads=2)
    await run(db, client_for(ai_server), MON)
    rows = {r["id"]: r for r in db.query("SELECT id, campaign_id, status, substatus FROM enrollments")}
    ai = [r for r in rows.values() if r["campaign_id"] == ids["AI"]]
    assert {(r["status"], r["substatus"]) for r in ai} == {("error", Substatus.MISSING_CAMPAIGN_PROMPT.value)}
    assert ai_server.completions() == []
    assert sorted(sent_texts(db)) == ["Hello Lead1", "Hello Lead2"]

    # the prompt added and the leads retried, with the AI endpoint failing: still only the AI campaign errs
    set_prompt(db, ids["AI"], "Opener", "An opener.", now=MON, actor="test")
    retry_leads(db, ids["AI"], now=MON + timedelta(hours=2), actor="test")
    ai_server.script({"status": 503, "error": "down", "times": 10})
    await run(db, client_for(ai_server, max_retries=0), MON + timedelta(hours=2))
    ai = list(db.query("SELECT status, substatus FROM enrollments WHERE campaign_id = ?", [ids["AI"]]))
    assert {(r["status"], r["substatus"]) for r in ai} == {("error", Substatus.AI_ERROR.value)}


def test_the_sample_lead_preview_says_what_is_generated_later():
    from sequences.render import render_pieces
    pieces = render_pieces("Hi {first_name}, {ai: opener}", PREVIEW_LEAD)
    assert pieces[-1] == ("{ai:opener}", "ai:opener")
