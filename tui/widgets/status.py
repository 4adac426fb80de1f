"""How statuses, priorities and channels look: a symbol and bold/dim as well as a colour.

Colour alone fails on a monochrome terminal (or with NO_COLOR), so every state
also has its own symbol and weight; the colour only reinforces it.
"""

from __future__ import annotations

import msgspec
from rich.table import Table
from rich.text import Text

from sequences.model import CHANNEL, Sequence, from_json, kind_of
from sequences.statuses import LeadStatus, substatus_label

LEAD = {
    "total": ("Σ", "Total", "bold"),
    "not_started": ("○", LeadStatus.NOT_STARTED.label, "dim"),
    "in_progress": ("▶", LeadStatus.IN_PROGRESS.label, "bold cyan"),
    "paused": ("‖", LeadStatus.PAUSED.label, "yellow"),
    "error": ("✖", LeadStatus.ERROR.label, "bold red"),
    "finished": ("✔", LeadStatus.FINISHED.label, "green"),
    "replied": ("✉", LeadStatus.REPLIED.label, "bold magenta"),
}

CAMPAIGN = {
    "draft": ("✎", "Draft", "dim"),
    "scheduled": ("◷", "Scheduled", "cyan"),
    "running": ("▶", "Running", "bold green"),
    "paused": ("‖", "Paused", "bold yellow"),
    "archived": ("▣", "Archived", "dim"),
}

PRIORITY = {"high": ("⚑", "High", "bold red"), "medium": ("⚐", "Medium", "yellow"), "low": ("·", "Low", "dim")}

CHANNEL_ICON = {"linkedin": ("in", "bold blue"), "email": ("@", "bold green"), "task": ("☐", "bold yellow")}

KIND_ICON = {
    "linkedin_profile_visited": "👁", "linkedin_post_reacted": "♥", "linkedin_invite_sent": "+",
    "linkedin_invite_accepted": "✓", "linkedin_message_sent": "✎", "linkedin_inmail_sent": "✉",
    "linkedin_reply_received": "↩", "email_sent": "@", "email_reply_received": "↩", "email_bounced": "✖",
    "email_opened": "○", "email_clicked": "⇱", "email_auto_reply_received": "⌛", "task_created": "☐",
    "task_completed": "☑", "task_reopened": "☐", "step_failed": "!", "sequence_finished": "■",
    "condition_evaluated": "◇",
}


def lead_status(status: str, substatus: str | None = None) -> Text:
    symbol, label, style = LEAD.get(status, ("?", status, ""))
    text = Text(f"{symbol} {label}", style=style, end="")
    if substatus:
        text.append(f" · {substatus_label(substatus)}", style="dim" if status != "error" else "red")
    return text


def campaign_status(status: str) -> Text:
    symbol, label, style = CAMPAIGN.get(status, ("?", status, ""))
    return Text(f"{symbol} {label}", style=style, end="")


def priority(value: str) -> Text:
    symbol, label, style = PRIORITY.get(value, ("?", value, ""))
    return Text(f"{symbol} {label}", style=style, end="")


def sequence_of(raw: str | bytes | None) -> Sequence | None:
    try:
        return from_json(raw or b"")
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def channels(raw_sequence: str | bytes | None) -> list[str]:
    seq = sequence_of(raw_sequence)
    found = {CHANNEL.get(kind_of(n)) for n in seq.nodes} if seq else set()
    return [c for c in ("linkedin", "email", "task") if c in found]


def channel_icons(names: list[str]) -> Text:
    text = Text(end="")
    for name in names:
        icon, style = CHANNEL_ICON[name]
        text.append(icon, style=style)
        text.append(" ")
    return text


def kind_label(kind: str) -> str:
    return kind.replace("linkedin_", "LinkedIn ").replace("_", " ").capitalize().replace("Linkedin", "LinkedIn")


def legend() -> Table:
    """What the symbols mean (the help screen's last section), from the tables above."""
    rows = [("Priority", [(s, label, style) for s, label, style in PRIORITY.values()]),
            ("Channels", [(CHANNEL_ICON[c][0], name, CHANNEL_ICON[c][1])
                          for c, name in (("linkedin", "LinkedIn"), ("email", "Email"), ("task", "Task"))]),
            ("Campaigns", list(CAMPAIGN.values())),
            ("Leads", [LEAD[k] for k in LEAD if k != "total"])]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="bold", no_wrap=True)
    grid.add_column()
    for title, items in rows:
        text = Text(end="")
        for symbol, label, style in items:
            text.append(symbol, style=style)
            text.append(f" {label}  ")
        grid.add_row(title, text)
    return grid
