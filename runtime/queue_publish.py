"""The runtime publishes each identity's queue view for the app's Queues screen.

The app never imports the runtime (design rule), so the runtime writes what
the monitor shows: every identity's `runtime.queue_view` as JSON in
`queue_views`, from the runtime process's heartbeat — at most once a real
second, whatever the clock's speed — and once more when it stops, so the
screen shows the last state with its age. A view is written only when it
changed since the last one written, so an idle runtime commits nothing and the
app's data_version poll stays quiet.

And a view is built only when something it shows may have changed, reading no
more than it must. Another process's commit (`data_version`: a paused
identity, a launched campaign) makes every view read afresh. This runtime's own
writes make the views of the identities they touched read afresh (TEMP
triggers note them: `storage.queue_view.watch_changes`). Another minute of the
clock (local times, rolling windows, refills) builds every view again from
what was read before (`runtime.queue_view.Reads`: still true while nothing of
the identity was written). Reading is most of a build (tens of milliseconds
with 50 identities and 1M leads); at real speed a tick touches a few
identities, an idle one none (the heartbeat's lease and clock rows are not
watched).

It runs in the `Service` (`enginy run`, the demo, the app's background
runtime), not in `Runtime` itself: simulations and forecasts have no one to
show it to and must not pay for it.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from runtime.queue_view import NEXT_JOBS, Reads, encode, identity_queue, stored_forecast
from storage import queue_view as store
from storage.db import data_version, transaction
from storage.identities import list_identities


class QueuePublisher:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._last: dict[int, bytes] = {}  # identity id -> the view last written
        self._seen: tuple | None = None  # what the last build saw: other commits, the minute
        self._reads: dict[int, Reads] = {}  # identity id -> what its view read, while nothing of it is written
        store.watch_changes(db)

    def rebuild_all(self) -> None:
        """The next tick builds every view, from what was read (a new forecast was kept: it shows in all)."""
        self._seen = (self._seen[0], None) if self._seen else None

    def publish(self, now: datetime) -> int:
        """Write the views that changed; returns how many were written."""
        seen = (data_version(self.db), now.replace(second=0, microsecond=0))
        touched = store.touched_identities(self.db)
        everyone, new_minute = seen[0] != (self._seen or (None,))[0], seen != self._seen
        if not new_minute and not touched:
            return 0
        report = stored_forecast(self.db)
        if everyone:
            self._reads = {}
        fresh = {}
        for row in list_identities(self.db):
            if row["id"] in touched or row["id"] not in self._reads:
                self._reads[row["id"]] = Reads(self.db, row, now, NEXT_JOBS)
            if new_minute or row["id"] in touched:
                fresh[row["id"]] = encode(identity_queue(self.db, row, now, report=report,
                                                         reads=self._reads[row["id"]]))
        changed = {i: v for i, v in fresh.items() if self._last.get(i) != v}
        gone = everyone and set(self._last) - set(fresh)
        if changed or gone or not self._last:
            with transaction(self.db):
                for identity_id, view in changed.items():
                    store.publish(self.db, identity_id, view.decode(), now)
                if everyone:
                    store.unpublish_except(self.db, list(fresh))
        self._last = fresh if everyone else {**self._last, **fresh}
        self._seen = (data_version(self.db), seen[1])  # after our own writes
        return len(changed)
