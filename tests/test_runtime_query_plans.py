"""The runtime's statements use their indexes: no look-up walks a growing table.

A long run (a million enrollments, millions of outbox and activity rows) is
only as fast as its most frequent statements. This test records every
statement a short simulation issues and asks SQLite for each one's plan: none
may scan a table that grows with the audience or the history, and the due-lead
look-ups must use the due index. A partial index is only used when the query
repeats its WHERE term, so a harmless-looking rewrite can silently turn a
look-up into a scan — this is the test that notices.
"""

from __future__ import annotations

import re
from datetime import timedelta

import trio
import trio.testing

from runtime.engine import Runtime
from runtime.sandbox.world import Profile, SandboxWorld
from runtime.simulation import EPOCH, build
from storage.db import open_db

GROWING = ("enrollments", "outbox", "activity", "action_ledger", "contacts", "messages", "conversations")


def statements_of_a_run(db) -> set[str]:
    seen: set[str] = set()
    db.conn.set_trace_callback(seen.add)
    rt = Runtime(db, world=SandboxWorld(1, profile=Profile(latency_s=(0.0, 0.0))), poll_interval=3600.0)

    async def main() -> None:
        await rt.run(epoch=EPOCH, until=EPOCH + timedelta(days=3))

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    db.conn.set_trace_callback(None)
    return {s for s in seen if s.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT", "WITH"))}


def test_no_runtime_statement_scans_a_growing_table(tmp_path):
    db = open_db(tmp_path / "plans.db", durable=False)
    build(db, identities=3, leads_per_identity=200, seed=1)
    statements = statements_of_a_run(db)
    assert len(statements) > 50  # the run did real work: sends, steps, refills

    scans, due_lookups = [], 0
    for sql in statements:
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
        for step in plan:
            m = re.match(r"SCAN (\w+)", step)
            if m and any(sql_names_table(sql, t, m.group(1)) for t in GROWING):
                scans.append((sql[:160], step))
        if re.search(r"FROM enrollments\b.*\bdue_at\b", sql, re.S):
            due_lookups += 1
            assert any("enrollments_due_status" in step for step in plan), (sql, plan)
    assert due_lookups > 0
    assert scans == []


def sql_names_table(sql: str, table: str, scanned: str) -> bool:
    """`scanned` (a table or its alias in the plan) stands for `table` in this statement."""
    if scanned == table:
        return True
    return re.search(rf"\b{table}\s+(?:AS\s+)?{scanned}\b", sql) is not None
