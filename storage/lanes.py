"""What an identity's queues read and write: jobs per lane, the ledger's recent times, why a lane's leads wait.

A lane is a (bucket, inbox) pair of one identity (runtime/actors/lanes.py):
the LinkedIn buckets have no inbox, each email inbox is its own lane. The
identity actor keeps the best queued jobs of each lane in memory and reads
the next page here when its window runs dry; it counts caps from the ledger
times read here at start; and while a lane waits it writes the reason on the
in-progress leads queued in it (with its detail: the cap, until when), one UPDATE per lane per
change of reason — and the detail alone on the leads of its replies by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlite_utils

from sequences.statuses import Substatus, Wait
from storage.activity import iso
from storage.db import transaction
from storage.outbox import PENDING_INDEX_TERM
from storage.replies import REPLY_SORT_KEY

# A queued lead's substatus a lane may overwrite: none, Queued (what its step wrote), or one a
# lane itself wrote (a lead's own reason, e.g. Connection withdrawn, stays); and only a lead that
# does not say the same already (reason, cap, until). Params: LANE_REASONS, then the new ones.
# A lane that runs again gives its leads back "Queued": they wait their turn.
LANE_REASONS = (Substatus.OUTSIDE_WORKING_HOURS.value, Substatus.IDENTITY_LIMITS.value, Substatus.QUEUED.value)
_REPLACEABLE = ("(substatus IS NULL OR substatus IN (?, ?, ?))"
                " AND NOT (substatus IS ? AND wait_cap IS ? AND wait_until IS ?)")
_SET_WAIT = "substatus = ?, wait_cap = ?, wait_until = ?"
# A reply by hand's lead is no longer In progress (it replied) and keeps its substatus: the lane's
# wait goes in its wait columns alone (storage/replies.reply_wait reads them back).
_SET_REPLY_WAIT = "UPDATE enrollments SET wait_cap = ?, wait_until = ? WHERE status != 'in_progress' AND id IN"
_IS_REPLY = f"node_id IS NULL AND sort_key = {REPLY_SORT_KEY}"
_CHUNK = 500
# A job a lane may run: its campaign runs, or it is a reply by hand (storage/replies.py), which
# goes even after its campaign was paused or archived.
_RUNS = "(k.status = 'running' OR (o.node_id IS NULL AND o.key LIKE 'reply:%'))"


class LaneCount(NamedTuple):
    bucket: str
    inbox_id: int | None
    campaign_id: int
    queued: int


class LanePage(NamedTuple):
    """A lane's next jobs: those whose last attempt's outcome is unknown (settled first), then the queued
    ones in sort-key order; (outbox id, campaign id, sort key), the sort key None for the unknown ones."""

    unknown: list[tuple[int, int]]
    queued: list[tuple[int, int, int]]


def queued_per_lane(db: sqlite_utils.Database, identity_id: int) -> list[LaneCount]:
    return [LaneCount(*r) for r in db.execute(
        "SELECT bucket, inbox_id, campaign_id, COUNT(*) FROM outbox WHERE identity_id = ?"
        " AND state = 'queued' GROUP BY 1, 2, 3", [identity_id]).fetchall()]


def lane_page(db: sqlite_utils.Database, identity_id: int, bucket: str, inbox_id: int | None,
              limit: int) -> LanePage:
    """The next `limit` jobs of running campaigns, and replies by hand whatever their campaign's
    status, in one lane (the `outbox_queue` index)."""
    inbox_sql = "o.inbox_id = ?" if inbox_id is not None else "o.inbox_id IS NULL"
    args = [identity_id, bucket] + ([inbox_id] if inbox_id is not None else []) + [limit]
    queued = db.execute(
        "SELECT o.id, o.campaign_id, o.sort_key FROM outbox o JOIN campaigns k ON k.id = o.campaign_id"
        f" WHERE o.identity_id = ? AND o.bucket = ? AND {inbox_sql} AND o.state = 'queued'"
        f" AND {_RUNS} ORDER BY o.sort_key LIMIT ?", args).fetchall()
    unknown = db.execute(
        "SELECT o.id, o.campaign_id FROM outbox o JOIN campaigns k ON k.id = o.campaign_id"
        f" WHERE o.identity_id = ? AND o.bucket = ? AND {inbox_sql} AND o.state = 'unknown'"
        f" AND o.{PENDING_INDEX_TERM} AND {_RUNS} LIMIT ?", args).fetchall()
    return LanePage(unknown, queued)


def ledger_times(db: sqlite_utils.Database, identity_id: int, bucket: str, inbox_id: int | None,
                 since: datetime) -> list[datetime]:
    """When the identity's counted actions of a bucket (of one inbox, for email) happened since `since`."""
    sql = "SELECT at FROM action_ledger WHERE identity_id = ? AND bucket = ? AND at >= ?"
    args: list = [identity_id, bucket, iso(since)]
    if inbox_id is not None:
        sql += " AND inbox_id = ?"
        args.append(inbox_id)
    return [datetime.fromisoformat(r[0]) for r in db.execute(sql, args)]


def restamp(db: sqlite_utils.Database, outbox_id: int, at: datetime) -> None:
    """An attempt whose outcome was unknown had not happened after all: it counts from `at`, when it did."""
    db.execute("UPDATE action_ledger SET at = ? WHERE outbox_id = ?", [iso(at), outbox_id])


def _wait_values(why: Wait) -> list:
    return [why.reason.value, why.cap, iso(why.until) if why.until is not None else None]


def mark_lane(db: sqlite_utils.Database, identity_id: int, bucket: str, inbox_id: int | None,
              why: Wait | None, was: Substatus | None) -> None:
    """Every in-progress lead queued in the lane now waits for `why` (None: no longer waits for `was`,
    only its turn: Queued). Only a lead with no substatus or one a lane wrote is touched."""
    inbox_sql = "inbox_id = ?" if inbox_id is not None else "inbox_id IS NULL"
    lane_args = [identity_id, bucket] + ([inbox_id] if inbox_id is not None else [])
    if why is None:
        sql, args, values = "substatus = ?", [was.value], [Substatus.QUEUED.value, None, None]
    else:
        values = _wait_values(why)
        sql, args = _REPLACEABLE, [*LANE_REASONS, *values]
    db.execute(
        f"UPDATE enrollments SET {_SET_WAIT} WHERE status = 'in_progress' AND {sql} AND id IN"
        f" (SELECT enrollment_id FROM outbox WHERE identity_id = ? AND bucket = ? AND {inbox_sql}"
        " AND state = 'queued')", [*values, *args, *lane_args])
    db.execute(f"{_SET_REPLY_WAIT} (SELECT enrollment_id FROM outbox WHERE identity_id = ? AND bucket = ? AND {inbox_sql}"
               f" AND state = 'queued' AND {_IS_REPLY})", [*values[1:], *lane_args])


def mark_jobs(db: sqlite_utils.Database, outbox_ids: list[int], why: Wait) -> None:
    """The leads of these queued jobs wait for `why` (jobs filed into a lane that already waits),
    a transaction per chunk of ids."""
    values = _wait_values(why)
    for chunk in range(0, len(outbox_ids), _CHUNK):
        part = outbox_ids[chunk:chunk + _CHUNK]
        with transaction(db):
            db.execute(
                f"UPDATE enrollments SET {_SET_WAIT} WHERE status = 'in_progress' AND {_REPLACEABLE} AND id IN"
                f" (SELECT enrollment_id FROM outbox WHERE id IN ({','.join('?' * len(part))}) AND state = 'queued')",
                [*values, *LANE_REASONS, *values, *part])
            db.execute(f"{_SET_REPLY_WAIT} (SELECT enrollment_id FROM outbox WHERE id IN ({','.join('?' * len(part))})"
                       f" AND state = 'queued' AND {_IS_REPLY})", [*values[1:], *part])


class QueuedRow(NamedTuple):
    outbox_id: int
    enrollment_id: int
    campaign_id: int
    node_id: str
    bucket: str
    inbox_id: int | None
    sort_key: int


def queued_jobs(db: sqlite_utils.Database, identity_id: int, buckets: tuple[str, ...]) -> list[QueuedRow]:
    """The identity's queued jobs in these buckets (every inbox's, for email): the jobs of a
    channel that can no longer go (its account or inbox lost), to fail their leads."""
    return [QueuedRow(*r) for r in db.execute(
        "SELECT id, enrollment_id, campaign_id, node_id, bucket, inbox_id, sort_key FROM outbox"
        f" WHERE identity_id = ? AND state = 'queued' AND bucket IN ({','.join('?' * len(buckets))}) ORDER BY id",
        [identity_id, *buckets]).fetchall()]
