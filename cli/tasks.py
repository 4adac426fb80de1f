"""`enginy tasks`: the Tasks screen for scripts — list, add, done, reopen."""

from __future__ import annotations

from typing import Optional

import typer

from cli.output import UserError, emit
from cli.workspace import guard, open_session, require_lead, wall_time

app = typer.Typer(help="Tasks from Task steps and made by hand: list, add, done, reopen.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_IDS = typer.Argument(..., help="Task ids (as `enginy tasks list` shows them).")


@app.command("list")
def list_cmd(ctx: typer.Context,
             show: str = typer.Option("pending", "--show", help="pending, overdue, completed or all."),
             campaign: Optional[str] = typer.Option(None, "--campaign", help="Only this campaign (id or name)."),
             identity: Optional[str] = typer.Option(None, "--identity", help="Only this identity's campaigns "
                                                                              "(id or name)."),
             limit: int = typer.Option(200, "--limit", min=1, max=1000, help="Tasks at most."),
             json_out: bool = _JSON) -> None:
    """Tasks, pending ones due first (overdue marked "!"); counts per tab on the last line."""
    from storage.campaigns import get_campaign
    from storage.identities import get_identity
    from storage.tasks import Show, TaskFilter, list_tasks, task_counts
    from tui.text import clean

    try:
        which = Show(show.strip().lower())
    except ValueError:
        raise UserError(f"--show {show!r}: use pending, overdue, completed or all") from None
    _, db = open_session(ctx)
    flt = TaskFilter(show=which,
                     campaign_id=guard(lambda: get_campaign(db, campaign))["id"] if campaign is not None else None,
                     identity_id=guard(lambda: get_identity(db, identity))["id"] if identity is not None else None)
    now = wall_time()
    rows = list_tasks(db, flt, now=now, limit=limit)
    counts = task_counts(db, flt, now=now)
    if json_out:
        emit({"tasks": rows, "counts": counts}, True)
        return
    lines = [f"{'!' if t.overdue else ('✓' if t.status == 'completed' else ' ')} #{t.id:<6} "
             f"{(t.due_at or '')[:10]:<10}  {clean(t.title)[:40]:<40}  {clean(t.contact)[:24]:<24}  "
             f"{clean(t.campaign)[:24]}" for t in rows]
    lines.append(" · ".join(f"{n} {name}" for name, n in counts.items()))
    emit(None, False, "\n".join(lines))


@app.command("add")
def add_cmd(ctx: typer.Context,
            campaign: str = typer.Argument(..., help="Campaign id or name."),
            contact: str = typer.Option(..., "--contact", help="The lead: contact id, email or LinkedIn URL."),
            title: str = typer.Option(..., "--title", help="What to do (one line)."),
            notes: str = typer.Option("", "--notes", help="Details."),
            due: str = typer.Option("", "--due", help="YYYY-MM-DD (end of that UTC day), +N days, today, tomorrow."),
            json_out: bool = _JSON) -> None:
    """Create a to-do about one lead of a campaign; it shows in the Tasks screen and the lead's timeline."""
    from storage.campaigns import get_campaign
    from storage.tasks import create_task, get_task, parse_due

    ws, db = open_session(ctx)
    now = wall_time()
    due_at = guard(lambda: parse_due(due, now))
    row = guard(lambda: get_campaign(db, campaign))
    lead = require_lead(db, row["id"], contact)
    task_id = guard(lambda: create_task(db, lead["id"], title=title, notes=notes, now=now, due_at=due_at,
                                         actor=ws.config.user))
    task = get_task(db, task_id, now=now)
    emit(task, json_out, f"Task #{task_id} created" + (f", due {task.due_at[:16]}" if task.due_at else ""))


def _move(ctx: typer.Context, ids: list[int], json_out: bool, *, done: bool) -> None:
    """All the tasks or none: one that cannot move (unknown, already so) leaves the others as they were."""
    from storage.db import transaction
    from storage.tasks import complete_task, get_task, reopen_task

    ws, db = open_session(ctx)
    now = wall_time()
    moved = []
    with transaction(db):
        for task_id in ids:
            guard(lambda: (complete_task if done else reopen_task)(db, task_id, now=now, actor=ws.config.user))
            moved.append(get_task(db, task_id, now=now))
    emit(moved, json_out, "\n".join(f"Task #{t.id} {'completed' if done else 'reopened'}" for t in moved))


@app.command("done")
def done_cmd(ctx: typer.Context, ids: list[int] = _IDS, json_out: bool = _JSON) -> None:
    """Mark tasks completed (the campaign's Tasks › Completed counts them); `reopen` undoes it."""
    _move(ctx, ids, json_out, done=True)


@app.command("reopen")
def reopen_cmd(ctx: typer.Context, ids: list[int] = _IDS, json_out: bool = _JSON) -> None:
    """Make completed tasks pending again."""
    _move(ctx, ids, json_out, done=False)
