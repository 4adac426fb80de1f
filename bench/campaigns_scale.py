"""A million-contact list enrolled into a campaign, then the campaign's metrics.

    python -m bench.campaigns_scale [N]

Prints the wall time of: add_list (one INSERT … SELECT with the duplicate,
removed and blocklist checks; triggers keep the per-campaign counts, m043),
campaign_metrics (reads those counts), the dashboard card, and a second
add_list of the same list (every contact already in). Not run by CI; figures
go in the report.

Measured 2026-11-23 (2 cores, load 7–9 from other work: read ratios, not
absolute times), 1M contacts, before → after the kept counts (m043):
add_list 12.2 → 10.7 s (the count triggers cost ~1 µs a row, ~1 s here, lost
in the noise), campaign_metrics 0.185 → 0.001 s, dashboard 0.434 → 0.000 s,
add_list again 1.4 → 2.0 s (nothing inserted; noise).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from storage.activity_kinds import Milestone
from storage.audience import add_list
from storage.campaigns import create_campaign, launch_campaign
from storage.db import open_db
from storage.identities import create_identity
from storage.metrics import campaign_metrics, dashboard

NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def timed(label: str, fn):
    t = time.perf_counter()
    out = fn()
    print(f"{label:<38} {time.perf_counter() - t:8.3f} s")
    return out


def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="enginy-bench-"))
    db = open_db(folder / "enginy.db")
    stamp = NOW.isoformat()
    with db.conn:
        db.execute("BEGIN")
        db.execute("INSERT INTO lists (id, name, created_at) VALUES (1, 'Big', ?)", [stamp])
        db.conn.executemany(
            "INSERT INTO contacts (id, first_name, email, company, created_at, updated_at) VALUES (?, 'x', ?, ?, ?, ?)",
            ((i, f"c{i}@d{i % 5000}.com", f"Co {i % 20000}", stamp, stamp) for i in range(1, n + 1)))
        db.conn.executemany("INSERT INTO list_members VALUES (1, ?, ?)", ((i, stamp) for i in range(1, n + 1)))
        for d in range(0, 5000, 500):
            db.execute("INSERT INTO blocklist (kind, value, created_at) VALUES ('domain', ?, ?)", [f"d{d}.com", stamp])
        db.execute("COMMIT")
    create_identity(db, "Ada", now=NOW, actor="bench")
    cid = create_campaign(db, identity="Ada", template="LinkedIn + Email", now=NOW, actor="bench")
    report = timed(f"add_list ({n:,} contacts)", lambda: add_list(db, cid, "Big", now=NOW, actor="bench"))
    print("  ", report)
    launch_campaign(db, cid, now=NOW, actor="bench")
    rng = random.Random(7)
    statuses = ["not_started", "in_progress", "in_progress", "finished", "replied", "error", "paused"]
    nodes = ["visit", "invite", "accepted", "msg1", "email1"]
    masks = [0, Milestone.STARTED, Milestone.STARTED | Milestone.LI_ENGAGED | Milestone.LI_INVITED,
             Milestone.STARTED | Milestone.EM_SENT, Milestone.STARTED | Milestone.EM_SENT | Milestone.EM_REPLIED]
    with db.conn:
        db.execute("BEGIN")
        db.conn.executemany("UPDATE enrollments SET status = ?, node_id = ?, milestones = ? WHERE id = ?",
                            ((rng.choice(statuses), rng.choice(nodes), int(rng.choice(masks)), i)
                             for i in range(1, report.added + 1)))
        db.execute("COMMIT")
    m = timed("campaign_metrics", lambda: campaign_metrics(db, cid))
    print("  ", m.audience, m.metrics["all"])
    timed("dashboard (1 card)", lambda: dashboard(db, now=NOW))
    timed("add_list again (all already in)", lambda: add_list(db, cid, "Big", now=NOW, actor="bench"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
