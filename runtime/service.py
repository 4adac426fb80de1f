"""The runtime as a process: lease, heartbeat, stop requests, signals, speed.

* Lease — the single `runtime_lease` row, taken and released through
  runtime/lease.py (which also starts a runtime detached). Heartbeats are wall time,
  because a workspace clock running 3600× must not make a live lease look stale.
* Stop — `enginy stop` sets `stop_requested`; the heartbeat sees it within a
  second and the runtime stops cleanly and deletes its lease row.
  SIGTERM/SIGINT/SIGHUP do the same.
* Time — a workspace has one timeline: the runtime starts at the later of the
  wall time and the workspace's last clock position (runtime_state
  `clock_position`, saved every heartbeat), so after a run at `--speed 3600`
  time never runs backwards (caps and delays counted in workspace time stay right).
  `--speed R` runs a `MockClock(rate=R)`; `set_speed` changes R live (0 pauses).
  The demo's TUI asks for a new speed or a pause by writing the `demo_speed` /
  `demo_paused` rows (storage/demo_clock.py); the heartbeat reads them every real
  second and applies a change — it must be the heartbeat, not the supervisor's
  poll, because the poll sleeps in workspace time and would never wake from a pause.
  Rows already there at start are not applied (the `--speed` given wins until the
  rows change), so an old demo's rows never override `enginy run --speed`.
* Queues — every heartbeat publishes the queue monitor's view of each identity
  that changed (runtime/queue_publish.py), and once more on stop.
* Forecast — a child process reruns `enginy forecast` for the monitor when the workspace
  moved, at most every two minutes and 1/20 of a core (runtime/forecast_live.py).
* Email — when the workspace has connected real (non-sandbox) inboxes, one IMAP
  watcher per inbox runs beside the actors, so replies, bounces, out-of-office
  and unsubscribes reach the leads; sandbox-only workspaces and simulations
  (which use Runtime directly) start none.
"""

from __future__ import annotations

import logging
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils
import trio
import trio.testing

from runtime.clock import wall_now
from runtime.engine import Runtime
from runtime.log import log_to
from sequences.limits import speed_problem
from runtime.lease import acquire, process_alive, release
from runtime.forecast_live import LiveForecast
from runtime.queue_publish import QueuePublisher
from runtime.sandbox.world import SandboxWorld
from storage import runtime_lease, secret_purges
from storage.db import database_path, transaction
from storage.faults import describe, storage_error as fault_of
from storage.demo_clock import demo_clock, demo_rows
from storage.timeline import save_position, workspace_time

HEARTBEAT_S = 1.0
MAX_FAULT_BACKOFF_S = 30.0  # real seconds between tries of a workspace that cannot be written

log = logging.getLogger("enginy.runtime")


class RunOptionError(ValueError):
    """A run option that cannot work (a speed of 0, a `--stop-with` process that is gone)."""


def start_time(db: sqlite_utils.Database) -> datetime:
    return workspace_time(db, wall_now())


class Service:
    """Run a Runtime on a workspace database the way `enginy run` does."""

    def __init__(self, db: sqlite_utils.Database, *, world: SandboxWorld | None = None, speed: float = 1.0,
                 workspace: Path | None = None, stop_with: int | None = None) -> None:
        self.db = db
        self.stop_with = stop_with  # a process whose end stops this runtime (the demo's TUI)
        self.world = world
        self.speed = speed
        self.clock = trio.testing.MockClock(rate=speed) if speed != 1.0 else None
        self.workspace = workspace
        self.queues = QueuePublisher(db)
        self.runtime = self._new_runtime()
        self._demo_seen = demo_rows(self.db)
        self._stop_asked = False

    def _new_runtime(self) -> Runtime:
        """A fresh Runtime: at start, and after a storage fault tore the last one down."""
        runtime = Runtime(self.db, world=self.world, poll_interval=max(1.0, self.speed) * 0.5,
                          workspace=str(self.workspace) if self.workspace else None)
        if self.workspace is not None:  # inboxes connected later are picked up while running
            runtime.background.append(self._watch_mail)
            runtime.background.append(LiveForecast(self.db, Path(database_path(self.db)), self.queues.rebuild_all).run)
        return runtime

    def request_stop(self) -> None:
        self._stop_asked = True
        self.runtime.request_stop()

    async def _watch_mail(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        from runtime.email_watchers import run_watchers
        from runtime.secrets import SecretStore
        from storage.workspace import open_workspace

        store = SecretStore.of(open_workspace(self.runtime.workspace))
        await run_watchers(self.runtime, store, task_status=task_status)

    def _forget_secrets(self) -> None:
        """Secrets of inboxes disconnected or identities deleted (maybe from the app, which cannot
        reach the secret store) are forgotten here, within a heartbeat."""
        if self.runtime.workspace is None or not secret_purges.pending_count(self.db):
            return
        from runtime.secrets import SecretsError, SecretStore, forget_requested
        from storage.workspace import open_workspace

        try:
            forget_requested(self.db, SecretStore.of(open_workspace(self.runtime.workspace)))
        except (SecretsError, OSError) as exc:  # the next beat tries again
            log.warning("could not forget secrets: %s", exc)

    def set_speed(self, rate: float) -> None:
        """Change how many workspace seconds pass per real second (0 pauses). Needs a MockClock run."""
        if self.clock is None:
            raise RuntimeError("start the service with a speed other than 1 to change it later")
        self.clock.rate = rate
        self.runtime.poll_interval = max(1.0, rate) * 0.5

    def _apply_demo_clock(self) -> None:
        """Apply the TUI's demo clock rows when they changed since last seen (MockClock runs only)."""
        rows = demo_rows(self.db)
        if rows == self._demo_seen or self.clock is None:
            return
        self._demo_seen = rows
        speed, paused = demo_clock(self.db, self.clock.rate or self.speed)
        if speed > 0:
            self.speed = speed
        self.set_speed(0.0 if paused else self.speed)

    def run(self, *, until: timedelta | None = None) -> None:
        acquire(self.db)
        try:
            trio.run(self._main, until, clock=self.clock)
        finally:
            if not self._record(lambda: release(self.db)):  # stale soon: the next run takes it over
                log.warning("enginy: the runtime stopped but could not release the workspace (a storage fault)")

    async def _main(self, until: timedelta | None) -> None:
        epoch = start_time(self.db)
        end = epoch + until if until else None
        async with trio.open_nursery() as nursery:
            await nursery.start(self._signals)
            await nursery.start(self._heartbeat)
            while True:
                try:
                    await self.runtime.run(epoch=epoch, until=end)
                    break
                except Exception as exc:
                    if fault_of(exc) is None:
                        raise
                    if not await self._wait_out(exc):
                        break
                epoch = self.runtime.clock.now()
                self.runtime = self._new_runtime()
            if self._record(self._save_position):
                self.queues.publish(self.runtime.clock.now())  # the monitor shows the state it stopped in
            nursery.cancel_scope.cancel()

    async def _wait_out(self, exc: Exception) -> bool:
        """A storage fault (a lock held too long by another program, a full disk) stopped the runtime:
        everything it did is in the database, as after a kill -9. Say so once, wait with backoff until a
        write goes through again, then go on (True) — or stop if asked meanwhile (False)."""
        log.warning("enginy: the runtime is waiting: %s", describe(exc, database_path(self.db), advice=False))
        delay = 1.0
        while not self._stop_asked:
            await trio.to_thread.run_sync(_sleep_real, delay)
            if self._record(self._save_position):
                log.warning("enginy: the workspace can be written again; the runtime goes on")
                return True
            delay = min(delay * 2, MAX_FAULT_BACKOFF_S)
        return False

    def _save_position(self) -> None:
        with transaction(self.db):
            save_position(self.db, self.runtime.clock.now())

    @staticmethod
    def _record(write) -> bool:
        """Run one bookkeeping write; a storage fault makes it False (the caller waits or skips it)."""
        try:
            write()
        except Exception as exc:
            if fault_of(exc) is None:
                raise
            return False
        return True


    async def _signals(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            task_status.started()
            async for _ in signals:
                self.request_stop()

    async def _heartbeat(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            # real seconds, whatever the clock's rate
            await trio.to_thread.run_sync(_sleep_real, HEARTBEAT_S)
            if self.stop_with is not None and not process_alive(self.stop_with):
                self.request_stop()
            self._record(self._tick)  # under a storage fault the main loop waits; beats resume with it

    def _tick(self) -> None:
        with transaction(self.db):
            runtime_lease.beat(self.db, wall_now())
            if self.runtime.clock is not None:
                save_position(self.db, self.runtime.clock.now())
        self._apply_demo_clock()
        self._forget_secrets()
        if self.runtime.clock is not None:
            self.queues.publish(self.runtime.clock.now())
        if runtime_lease.stop_requested(self.db):
            self.request_stop()


def _sleep_real(seconds: float) -> None:
    import time

    time.sleep(seconds)


def run_workspace(folder: Path, *, speed: float = 1.0, until: timedelta | None = None,
                  stop_with: int | None = None) -> None:
    """Run the campaigns of the workspace in `folder` in this process until stopped.

    The one body of `enginy run` and of the detached runtime (`python -m runtime`). Raises
    RunOptionError for a bad speed or `stop_with`, storage's WorkspaceError for an unusable
    workspace and LeaseHeld when another runtime holds it — each a one-line message for the user."""
    from storage.workspace import open_workspace

    if problem := speed_problem(speed):
        raise RunOptionError(f"--speed {problem}")
    if stop_with is not None and not process_alive(stop_with):
        raise RunOptionError(f"--stop-with {stop_with}: no such process (the runtime would stop at once)")
    ws = open_workspace(folder)
    log_to(sys.stderr)
    db = ws.open_db()
    world = SandboxWorld(ws.config.demo.seed, path=ws.dir / "sandbox.db")
    service = Service(db, world=world, speed=speed, workspace=ws.dir, stop_with=stop_with)
    try:
        service.run(until=until)
    finally:
        world.close()
