"""`enginy forecast`: the simulator started from the workspace's real state.

Why a copy and not a model: the runtime's own actors already know every rule
(caps, pacing, working hours, DST, queue order, delays, withdrawals), so the
honest forecast is to run them — on a copy. The workspace database is copied
with SQLite's backup API from a read-only connection (a live `enginy run`
may hold it; the copy is a consistent snapshot and the original is never
written), every identity and inbox of the copy is switched to the sandbox
drivers (nothing real can be contacted: the Runtime also gets no workspace,
so it has no secrets), and the runtime runs D days on an autojump MockClock
from the workspace's own time.

The sandbox world answers with the rates the workspace has observed where
there is enough data (`MIN_SAMPLE` leads), else with the world's defaults;
the report says which. Sends already made (outbox `sent`) are replayed into
the world so pending invitations can still be accepted, but the feed cursor
starts at the forecast's start: what the world would have done *before* now
is dropped — reality already decided that.

A campaign finishes when no lead of it is Not started or In progress any more
(paused and Error leads wait for the user, so they do not hold it open).

The bottleneck of a campaign is the cap of its identity, among the buckets
its sequence uses, with the highest done ÷ allowed over the forecast window
(done from the copy's action ledger, allowed from runtime/limits.py and the
identity's working hours). The capped buckets are weighed: invitations,
messages, profile visits and email (all of the identity's connected inboxes
together); reactions, InMail credits and the monthly conversation limit are
not.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time as _time
from datetime import datetime, timedelta
from pathlib import Path

import trio

from runtime import limits
from runtime.clock import run_simulated, wall_now
from runtime.engine import Runtime
from runtime.sandbox.feed import CURSOR
from runtime.sandbox.world import Profile, SandboxWorld
from storage.timeline import clock_position
from sequences.working_hours import WorkingHours
from sequences.model import bucket_of, from_json
from storage import forecast as store
from storage.activity import iso
from storage.activity_kinds import Milestone as M
from storage.db import open_scratch_db, transaction
from storage.identities import identities_by_id
from storage.runtime_state import set_state

MIN_SAMPLE = 20  # leads behind an observed rate before it replaces the world's default
CAPS = (limits.INVITE, limits.MESSAGE, limits.VISIT, limits.EMAIL)  # buckets with a daily cap
# (rate name, Profile field, milestone counted, out of leads with this milestone)
RATES = (("accept", "accept", M.LI_ACCEPTED, M.LI_INVITED),
         ("linkedin_reply", "linkedin_reply", M.LI_REPLIED, M.LI_CONTACTED),
         ("email_reply", "email_reply", M.EM_REPLIED, M.EM_SENT),
         ("bounce", "bounce", M.EM_BOUNCED, M.EM_SENT))


class NothingToForecast(Exception):
    """The workspace has no running (or scheduled) campaign."""


def observed_rates(db) -> dict[str, dict]:
    """Per-lead rates from the enrollments' milestone bits; defaults where the sample is small."""
    default = Profile()
    out = {}
    for name, field, hit, base in RATES:
        n, k = store.milestone_counts(db, int(base), int(hit))
        if n >= MIN_SAMPLE:
            out[field] = {"value": round(k / n, 4), "source": "observed", "sample": n}
        else:
            out[field] = {"value": getattr(default, field), "source": "default", "sample": n}
    return out


def _sandbox_only(db, start: datetime) -> None:
    """Point every channel of the copy at the sandbox world; drop what belonged to the real process."""
    with transaction(db):
        store.use_sandbox(db)
        # world events at or before `start` are skipped: reality already decided them
        set_state(db, CURSOR, f"{start.isoformat()}|{10**12 - 1:012d}")


def _replay_sent(db, world: SandboxWorld) -> None:
    """Tell the world about the workspace's past sends, so their answers can still come."""
    for key, identity_id, channel, action, sent_at, li_id, li_url, email in store.sent_deliveries(db):
        slug = li_url.rstrip("/").rsplit("/", 1)[-1] if li_url else None
        lead = (li_id or slug) if channel == "linkedin" else (email or "").lower()
        if lead:
            world.deliver(key=key, identity_id=identity_id, channel=channel, action=action, lead=lead,
                          at=datetime.fromisoformat(sent_at))


def _cap_per_window(bucket: str, ident: dict, inboxes: list[dict], seconds: float) -> float:
    """What the limits of runtime/limits.py allow in one full working window of `seconds`."""
    if bucket == limits.EMAIL:
        return sum(_allowed(limits.email_rules(i), seconds) for i in inboxes)
    return _allowed(limits.linkedin_rules(ident)[bucket], seconds)


def _allowed(rules, seconds: float) -> int:
    allowed = limits.day_cap(rules) or 0
    for r in rules:
        if r.kind == "rolling":
            allowed = min(allowed, math.ceil(seconds / r.seconds) * r.limit)
    return allowed


def utilization(db, ident: dict, bucket: str, start: datetime, end: datetime) -> float | None:
    """done ÷ allowed for one identity's bucket over [start, end); None when nothing was allowed.

    A window cut by `start` allows what the day cap had left at `start`; one cut by
    `end` allows its share of the day (pacing spreads a day's cap over the window)."""
    hours = WorkingHours.of_identity(ident)
    inboxes = store.inbox_limits(db, ident["id"])

    def count(lo: datetime, hi: datetime) -> int:
        return store.ledger_count(db, ident["id"], bucket, lo, hi)

    allowed = 0.0
    for begin, finish in hours.windows(start) if hours.days else ():
        if begin >= end:
            break
        cap = _cap_per_window(bucket, ident, inboxes, (finish - begin).total_seconds())
        if begin < start:
            allowed += max(0, cap - count(hours.day_start(start), start))
        elif finish > end:
            allowed += cap * (end - begin) / (finish - begin)
        else:
            allowed += cap
    # pacing's jitter may put a cut window's actions ahead of its pro-rata share: a full cap is 1
    return round(min(count(start, end) / allowed, 1.0), 4) if allowed > 0 else None


def _bottleneck(db, campaign: dict, ident: dict, start: datetime, end: datetime) -> dict | None:
    used = {bucket_of(n) for n in from_json(campaign["sequence"]).nodes} & set(CAPS)
    best = None
    for bucket in sorted(used, key=CAPS.index):
        u = utilization(db, ident, bucket, start, end)
        if u is not None and (best is None or u > best["utilization"]):
            best = {"identity": ident["name"], "cap": bucket, "utilization": u}
    return best


async def _watch(rt: Runtime, start: datetime, days: float, finished: dict[int, datetime],
                 progress) -> None:
    """Hourly: note when each campaign's last lead stops needing the runtime; say which day it is."""
    step, t, day = timedelta(hours=1), start, 0
    while True:
        t += step
        await rt.clock.sleep_until(t)
        for cid, n in store.remaining_leads(rt.db).items():
            if n == 0 and cid not in finished:
                finished[cid] = t
        if progress is not None and (t - start) >= timedelta(days=day + 1):
            day += 1
            progress(f"simulated day {day} of {math.ceil(days)}")


def _finished_at(db, campaign_id: int, start: datetime, seen: datetime) -> str:
    """The last lead's last change before the hourly check that saw the campaign done."""
    return store.last_change(db, campaign_id, start, seen) or iso(seen)


def run_forecast(db_path: Path, *, days: float, seed: int = 1, progress=None) -> dict:
    """Forecast the workspace at `db_path` (never written) for `days`; the report `--json` prints.

    `progress(text)` is called once per simulated day when given."""
    started = _time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enginy-forecast-") as tmp:
        path = Path(tmp) / "forecast.db"
        store.snapshot(Path(db_path), path)
        db = open_scratch_db(path)
        try:
            campaigns = store.active_campaigns(db)
            if not any(c["status"] == "running" for c in campaigns.values()):
                raise NothingToForecast("no running campaigns in this workspace: nothing to forecast "
                                        "(launch one with `enginy campaigns launch`)")
            start = clock_position(db) or wall_now()
            end = start + timedelta(days=days)
            rates = observed_rates(db)
            before = store.remaining_leads(db)
            _sandbox_only(db, start)
            profile = Profile(latency_s=(0.0, 0.0), **{k: v["value"] for k, v in rates.items()})
            world = SandboxWorld(seed, profile=profile)
            _replay_sent(db, world)
            rt = Runtime(db, world=world, poll_interval=3600.0)
            finished: dict[int, datetime] = {}

            async def main() -> None:
                async with trio.open_nursery() as nursery:
                    async def runtime(task_status=trio.TASK_STATUS_IGNORED) -> None:
                        await rt.run(epoch=start, until=end, task_status=task_status)
                        nursery.cancel_scope.cancel()  # the hourly watcher would run forever

                    await nursery.start(runtime)
                    nursery.start_soon(_watch, rt, start, days, finished, progress)

            run_simulated(main, seed)
            after = store.remaining_leads(db)
            idents = identities_by_id(db)
            report = []
            for cid, c in campaigns.items():
                done_at = None
                if before.get(cid, 0) == 0:
                    done_at = iso(start)
                elif after.get(cid, 0) == 0:  # not yet seen by the hourly check: done in the last hour
                    done_at = _finished_at(db, cid, start, finished.get(cid, end))
                report.append({"campaign": cid, "name": c["name"], "status": c["status"], "identity_id": c["identity_id"],
                               "remaining_leads_now": before.get(cid, 0), "remaining_leads_after": after.get(cid, 0),
                               "finishes_at": done_at,
                               "bottleneck": _bottleneck(db, c, idents[c["identity_id"]], start, end)})
        finally:
            db.close()
    return {"start": iso(start), "end": iso(end), "sim_days": days, "seed": seed,
            "channels": "sandbox (every identity and inbox of a copy; the workspace is not touched)",
            "rates": rates, "campaigns": report, "wall_s": round(_time.perf_counter() - started, 2)}


def stderr_progress(text: str) -> None:
    sys.stderr.write(f"\r{text}")
    sys.stderr.flush()
