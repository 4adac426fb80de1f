"""The runtime publishes each identity's queue view for the app's Queues screen.

The app never imports the runtime (design rule), so the runtime writes what
the monitor shows: every identity's `runtime.queue_view` as JSON in
`queue_views`, from the runtime process's heartbeat — at most once a real
second, whatever the clock's speed — and once more when it stops, so the
screen shows the last state with its age. A view is written only when it
changed since the last one written, so an idle runtime commits nothing and the
app's data_version poll stays quiet. And a view is built only when something it
shows may have changed: a write of this runtime or a commit of another process
(the connection's change count and `data_version`), or another minute of the
clock (local times, rolling windows, refills) — building one is tens of
milliseconds of the runtime's loop with many identities, which an idle runtime
would otherwise pay every second.

It runs in the `Service` (`enginy run`, the demo, the app's background
runtime), not in `Runtime` itself: simulations and forecasts have no one to
show it to and must not pay for it.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from runtime.queue_view import encode, identity_queue
from storage import queue_view as store
from storage.db import data_version, transaction
from storage.identities import list_identities


class QueuePublisher:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._last: dict[int, bytes] = {}  # identity id -> the view last written
        self._seen: tuple | None = None  # what the last build saw: changes, other commits, the minute

    def publish(self, now: datetime) -> int:
        """Write the views that changed; returns how many were written."""
        seen = (self.db.conn.total_changes, data_version(self.db), now.replace(second=0, microsecond=0))
        if seen == self._seen:
            return 0
        rows = list_identities(self.db)
        fresh = {row["id"]: encode(identity_queue(self.db, row, now)) for row in rows}
        changed = {i: v for i, v in fresh.items() if self._last.get(i) != v}
        gone = set(self._last) - set(fresh)
        if changed or gone or not self._last:
            with transaction(self.db):
                for identity_id, view in changed.items():
                    store.publish(self.db, identity_id, view.decode(), now)
                store.unpublish_except(self.db, list(fresh))
        self._last = fresh
        self._seen = (self.db.conn.total_changes, data_version(self.db), seen[2])  # after our own writes
        return len(changed)
