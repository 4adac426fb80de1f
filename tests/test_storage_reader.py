"""Reader.close() while worker threads are still reading (the app exiting mid-query) must not crash.

Closing a sqlite3 connection another thread is executing on is a segfault in
CPython, so this runs in a child process and checks that it exits normally.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import sqlite3, sys, threading
from storage.reader import Reader

path = sys.argv[1]
current = Reader(path)
stop = threading.Event()
errors = []

def work():
    while not stop.is_set():
        reader = current
        try:
            reader.one("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
                       " SELECT count(*) AS c FROM n")
        except sqlite3.Error as exc:  # the connection closed under the query
            errors.append(exc)

threads = [threading.Thread(target=work, daemon=True) for _ in range(3)]
for t in threads:
    t.start()
try:
    for _ in range(300):  # an app exits (on_unmount closes its reader) while the workers are mid-query
        old, current = current, Reader(path)
        old.one("SELECT 1 AS one")
        old.close()
finally:
    stop.set()
for t in threads:
    t.join()
print("ok", len(errors))
"""


def test_closing_the_reader_while_workers_read_does_not_crash(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    sqlite3.connect(db).close()
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(db)], cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert (done.returncode, done.stdout.strip()) == (0, "ok 0"), done.stderr[-2000:]
