"""`enginy simulate`: a throw-away sandbox workspace run for D days on an autojump clock.

Identities in several time zones with varied working hours (DST changes of
both Europe and North America fall inside a March run), campaigns from the
built-in templates with mixed priorities, sandbox LinkedIn and inboxes, a
seeded world. Everything is built with set-based inserts (the search indexes
and counts rebuilt once at the end, `storage.bulk_load`) into a scratch
database (`open_scratch_db`); the runtime then runs with synchronous SQLite
in the Trio thread, so the autojump clock jumps straight from one wake-up to
the next. `runtime.checker` then judges the result from the ledger alone.

Identities in a simulation share nothing (each has its own contacts,
campaigns and inboxes), so a run can be split by identity over several
processes (`processes`), each with its own database and world, and judged
together (`checker.summarize`). Every row id is derived from the identity
number, so a lead is the same lead in whichever process runs it. The same
seed and the same number of processes give the same `log_sha256`.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import resource
import tempfile
import time as _time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Sequence

import trio

from runtime.checker import Findings, findings, summarize
from runtime.clock import run_simulated
from runtime.engine import Runtime
from runtime.sandbox.world import Profile, SandboxWorld
from sequences.templates import BUILTIN_TEMPLATES
from storage import simulation as store
from storage.activity import iso
from storage.bulk_load import triggers_deferred
from storage.db import grouped_commits, open_scratch_db, transaction

EPOCH = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # a Monday; US DST on Mar 8, EU DST on Mar 29
ZONES = ("Europe/Madrid", "America/New_York", "Asia/Tokyo", "America/Los_Angeles", "Europe/London",
         "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata")
HOURS = (("09:00", "18:00"), ("08:00", "17:00"), ("10:00", "19:00"), ("07:30", "16:30"), ("09:00", "17:30"))
DAYS = ("mon,tue,wed,thu,fri", "mon,tue,wed,thu,fri", "mon,tue,wed,thu,fri,sat", "tue,wed,thu,fri,sat")
PRIORITIES = ("high", "medium", "low")
# Simulated seconds between the scratch database's grouped commits. A commit writes every
# page changed since the last; in six hours most hot pages change many times, so fewer,
# larger commits write less (30 min -> 6 h: a worker ~6 % faster, same peak memory, as
# the page cache bounds what a group holds and spills the rest).
COMMIT_EVERY_S = 6 * 3600.0
SIM_TEMPLATES = ("LinkedIn Only (New)", "LinkedIn + Email", "Email Only", "LinkedIn Social Warming",
                 "Conditional multichannel", "LinkedIn + Email + Call")


def _working_days(i: int) -> str:
    return DAYS[i % len(DAYS)]


def _premium(i: int) -> bool:
    return i % 5 == 0


def _inboxes(i: int) -> int:
    return 1 + (i % 3 == 0)


def build(db, *, identities: int, leads_per_identity: int, seed: int, now: datetime = EPOCH,
          only: Sequence[int] | None = None) -> dict:
    """Fill an empty workspace database with identities 1..N (or those in `only`); returns counts.

    Ids are functions of the identity number (contacts and enrollments
    (i-1)·M+1 … i·M, campaigns 2i-1 and 2i, inboxes 2i-1 and 2i), and each
    identity's contacts draw from their own seeded generator, so a shard builds
    exactly the rows the whole run would have for its identities."""
    at = iso(now)
    templates = {t.name: t for t in BUILTIN_TEMPLATES}
    from sequences.model import to_json

    numbers = only if only is not None else range(1, identities + 1)
    contacts = []
    with transaction(db), triggers_deferred(db, ("contacts", "enrollments")):
        for i in numbers:
            start, end = HOURS[i % len(HOURS)]
            store.add_identity(db, id=i, name=f"Sender {i}", email=f"sender{i}@sandbox.invalid",
                               timezone=ZONES[i % len(ZONES)], working_days=_working_days(i), work_start=start,
                               work_end=end, premium=_premium(i),
                               monthly_conversation_limit=400 if i % 7 == 0 else None, at=at)
            for k in range(_inboxes(i)):
                store.add_inbox(db, id=2 * i - 1 + k, identity_id=i, email=f"sender{i}.{k}@sandbox.invalid",
                                per_day=30, per_hour=5, at=at)
            rng = random.Random(f"{seed}:contacts:{i}")
            for cid in range((i - 1) * leads_per_identity + 1, i * leads_per_identity + 1):
                has_li = rng.random() < 0.9
                has_email = rng.random() < 0.8
                contacts.append((cid, f"First{cid}", f"Last{cid}", f"Company {cid % 997}", "Head of Sales",
                                 f"https://www.linkedin.com/in/lead-{cid}" if has_li else None,
                                 f"ACoLead{cid}" if has_li else None,
                                 f"lead{cid}@example.com" if has_email else None,
                                 "+34600000000" if rng.random() < 0.3 else None, at, at))
        store.add_contacts(db, contacts)
        for i in numbers:
            first = (i - 1) * leads_per_identity + 1
            split = first + leads_per_identity // 2
            for half, (lo, hi) in enumerate(((first, split), (split, first + leads_per_identity))):
                campaign_id = 2 * i - 1 + half
                name = SIM_TEMPLATES[(i + half) % len(SIM_TEMPLATES)]
                seq = to_json(templates[name].sequence).decode()
                store.add_running_campaign(
                    db, id=campaign_id, name=f"{name} #{campaign_id}", identity_id=i,
                    priority=PRIORITIES[(i + half) % 3],
                    settings='{"skip_prior_conversations": true}' if i % 4 == 0 else "{}", sequence=seq, at=at)
                store.enroll_contact_range(db, campaign_id, lo, hi, at)
    return {"identities": len(numbers), "contacts": len(contacts), "campaigns": 2 * len(numbers)}


def shard_of(identities: int, processes: int) -> list[list[int]]:
    """Identity numbers per worker process, balanced by how much each identity does.

    An identity's share of the work follows its working days (5 or 6 a week),
    Premium (three times the profile visits) and inbox count; the first split
    (odd numbers / even numbers) gave one worker all the six-day identities and
    about an eighth more work than the other, and the run waits for the slower.
    Identities are sorted by those traits and dealt out in snake order (0, 1, 1, 0,
    …), so each worker gets a like share of every kind."""
    def weight(i: int) -> tuple:
        return (-len(_working_days(i).split(",")), -_premium(i), -_inboxes(i), i)

    order = sorted(range(1, identities + 1), key=weight)
    shards: list[list[int]] = [[] for _ in range(processes)]
    for n, i in enumerate(order):
        turn, k = divmod(n, processes)
        shards[k if turn % 2 == 0 else processes - 1 - k].append(i)
    return [sorted(s) for s in shards]


def _run_shard(identities: int, leads_per_identity: int, days: float, seed: int, shard: int, processes: int,
               folder: Path | None, profile: Profile | None) -> tuple[Findings, dict, float, float]:
    """Build and run the identities `shard_of` gives this shard; returns what the checker
    found, the build counts, this process's peak RSS (MB) and the runtime's wall seconds."""
    started = _time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enginy-sim-") as tmp:
        name = "simulation.db" if processes == 1 else f"simulation-{shard + 1}-of-{processes}.db"
        db = open_scratch_db((folder or Path(tmp)) / name)
        only = shard_of(identities, processes)[shard]
        built = build(db, identities=identities, leads_per_identity=leads_per_identity, seed=seed, only=only)
        world = SandboxWorld(seed, profile=profile or Profile(latency_s=(0.0, 0.0)))
        until = EPOCH + timedelta(days=days)
        rt = Runtime(db, world=world, poll_interval=3600.0)

        async def main() -> None:
            with grouped_commits(db) as commit:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_commit_every, commit)
                    await rt.run(epoch=EPOCH, until=until)
                    nursery.cancel_scope.cancel()

        runtime_log = logging.getLogger("enginy")
        level = runtime_log.level
        runtime_log.setLevel(logging.ERROR)  # the world's seeded 429s are the scenario, not news for the user
        try:
            run_simulated(main, seed)
        finally:
            runtime_log.setLevel(level)
        run_s = _time.perf_counter() - started
        found = findings(db, start=EPOCH, end=until, world=world)
        db.close()
    return found, built, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, run_s


async def _commit_every(commit, seconds: float = COMMIT_EVERY_S) -> None:
    while True:
        await trio.sleep(seconds)
        commit()


def run_simulation(*, identities: int, leads_per_identity: int, days: float, seed: int, processes: int = 1,
                   folder: Path | None = None, profile: Profile | None = None) -> dict:
    """Build, run and check; returns the report `enginy simulate --json` prints.

    `processes` > 1 splits the identities over that many worker processes (one
    per core is the useful most); `peak_rss_mb` is then the sum of every
    process's peak, as they were all alive at once."""
    started = _time.perf_counter()
    processes = max(1, min(processes, identities))
    jobs = [(identities, leads_per_identity, days, seed, k, processes, folder, profile) for k in range(processes)]
    if processes == 1:
        results = [_run_shard(*jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.starmap(_run_shard, jobs)
    report = summarize([r[0] for r in results])
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.update({
        "sim_days": days, "seed": seed, "processes": processes,
        "identities": sum(r[1]["identities"] for r in results), "contacts": sum(r[1]["contacts"] for r in results),
        "campaigns": sum(r[1]["campaigns"] for r in results),
        "wall_s": round(_time.perf_counter() - started, 2), "run_s": round(max(r[3] for r in results), 2),
        "process_run_s": [round(r[3], 1) for r in results],
        "peak_rss_mb": round(own_rss + (sum(r[2] for r in results) if processes > 1 else 0), 1),
    })
    return report
