"""The gateway LinkedIn driver end to end through the real runtime, against the contract server.

A gateway identity (created through storage.identities, its API key in the
secret store) runs a built-in LinkedIn template campaign in `Runtime` — the
supervisor, campaign and identity actors and the LinkedIn poller — and every
assertion is on what a user or LinkedIn would see: lead statuses in the
workspace and the contract server's own record of requests.

Clock: Trio's MockClock with autojump, held during each driver call
(`Frozen`) except the driver's own sleeps. The driver runs requests in
worker threads with real socket timeouts; on a plain autojump clock every
task looks blocked while a loopback answer is on its way, so the clock leaps
timer after timer (supervisor ticks, poller checks) — hours of workspace time
between the claim and the answer, a different number on every run. Holding
the jump makes workspace time move only by timers, so runs are repeatable;
real-second socket timeouts still fire, and backoff / chunk pauses stay
simulated.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta

import pytest
import trio
import trio.testing

from runtime.channels.linkedin.gateway import GatewayDriver
from runtime.channels.linkedin.http import normalize_base_url
from runtime.drivers import linkedin_for
from runtime.engine import Runtime
from runtime.secrets import SecretStore, linkedin_secret_name
from storage import identities, lead_intents
from storage.audience import add_contacts
from storage.campaigns import create_campaign, launch_campaign
from storage.workspace import init_workspace, open_workspace
from tests.support.linkedin_fixtures import *  # noqa: F401,F403
from tests.support.linkedin_fixtures import ACCOUNT, API_KEY, EPOCH, TEST_POLICY, NowTransport
from tests.support.seed import contacts

DAY = timedelta(days=1)


class Frozen:
    """The driver, with autojump held for the length of each call except the driver's own sleeps.

    A call's only blocking points are worker-thread requests and the driver's
    `sleep` (backoff, the pause between chunks). Holding the jump during the
    requests means workspace time moves only by timers, never by how fast a
    thread answered; the injected `sleep` lets the jump through again."""

    def __init__(self, clock: trio.testing.MockClock) -> None:
        self.clock, self.held, self.driver = clock, 0, None

    def _hold(self, delta: int) -> None:
        self.held += delta
        self.clock.autojump_threshold = math.inf if self.held else 0

    async def sleep(self, seconds: float) -> None:
        self._hold(-1)
        try:
            await trio.sleep(seconds)
        finally:
            self._hold(+1)

    def __getattr__(self, name):
        method = getattr(self.driver, name)

        async def call(*args, **kwargs):
            self._hold(+1)
            try:
                return await method(*args, **kwargs)
            finally:
                self._hold(-1)
        return call


_to_thread = trio.to_thread.run_sync
_threads = {"running": 0}
_lock = threading.Lock()


async def _counted_to_thread(fn, *args, **kwargs):
    """trio.to_thread.run_sync, counting threads until they really end (a cancelled call abandons its
    thread, which may still reach the server)."""
    def counted(*a):
        try:
            return fn(*a)
        finally:
            with _lock:
                _threads["running"] -= 1
    with _lock:
        _threads["running"] += 1
    return await _to_thread(counted, *args, **kwargs)


async def settled() -> None:
    """Wait until no request thread is left, so none can stamp the next test's gateway clock."""
    while _threads["running"]:
        await _to_thread(time.sleep, 0.01)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(trio.to_thread, "run_sync", _counted_to_thread)
    return trio.testing.MockClock(autojump_threshold=0)


def workspace(tmp_path, gw, *, leads: int, per_day: int = 20, template: str = "LinkedIn Only (New)", **ident):
    ws = init_workspace(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text().replace('backend = "keyring"', 'backend = "file"'))
    ws = open_workspace(ws.dir)  # headless: no keyring, the 0600 file backend chosen explicitly
    db = ws.open_db()
    iid = identities.create_identity(db, "Ida", now=EPOCH, actor="test", timezone="UTC",
                                     daily_connection_limit=per_day, **ident)
    SecretStore.of(ws).save(linkedin_secret_name(iid), API_KEY)
    db.execute("UPDATE identities SET linkedin_driver = 'gateway', linkedin_connected = 1, linkedin_account_id = ?,"
               " gateway_url = ? WHERE id = ?", [ACCOUNT, normalize_base_url(gw.url), iid])
    contacts(db, [{"first_name": f"Lead{i}", "last_name": "Test", "company": "Acme",
                   "linkedin_url": f"https://www.linkedin.com/in/lead-{i}", "linkedin_id": f"ACoM{i}"}
                  for i in range(1, leads + 1)], now=EPOCH)
    cid = create_campaign(db, identity=iid, now=EPOCH, actor="test", template=template, name="LI")
    add_contacts(db, cid, list(range(1, leads + 1)), now=EPOCH, actor="test")
    launch_campaign(db, cid, now=EPOCH, actor="test")
    return ws.dir, db, iid, cid


def runtime(ws_dir, db, clock) -> Runtime:
    """The runtime with the production driver wiring (key from the secret store), plus the test transport."""
    holder: dict = {}

    def factory(identity: dict):
        key = SecretStore.of(open_workspace(ws_dir)).load(linkedin_secret_name(identity["id"]))
        now = holder["rt"].clock.now
        frozen = Frozen(clock)
        frozen.driver = GatewayDriver(identity["gateway_url"], key, identity["linkedin_account_id"],
                                      policy=TEST_POLICY, transport=NowTransport(now), now=now, sleep=frozen.sleep)
        return frozen

    rt = holder["rt"] = Runtime(db, workspace=str(ws_dir), poll_interval=60.0, linkedin_factory=factory)
    return rt


def leads(db, cid) -> dict[int, tuple[str, str | None]]:
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT contact_id, status, substatus FROM enrollments WHERE campaign_id = ? ORDER BY contact_id", [cid])}


def at(r: dict) -> datetime:
    return datetime.fromisoformat(r["at"])


def ok(reqs: list[dict]) -> list[dict]:
    return [r for r in reqs if str(r.get("outcome", "")).startswith("2")]


def assert_caps(gw, per_day: int) -> None:
    """The server's record: invitations per day, visit spacing, evaluations per 30 minutes, nothing doubled."""
    invites = ok(gw.requests("POST", ".*/users/invite"))
    days: dict = {}
    for r in invites:
        days[at(r).date()] = days.get(at(r).date(), 0) + 1
    assert invites and max(days.values()) <= per_day, days
    visits = sorted(at(r) for r in gw.requests("GET", r".*/users/[^/]+") if r["query"].get("notify") == "true")
    assert all(b - a >= timedelta(minutes=4) for a, b in zip(visits, visits[1:])), visits
    evals = sorted(at(r) for r in gw.requests("GET", ".*/users/(relations|invite/sent)"))
    assert all(sum(1 for u in evals if t <= u < t + timedelta(minutes=30)) <= 5 for t in evals)
    sent = [r["body"]["provider_id"] for r in invites]
    pending_twice = [p for p in set(sent) if sent.count(p) > 1]
    assert pending_twice == [] or all(ok(gw.requests("DELETE", ".*/users/invite/sent/.*"))), pending_twice


def our_messages(gw) -> dict[str, list[str]]:
    chats = gw.state()["accounts"][ACCOUNT]["chats"].values()
    return {c["attendee_provider_id"]: [m["text"] for m in c["messages"] if m["is_sender"]] for c in chats}


async def run(rt: Runtime, days: float, start: datetime = EPOCH) -> None:
    with trio.fail_after(10 * 86400 * days):
        await rt.run(epoch=start, until=start + days * DAY)
    await settled()


# --------------------------------------------------------------------------


def test_production_wiring_builds_a_gateway_driver(tmp_path, gateway):
    """drivers.linkedin_for (what `enginy run` uses) finds the key in the secret store."""
    ws_dir, db, iid, _ = workspace(tmp_path, gateway, leads=1)

    class Rt:
        world, workspace = None, str(ws_dir)

        class clock:
            now = staticmethod(lambda: EPOCH)

    ident = identities.get_identity(db, iid)
    assert isinstance(linkedin_for(Rt, ident), GatewayDriver)
    assert API_KEY not in db.execute("SELECT group_concat(gateway_url || linkedin_account_id) FROM identities"
                                     ).fetchone()[0]


@pytest.mark.trio
async def test_template_campaign_through_the_runtime(tmp_path, gateway, clock):
    """Invited → accepted after N polls → messages → reply stops the lead; the others end Not connected."""
    gateway.control("member", {"provider_id": "ACoM1", "accept_after_polls": 2,
                               "reply": {"text": "Sure, let's talk", "after_polls": 0}})
    gateway.control("member", {"provider_id": "ACoM2", "accept_after_polls": 3})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=4, per_day=2)
    # lead 3 wrote to the identity before the campaign: an old conversation, not a reply
    gateway.control("inbound", {"account_id": ACCOUNT, "provider_id": "ACoM3", "text": "old thread"})
    await run(runtime(ws_dir, db, clock), 24)

    st = leads(db, cid)
    assert st[1][0] == "replied", st
    assert st[2][0] == "finished" and st[2][1] != "not_connected", st
    assert st[3] == ("finished", "not_connected") and st[4] == ("finished", "not_connected"), st
    msgs = our_messages(gateway)
    # lead 2 got both steps once each (2 chunks, then 1); lead 1 replied after the first message: no second
    assert len(msgs["ACoM2"]) == 3 and len(set(msgs["ACoM2"])) == 3, msgs
    assert len(msgs["ACoM1"]) == 2, msgs
    assert not msgs.get("ACoM3") and not msgs.get("ACoM4")  # never accepted: never written to
    invited = sorted(r["body"]["provider_id"] for r in ok(gateway.requests("POST", ".*/users/invite")))
    assert invited == ["ACoM1", "ACoM2", "ACoM3", "ACoM4"]
    assert_caps(gateway, per_day=2)
    ledger = db.execute("SELECT COUNT(*) FROM action_ledger WHERE bucket = 'connection_evaluation'").fetchone()[0]
    # every evaluation the server saw was counted first (one more when the run stopped mid-round)
    assert ledger >= len(gateway.requests("GET", ".*/users/(relations|invite/sent)")) >= ledger - 1


@pytest.mark.trio
async def test_auto_withdrawal_and_reinvite_after_three_weeks(tmp_path, gateway, clock):
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1, withdraw_enabled=True, withdraw_after_days=3)
    await run(runtime(ws_dir, db, clock), 12)
    deletes = ok(gateway.requests("DELETE", ".*/users/invite/sent/.*"))
    assert len(deletes) == 1
    assert leads(db, cid)[1] == ("in_progress", "connection_withdrawn")
    first = ok(gateway.requests("POST", ".*/users/invite"))[0]
    assert at(deletes[0]) - at(first) >= timedelta(days=3)
    kinds = [r[0] for r in db.execute("SELECT kind FROM activity WHERE enrollment_id IS NOT NULL ORDER BY id")]
    assert "linkedin_invite_withdrawn" in kinds
    await run(runtime(ws_dir, db, clock), 20, start=EPOCH + 12 * DAY)
    invites = ok(gateway.requests("POST", ".*/users/invite"))
    assert len(invites) == 2
    assert at(invites[1]) - at(deletes[0]) >= timedelta(weeks=3)
    assert not [r for r in gateway.requests("POST", ".*/users/invite") if "cannot_resend" in str(r.get("outcome"))]


@pytest.mark.trio
async def test_rate_limit_keeps_the_job_and_waits_retry_after(tmp_path, gateway, clock):
    gateway.script({"method": "POST", "path": ".*/users/invite", "respond": {
        "status": 429, "headers": {"Retry-After": "900"},
        "body": {"status": 429, "type": "errors/too_many_requests", "title": "slow down"}}})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1)
    await run(runtime(ws_dir, db, clock), 1)
    posts = gateway.requests("POST", ".*/users/invite")
    assert [str(r["outcome"])[:3] for r in posts] == ["scr", "201"]
    assert at(posts[1]) - at(posts[0]) >= timedelta(seconds=900)
    assert leads(db, cid)[1][0] == "in_progress"


@pytest.mark.trio
async def test_disconnected_then_reconnected_and_retried(tmp_path, gateway, clock):
    gateway.control("account", {"account_id": ACCOUNT, "status": "DISCONNECTED"})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1)
    await run(runtime(ws_dir, db, clock), 1)
    assert leads(db, cid)[1] == ("error", "linkedin_disconnected")
    assert identities.get_identity(db, iid)["linkedin_connected"] in (0, False)
    # the user reconnects (what `enginy linkedin connect` writes) and retries the lead
    gateway.control("account", {"account_id": ACCOUNT, "status": "OK"})
    db.execute("UPDATE identities SET linkedin_connected = 1, updated_at = ? WHERE id = ?",
               [(EPOCH + DAY).isoformat(), iid])
    lead_intents.retry_leads(db, cid, now=EPOCH + DAY, actor="test")
    await run(runtime(ws_dir, db, clock), 1, start=EPOCH + DAY)
    assert leads(db, cid)[1][0] == "in_progress"
    assert len(ok(gateway.requests("POST", ".*/users/invite"))) == 1


@pytest.mark.trio
async def test_restricted_account_pauses_the_linkedin_queue(tmp_path, gateway, clock):
    gateway.control("account", {"account_id": ACCOUNT, "status": "RESTRICTED"})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=2)
    await run(runtime(ws_dir, db, clock), 1)
    assert identities.get_identity(db, iid)["linkedin_queue_paused"] in (1, True)
    visits = r".*/users/(lead-\d|ACoM\d)"
    assert len(gateway.requests("GET", visits)) == 1  # one try, then the queue stops
    assert {s for s, _ in leads(db, cid).values()} == {"in_progress"}
    assert db.execute("SELECT state FROM outbox WHERE action = 'visit_profile' ORDER BY id").fetchone()[0] == "queued"
    told = db.execute("SELECT detail FROM activity WHERE kind = 'identity_edited' AND actor = 'runtime'").fetchall()
    assert len(told) == 1 and "linkedin_queue_paused" in told[0][0] and "restricted" in told[0][0]
    # a restart does not poke the restricted account again (nor does the poller)
    before = len(gateway.requests())
    await run(runtime(ws_dir, db, clock), 2, start=EPOCH + DAY)
    assert len(gateway.requests()) == before


@pytest.mark.trio
async def test_gateway_down_retries_with_backoff_then_system_error(tmp_path, gateway, clock):
    gateway.script({"method": "POST", "path": ".*/users/invite", "times": 999, "respond": {
        "status": 503, "body": {"status": 503, "type": "errors/provider_error", "title": "down"}}})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1)
    await run(runtime(ws_dir, db, clock), 2)
    assert leads(db, cid)[1] == ("error", "system_error")
    posts = [at(r) for r in gateway.requests("POST", ".*/users/invite")]
    assert posts and not ok(gateway.requests("POST", ".*/users/invite"))
    # each burst: the driver's attempts (look-up before each resend); between bursts the runtime
    # waits 5, 10, 20, 40, 80 minutes; after the 6th burst the lead goes to Error
    waits = [b - a for a, b in zip(posts, posts[1:]) if b - a >= timedelta(minutes=1)]
    assert waits == [timedelta(minutes=5 * 2 ** i) for i in range(5)], waits
    assert len(posts) == 6 * TEST_POLICY.attempts
    assert db.execute("SELECT state FROM outbox WHERE action = 'connection_request'").fetchone()[0] == "failed"


@pytest.mark.trio
async def test_a_visit_failing_on_a_down_gateway_is_retried_when_its_retry_falls_due(tmp_path, gateway, clock):
    """The lead's retry time comes from the identity actor's failure path; the campaign actor,
    asleep with nothing else due, must be told, or the retry waits for an unrelated wake-up."""
    gateway.script({"method": "GET", "path": r".*/users/ACoM1", "times": TEST_POLICY.attempts,
                    "respond": {"status": 500}})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1, template="LinkedIn Social Warming")
    await run(runtime(ws_dir, db, clock), 1)
    visits = [r for r in gateway.requests("GET", r".*/users/ACoM1") if r["query"].get("notify") == "true"]
    failed, retried = visits[:TEST_POLICY.attempts], visits[TEST_POLICY.attempts:]
    assert all(not ok([r]) for r in failed) and retried and ok(retried[:1]), visits
    assert at(retried[0]) - at(failed[-1]) >= timedelta(minutes=30)  # the runtime's wait for a down gateway
    assert at(retried[0]) - at(failed[-1]) < timedelta(minutes=40)  # … and no longer


@pytest.mark.trio
async def test_killed_mid_invite_is_resumed_without_a_second_invitation(tmp_path, gateway, clock):
    """The runtime is cancelled while the invitation is in flight (the gateway applies it, its answer
    is slow); on restart the outbox row's outcome is unknown, the driver looks it up: one invitation."""
    gateway.script({"method": "POST", "path": ".*/users/invite", "after": {"delay": 1.0}})
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1)
    rt = runtime(ws_dir, db, clock)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run, rt, 5)
        for _ in range(2000):
            if gateway.requests("POST", ".*/users/invite"):
                break
            await trio.to_thread.run_sync(time.sleep, 0.01)
        nursery.cancel_scope.cancel()
    assert db.execute("SELECT state FROM outbox WHERE action = 'connection_request'").fetchone()[0] in (
        "claimed", "sending")
    await settled()  # the abandoned request completes on the server; its answer is never read
    assert len(gateway.state()["accounts"][ACCOUNT]["invitations"]) == 1
    await run(runtime(ws_dir, db, clock), 1, start=EPOCH + DAY)
    assert len(gateway.requests("POST", ".*/users/invite")) == 1
    row = db.execute("SELECT state FROM outbox WHERE action = 'connection_request'").fetchone()
    assert row[0] == "sent"
    assert leads(db, cid)[1][0] == "in_progress"


@pytest.mark.trio
async def test_an_invitation_to_a_contact_known_by_url_only_is_withdrawn_and_reinvited(tmp_path, gateway, clock):
    """The contact has a profile URL and no provider id: the invitation is recorded under the
    member the gateway names, so the pending list matches it, the automatic withdrawal takes it
    and the lead is invited again after the cooldown (it used to wait forever under its URL)."""
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=1, withdraw_enabled=True, withdraw_after_days=3)
    db.execute("UPDATE contacts SET linkedin_id = NULL")
    await run(runtime(ws_dir, db, clock), 12)
    deletes = ok(gateway.requests("DELETE", ".*/users/invite/sent/.*"))
    assert len(deletes) == 1
    assert leads(db, cid)[1] == ("in_progress", "connection_withdrawn")
    await run(runtime(ws_dir, db, clock), 20, start=EPOCH + 12 * DAY)
    invites = ok(gateway.requests("POST", ".*/users/invite"))
    assert len(invites) == 2
    assert at(invites[1]) - at(deletes[0]) >= timedelta(weeks=3)


@pytest.mark.trio
async def test_linkedins_own_weekly_cap_is_named_as_the_wait(tmp_path, gateway, clock):
    """The gateway refuses invitations for the week (a cap no ledger here counts): the waiting leads
    say Identity limits naming LinkedIn's own limit, and until when — not "Outside working hours"."""
    ws_dir, db, iid, cid = workspace(tmp_path, gateway, leads=3, working_days="mon,tue,wed,thu,fri,sat,sun",
                                     work_start="00:00", work_end="23:59")
    gateway.control("account", {"account_id": ACCOUNT, "weekly_invite_limit": 1})
    await run(runtime(ws_dir, db, clock), 0.5)
    assert len(ok(gateway.requests("POST", ".*/users/invite"))) == 1
    waiting = db.execute("SELECT substatus, wait_cap, wait_until FROM enrollments WHERE campaign_id = ?"
                         " AND status = 'in_progress' AND substatus = 'identity_limits'", [cid]).fetchall()
    assert len(waiting) == 2, leads(db, cid)
    assert all("LinkedIn's own limit" in cap and until for _, cap, until in waiting), waiting
