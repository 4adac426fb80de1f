"""Everything the campaign view and the dashboard count, straight from indexed columns.

How each figure is derived (the recording side is storage/activity_kinds.py):

* audience chips — enrollments by `status`. While the campaign itself is
  paused, its In progress leads are shown as Paused (spec: "paused at
  lead-level or because the campaign is paused"); their rows are untouched,
  so resuming costs nothing. Total counts every lead ever added, removed
  ones included (they are Finished / Deleted).
* funnel figures — leads by milestone bit (`enrollments.milestones`):
  all: started, contacted (LinkedIn message or email), replied (any
  channel), positive; LinkedIn: engaged, invited, accepted, contacted,
  replied, positive; email: clicked, replied, positive.
* email sent / bounced — *emails*, not leads: activity rows of kind
  `email_sent` / `email_bounced` (index activity(campaign_id, kind)).
* tasks — the campaign's task rows by status.
* reply rate — replied / contacted. Out-of-office auto-replies never set a
  replied bit (they set `OUT_OF_OFFICE`), so they are excluded (FAQ Q3).
* progress by action — leads whose current node is the step and that are
  still on their way there (In progress, Paused or Error).

The audience, the per-step counts and the funnel are read from running
totals that triggers on `enrollments` keep in the same transaction as every
change (migration m043): leads by (status, node) and leads by milestones bit
set. A grouped pass over the covering index instead took ~1 s at a million
leads with varied milestone bits (300,000 groups through Python, holding the
GIL the TUI paints with); the totals are a few rows (tests check them against
a fresh COUNT after every kind of write).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils

from sequences.model import CHANNEL, Sequence, children, from_json, kind_of, step_names
from sequences.wording import ago
from storage.activity_kinds import CONDITION_KINDS, CONTACTED, POSITIVE, REPLIED, Kind, Milestone

M = Milestone
AUDIENCE_KEYS = ("total", "not_started", "in_progress", "paused", "error", "finished", "replied")
AT_A_STEP = ("in_progress", "paused", "error")

_FUNNEL: dict[str, dict[str, int]] = {
    "all": {"started": M.STARTED, "contacted": CONTACTED, "replied": REPLIED, "positive": POSITIVE},
    "linkedin": {"engaged": M.LI_ENGAGED, "invited": M.LI_INVITED, "accepted": M.LI_ACCEPTED,
                 "contacted": M.LI_CONTACTED, "replied": M.LI_REPLIED, "positive": M.LI_POSITIVE},
    "email": {"clicked": M.EM_CLICKED, "replied": M.EM_REPLIED, "positive": M.EM_POSITIVE},
}
_FUNNEL = {channel: {name: int(mask) for name, mask in figures.items()} for channel, figures in _FUNNEL.items()}


class Step(msgspec.Struct):
    step: str
    kind: str
    label: str
    depth: int
    leads: int
    errors: int


class CampaignMetrics(msgspec.Struct):
    status: str
    audience: dict[str, int]
    metrics: dict[str, dict[str, Any]]
    steps: list[Step]


def _groups(db: sqlite_utils.Database, campaign_id: int) -> list[tuple[str, str | None, int]]:
    """(status, node or None, leads) of a campaign, from the trigger-kept totals (m043)."""
    return [(status, node or None, n) for status, node, n in db.execute(
        "SELECT status, node_id, n FROM enrollment_counts WHERE campaign_id = ? AND n > 0", [campaign_id])]


_CELLS = [(channel, name, mask) for channel, figures in _FUNNEL.items() for name, mask in figures.items()]
_CELLS.append(("", "out_of_office", int(M.OUT_OF_OFFICE)))
_FIGURES_SQL = ("SELECT coalesce(sum(n), 0)" + ", coalesce(sum(CASE WHEN milestones & ? THEN n END), 0)" * len(_CELLS)
                + " FROM enrollment_milestone_counts WHERE campaign_id = ?")


def _milestone_figures(db: sqlite_utils.Database, campaign_id: int) -> tuple[int, dict[str, dict[str, int]]]:
    """(leads, funnel figures by channel, with "out_of_office" under ""), summed by SQLite over
    the trigger-kept totals by milestones bit set (m043): a figure is the leads whose bit set
    has any of its bits. One row per distinct bit set, so even thousands of them never go
    through Python."""
    total, *sums = db.execute(_FIGURES_SQL, [*(mask for _, _, mask in _CELLS), campaign_id]).fetchone()
    figures: dict[str, dict[str, int]] = {}
    for (channel, name, _), n in zip(_CELLS, sums):
        figures.setdefault(channel, {})[name] = n
    return total, figures


def shown_statuses(chip: str, campaign_paused: bool) -> tuple[str, ...]:
    """The stored lead statuses a status chip (a key of AUDIENCE_KEYS but "total") shows.

    The one place of the rule "a paused campaign shows In progress as Paused": while
    the campaign itself is paused, the Paused chip holds its In progress leads too and
    In progress holds none. The chip counts (audience_counts) and the audience list's
    filter (storage/audience_view.py) both ask this."""
    if campaign_paused and chip == "paused":
        return ("paused", "in_progress")
    if campaign_paused and chip == "in_progress":
        return ()
    return (chip,)


def audience_counts(groups: list[tuple[str, str | None, int]], campaign_status: str) -> dict[str, int]:
    by_status: Counter[str] = Counter()
    for status, _node, n in groups:
        by_status[status] += n
    paused = campaign_status == "paused"
    return {"total": sum(by_status.values()),
            **{chip: sum(by_status[s] for s in shown_statuses(chip, paused)) for chip in AUDIENCE_KEYS[1:]}}


def tree_order(seq: Sequence) -> list[tuple[int, Any]]:
    """Nodes depth-first from the start, Yes branch before No, with their depth (for display)."""
    nodes = {n.id: n for n in seq.nodes}
    out: list[tuple[int, Any]] = []
    stack = [(seq.start, 0)]
    seen: set[str] = set()
    while stack:
        node_id, depth = stack.pop()
        if node_id is None or node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        node = nodes[node_id]
        out.append((depth, node))
        kids = children(node)
        branch = depth + 1 if len(kids) > 1 else depth
        stack.extend((k, branch) for k in reversed(kids))
    return out


def campaign_metrics(db: sqlite_utils.Database, campaign_id: int) -> CampaignMetrics:
    """The Overview and Audience figures of one campaign."""
    row = db.execute("SELECT status, sequence FROM campaigns WHERE id = ?", [campaign_id]).fetchone()
    if row is None:
        raise LookupError(f"no campaign {campaign_id}")
    groups = _groups(db, campaign_id)
    _, funnel = _milestone_figures(db, campaign_id)
    at_node: Counter[str] = Counter()
    errors_at: Counter[str] = Counter()
    for status, node, n in groups:
        if node is not None and status in AT_A_STEP:
            at_node[node] += n
            if status == "error":
                errors_at[node] += n
    audience = audience_counts(groups, row[0])
    metrics: dict[str, dict[str, Any]] = {channel: funnel[channel] for channel in _FUNNEL}
    metrics["all"] = {"total": audience["total"], **metrics["all"], "out_of_office": funnel[""]["out_of_office"]}
    metrics["all"]["reply_rate"] = (round(metrics["all"]["replied"] / metrics["all"]["contacted"], 4)
                                    if metrics["all"]["contacted"] else 0.0)
    sent = dict(db.execute(
        "SELECT kind, COUNT(*) FROM activity WHERE campaign_id = ? AND kind IN (?, ?) GROUP BY kind",
        [campaign_id, Kind.EMAIL_SENT.value, Kind.EMAIL_BOUNCED.value]).fetchall())
    metrics["email"] = {"sent": sent.get(Kind.EMAIL_SENT.value, 0), **metrics["email"],
                        "bounced": sent.get(Kind.EMAIL_BOUNCED.value, 0)}
    tasks = dict(db.execute("SELECT status, COUNT(*) FROM tasks WHERE campaign_id = ? GROUP BY status",
                            [campaign_id]).fetchall())
    metrics["tasks"] = {"pending": tasks.get("pending", 0), "completed": tasks.get("completed", 0)}
    seq = from_json(row[1])
    ordered = tree_order(seq)
    names = step_names(seq, [node for _, node in ordered])
    steps = [Step(step=node.id, kind=kind_of(node), label=names[node.id], depth=depth,
                  leads=at_node.get(node.id, 0), errors=errors_at.get(node.id, 0))
             for depth, node in ordered]
    return CampaignMetrics(status=row[0], audience=audience, metrics=metrics, steps=steps)


def conversation_tags(db: sqlite_utils.Database, campaign_id: int, since: str | None = None) -> list[tuple[str, str, int]]:
    """(tag, channel, conversations) of a campaign — the Tagged Conversations widget; with `since`
    (ISO), only the tags added since then (`tag_times`, kept by set_tags beside the tags)."""
    return [(str(tag), channel, n) for tag, channel, n in db.execute(
        "SELECT t.key AS tag, cv.channel, count(*) AS n FROM conversations cv, json_each(cv.tag_times) t"
        " WHERE cv.campaign_id = ? AND (? IS NULL OR t.value >= ?) GROUP BY t.key, cv.channel ORDER BY n DESC",
        [campaign_id, since, since])]


def daily_activity(db: sqlite_utils.Database, campaign_id: int, since: str) -> list[tuple[str, int]]:
    """(day, actions) since `since` — the overview sparkline (conditions left out)."""
    return [(day, n) for day, n in db.execute(
        "SELECT substr(at, 1, 10) AS day, count(*) AS n FROM activity INDEXED BY activity_campaign"
        f" WHERE campaign_id = ? AND at >= ? AND kind NOT IN ({','.join('?' * len(CONDITION_KINDS))})"
        " AND enrollment_id IS NOT NULL GROUP BY day ORDER BY day",
        [campaign_id, since, *[k.value for k in CONDITION_KINDS]])]


# --- the dashboard ----------------------------------------------------------------


def channels_of(seq: Sequence) -> list[str]:
    used = {CHANNEL[kind_of(n)] for n in seq.nodes if kind_of(n) in CHANNEL}
    return [c for c in ("linkedin", "email", "task") if c in used]


def dashboard(db: sqlite_utils.Database, *, now: datetime, statuses: tuple[str, ...] = (),
              identity_id: int | None = None, folder: str | None = None, tag: str | None = None,
              search: str | None = None) -> list[dict[str, Any]]:
    """One row per campaign card, newest first: Started / Contacted / Replied, channels, tags, identity."""
    where, params = ["1 = 1"], []
    if statuses:
        where.append(f"c.status IN ({', '.join('?' for _ in statuses)})")
        params += list(statuses)
    if identity_id is not None:
        where.append("c.identity_id = ?")
        params.append(identity_id)
    if folder is not None:
        where.append("c.folder = ?")
        params.append(folder)
    if search:
        where.append("(c.name LIKE ? OR i.name LIKE ?)")
        params += [f"%{search}%"] * 2
    rows = list(db.query(
        "SELECT c.id, c.name, c.status, c.priority, c.tags, c.folder, c.sequence, c.created_at, c.launched_at,"
        " c.scheduled_at, i.name AS identity FROM campaigns c JOIN identities i ON i.id = c.identity_id"
        f" WHERE {' AND '.join(where)} ORDER BY c.created_at DESC, c.id DESC", params))
    out = []
    for r in rows:
        tags = msgspec.json.decode(r["tags"])
        if tag is not None and tag not in tags:
            continue
        total, figures = _milestone_figures(db, r["id"])
        funnel = figures["all"]
        out.append({"id": r["id"], "name": r["name"], "status": r["status"], "priority": r["priority"],
                    "identity": r["identity"], "tags": tags, "folder": r["folder"],
                    "channels": channels_of(from_json(r["sequence"])), "created_at": r["created_at"],
                    "created": ago(r["created_at"], now), "launched_at": r["launched_at"],
                    "scheduled_at": r["scheduled_at"], "total": total, "started": funnel["started"],
                    "contacted": funnel["contacted"], "replied": funnel["replied"]})
    return out
