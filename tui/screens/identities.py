"""The Identities screen: every sender identity with the spec's statistics over a period, and its status.

Per identity (spec identities.md, "The Identities Dashboard"): connections
accepted vs sent, messages sent vs allowed, leads that replied, bounce rate —
over today by default, each identity's own today in its time zone — and
whether its LinkedIn is connected, restricted or paused and how many of its
inboxes are connected. Read through storage (storage/identity_stats.py) on a
worker thread, again whenever another connection commits.

Keys: / searches by name, d sets the period (a date, FROM..TO, or "today"),
enter opens the identity's configuration, D deletes the highlighted identity
(after naming what goes with it). Columns are laid out for the width: 80
columns show the statistics with short labels; wider terminals get the long
labels, each identity's time zone and the local dates its statistics cover.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from storage.identity_stats import IdentityRow, identity_rows
from tui.commands import Command
from tui.screens.modals import PromptScreen
from tui.text import literal
from tui.widgets.footer import BindingsFooter

class Column(NamedTuple):
    key: str
    short: str  # the label at 80 columns
    long: str  # the label when there is room
    width: int  # at 80 columns (0: shown only when there is room)
    most: int  # the most it grows to


COLUMNS = (Column("Identity", "Identity", "Identity", 16, 36), Column("LinkedIn", "LinkedIn", "LinkedIn", 13, 13),
           Column("Inbox", "Inbox", "Inboxes", 5, 7),
           Column("Conn a/s", "Conn a/s", "Connections acc/sent", 8, 20),
           Column("Msg s/max", "Msg s/max", "Messages sent/max", 9, 17), Column("Replied", "Replied", "Replied", 7, 7),
           Column("Bounce", "Bounce", "Bounce rate", 6, 11),
           Column("Time zone", "Time zone", "Time zone", 0, 20), Column("Dates", "Dates", "Local dates", 0, 22))
LEGEND = "Conn: accepted / sent invitations · Msg: sent / allowed (LinkedIn + email)"
WIDE_LEGEND = "Connections: accepted / sent invitations · Messages: sent / allowed (LinkedIn + email)"


def column_widths(room: int) -> list[tuple[Column, str, int]]:
    """The columns a table `room` cells wide shows, with their labels and widths.

    80 columns: the seven of the spec's statistics, short labels (64 cells of text, all visible).
    With more room, in this order: every long label (no legend to decode), the identity's time zone
    and the local dates its statistics cover (each identity counts its own days), then longer names;
    what is left stays as a margin rather than stretching numbers apart."""
    def need(cols: list[Column], long: bool) -> int:
        return sum((max(c.width, len(c.long)) if long else c.width) + 2 for c in cols) + 2  # padding, scrollbar

    base = [c for c in COLUMNS if c.width]
    extra = [c for c in COLUMNS if not c.width]
    long = need(base, True) <= room
    shown = base + extra if long and need(base + extra, True) <= room else base
    widths = [max(c.width, len(c.long), c.most if not c.width else 0) if long else c.width for c in shown]
    spare = room - sum(w + 2 for w in widths) - 2
    widths[0] += max(0, min(spare, shown[0].most - widths[0]))
    return [(c, c.long if long else c.short, w) for c, w in zip(shown, widths)]


LINKEDIN_STYLE = {"connected": "green", "restricted": "bold red", "paused": "yellow", "not connected": "dim"}


def parse_period(text: str) -> tuple[date | None, date | None]:
    """'today' (or nothing) → (None, None); '2026-03-02' → that day; 'A..B' → A to B, both included."""
    text = text.strip().lower()
    if text in ("", "today"):
        return None, None
    start, sep, end = text.partition("..")
    try:
        first = date.fromisoformat(start.strip())
        last = date.fromisoformat(end.strip()) if sep else first
    except ValueError:
        raise ValueError(f"period: expected today, a date like 2026-03-02 or FROM..TO, got {text!r}") from None
    if last < first:
        raise ValueError(f"period: it ends ({last}) before it starts ({first})")
    return first, last


def period_label(period: tuple[date | None, date | None]) -> str:
    first, last = period
    if first is None:
        return "today (each identity's own)"
    return str(first) if first == last else f"{first} .. {last}"


def cells(row: IdentityRow) -> dict[str, Text]:
    s = row.stats
    bounce = "—" if s.bounce_rate is None else f"{s.bounce_rate:g}%"
    inboxes = f"{row.inboxes_connected}/{row.inboxes}" if row.inboxes else "none"
    dates = s.date_from if s.date_from == s.date_to else f"{s.date_from}..{s.date_to}"
    return {"Identity": literal(s.name, "bold"),
            "LinkedIn": Text(row.linkedin, style=LINKEDIN_STYLE.get(row.linkedin, "")),
            "Inbox": Text(inboxes, style="" if row.inboxes_connected == row.inboxes else "yellow"),
            "Conn a/s": Text(f"{s.connections_accepted}/{s.connections_sent}"),
            "Msg s/max": Text(f"{s.messages_sent}/{s.messages_allowed}"), "Replied": Text(str(s.replied)),
            "Bounce": Text(bounce, style="red" if (s.bounce_rate or 0) >= 5 else ""),
            "Time zone": literal(s.timezone, "dim"), "Dates": Text(dates, style="dim")}


class IdentitiesScreen(Screen):
    """Every identity, its statistics over the chosen period and its status; enter configures it."""

    BINDINGS = [
        Binding("enter", "open", "Configure", id="identities.open", tooltip="Open the identity's settings"),
        Binding("slash", "search", "Search", id="identities.search", tooltip="Identities by name"),
        Binding("d", "period", "Period", id="identities.period",
                tooltip="The statistics' dates: today, a date, or FROM..TO"),
        Binding("D", "delete", "Delete", id="identities.delete",
                tooltip="Delete the highlighted identity with its campaigns, inboxes and secrets (asks first)"),
        Binding("j", "move(1)", "Down", show=False, id="identities.down"),
        Binding("k", "move(-1)", "Up", show=False, id="identities.up"),
    ]

    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.search = ""
        self.period: tuple[date | None, date | None] = (None, None)
        self.rows: list[IdentityRow] = []
        self.legend = LEGEND
        self.columns_shown: list[tuple[str, str, int]] = []  # the columns shown: key, label, width

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="identities-status")
        yield DataTable(id="identities-table", cursor_type="row", zebra_stripes=True)
        yield BindingsFooter()

    async def on_mount(self) -> None:
        self._fit(self.size.width)
        await self.refresh_data()

    def on_resize(self, event) -> None:
        self._fit(event.size.width)
        if self.is_mounted:
            self._status()

    def _fit(self, room: int) -> None:
        """Lay the columns out for `room` cells (again on every resize); rows are re-added when the
        set of columns changes."""
        fitted = column_widths(room)
        if [(c.key, label, w) for c, label, w in fitted] == self.columns_shown:
            return
        self.columns_shown = [(c.key, label, w) for c, label, w in fitted]
        self.legend = LEGEND if fitted[3][1] == COLUMNS[3].short else WIDE_LEGEND
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        for key, label, width in self.columns_shown:
            table.add_column(label, width=width, key=key)
        self._fill(keep)

    def _fill(self, keep: int) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in self.rows:
            shown = cells(row)
            table.add_row(*(shown[key] for key, _, _ in self.columns_shown), key=str(row.stats.id))
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))

    async def on_screen_resume(self) -> None:
        await self.refresh_data()

    async def refresh_data(self) -> None:
        reader, now, (first, last), search = self.ctx.reader, self.ctx.now(), self.period, self.search
        self.rows = await asyncio.to_thread(lambda: identity_rows(reader.db(), now, first, last, search))
        self._fill(self.query_one(DataTable).cursor_row)
        self._status()

    def _status(self) -> None:
        text = Text(f"{len(self.rows)} identit{'y' if len(self.rows) == 1 else 'ies'}", style="bold")
        text.append(f" · period: {period_label(self.period)} · enter: configure", style="dim")
        if self.search:
            text.append(" · search: ", style="dim")
            text.append_text(literal(self.search, "bold"))
        text.append(f"\n{self.legend}", style="dim")
        if not self.rows:
            text.append("\n")
            text.append("No identity matches the search (esc clears it)." if self.search else
                        "No identities yet: `enginy identity add NAME --sandbox` creates one.", style="dim")
        self.query_one("#identities-status", Static).update(text)

    def current(self) -> IdentityRow | None:
        table = self.query_one(DataTable)
        return self.rows[table.cursor_row] if self.rows and 0 <= table.cursor_row < len(self.rows) else None

    # --- actions ----------------------------------------------------------------------

    def palette_commands(self) -> list[Command]:
        return [
            Command("Configure identity", "Open the highlighted identity's settings", self.action_open),
            Command("Search identities", "By name", self.action_search),
            Command("Statistics period", "today, a date, or FROM..TO", self.action_period),
            Command("Delete identity", "The highlighted one, with its campaigns, inboxes and secrets (asks first)",
                    self.action_delete),
            *[Command(f"Configure {row.stats.name}", "Contact details, working hours, limits, inboxes",
                      lambda row=row: self.open_identity(row.stats.id)) for row in self.rows],
        ]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        if row := self.current():
            self.open_identity(row.stats.id)

    def action_delete(self) -> None:
        from tui.screens.identity_config import confirm_delete

        if row := self.current():
            confirm_delete(self, row.stats.id, lambda: self.run_worker(self.refresh_data(), exclusive=True,
                                                                       group="identities-refresh"))

    def open_identity(self, identity_id: int) -> None:
        from tui.screens.identity_config import IdentityConfigScreen

        self.app.push_screen(IdentityConfigScreen(self.ctx, identity_id))

    def action_move(self, delta: int) -> None:
        table = self.query_one(DataTable)
        table.action_cursor_down() if delta > 0 else table.action_cursor_up()

    def action_search(self) -> None:
        async def apply(value: str | None) -> None:
            if value is not None:
                self.search = value.strip()
                await self.refresh_data()

        self.app.push_screen(PromptScreen("Search identities by name", self.search), apply)

    def action_period(self, typed: str | None = None) -> None:
        async def apply(value: str | None) -> None:
            if value is None:
                return
            try:
                self.period = parse_period(value)
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                self.action_period(value)  # ask again with what was typed: nothing is lost
                return
            await self.refresh_data()

        first, last = self.period
        current = typed if typed is not None else ("today" if first is None else
                                                    str(first) if first == last else f"{first}..{last}")
        self.app.push_screen(PromptScreen("Statistics period: today, a date, or FROM..TO", current,
                                          "2026-03-02..2026-03-08"), apply)

    async def action_back(self) -> None:
        """Esc clears the search first, then goes back."""
        if self.search:
            self.search = ""
            await self.refresh_data()
        else:
            self.app.pop_screen()
