"""How fast `enginy contacts import` is next to SQLite's own CSV import.

    python -m bench.import_csv [--rows N] [--keep]

Generates a lead CSV of N rows (default 1,000,000; 8 columns, a few percent
duplicate emails, one custom column) in a temporary folder, then times:

1. `sqlite3 DB ".mode csv" ".import FILE t"` on that file (a subprocess: the
   floor — C parsing into a table without indexes or any checking), and
2. `storage.contact_import.import_contacts` called in-process on a fresh
   workspace (header matching, validation and normalisation of every email
   and LinkedIn URL, duplicate merging, 3 unique/plain indexes, list
   memberships, one transaction).

Prints both times, the ratio and the peak RSS of this process (which also
holds the generator's and the import's memory; the CSV is streamed so it
stays bounded whatever N is).

Measured 2026-11-23 on the shared dev box (2 cores, load 2–4 from other
work, so sqlite3's own time varied 0.5–0.9 s at 200k and 2.1–4.5 s at 1M; read
the ratio of one run, not absolute times across runs):

- before the staged import (ae32bab, row-by-row merge into the indexed
  table): 1M rows 64.8 s vs sqlite3 4.5 s (14.3x, 343 MB peak); on a quieter
  moment 29.1 s vs 2.1 s (13.7x). 200k rows: 7.4–7.8 s vs 0.68–0.86 s (9–11x).
- staged import (TEMP table, set-based insert of rows that meet nothing,
  in-file duplicates found with a bit array, contacts indexes re-created when
  the import at least doubles the table): 1M rows 32.1 s vs 4.0 s (8.0x,
  31k rows/s, 607 MB peak: the 256 MB page caches of main and temp are both
  used); 200k rows 5.5–6.2 s vs 0.5–0.9 s (6.8–12.5x), back to back with the
  old code 6.2 s against 7.4–7.8 s.

Where the time goes now (200k, in-process phase timings): CSV parsing and
per-row cleaning/validation ~1.2 s (email and LinkedIn regexes ~0.5 s),
staging executemany ~0.4 s, INSERT … SELECT into contacts ~0.7 s of which
~0.3 s is the contact_search FTS5 trigger (m041), re-creating the three
indexes ~0.5 s, memberships ~0.3 s, commit (fsync of the WAL) ~0.5 s. The 3x
aim is not met: .import checks nothing and maintains no index or FTS table;
the rest of the gap is Python's per-row work.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from storage.contact_import import import_contacts
from storage.workspace import init_workspace

FIRST = "Ada Alan Grace Linus Margaret Barbara Dennis Ken Frances Edsger Niklaus Donald Radia Tim".split()
LAST = "Lovelace Turing Hopper Torvalds Hamilton Liskov Ritchie Thompson Allen Dijkstra Wirth Knuth Perlman".split()
COMPANIES = "Acme Initech Globex Umbrella Hooli Stark Wayne Wonka Soylent Tyrell".split()


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["First Name", "Last Name", "Email", "Company", "Job Title", "LinkedIn URL", "Phone", "City"])
        for i in range(rows):
            n = rnd.randrange(rows) if rnd.random() < 0.03 else i  # ~3% duplicates
            first, last = FIRST[n % len(FIRST)], LAST[(n // 7) % len(LAST)]
            w.writerow([
                first, last, f"{first}.{last}.{n}@{rnd.choice(COMPANIES).lower()}.example",
                rnd.choice(COMPANIES), "Head of Things", f"https://uk.linkedin.com/in/{first}-{last}-{n}?trk=x",
                f"+44 20 7946 {n % 10000:04d}", "London",
            ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="enginy-bench-import-"))
    try:
        csv_path = tmp / "leads.csv"
        t = time.perf_counter()
        generate(csv_path, args.rows)
        print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        subprocess.run(["sqlite3", str(tmp / "plain.db"), ".mode csv", f".import {csv_path} t"], check=True)
        sqlite_s = time.perf_counter() - t
        print(f"sqlite3 .import (subprocess):          {sqlite_s:7.2f} s")

        db = init_workspace(tmp / "ws").open_db()
        t = time.perf_counter()
        result = import_contacts(db, csv_path, list_name="bench", now=datetime.now(timezone.utc))
        ours_s = time.perf_counter() - t
        print(f"enginy import_contacts (in-process):   {ours_s:7.2f} s"
              f"  (imported {result.imported:,}, updated {result.updated:,}, skipped {result.skipped:,},"
              f" errors {result.error_count:,})")
        print(f"ratio enginy / sqlite3:                {ours_s / sqlite_s:7.2f} x")
        print(f"rows per second (enginy):              {args.rows / ours_s:9,.0f}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process:              {rss:7.0f} MB")
        db.conn.close()
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
