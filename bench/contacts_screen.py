"""The Contacts screen at a million contacts: `python -m bench.contacts_screen` (spec goal: each under 100 ms).

Builds (once, cached under /tmp unless --fresh) a workspace of --contacts
contacts (names, companies, titles, emails, LinkedIn URLs, phones) in one
INSERT … SELECT with the search indexes' triggers deferred
(storage/bulk_load.py), and an empty one as the baseline; then drives the real
app with Pilot and times, in each, until the table has painted the rows of:
opening the screen (first page), paging down, a rare search (one contact by
its LinkedIn URL), a name, a common word (every contact's title) and a jump to
the end. Prints ms for both and the ratio big / empty, each figure the minimum
of --repeat runs (a shared host swings 2–3x from one run to the next).

Measured 2026-12-03 on the shared 2-core box (loaded by other helpers),
1,000,000 contacts, --repeat 2, paint ms big / empty (ratio):

    open (first page)              177 / 64  (2.8)   over the goal
    page down x3                    34 / 0
    jump to end (G)                 53 / 3
    search rare (a LinkedIn URL)    46 / 11  (4.0)   before m048: ~460 ms of data a page
    search a name "Lead70000 Surname"  549 / 9   over: the last word, a prefix every
                                     contact has, is too costly to count, so it walks
    search common (a title word)   134 / 8   over
    search nothing matches          42 / 38

Data calls alone (ContactsSource, no app): rare searches 0.2–6 ms a page
with exact counts (were ~460 ms a page and a wrong "≈0" count).

2026-12-03, later (load ~2): main and this branch run alternately (the last
pair in the other order), 4 runs each of --repeat 2 (each figure a min of 2),
paint ms at a million contacts, run by run (median):

    search a name   main 242 / 356 / 239 / 236 (241)   now 26 / 19 / 32 / 13 (23)   empty 9–12
    search common   main  60 /  73 /  58 /  59 (60)    now 30 / 40 / 51 / 33 (37)   empty 8–35
    open            main  59 /  71 /  76 / 136 (74)    now 69 / 127 / 110 / 181 (119)  empty 53–62

(The rare search cost 54–97 ms in those runs, main 35–38: counting "lead" through
a UNION that is built whole; each index is now counted on its own. A last
round under heavier load, this branch / main / this branch: rare 38 / 57 / 58,
name 14 / 467 / 35, common 80 / 104 / 105, open 157 / 517 / 381, empty 19–165.)

The open runs the same code on both sides (no search: neither change is
reached); it swings 59–181 ms with the load, its first count(*) reading a
million-row index in a fresh process (~30 ms cold, ~8 warm) before the first page.

Session 3 (load 3-5 from four helpers; each figure a min of 3; the baseline
is the empty workspace in the same run): the first page is now drawn before
the total is counted (VirtualTable's "count" load). open big / empty, before:
230/165 (1.39), 101/71 (1.42), 554/100 (5.56); after, alternating with them:
125/146 (0.86), 179/113 (1.59), 115/105 (1.10), 64/59 (1.09), 66/66 (1.01).
A million contacts now cost the open about what no contacts do; the absolute
figure is the app's own screen mount, and swings with the host's load. On an idle
machine (load 0.5), --repeat 3, big / empty ms: open 62 / 56, page down x3 21,
G 26, rare 38 / 16, a name 12 / 10, common 17 / 9, nothing 24 / 8, clear 14 / 11:
every case under the 100 ms goal.

The name: "Lead70000 Surname" now starts from the one contact with the word
"Lead70000" (storage/search.whole_words) instead of the AND with "Surname"*,
which FTS5 merged (~60 ms, uninterruptible) on each count and page. The common
word: a search that walks more than EXACT_WALK contacts is estimated at once
instead of spending the exact count's 30 ms budget first (contacts_view.count).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from storage.bulk_load import triggers_deferred
from storage.db import transaction
from storage.workspace import init_workspace, open_workspace

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
GOAL_MS = 100


def make_workspace(folder: Path, contacts: int) -> Path:
    workspace = init_workspace(folder)
    db = workspace.open_db(durable=False)
    with transaction(db), triggers_deferred(db, ["contacts"]):
        db.execute(
            "WITH RECURSIVE n(x) AS (SELECT 1 WHERE ?1 > 0 UNION ALL SELECT x + 1 FROM n WHERE x < ?1)"
            " INSERT INTO contacts (id, first_name, last_name, company, job_title, email, linkedin_url, phone,"
            " created_at, updated_at) SELECT x, 'Lead' || x, 'Surname' || (x % 997), 'Company ' || (x % 5000),"
            " 'Head of Sales', 'lead' || x || '@example.test', 'https://www.linkedin.com/in/lead-' || x,"
            " '+34 600 ' || x, ?2, ?2 FROM n", [contacts, NOW.isoformat()])
    db.execute("ANALYZE")
    db.close()
    return folder


async def _measure(folder: Path, rare: int) -> dict[str, float]:
    from tui.app import EnginyApp
    from tui.screens.contacts import ContactsScreen
    from tui.widgets.virtual_table import VirtualTable

    app = EnginyApp(open_workspace(folder))
    figures: dict[str, float] = {}
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()

        async def painted(table: VirtualTable, started: float, name: str) -> None:
            """Until the rows are drawn: after the page that the action read landed, or (a move within
            the rows already read) after the first draw since the action."""
            deadline = time.perf_counter() + 30
            await asyncio.sleep(0)
            def reading() -> bool:  # a page (not the total, read after the first page is drawn)
                return table.fetching and not table.counting

            while reading() or table.painted_at <= max(table.landed_at, started):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{name}: the table never finished loading")
                await asyncio.sleep(0.001)
                if not reading() and table.landed_at < started and (table.painted_at > started
                                                                         or table.total[0] == 0):
                    break  # nothing to read (or nothing to draw: the empty baseline)
            figures[name] = (max(table.painted_at, started) - started) * 1000
            await pilot.pause()

        started = time.perf_counter()
        await app.push_screen(ContactsScreen(app.ctx))
        screen = app.screen
        table = screen.query_one(VirtualTable)
        await painted(table, started, "open (first page)")
        for name, act in (
            ("page down x3", lambda: [table.action_page(1) for _ in range(3)]),
            ("jump to end (G)", table.action_bottom),
            ("search rare (a LinkedIn URL)", lambda: _search(screen, f"lead-{rare}")),
            ("search a name", lambda: _search(screen, f"Lead{rare // 10} Surname")),
            ("search common (a title word)", lambda: _search(screen, "sales")),
            ("search nothing matches", lambda: _search(screen, "zebedee")),
            ("clear search", lambda: _search(screen, "")),
        ):
            started = time.perf_counter()
            act()
            await painted(table, started, name)
    return figures


def _search(screen, text: str) -> None:
    from textual.widgets import Input

    screen.query_one("#contacts-search", Input).value = text
    screen._refilter()  # what Input.Changed does, without waiting for the message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached big workspace")
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / f"enginy-bench-contacts-{args.contacts}"
    if args.fresh and cache.exists():
        shutil.rmtree(cache)
    if not cache.exists():
        started = time.perf_counter()
        make_workspace(cache, args.contacts)
        print(f"generated {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s at {cache}")
    empty = make_workspace(Path(tempfile.mkdtemp(prefix="enginy-bench-contacts-empty-")) / "ws", 0)
    big_runs: list[dict[str, float]] = []
    empty_runs: list[dict[str, float]] = []
    try:
        for _ in range(max(args.repeat, 1)):
            big_runs.append(asyncio.run(_measure(cache, max(args.contacts * 7 // 10, 1))))
            empty_runs.append(asyncio.run(_measure(empty, 1)))
    finally:
        shutil.rmtree(empty.parent, ignore_errors=True)
    print(f"{'action':32} {'big ms':>8} {'empty ms':>9} {'ratio':>6}  goal {GOAL_MS} ms")
    for name in big_runs[0]:
        big = min(r[name] for r in big_runs)
        base = min(r[name] for r in empty_runs)
        print(f"{name:32} {big:8.1f} {base:9.1f} {big / max(base, 0.1):6.2f}  {'ok' if big < GOAL_MS else 'OVER'}")


if __name__ == "__main__":
    main()
