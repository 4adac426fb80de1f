"""Campaign metrics as CSV (the dashboard's download button, `enginy campaigns export`).

One row per campaign; columns are the card's fields and every Overview
figure, named `<channel>_<metric>` in snake_case so spreadsheets and scripts
can rely on them. The CLI and the TUI both call `write_csv`, so the two
exports are the same file. Names, folders and tags are the user's text: their
cells go through `spreadsheet_cell` (no controls, no formulas).
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any, TextIO

import sqlite_utils

from storage.contact_fields import spreadsheet_cell
from storage.metrics import AUDIENCE_KEYS, campaign_metrics, dashboard

CARD_COLUMNS = ("id", "name", "status", "priority", "identity", "folder", "tags", "channels", "created_at",
                "launched_at", "scheduled_at")
METRIC_COLUMNS = (
    ("all", ("total", "started", "contacted", "replied", "positive", "out_of_office", "reply_rate")),
    ("linkedin", ("engaged", "invited", "accepted", "contacted", "replied", "positive")),
    ("email", ("sent", "clicked", "replied", "positive", "bounced")),
    ("tasks", ("pending", "completed")),
)
COLUMNS = (*CARD_COLUMNS, *(f"audience_{k}" for k in AUDIENCE_KEYS),
           *(f"{channel}_{name}" for channel, names in METRIC_COLUMNS for name in names))


def rows(db: sqlite_utils.Database, *, now: datetime, campaign_ids: list[int] | None = None,
         statuses: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The export's rows (all campaigns, or the given ones), newest first."""
    out = []
    for card in dashboard(db, now=now, statuses=statuses):
        if campaign_ids is not None and card["id"] not in campaign_ids:
            continue
        m = campaign_metrics(db, card["id"])
        row: dict[str, Any] = {k: card[k] for k in CARD_COLUMNS}
        row["tags"] = ";".join(card["tags"])
        row["channels"] = ";".join(card["channels"])
        row.update({f"audience_{k}": v for k, v in m.audience.items()})
        for channel, names in METRIC_COLUMNS:
            row.update({f"{channel}_{name}": m.metrics[channel][name] for name in names})
        out.append(row)
    return out


def write_csv(db: sqlite_utils.Database, out: TextIO, *, now: datetime, campaign_ids: list[int] | None = None,
              statuses: tuple[str, ...] = ()) -> int:
    """Write the CSV (header + one row per campaign) to `out`; returns the number of campaigns."""
    data = rows(db, now=now, campaign_ids=campaign_ids, statuses=statuses)
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="raise")
    writer.writeheader()
    writer.writerows({k: spreadsheet_cell(v) if isinstance(v, str) else v for k, v in row.items()} for row in data)
    return len(data)
