"""`enginy queue`: what each identity's queues hold, what they wait for, and what is blocked.

The same view as the app's Queues screen, for scripts (`--json`) and people,
built from the stored ledger and outbox (runtime/queue_view.py), so it works
whether or not a runtime is running.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import typer

from cli.output import UserError, emit
from cli.workspace import open_ws


def queue(
    ctx: typer.Context,
    identity: Optional[str] = typer.Option(None, "--identity", "-i", help="Only this identity (id or exact name)."),
    jobs: int = typer.Option(5, "--jobs", min=0, max=100, help="Next jobs shown per lane."),
    json_out: bool = typer.Option(False, "--json", help="Print the view as JSON (the shape is in `--help`)."),
) -> None:
    """Per identity: working hours, every rate-limit bucket, each lane's depth and next jobs, blocked leads.

    Buckets show what the stored ledger has counted against each cap (used / limit per window)
    and when it next gives some back. Lanes list their next jobs in the order the runtime runs
    them: unknown outcomes first, then the spec's LinkedIn order (message depth, campaign
    priority, tie-break), each with what it waits for. Blocked counts in-progress and errored
    leads by their substatus. per_hour: the identity's actions in each of the last 24 clock
    hours (UTC), oldest first, the last one the current hour so far. forecast: its campaigns
    as of the runtime's last `enginy forecast` (a running runtime reruns it when the workspace
    moved, at most every two minutes; null before the first): when each finishes (null: not
    within `days`) and the cap that holds it back most.

    \b
    JSON: {"identities": [{"id", "name", "timezone",
            "working_hours": {"open", "local_time", "next_change"},
            "buckets": [{"name", "used", "limit", "window", "next_refill",
                         "warmup": "day 3 of 21 · 8 today (then 40/day)" | null}],
            "lanes": [{"name", "depth", "next": [{"campaign", "lead", "action", "why"}]}],
            "blocked": [{"reason", "count"}], "per_hour": [24 ints],
            "forecast": {"start", "days", "campaigns": [{"campaign", "name",
              "remaining_leads", "finishes_at", "bottleneck", "utilization"}]} | null}]}
    """
    from runtime.clock import wall_now
    from runtime.queue_view import build
    from storage.identities import IdentityError
    from storage.timeline import workspace_time

    db = open_ws(ctx).open_db()
    try:
        view = build(db, workspace_time(db, wall_now()), identity=identity, next_jobs=jobs)
    except IdentityError as exc:
        raise UserError(str(exc)) from None
    emit(view, json_out, human=human(view))


def human(view) -> str:
    """The view as plain lines; every name from outside (identities, campaigns, leads, inboxes) cleaned."""
    from tui.text import clean

    if not view.identities:
        return "(no identities yet: enginy identity add NAME)"
    out: list[str] = []
    for ident in view.identities:
        wh = ident.working_hours
        state = "open" if wh.open else "closed"
        change = f", {'closes' if wh.open else 'opens'} {_when(wh.next_change)}" if wh.next_change else ""
        out.append(f"#{ident.id} {clean(ident.name)} ({ident.timezone}): working hours {state}, "
                   f"local time {_when(wh.local_time)}{change}")
        out.append("  buckets")
        for b in ident.buckets:
            used = f"{b.used:>4} (no cap)" if b.limit is None else f"{b.used:>4}/{b.limit:<4}"
            refill = f"  refills {_when(b.next_refill)}" if b.next_refill else ""
            out.append(f"    {clean(b.name)[:36]:<36} {used:<10} per {b.window:<7}{refill}")
            if b.warmup:
                out.append(f"      capped by warm-up: {b.warmup}")
        out.append("  lanes")
        for lane in ident.lanes:
            out.append(f"    {clean(lane.name)[:36]:<36} {lane.depth:>6} queued")
            for job in lane.next:
                out.append(f"      {clean(job.campaign)[:24]} · {clean(job.lead)[:24]} · {job.action}")
                out.append(f"        {clean(job.why)}")
        out.append("  blocked" + ("" if ident.blocked else ": none"))
        out += [f"    {b.reason:<36} {b.count:>6}" for b in ident.blocked]
        if ident.per_hour:
            out.append(f"  actions per hour, last {len(ident.per_hour)} h: {' '.join(map(str, ident.per_hour))}")
        out += _forecast(ident.forecast)
    return "\n".join(line.rstrip() for line in out)


def _forecast(forecast) -> list[str]:
    from tui.text import clean

    if forecast is None:
        return ["  forecast: none yet (a running runtime makes one; or `enginy forecast`)"]
    out = [f"  forecast from {_when(forecast.start)}, {forecast.days:g} days"]
    for c in forecast.campaigns:
        done = f"finishes {_when(c.finishes_at)}" if c.finishes_at else f"not within {forecast.days:g} days"
        neck = f"; bottleneck {c.bottleneck} at {c.utilization:.0%}" if c.bottleneck else ""
        out.append(f"    #{c.campaign} {clean(c.name)[:30]}: {c.remaining_leads} leads left, {done}{neck}")
    return out


def _when(iso: str | None) -> str:
    """'Tue 24 09:00' from the view's ISO times (already in the identity's time zone)."""
    return datetime.fromisoformat(iso).strftime("%a %d %H:%M") if iso else "—"
