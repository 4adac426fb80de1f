"""The contact side panel: profile, status with its reason, an error banner, tags, timeline of steps."""

from __future__ import annotations

import msgspec
from rich.console import Group
from rich.table import Table
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sequences.statuses import PAUSED_DESCRIPTION, REPLIED_DESCRIPTION, Substatus, explain, wait_of
from storage.activity_kinds import Kind
from storage.records import LeadDetail, TimelineEntry
from tui.text import clean, literal, short_time, snippet
from tui.widgets.status import KIND_ICON, kind_label, lead_status

REPLY_CHARS = 280  # of a reply's text in the timeline (the thread, R, has all of it)


def _reason(detail: LeadDetail, now: datetime | None) -> str:
    """Why the lead is where it is, with its own facts (days left, place in the queue, the cap
    it waits for and until when, in its identity's time zone)."""
    e = detail.enrollment
    if e.substatus:
        try:
            sub = Substatus(e.substatus)
        except ValueError:
            return e.substatus
        retry_at = datetime.fromisoformat(e.due_at) if e.due_at else None
        return explain(sub, now=now, retry_at=retry_at, place=detail.queue_place,
                       wait=wait_of(e.status, e.substatus, e.wait_cap, e.wait_until, e.due_at), tz=_zone(detail))
    return {"paused": PAUSED_DESCRIPTION, "replied": REPLIED_DESCRIPTION}.get(e.status, "")


def _linked(url: str | None) -> Text:
    """The profile URL, as an OSC 8 hyperlink where the terminal supports one (https only: a link
    the contact's data could point anywhere else is shown, not made clickable)."""
    text = literal(url or "—")
    if url and url.startswith("https://") and text.plain == url:
        text.stylize(Style(link=url))
    return text


def _zone(detail: LeadDetail) -> ZoneInfo:
    try:
        return ZoneInfo(detail.timezone)
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def _entry(entry: TimelineEntry, names: dict[str, str]) -> Text:
    """'Condition evaluated: Accepted LinkedIn connection · within 7 days → No'; an action with its step."""
    text = Text(kind_label(entry.kind), end="")
    step = names.get(entry.node_id or "")
    if entry.kind == Kind.CONDITION_EVALUATED:
        result = str(_detail(entry).get("result", ""))
        text.append(": ")
        text.append_text(literal(step or entry.node_id or "?"))
        if result in ("yes", "no"):
            text.append(f" → {result.capitalize()}", style="bold green" if result == "yes" else "bold red")
    elif entry.kind == Kind.STEP_FAILED and step:
        text.append(": ")
        text.append_text(literal(step))
    if entry.status == "in_progress":
        text.append(" (in progress)")
    return text


def _detail(entry: TimelineEntry) -> dict:
    try:
        detail = msgspec.json.decode(entry.detail or "{}")
    except msgspec.DecodeError:
        return {}
    return detail if isinstance(detail, dict) else {}


class LeadPanel(VerticalScroll):
    """Shown beside the audience table once a row is opened; Esc closes it."""

    DEFAULT_CSS = ("LeadPanel { width: 40%; min-width: 36; max-width: 56; display: none; }"
                   " LeadPanel.open { display: block; }")
    BINDINGS = [Binding("R", "view_inbox", "View in Inbox", id="panel.view_inbox",
                        tooltip="The conversation inbox, only this lead's conversations")]
    contact_id: int | None = None

    def compose(self):
        yield Static(id="lead-body")

    def action_view_inbox(self) -> None:
        if self.contact_id is not None:
            from tui.screens.conversations import ConversationsScreen, InboxFilter

            self.app.push_screen(ConversationsScreen(self.screen.ctx, InboxFilter(contact_id=self.contact_id)))

    def forget(self) -> None:
        """Empty, as built (a lead of another campaign must not show while the next one loads)."""
        body = self.query_one("#lead-body", Static)
        if body.content:
            body.update("")
        self.scroll_home(animate=False)

    def show(self, detail: LeadDetail | None, now: datetime | None = None, names: dict[str, str] | None = None) -> None:
        """`now`: workspace time, for the reasons that count down (Connection withdrawn); `names`:
        step id → the step's name (storage.metrics' step labels), so the timeline says which step."""
        body = self.query_one("#lead-body", Static)
        if detail is None:
            body.update(Text("This lead is no longer in the campaign.", style="dim"))
            return
        c, e = detail.contact, detail.enrollment
        self.contact_id = e.contact_id
        full_name = f"{c.first_name} {c.last_name}".strip() if c else ""
        # (literal() ends its Text without a newline: in a Group, name and title ran together)
        name = literal(full_name or "(no name)", "bold")
        name.end = "\n"
        title = Text.assemble(literal(c and c.job_title or "—"), " @ ", literal(c and c.company or "—", "italic"))
        profile = Table.grid(padding=(0, 1))
        profile.add_column(style="dim")
        profile.add_column()
        for label, value in (("Email", c and c.email), ("LinkedIn", c and c.linkedin_url), ("Phone", c and c.phone)):
            profile.add_row(label, _linked(value) if label == "LinkedIn" else literal(value or "—"))
        profile.add_row("Status", lead_status(e.status, e.substatus))
        if e.due_at and e.status in ("in_progress", "not_started"):
            profile.add_row("Next step", short_time(e.due_at))
        if detail.tags:
            profile.add_row("Tags", literal(", ".join(detail.tags), "italic"))
        parts: list = [name, title, Text(""), profile]
        if e.status == "error":
            banner = Text("✖ ", style="bold red")
            banner.append(clean(_reason(detail, now)), style="bold red")
            parts += [Text(""), banner, Text("S edit sequence · p this lead's path · b retry", style="dim")]
        elif reason := _reason(detail, now):
            parts += [Text(""), Text(clean(reason), style="dim")]
        for title in detail.open_tasks:
            # "Finished · No response" right after a Task step is right (the step ends its branch:
            # the sequence is complete), but it read as if nothing were left to do for this lead
            parts += [Text.assemble(("☐ Task pending: ", "bold yellow"), literal(title))]
        timeline = Table.grid(padding=(0, 1))
        timeline.add_column(style="dim", no_wrap=True)
        timeline.add_column(width=2)
        timeline.add_column()
        for a in detail.timeline:
            timeline.add_row(short_time(a.at), KIND_ICON.get(a.kind, "·"), _entry(a, names or {}))
            if a.text and (words := snippet(a.text, REPLY_CHARS)):  # the lead's own words, inert
                timeline.add_row("", "", Text(f"“{clean(words)}”", style="italic"))
        parts += [Text(""), Text("Timeline", style="bold underline"),
                  timeline if detail.timeline else Text("Nothing has happened yet.", style="dim")]
        parts += [Text(""), Text("o LinkedIn (copy) · L list · B blocklist · + another campaign · n task"
                                 " · p path · b bulk · A activity · esc close", style="dim")]
        body.update(Group(*parts))
