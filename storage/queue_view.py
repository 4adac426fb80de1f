"""What the queue monitor reads: lane depths, the next jobs with their names, blocked leads, published views.

runtime/queue_view.py turns these into one identity's queue view (the same
records whether a runtime runs or not); the runtime publishes that view into
`queue_views` (m015) and the TUI's Queues screen reads it back here. The
next jobs of a lane come in the order the identity actor runs them
(`storage.lanes.lane_page`: unknown outcomes first, then by `sort_key`).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import msgspec
import sqlite_utils

from storage.activity import iso
from storage.outbox import PENDING_INDEX_TERM


# -- the view's records (built by runtime/queue_view.py, published as JSON, read by the app) --

class WorkingHoursView(msgspec.Struct):
    open: bool
    local_time: str  # ISO 8601 in the identity's time zone
    next_change: str | None  # when it opens or closes next (None: no working day configured)


class Bucket(msgspec.Struct):
    name: str
    used: int
    limit: int | None  # None: no cap (a monthly conversation limit not set)
    window: str  # "day", "month", "hour", "4 min" …
    next_refill: str | None  # when the counted actions start to come back (None: nothing counted)
    warmup: str | None = None  # an inbox's day cap held down by its warm-up: "day 3 of 21 · 9 today (then 40/day)"


class NextJob(msgspec.Struct):
    campaign: str
    lead: str
    action: str
    why: str  # its place (message depth, priority, tie-break) and what it waits for


class Lane(msgspec.Struct):
    name: str
    depth: int
    next: list[NextJob]


class Blocked(msgspec.Struct):
    reason: str
    count: int


class CampaignForecast(msgspec.Struct):
    campaign: int
    name: str
    remaining_leads: int  # not started or in progress when the forecast started
    finishes_at: str | None  # ISO; None: not within the forecast's days
    bottleneck: str | None  # the cap that holds it back most, named as its bucket ("invitations")
    utilization: float | None  # that cap's done ÷ allowed over the forecast


class Forecast(msgspec.Struct):
    start: str  # workspace time the forecast ran from (its age)
    days: float
    campaigns: list[CampaignForecast]


class IdentityQueue(msgspec.Struct):
    id: int
    name: str
    timezone: str
    working_hours: WorkingHoursView
    buckets: list[Bucket]
    lanes: list[Lane]
    blocked: list[Blocked]
    # counted actions per hour over the last day, oldest first; the last is the current hour so far
    # (a default: views published before it existed still read)
    per_hour: list[int] = msgspec.field(default_factory=list)
    forecast: Forecast | None = None  # the identity's running campaigns, from the runtime's last forecast


class QueueView(msgspec.Struct):
    identities: list[IdentityQueue]


class JobRow(NamedTuple):
    """A queued job as the monitor names it (outbox row, its campaign and its contact)."""

    id: int
    campaign: str
    priority: str
    lead: str
    action: str
    state: str
    sort_key: int


class Published(NamedTuple):
    view: IdentityQueue
    published_at: str  # workspace time


def lane_depths(db: sqlite_utils.Database, identity_id: int) -> dict[tuple[str, int | None], int]:
    """Jobs waiting in each (bucket, inbox) lane of the identity: queued or unknown, of running campaigns
    (what its actor would run; a paused campaign's jobs stay queued but wait for nothing here)."""
    rows = db.execute(
        "SELECT o.bucket, o.inbox_id, COUNT(*) FROM outbox o JOIN campaigns k ON k.id = o.campaign_id"
        f" WHERE o.identity_id = ? AND o.{PENDING_INDEX_TERM} AND o.state IN ('queued', 'unknown')"
        " AND k.status = 'running' GROUP BY 1, 2", [identity_id]).fetchall()
    return {(bucket, inbox): n for bucket, inbox, n in rows}


def job_rows(db: sqlite_utils.Database, outbox_ids: list[int]) -> dict[int, JobRow]:
    """The named rows of these outbox ids (a lane's next few), by id."""
    if not outbox_ids:
        return {}
    rows = db.execute(
        "SELECT o.id, k.name, k.priority, trim(c.first_name || ' ' || c.last_name), o.action, o.state, o.sort_key"
        " FROM outbox o JOIN campaigns k ON k.id = o.campaign_id JOIN enrollments e ON e.id = o.enrollment_id"
        f" JOIN contacts c ON c.id = e.contact_id WHERE o.id IN ({','.join('?' * len(outbox_ids))})",
        outbox_ids).fetchall()
    return {r[0]: JobRow(*r) for r in rows}


def blocked_counts(db: sqlite_utils.Database, identity_id: int) -> list[tuple[str, str, int]]:
    """(status, substatus, leads) of the identity's in-progress and errored leads that say why they
    wait or stopped, most first (the `enrollments_chip` index narrows to those two statuses)."""
    return db.execute(
        "SELECT e.status, e.substatus, COUNT(*) FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id"
        " WHERE k.identity_id = ? AND e.status IN ('in_progress', 'error') AND e.substatus IS NOT NULL"
        " AND NOT e.removed GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2", [identity_id]).fetchall()


def count_since(db: sqlite_utils.Database, identity_id: int, bucket: str, since: datetime) -> int:
    """The identity's counted actions of a bucket since `since` (the `action_ledger_bucket` index)."""
    return db.execute("SELECT COUNT(*) FROM action_ledger WHERE identity_id = ? AND bucket = ? AND at >= ?",
                      [identity_id, bucket, iso(since)]).fetchone()[0]


def actions_per_hour(db: sqlite_utils.Database, identity_id: int, buckets: tuple[str, ...],
                     since: datetime) -> dict[str, int]:
    """The identity's ledger entries of these buckets since `since`, by UTC hour ('2026-03-02T09' → n):
    one range of the `action_ledger_bucket` index per bucket, counted in SQL (times are stored in UTC)."""
    return dict(db.execute(
        "SELECT substr(at, 1, 13), COUNT(*) FROM action_ledger WHERE identity_id = ?"
        f" AND bucket IN ({','.join('?' * len(buckets))}) AND at >= ? GROUP BY 1",
        [identity_id, *buckets, iso(since)]).fetchall())


# -- which identities this connection's writes touched -----------------------------

# (table, the identity of a row as a trigger sees it through `r`: new or old)
_IDENTITY_OF = (("action_ledger", "r.identity_id"), ("outbox", "r.identity_id"), ("campaigns", "r.identity_id"),
                ("inboxes", "r.identity_id"), ("identities", "r.id"),
                ("enrollments", "(SELECT identity_id FROM campaigns WHERE id = r.campaign_id)"))


def watch_changes(db: sqlite_utils.Database) -> None:
    """Note the identity of every row this connection writes in the tables a queue view reads.

    TEMP triggers: they live and fire in this connection only (the runtime's), so the schema, other
    processes and simulations never see them; other processes' commits show in `data_version`."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS queue_touched (identity_id INTEGER PRIMARY KEY)")
    for table, identity in _IDENTITY_OF:
        for event, rows in (("INSERT", ("new",)), ("UPDATE", ("old", "new")), ("DELETE", ("old",))):
            body = " ".join(f"INSERT OR IGNORE INTO queue_touched SELECT {identity.replace('r.', f'{r}.')};"
                            for r in rows)
            db.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS queue_touched_{table}_{event.lower()}"
                       f" AFTER {event} ON main.{table} BEGIN {body} END")


def touched_identities(db: sqlite_utils.Database) -> set[int]:
    """The identities written since the last call (`watch_changes`), forgotten as they are read."""
    ids = {r[0] for r in db.execute("SELECT identity_id FROM queue_touched").fetchall() if r[0] is not None}
    db.execute("DELETE FROM queue_touched")
    return ids


# -- the published views ------------------------------------------------------------

def publish(db: sqlite_utils.Database, identity_id: int, view: str, now: datetime) -> None:
    db.execute("INSERT INTO queue_views (identity_id, view, published_at) VALUES (?, ?, ?) ON CONFLICT"
               " (identity_id) DO UPDATE SET view = excluded.view, published_at = excluded.published_at",
               [identity_id, view, iso(now)])


def unpublish_except(db: sqlite_utils.Database, identity_ids: list[int]) -> None:
    """Forget the views of identities no longer shown (deleted)."""
    db.execute(f"DELETE FROM queue_views WHERE identity_id NOT IN ({','.join('?' * len(identity_ids))})",
               identity_ids)


def published(db: sqlite_utils.Database) -> list[Published]:
    """The views as last published, by identity id."""
    return [Published(msgspec.json.decode(view, type=IdentityQueue), at) for view, at in db.execute(
        "SELECT view, published_at FROM queue_views ORDER BY identity_id").fetchall()]
