"""Tasks: the to-dos a sequence's Task step or the user makes about a lead.

A sequence's Task step writes a `tasks` row (runtime/leads.py, due
`Task.due_days` after the step runs); a task made by hand (the side panel's
"Create a task", `enginy tasks add`) does the same and logs TASK_CREATED with
the user as actor, so the lead's timeline and the Activity tab show it.
Completing and reopening log TASK_COMPLETED / TASK_REOPENED likewise.

A task's identity is its campaign's (a campaign has one identity), so it is
read through the campaign, never copied. "Overdue" is not stored: a pending
task whose `due_at` has passed, at the `now` the caller passes (the one clock).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
import re
from datetime import date, datetime, time, timedelta, timezone

import msgspec
import sqlite_utils

from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.campaigns import CampaignError
from storage.contact_fields import clean_line
from storage.db import transaction
from storage.leads import add_task

TITLE_MAX = 200
NOTES_MAX = 5_000
#: Rows one listing returns at most (the screen and the CLI say when there are more).
LIST_LIMIT = 1_000


class TaskError(CampaignError):
    """A task request refused: no such task, already done, a bad title."""


class Show(enum.StrEnum):
    """Which tasks a listing shows (the Tasks screen's tabs)."""

    PENDING = "pending"
    OVERDUE = "overdue"
    COMPLETED = "completed"
    ALL = "all"


@dataclass(frozen=True)
class TaskFilter:
    show: Show = Show.PENDING
    campaign_id: int | None = None
    identity_id: int | None = None


class TaskRow(msgspec.Struct, kw_only=True):
    """One task as the Tasks screen and `enginy tasks list` show it."""

    id: int
    title: str
    notes: str
    kind: str
    status: str
    overdue: bool
    due_at: str | None
    created_at: str
    completed_at: str | None
    campaign_id: int | None
    campaign: str
    identity_id: int | None
    identity: str
    enrollment_id: int | None
    contact_id: int | None
    contact: str


def check_title(title: str) -> str:
    title = clean_line(title)
    if not title:
        raise TaskError("a task needs a title")
    if len(title) > TITLE_MAX:
        raise TaskError(f"a task title is at most {TITLE_MAX} characters")
    return title


_RELATIVE = re.compile(r"^\+?(\d{1,3})d?$")


def parse_due(text: str, now: datetime) -> datetime | None:
    """A due date as people type it: `YYYY-MM-DD` (due by the end of that UTC day), `+3d` / `3` (three
    days from now), `today`, `tomorrow`; empty: no due date. TaskError with the accepted forms otherwise."""
    text = text.strip().lower()
    if not text:
        return None
    words = {"today": 0, "tomorrow": 1}
    if text in words:
        return _end_of(now.astimezone(timezone.utc).date() + timedelta(days=words[text]))
    found = _RELATIVE.match(text)
    if found:
        return now + timedelta(days=int(found.group(1)))
    try:
        return _end_of(date.fromisoformat(text))
    except ValueError:
        raise TaskError(f"due {text[:16]!r}: YYYY-MM-DD, +N days (e.g. +3d), today or tomorrow") from None


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.utc)


def create_task(db: sqlite_utils.Database, enrollment_id: int, *, title: str, notes: str = "", now: datetime,
                actor: str, due_at: datetime | None = None) -> int:
    """A pending task about this lead, at its current step; the new task's id."""
    title = check_title(title)
    notes = notes.strip()
    if len(notes) > NOTES_MAX:
        raise TaskError(f"task notes are at most {NOTES_MAX:,} characters")
    with transaction(db):
        row = db.execute("SELECT campaign_id, contact_id, node_id FROM enrollments WHERE id = ?",
                         [enrollment_id]).fetchone()
        if row is None:
            raise TaskError("this lead is no longer in the campaign")
        campaign_id, contact_id, node_id = row
        task_id = add_task(db, campaign_id=campaign_id, enrollment_id=enrollment_id, contact_id=contact_id,
                           node_id=node_id, title=title, notes=notes, kind="todo", now=now, due_at=due_at)
        record(db, kind=Kind.TASK_CREATED, now=now, campaign_id=campaign_id, enrollment_id=enrollment_id,
               contact_id=contact_id, node_id=node_id, actor=actor, channel="task",
               detail={"task": task_id, "title": title})
    return task_id


def complete_task(db: sqlite_utils.Database, task_id: int, *, now: datetime, actor: str) -> None:
    """Mark a pending task done (Completed in the campaign's Tasks metrics)."""
    _move(db, task_id, to="completed", kind=Kind.TASK_COMPLETED, now=now, actor=actor)


def reopen_task(db: sqlite_utils.Database, task_id: int, *, now: datetime, actor: str) -> None:
    """Make a completed task pending again (undoes `complete_task`)."""
    _move(db, task_id, to="pending", kind=Kind.TASK_REOPENED, now=now, actor=actor)


def _move(db: sqlite_utils.Database, task_id: int, *, to: str, kind: Kind, now: datetime, actor: str) -> None:
    with transaction(db):
        row = db.execute("SELECT status, enrollment_id, campaign_id, contact_id, node_id, title FROM tasks"
                         " WHERE id = ?", [task_id]).fetchone()
        if row is None:
            raise TaskError(f"no task #{task_id}")
        status, enrollment_id, campaign_id, contact_id, node_id, title = row
        if status == to:
            raise TaskError(f"task #{task_id} is already {to}")
        db.execute("UPDATE tasks SET status = ?, completed_at = ? WHERE id = ?",
                   [to, iso(now) if to == "completed" else None, task_id])
        record(db, kind=kind, now=now, campaign_id=campaign_id, enrollment_id=enrollment_id, contact_id=contact_id,
               node_id=node_id, actor=actor, channel="task", detail={"task": task_id, "title": title})


_SELECT = (
    "SELECT t.id, t.title, t.notes, t.kind, t.status, t.due_at, t.created_at, t.completed_at, t.campaign_id,"
    " coalesce(k.name, ''), k.identity_id, coalesce(i.name, ''), t.enrollment_id, t.contact_id,"
    " coalesce(nullif(trim(c.first_name || ' ' || c.last_name), ''), c.email, '')"
    " FROM tasks t LEFT JOIN campaigns k ON k.id = t.campaign_id LEFT JOIN identities i ON i.id = k.identity_id"
    " LEFT JOIN contacts c ON c.id = t.contact_id")


def _where(flt: TaskFilter, now: datetime, show: Show) -> tuple[str, list]:
    clauses, values = [], []
    if show is Show.OVERDUE:
        clauses.append("t.status = 'pending' AND t.due_at < ?")
        values.append(iso(now))
    elif show is not Show.ALL:
        clauses.append("t.status = ?")
        values.append(show.value)
    if flt.campaign_id is not None:
        clauses.append("t.campaign_id = ?")
        values.append(flt.campaign_id)
    if flt.identity_id is not None:
        clauses.append("k.identity_id = ?")
        values.append(flt.identity_id)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", values


def list_tasks(db: sqlite_utils.Database, flt: TaskFilter, *, now: datetime, limit: int = LIST_LIMIT) -> list[TaskRow]:
    """The tasks `flt` shows: pending ones due first (no date last), completed ones newest first."""
    where, values = _where(flt, now, flt.show)
    order = (" ORDER BY t.completed_at DESC, t.id DESC" if flt.show is Show.COMPLETED
             else " ORDER BY t.status DESC, t.due_at IS NULL, t.due_at, t.id")
    stamp = iso(now)
    return [_row(r, stamp) for r in db.execute(_SELECT + where + order + " LIMIT ?", [*values, limit])]


def _row(r: tuple, stamp: str) -> TaskRow:
    return TaskRow(id=r[0], title=r[1], notes=r[2], kind=r[3], status=r[4], due_at=r[5], created_at=r[6],
                   completed_at=r[7], campaign_id=r[8], campaign=r[9], identity_id=r[10], identity=r[11],
                   enrollment_id=r[12], contact_id=r[13], contact=r[14],
                   overdue=r[4] == "pending" and r[5] is not None and r[5] < stamp)


def task_counts(db: sqlite_utils.Database, flt: TaskFilter, *, now: datetime) -> dict[str, int]:
    """How many tasks each tab would show under the same campaign/identity filter."""
    counts = {}
    for show in Show:
        where, values = _where(flt, now, show)
        counts[show.value] = db.execute(
            "SELECT count(*) FROM tasks t LEFT JOIN campaigns k ON k.id = t.campaign_id" + where, values).fetchone()[0]
    return counts


def task_owners(db: sqlite_utils.Database) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(campaigns, identities) that have tasks, as (id, name) by name: what the Tasks screen filters by."""
    campaigns = db.execute("SELECT DISTINCT k.id, k.name FROM tasks t JOIN campaigns k ON k.id = t.campaign_id"
                           " ORDER BY k.name COLLATE NOCASE, k.id").fetchall()
    identities = db.execute("SELECT DISTINCT i.id, i.name FROM tasks t JOIN campaigns k ON k.id = t.campaign_id"
                            " JOIN identities i ON i.id = k.identity_id ORDER BY i.name COLLATE NOCASE, i.id").fetchall()
    return [tuple(r) for r in campaigns], [tuple(r) for r in identities]


def get_task(db: sqlite_utils.Database, task_id: int, *, now: datetime) -> TaskRow:
    row = db.execute(_SELECT + " WHERE t.id = ?", [task_id]).fetchone()
    if row is None:
        raise TaskError(f"no task #{task_id}")
    return _row(row, iso(now))
