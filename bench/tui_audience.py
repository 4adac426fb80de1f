"""How the audience table behaves with a million leads: `python -m bench.tui_audience`.

Builds (once, cached under /tmp unless --fresh) a workspace whose one campaign
has 1,000,000 enrollments, and an empty one, then drives the real app with
Pilot and times, for each action, the table's data calls (count + keyset page
on the worker thread) and the wall time until the new rows are painted:

* open the audience tab (chip counts + first page),
* change chip (Error),
* filter (search a company name, a person's name, a word in ~10 % of the
  names — the LIKE-walk plan of tui/data.search_plan —, stage),
* jump to the end (G).

The workspace is generated in one transaction from recursive CTEs (about
10 s for 1M rows), not through the storage functions: those are for one lead
at a time, and this only needs realistic rows with realistic indexes.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sequences.model import to_json
from sequences.templates import find_template
from storage.db import transaction
from storage.identities import create_identity
from storage.workspace import init_workspace, open_workspace

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
STATUSES = ("not_started", "in_progress", "paused", "error", "finished", "replied")
WEIGHTS = (40, 30, 5, 5, 15, 5)  # percent


def make_workspace(folder: Path, leads: int, *, campaign: str = "Big launch") -> Path:
    """A workspace with one identity and one running campaign of `leads` enrollments."""
    workspace = init_workspace(folder)
    db = workspace.open_db(durable=False)
    identity = create_identity(db, "Ada Lovelace", now=NOW, actor="bench", timezone="Europe/Madrid")
    template = find_template("LinkedIn + Email")
    nodes = [n.id for n in template.sequence.nodes]
    at = NOW.isoformat()
    bounds, acc = [], 0
    for w in WEIGHTS:
        acc += w
        bounds.append(acc)
    status_case = "CASE " + " ".join(
        f"WHEN (x * 37) % 100 < {b} THEN '{s}'" for b, s in zip(bounds, STATUSES)) + " END"
    node_case = "CASE (x * 3) % " + str(len(nodes)) + " " + " ".join(
        f"WHEN {i} THEN '{n}'" for i, n in enumerate(nodes)) + " END"
    companies = 5000
    with transaction(db):
        cid = db.execute(
            "INSERT INTO campaigns (name, identity_id, status, priority, sequence, created_at, updated_at, launched_at)"
            " VALUES (?, ?, 'running', 'high', ?, ?, ?, ?)",
            [campaign, identity, to_json(template.sequence).decode(), at, at, at]).lastrowid
        db.execute(
            "WITH RECURSIVE n(x) AS (SELECT 1 WHERE ?1 > 0 UNION ALL SELECT x + 1 FROM n WHERE x < ?1)"
            " INSERT INTO contacts (id, first_name, last_name, company, job_title, email, created_at, updated_at)"
            " SELECT x, 'Lead' || x, 'Surname' || (x % 997), 'Company ' || (x % ?), 'Head of Sales',"
            " 'lead' || x || '@example.test', ?, ? FROM n", [leads, companies, at, at])
        db.execute(
            "WITH RECURSIVE n(x) AS (SELECT 1 WHERE ?1 > 0 UNION ALL SELECT x + 1 FROM n WHERE x < ?1)"
            " INSERT INTO enrollments (id, campaign_id, contact_id, status, substatus, node_id, milestones,"
            " enrolled_at, updated_at)"
            f" SELECT x, ?, x, {status_case}, NULL, {node_case}, (x * 13) % 8192, ?, ? FROM n",
            [leads, cid, at, at])
        db.execute(
            "WITH RECURSIVE n(x) AS (SELECT 1 WHERE ?1 > 0 UNION ALL SELECT x + 10 FROM n WHERE x + 10 <= ?1)"
            " INSERT INTO activity (at, campaign_id, enrollment_id, contact_id, kind, node_id, channel)"
            " SELECT ?, ?, x, x, 'linkedin_invite_sent', 'invite', 'linkedin' FROM n",
            [leads, at, cid])
    db.execute("ANALYZE")
    db.close()
    return folder


async def _measure(folder: Path, label: str) -> dict[str, float]:
    from tui.app import EnginyApp
    from tui.screens.campaign import CampaignScreen
    from tui.widgets.virtual_table import VirtualTable

    workspace = open_workspace(folder)
    app = EnginyApp(workspace)
    figures: dict[str, float] = {}
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()

        def table() -> VirtualTable:
            return app.screen.query_one("#audience-table", VirtualTable)

        async def timed(name: str, act) -> None:
            """Call the action directly (Pilot's key presses add their own waits) and time
            until the table drew its lines after the data landed."""
            t = table()
            before = len(t.timings)
            started = time.perf_counter()
            act()
            await _until(lambda: not t.loading and t.painted_at > max(t.landed_at, started), name)
            figures[name + " (paint)"] = (t.painted_at - started) * 1000
            figures[name + " (data)"] = sum(s for _, s in t.timings[before:]) * 1000
            await pilot.pause()

        started = time.perf_counter()
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="audience"))
        t = table()
        await _until(lambda: not t.loading and t.painted_at > t.landed_at, "open audience")
        figures["open audience (paint)"] = (t.painted_at - started) * 1000
        figures["open audience (data)"] = sum(s for _, s in t.timings) * 1000
        await pilot.pause()

        screen = app.screen
        await timed("chip Error", lambda: screen.action_chip("error"))
        await timed("chip Total", lambda: screen.action_chip("total"))
        await timed("search company", lambda: screen.apply_audience(search="Company 4242"))
        await timed("clear search", lambda: screen.apply_audience(search=""))
        await timed("search name", lambda: screen.apply_audience(search="Lead12345"))
        await timed("search dense", lambda: screen.apply_audience(search="Surname1"))
        await timed("clear search ", lambda: screen.apply_audience(search=""))
        await timed("stage filter", lambda: screen.apply_audience(node_id="email1"))
        await timed("clear stage", lambda: screen.apply_audience(node_id=None))
        await timed("jump to end (G)", lambda: table().action_bottom())
        await timed("back to top (g)", lambda: table().action_top())
        table = table()
        count, exact = table.total
        print(f"  {label}: {count:,} rows in view ({'exact' if exact else 'estimate'})")
    return figures


async def _until(ready, what: str, limit: float = 30.0) -> None:
    """Wait (polling every ms) until the table has landed its load; a stuck action fails loudly."""
    deadline = time.perf_counter() + limit
    while not ready():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{what}: the table never finished loading")
        await asyncio.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached big workspace")
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / f"enginy-bench-audience-{args.leads}"
    if args.fresh and cache.exists():
        shutil.rmtree(cache)
    if not cache.exists():
        started = time.perf_counter()
        make_workspace(cache, args.leads)
        print(f"generated {args.leads:,} enrollments in {time.perf_counter() - started:.1f} s at {cache}")
    small = Path(tempfile.mkdtemp(prefix="enginy-bench-empty-"))
    make_workspace(small / "ws", 0)
    try:
        big = asyncio.run(_measure(cache, f"{args.leads:,} leads"))
        empty = asyncio.run(_measure(small / "ws", "empty"))
    finally:
        shutil.rmtree(small, ignore_errors=True)
    print(f"\n{'action':32} {'big ms':>10} {'empty ms':>10} {'ratio':>8}")
    for name in big:
        ratio = big[name] / empty[name] if empty[name] > 0.05 else float("nan")
        print(f"{name:32} {big[name]:10.1f} {empty[name]:10.1f} {ratio:8.1f}")
    paints = [v for k, v in big.items() if k.endswith("(paint)")]
    print(f"\nworst paint with {args.leads:,} leads: {max(paints):.1f} ms; median {statistics.median(paints):.1f} ms")
    sys.exit(0)


if __name__ == "__main__":
    main()
