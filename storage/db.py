"""Opening a workspace database: file mode 0600, WAL, foreign keys, migrations.

Migrations are modules `storage/migrations/mNNN_description.py`, each with a
`migrate(db)` function. They run in number order inside one transaction each
and are recorded in `_migrations`, so an older database upgrades in place the
moment it is opened.
"""

from __future__ import annotations

import errno
import importlib
import os
import pkgutil
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils

from storage import migrations as _migrations_pkg
from storage.faults import ReadOnlyOutdated, describe, note_lock_holders

_MIGRATION_NAME = re.compile(r"^m(\d{3})_[a-z0-9_]+$")


def migration_names() -> list[str]:
    """All migration module names, in the order they must run."""
    names = [
        info.name
        for info in pkgutil.iter_modules(_migrations_pkg.__path__)
        if _MIGRATION_NAME.match(info.name)
    ]
    return sorted(names, key=lambda n: int(n[1:4]))


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does, so -wal/-shm inherit it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def connect(path: Path | str, *, durable: bool = True, check_same_thread: bool = True) -> sqlite_utils.Database:
    """A configured connection without running migrations (readers, tools).

    `durable=False` (synchronous=OFF) is only for throw-away simulation
    workspaces, where speed matters and a power cut loses nothing of value.
    """
    path = Path(path)
    if str(path) != ":memory:" and path.exists() and not writable(path):
        return _connect_read_only(path, check_same_thread)
    if str(path) != ":memory:" and not path.exists():
        _create_private(path)
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=check_same_thread, timeout=5.0
    )
    db = sqlite_utils.Database(conn)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'OFF'}")
    return db


def database_path(db: sqlite_utils.Database) -> str:
    """The file behind a connection ('' for an in-memory database)."""
    return db.conn.execute("PRAGMA database_list").fetchone()[2]


def write_blocker(path: Path | str) -> str | None:
    """Why the database cannot be written right now (a lock held by another program, a full disk, a
    read-only filesystem), said as storage/faults.py says it; None when a write would go through.
    Looks without waiting: a lock probe that finds the lock free gives it back at once."""
    path = Path(path)
    if not writable(path):
        return describe(OSError(errno.EROFS, "read-only"), advice=False)
    try:
        if os.statvfs(path.parent).f_bavail == 0:
            return describe(OSError(errno.ENOSPC, "disk full"), advice=False)
    except OSError:
        pass
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        note_lock_holders(exc, str(path))
        return describe(exc, advice=False)
    finally:
        conn.close()
    return None


def writable(path: Path) -> bool:
    """The database file and its folder (where SQLite puts -wal and -shm) can be written."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def read_connection(path: Path | str, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """A connection that can only read (the app's readers, a read-only workspace).

    A WAL database needs its -shm file to be read; on a read-only filesystem (a mounted backup, a
    snapshot) it cannot be created, and nobody can write the file either, so it is opened immutable."""
    uri = Path(path).resolve().as_uri()
    try:
        conn = _opened(f"{uri}?mode=ro", check_same_thread)
    except sqlite3.OperationalError:
        conn = _opened(f"{uri}?immutable=1", check_same_thread)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA query_only = 1")
    return conn


def _opened(uri: str, check_same_thread: bool) -> sqlite3.Connection:
    """A connection to `uri` that has read the schema (opening is lazy: this is where it fails)."""
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=check_same_thread, timeout=5.0)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        raise
    return conn


def _connect_read_only(path: Path, check_same_thread: bool) -> sqlite_utils.Database:
    """A read-only workspace: it can still be read, and any write says "the workspace is read-only"
    (storage/faults.py). `query_only` is the mark open_db and `read_only` look for."""
    return sqlite_utils.Database(read_connection(path, check_same_thread=check_same_thread))


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on error).

    Connections run in autocommit mode, so every group of writes that belongs
    together must go through this: a crash mid-way then leaves nothing half-written.
    Nested use is a savepoint of the outer transaction: an error inside undoes
    the inner writes only (and propagates), so a caller that handles it goes on
    from a consistent state.
    """
    conn = db.conn
    if conn.in_transaction:
        group = _GROUPS.get(conn)
        if group is not None:  # a scratch group keeps no journal: a failure voids it (see grouped_commits)
            try:
                yield db
            except BaseException as exc:
                group.failed = group.failed or exc
                raise
            return
        conn.execute("SAVEPOINT nested")
        try:
            yield db
        except BaseException:
            conn.execute("ROLLBACK TO nested")
            conn.execute("RELEASE nested")
            raise
        conn.execute("RELEASE nested")
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        note_lock_holders(exc, database_path(db))
        raise
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def joined_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """The caller's transaction if one is open (no savepoint of its own), else a new one.

    For small helpers called many times inside bigger transactions, whose writes
    only need to be atomic together with the caller's: an error inside propagates
    and the caller's rollback undoes them with everything else."""
    if db.conn.in_transaction:
        yield db
        return
    with transaction(db):
        yield db


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    if "_migrations" not in db.table_names():
        return []
    return [row["name"] for row in db.query("SELECT name FROM _migrations ORDER BY name")]


def migrate(db: sqlite_utils.Database, upto: str | None = None) -> list[str]:
    """Apply the pending migrations (optionally only up to `upto`); return their names."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
    )
    names = migration_names()
    if upto is not None and upto not in names:
        raise ValueError(f"no migration named {upto!r}")
    done = set(applied_migrations(db))
    applied = []
    for name in names:
        if name in done:
            if name == upto:
                break  # already there: nothing later may run
            continue
        module = importlib.import_module(f"storage.migrations.{name}")
        with transaction(db):
            module.migrate(db)
            db.conn.execute("INSERT INTO _migrations (name) VALUES (?)", (name,))
        applied.append(name)
        if name == upto:
            break
    return applied


def open_db(path: Path | str, *, durable: bool = True, check_same_thread: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) a workspace database and bring its schema up to date.

    A read-only one is opened for reading as it is; if it needs a newer schema, it cannot be read."""
    db = connect(path, durable=durable, check_same_thread=check_same_thread)
    if not read_only(db):
        migrate(db)
    elif set(migration_names()) - set(applied_migrations(db)):
        db.close()
        raise ReadOnlyOutdated(f"{path} is read-only and was written by an older enginy: open it once where it "
                               "can be written to bring it up to date")
    return db


def read_only(db: sqlite_utils.Database) -> bool:
    """Opened from a read-only workspace: reading works, writing is refused."""
    return db.conn.execute("PRAGMA query_only").fetchone()[0] == 1


SCRATCH_PAGE_SIZE = 16384


def open_scratch_db(path: Path | str) -> sqlite_utils.Database:
    """A throw-away database for `enginy simulate` and `enginy forecast`: one connection
    holds it exclusively and journals in memory. Nobody else reads it, and a crash loses
    nothing of value, so the WAL's shared-memory locking and file writes at every commit
    (a quarter of a simulation's time) buy nothing here. Rollback works, except inside
    `grouped_commits`.

    A new file gets 16 KiB pages: the simulation's index-heavy writes touch fewer,
    shallower pages (a full-size worker ~4 % faster and no larger than with 4 KiB).
    An existing file (the forecast's copy of a workspace) keeps its own."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        _create_private(path)
        fresh = sqlite3.connect(str(path))
        try:  # the page size is fixed by the first write of the header; WAL mode would fix it too
            fresh.execute(f"PRAGMA page_size = {SCRATCH_PAGE_SIZE}")
            fresh.execute("VACUUM")
        finally:
            fresh.close()
    db = open_db(path, durable=False)
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
    db.execute("PRAGMA journal_mode = MEMORY")
    db.execute("PRAGMA cache_size = -262144")  # 256 MB: a million-lead audience stays in memory
    return db


class GroupVoid(RuntimeError):
    """A transaction failed inside a scratch database's commit group, which cannot undo it."""


@dataclass
class _Group:
    failed: BaseException | None = None

    def check(self) -> None:
        if self.failed is not None:
            raise GroupVoid("a write failed inside a scratch database's commit group, which keeps no journal"
                            f" to undo it: this run is void ({self.failed!r})") from self.failed


_GROUPS: dict[sqlite3.Connection, _Group] = {}


@contextmanager
def grouped_commits(db: sqlite_utils.Database) -> Iterator[Callable[[], None]]:
    """Scratch databases only: one open transaction, committed when told to, and no journal.

    Yields `commit()`, which commits and opens the next group. The pages a
    simulation rewrites thousands of times a day are then written out once per
    group (commits were a quarter of a large simulation's time). Inside, a
    `transaction()` joins the group without a savepoint, and the database keeps
    no rollback journal: copying every page a transaction touches into the
    journal, so that it could be undone, was an eighth of a simulation's time,
    and a simulation never undoes one (a failing write is a bug in the run).
    So a transaction that fails voids the group instead: its error propagates
    as usual, and the next `commit()` (or the end of the group) raises
    `GroupVoid`, so a half-applied change is never committed and the run fails
    loudly (its file is not to be read on: a full page cache may have written
    pages of the group early). Durability is given up too, which a throw-away
    database never had."""
    conn = db.conn
    if conn.in_transaction:
        raise RuntimeError("grouped_commits needs a connection outside any transaction")
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.execute("PRAGMA journal_mode = OFF")
    group = _GROUPS[conn] = _Group()
    conn.execute("BEGIN IMMEDIATE")

    def commit() -> None:
        group.check()
        if conn.in_transaction:
            conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")

    try:
        yield commit
        group.check()
        if conn.in_transaction:
            conn.execute("COMMIT")
    finally:
        del _GROUPS[conn]
        if conn.in_transaction:  # void, or left by an error: the database is not to be read on
            conn.execute("ROLLBACK")
        conn.execute(f"PRAGMA journal_mode = {mode}")


def data_version(db: sqlite_utils.Database) -> int:
    """Changes when another connection commits (`PRAGMA data_version`: microseconds, never our own commits)."""
    return db.execute("PRAGMA data_version").fetchone()[0]
