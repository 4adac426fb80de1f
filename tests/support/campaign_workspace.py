"""Shared helpers for the campaign, identity and metrics tests: a workspace,
contacts and lists built by hand, and the real `enginy` command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from storage.contacts import ensure_list
from storage.workspace import init_workspace

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def enginy(ws: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run the real command line (the console entry point) on workspace `ws`."""
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120)


def ok_json(ws: Path, *args: str):
    r = enginy(ws, *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def fails(ws: Path, *args: str) -> str:
    """Run a command that must be refused: exit 2, one line on stderr, nothing on stdout."""
    r = enginy(ws, *args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("enginy: "), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    return lines[0]


def make_workspace(tmp_path: Path):
    ws = init_workspace(tmp_path / "ws")
    return ws.dir, ws.open_db()


def add_contacts(db, n: int, *, list_name: str = "Leads", start: int = 1, company: str = "Acme") -> int:
    """`n` contacts c<i>@x<i>.com with ids `start`… in list `list_name`; returns the list id.

    The contacts are written by hand because tests pick them by id (test_forecast's
    `contact_id < 126` after `start=101`), which an import (tests/support/seed.py) does not fix."""
    stamp = NOW.isoformat()
    list_id = ensure_list(db, list_name, now=NOW)
    for i in range(start, start + n):
        db.execute("INSERT OR IGNORE INTO contacts (id, first_name, last_name, email, company, linkedin_url,"
                   " created_at, updated_at) VALUES (?, ?, 'Test', ?, ?, ?, ?, ?)",
                   [i, f"C{i}", f"c{i}@x{i}.com", company, f"https://www.linkedin.com/in/c{i}", stamp, stamp])
        db.execute("INSERT OR IGNORE INTO list_members VALUES (?, ?, ?)", [list_id, i, stamp])
    return list_id


def counts(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
