"""Read-only connections for a client of the workspace (the TUI): one per thread, and a change watch.

Why per thread: the screens read on worker threads, and a sqlite3 connection
is not shareable across threads. Read-only WAL readers never block the
runtime's writes. The read models (storage/audience_view.py,
storage/activity_view.py, storage/lead_view.py) take a `Reader` and ask it for
this thread's connection.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import sqlite_utils

from storage.db import read_connection

Row = dict[str, Any]
T = TypeVar("T")


class Reader:
    """Per-thread read connections to one workspace database (WAL readers never block the runtime)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []  # with the thread that made it
        self._lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = read_connection(self.path)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._lock:
                self._all.append((threading.current_thread(), conn))
        return conn

    def tuples(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples, in the SELECT's column order: what a record is built from positionally
        (no dict per row — a page of the audience is 64 of them, read at every move)."""
        cursor = self.conn().cursor()
        cursor.row_factory = None
        return cursor.execute(sql, list(params)).fetchall()

    def db(self) -> sqlite_utils.Database:
        """This thread's connection as a sqlite_utils Database, for storage/ query functions."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite_utils.Database(self.conn())
        return db

    def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        row = self.conn().execute(sql, list(params)).fetchone()
        return dict(row) if row else None

    def within(self, budget_ms: int, sql: str, params: Iterable[Any] = ()) -> Any:
        """The first column of the first row of `sql`, or None when SQLite worked longer than `budget_ms`."""
        return with_budget(self.conn(), budget_ms, lambda conn: conn.execute(sql, list(params)).fetchone()[0])

    def close(self) -> None:
        """Close this thread's connection; let go of the worker threads' ones.

        A worker may still be inside a query when the app exits, and closing a sqlite3
        connection another thread is executing on crashes the process (segfault; the
        likely cause of one seen at exit after a failed Pilot test). Each of those closes
        when its thread ends and the thread-local lets go of it, which is never mid-query."""
        me = threading.current_thread()
        with self._lock:
            mine = [conn for owner, conn in self._all if owner is me]
            self._all.clear()
        self._local.__dict__.clear()  # this thread opens a fresh one if it reads again
        for conn in mine:
            conn.close()


def with_budget(conn: sqlite3.Connection, budget_ms: int, fn: Callable[[sqlite3.Connection], T]) -> T | None:
    """Run `fn(conn)`; give up (None) when SQLite has worked longer than `budget_ms`.

    The handler runs every 100,000 virtual-machine steps (~1–3 ms): each call takes
    the GIL back from the UI thread, and every 10,000 steps made a budgeted count
    and the painting take turns hundreds of times. (A duration, not a time of day:
    perf_counter is no clock reading in the sense of runtime/clock.py.)"""
    deadline = time.perf_counter() + budget_ms / 1000
    conn.set_progress_handler(lambda: 1 if time.perf_counter() > deadline else 0, 100_000)
    try:
        return fn(conn)
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            return None
        raise
    finally:
        conn.set_progress_handler(None, 0)


class ChangeWatch:
    """Tells whether another connection committed since the last look (`PRAGMA data_version`, microseconds).

    The TUI polls it every ~250 ms on its own connection and re-reads what it shows when it changed."""

    def __init__(self, path: Path | str) -> None:
        self._conn = read_connection(path)

    def version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        self._conn.close()
