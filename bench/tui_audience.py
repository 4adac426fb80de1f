"""How the audience table behaves with a million leads: `python -m bench.tui_audience`.

Builds (once, cached under /tmp unless --fresh) a workspace whose one campaign
has 1,000,000 enrollments, and an empty one, then drives the real app with
Pilot and times, for each action, the table's data calls (count + keyset page
on the worker thread) and the wall time until the new rows are painted:

* open the audience tab (chip counts + first page),
* change chip (Error: 5 % of the leads, In progress: 30 %, back to Total),
* filter (search a company name, a person's name, a word in ~10 % of the
  names — the LIKE-walk plan of storage/search.search_plan —, punctuation only:
  a rare mark "@", a common one "&", one nobody has "#"; stage),
* jump to the end (G).

The workspace is generated in one transaction from recursive CTEs (about
10 s for 1M rows on a quiet host), not through the storage functions: those
are for one lead at a time, and this only needs realistic rows with realistic
indexes (and the triggers that keep the counts and search indexes).

Measured 2026-11-23 on the shared 2-core dev box (load 3–4 from other work;
`--repeat 5`, each figure the minimum; big / empty ms; "data" is the table's
count + page on its worker thread, "paint" until its rows are drawn), before
(b7fb0f2) → after the kept counts (m043), punctuation index (m045) and the
campaign view changes, both on this same v2 workspace:

    action               paint before → after     data before → after
    open audience        120 → 119 (empty 98/118)    1.7 → 2.7
    chip Error            50 → 18                    4.1 → 0.8
    chip In progress      24 → 24                    0.7 → 0.8
    search company        48 → 27                   11.0 → 10.5
    search name           18 → 29                    2.0 → 2.2
    search dense          75 → 22                   65.1 → 4.1
    search mark, rare    406 → 32                  383.9 → 9.1
    search mark, common   79 → 24                   62.5 → 4.2
    search mark, nobody  530 → 22                  510.3 → 7.2
    stage filter          28 → 23                   10.2 → 0.8
    jump to end (G)       32 → 13                    0.6 → 0.7

Single runs on the same host swing by 2–3x (an open took 120–400 ms), so
compare minimums of several runs. What is left of "open audience" is the
campaign view itself (compose, first layout, the footer's first draw: ~100 ms
on the empty workspace too); every other action stays under ~35 ms to paint.

VirtualTable sets its scrollable size without a layout pass (2026-11-23, same
host, load ~1–2, `--repeat 5`, paint big / empty ms, before → after): open
171/95 → 112/94 (but 3×8 interleaved opens of both versions: same minimum,
~90–100 ms), chip Error 27 → 41, In progress 32 → 24, search company
36 → 32, dense 34 → 40, mark rare 34 → 29, stage 20 → 15, G 26 → 33. Within
this host's noise, except that a chip, search or filter change now makes no
screen layout at all before its rows paint (was one: ~15–40 ms of the UI
thread, counted with a wrapper around Screen._refresh_layout). What is left of
"open" is the view itself: compose + first layout (~60 ms), the header's
update layout, and the footer's first draw (a recompose of ~15 FooterKeys and
a layout, 20–90 ms), which lands just before or just after the first page.
`overflow-y: scroll` on the two tables (the scrollbar there from the start)
was tried and made "open" worse (median 270 vs 115–160 ms over 3×8 opens):
the scrollbars are then created and styled during the first layout.

The campaign view reads its row on mount (2026-11-23, same host, load ~1–3;
"open audience" paint ms, min / median, base 066552f → 6e6fad2, runs of the
two versions interleaved): the row is one primary-key read, so it is read on
the UI thread as the view mounts; the lists' first pages are then read while
the view is laid out (they used to start only once a worker had brought the
row back to a busy UI thread), the header is drawn by the first layout (its
own update used to cost one more layout), and the list is focused as the
screen is shown (no detour through the tab strip, which changed the footer's
keys once more). Layouts before the rows' paint: 5 → 4 (big).

    opens                         big before → after            empty before → after
    1st open of an app, 8 runs    98 / 185 → 112 / 148          93 / 227 → 100 / 131
    6 opens per app, 3 runs each  115 / 190–260 → 96 / 130–145  89 / 115–180 → 82 / 125–160
    this script, --repeat 5, 2×   92, 96 → 105, 122 (min only)   101, 99 → 109, 105

The medians drop by a third; the minimum does not move (within this host's
noise). The other actions are unchanged (same figures within noise). What is
left of "open": compose + mount + styling of ~60 widgets and the first layout
(~70–90 ms before the first paint), then the scrollbar's own layout when the
first page lands (~20 ms). The footer's first draw (17 FooterKeys: ~25 ms,
then a layout) now comes after the rows' paint in about two opens of three;
drawing it before the first layout instead (its keys built as soon as the
bindings are known) put all of it on every open's path and was slower
(minimum ~130 vs ~90 ms). Measured, not done: without the per-key
`data_bind(compact=…)` a footer draw took ~15–20 instead of ~23–35 ms; not
building the hidden Overview (15 widgets) when the view opens on the audience
took the empty workspace's median from ~110 to ~85 ms, but the big one's from
~115 to ~140 (3 interleaved runs of 6 opens; unexplained).

The campaign view is kept and built ahead (2026-11-23, same host, load
~1.1–2.6 from another engineer's benchmarks; base 0ab6af4 → 7e0c97c, runs of
the two versions interleaved). App.open_campaign builds one CampaignScreen,
installs it and, on later opens, points it at the new campaign (show_campaign():
everything of the last one emptied) and pushes it again; Textual's restyle of
every widget on resume (~20–50 ms here) is skipped unless the theme changed
meanwhile; the audience's kept total sizes the scrollbar before the first page
lands (the layout that cost as the page landed is gone); 0.3 s after the app
starts the view was built ahead, pushed and popped at once, so it was composed,
mounted, styled and laid out while the dashboard waited (removed 2026-12-03: a
key opening another screen meanwhile could crash the app, tests/test_tui_start_keys.py;
the first open builds it again, ~100 ms); and a view shown again
on the tab it was left on is drawn once, when its first page has landed (it
was drawn empty first, a full render during which the page waited to be taken).
Figures (ms, min / median) with the dashboard shown 1 s before each open
(`--wait`, default 1.0; the view is built meanwhile — with `--wait 0` the first
open builds it, as before):

    --opens 4 --repeat 2, 3 rounds     big before → after             empty before → after
    first open of an app (audience)    131 / 155–185 → 67 / 67–77     105 / 176–214 → 45 / 55–68
    later opens (audience again)       111 / 136–170 → 20 / 26–47     93 / 124–131 → 11 / 16–18
    --repeat 5 (min), 2 rounds         119, 123 → 59, 59               119, 105 → 61, 51

Steps of the way (same rounds' style, later opens big / empty medians): kept
view alone ~105 → ~70–100 / ~70 → ~45 (the resume restyle was most of what was
left); restyle skipped and total known: ~55–70 / ~45–50; drawn once: ~26–47 /
~16–18. The first open, on the audience, changes the tab of the view built on
the Overview (the dashboard's enter opens there): one layout (~15–40 ms) while
the page is read, then the footer's keys for that tab (~25 ms and a layout)
after the rows' paint. The other actions are unchanged (same code; chip 12–36,
search 14–46, stage 15–30, G 12–40 ms big, before and after, this host's noise).
Seen, not changed: the audience table shows a horizontal scrollbar once its
vertical one appears (its virtual width is the widget's, not its content
region's), before these changes too.
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
            # punctuation as lead lists have it: 4 % of the companies "… & Sons", 10 % "…, Inc.",
            # and a rare mark: 1 lead in 10,000 works "@ Home"
            " SELECT x, 'Lead' || x, 'Surname' || (x % 997), 'Company ' || (x % ?2) || CASE"
            " WHEN (x % ?2) % 25 = 0 THEN ' & Sons' WHEN (x % ?2) % 10 = 3 THEN ', Inc.' ELSE '' END"
            " || CASE WHEN x % 10000 = 7 THEN ' @ Home' ELSE '' END, 'Head of Sales',"
            " 'lead' || x || '@example.test', ?3, ?3 FROM n", [leads, companies, at])
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


async def _measure(folder: Path, label: str, wait: float) -> dict[str, float]:
    from tui.app import EnginyApp
    from tui.screens.campaign import CampaignScreen
    from tui.widgets.virtual_table import VirtualTable

    workspace = open_workspace(folder)
    app = EnginyApp(workspace)
    figures: dict[str, float] = {}
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await asyncio.sleep(wait)  # the user reads the dashboard before enter (the view is built meanwhile)

        def table() -> VirtualTable:
            return app.screen.query_one("#audience-table", VirtualTable)

        async def timed(name: str, act) -> None:
            """Call the action directly (Pilot's key presses add their own waits) and time
            until the table drew its lines after the data landed."""
            t = table()
            before = len(t.timings)
            started = time.perf_counter()
            act()
            await _until(lambda: not _fetching(t) and t.painted_at > max(t.landed_at, started), name)
            figures[name + " (paint)"] = (t.painted_at - started) * 1000
            figures[name + " (data)"] = sum(s for _, s in t.timings[before:]) * 1000
            await pilot.pause()

        started = time.perf_counter()
        await _open(app, CampaignScreen)
        t = table()
        await _until(lambda: not _fetching(t) and t.painted_at > max(t.landed_at, started), "open audience")
        figures["open audience (paint)"] = (t.painted_at - started) * 1000
        figures["open audience (data)"] = sum(s for _, s in t.timings) * 1000
        await pilot.pause()

        screen = app.screen
        await timed("chip Error", lambda: screen.action_chip("error"))
        await timed("chip In progress", lambda: screen.action_chip("in_progress"))
        await timed("chip Total", lambda: screen.action_chip("total"))
        await timed("search company", lambda: screen.apply_audience(search="Company 4242"))
        await timed("clear search", lambda: screen.apply_audience(search=""))
        await timed("search name", lambda: screen.apply_audience(search="Lead12345"))
        await timed("search dense", lambda: screen.apply_audience(search="Surname1"))
        await timed("search mark, rare", lambda: screen.apply_audience(search="@"))
        await timed("search mark, common", lambda: screen.apply_audience(search="&"))
        await timed("search mark, nobody", lambda: screen.apply_audience(search="#"))
        await timed("clear search ", lambda: screen.apply_audience(search=""))
        await timed("stage filter", lambda: screen.apply_audience(node_id="email1"))
        await timed("clear stage", lambda: screen.apply_audience(node_id=None))
        await timed("jump to end (G)", lambda: table().action_bottom())
        await timed("back to top (g)", lambda: table().action_top())
        table = table()
        count, exact = table.total
        print(f"  {label}: {count:,} rows in view ({'exact' if exact else 'estimate'})")
    return figures


def _open(app, screen_class):
    """Open campaign 1 on its audience as the dashboard's enter does (App.open_campaign, which keeps the
    view from one open to the next), or by pushing a new view in versions without it."""
    if hasattr(app, "open_campaign"):
        return app.open_campaign(1, tab="audience")
    return app.push_screen(screen_class(app.ctx, 1, tab="audience"))


async def _opens(folder: Path, opens: int, wait: float) -> list[float]:
    """Open the audience `opens` times in one app (back to the dashboard in between, `wait` s after each
    return and after the app starts, as a user would take): ms until the rows are painted, each open."""
    from tui.app import EnginyApp
    from tui.screens.campaign import CampaignScreen
    from tui.screens.dashboard import DashboardScreen
    from tui.widgets.virtual_table import VirtualTable

    app = EnginyApp(open_workspace(folder))
    times = []
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await asyncio.sleep(wait)
        for _ in range(opens):
            started = time.perf_counter()
            await _open(app, CampaignScreen)
            t = app.screen.query_one("#audience-table", VirtualTable)
            await _until(lambda: not _fetching(t) and t.painted_at > max(t.landed_at, started), "open audience")
            times.append((t.painted_at - started) * 1000)
            await pilot.pause()
            app.pop_screen()
            await _until(lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
            await pilot.pause()
            await asyncio.sleep(wait)
    return times


def _fetching(table) -> bool:
    """A page is being read or has not landed yet (VirtualTable.fetching; named `loading` before it was
    renamed off Textual's own Widget.loading)."""
    return table.fetching if hasattr(table, "fetching") else table.loading


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
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the actions N times (alternating big and empty) and print each figure's"
                             " minimum: on a shared, loaded host one run's figures are mostly other work")
    parser.add_argument("--opens", type=int, default=0,
                        help="only time opening the audience: N opens per app (back in between), --repeat apps"
                             " of each workspace, alternating; prints the first open's and the later ones'"
                             " minimum / median")
    parser.add_argument("--wait", type=float, default=1.0,
                        help="seconds the dashboard is shown before each open, as a user reads it before enter"
                             " (0: open at once, before the app has built the campaign view ahead)")
    args = parser.parse_args()
    # v2: companies with punctuation (the mark searches); an older cache lacks it
    cache = Path(tempfile.gettempdir()) / f"enginy-bench-audience-v2-{args.leads}"
    if args.fresh and cache.exists():
        shutil.rmtree(cache)
    if not cache.exists():
        started = time.perf_counter()
        make_workspace(cache, args.leads)
        print(f"generated {args.leads:,} enrollments in {time.perf_counter() - started:.1f} s at {cache}")
    small = Path(tempfile.mkdtemp(prefix="enginy-bench-empty-"))
    make_workspace(small / "ws", 0)
    big: dict[str, float] = {}
    empty: dict[str, float] = {}
    if args.opens:
        runs: dict[str, tuple[list[float], list[float]]] = {"big": ([], []), "empty": ([], [])}
        try:
            for _ in range(max(args.repeat, 1)):
                for label, folder in (("big", cache), ("empty", small / "ws")):
                    times = asyncio.run(_opens(folder, args.opens, args.wait))
                    print(f"  {label}: " + " ".join(f"{t:.0f}" for t in times))
                    runs[label][0].append(times[0])
                    runs[label][1].extend(times[1:])
        finally:
            shutil.rmtree(small, ignore_errors=True)
        for label, (first, later) in runs.items():
            line = f"{label:6} first open min {min(first):.0f} / median {statistics.median(first):.0f} ms"
            if later:
                line += f";  later opens min {min(later):.0f} / median {statistics.median(later):.0f} ms"
            print(line)
        sys.exit(0)
    try:
        for _ in range(max(args.repeat, 1)):
            for figures, folder, label in ((big, cache, f"{args.leads:,} leads"), (empty, small / "ws", "empty")):
                for name, ms in asyncio.run(_measure(folder, label, args.wait)).items():
                    figures[name] = min(ms, figures.get(name, ms))
    finally:
        shutil.rmtree(small, ignore_errors=True)
    print(f"\n{'action':32} {'big ms':>10} {'empty ms':>10} {'ratio':>8}"
          + (f"   (minimum of {args.repeat} runs)" if args.repeat > 1 else ""))
    for name in big:
        ratio = big[name] / empty[name] if empty[name] > 0.05 else float("nan")
        print(f"{name:32} {big[name]:10.1f} {empty[name]:10.1f} {ratio:8.1f}")
    paints = [v for k, v in big.items() if k.endswith("(paint)")]
    print(f"\nworst paint with {args.leads:,} leads: {max(paints):.1f} ms; median {statistics.median(paints):.1f} ms")
    sys.exit(0)


if __name__ == "__main__":
    main()
