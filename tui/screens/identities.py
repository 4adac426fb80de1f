"""The Identities screen: every sender identity with the spec's statistics over a period, and its status.

Per identity (spec identities.md, "The Identities Dashboard"): connections
accepted vs sent, messages sent vs allowed, leads that replied, bounce rate —
over today by default, each identity's own today in its time zone — and
whether its LinkedIn is connected, restricted or paused and how many of its
inboxes are connected. Read through storage (storage/identity_stats.py) on a
worker thread, again whenever another connection commits.

Keys: / searches by name, d sets the period (a date, FROM..TO, or "today"),
enter opens the identity's configuration.
"""

from __future__ import annotations

import asyncio
from datetime import date

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

#: (key, label, label when there is room, width at 80 columns, most it grows to).
COLUMNS = (("Identity", "Identity", 16, 56), ("LinkedIn", "LinkedIn", 13, 13), ("Inbox", "Inboxes", 5, 9),
           ("Conn a/s", "Connections acc/sent", 8, 20), ("Msg s/max", "Messages sent/max", 9, 17),
           ("Replied", "Replied", 7, 9), ("Bounce", "Bounce rate", 6, 11))
PADDING = 2 * len(COLUMNS) + 2  # each cell's padding, and the scrollbar's room
LEGEND = "Conn: accepted / sent invitations · Msg: sent / allowed (LinkedIn + email)"
WIDE_LEGEND = "Connections: accepted / sent invitations · Messages: sent / allowed (LinkedIn + email)"


def column_widths(room: int) -> list[tuple[str, int]]:
    """Labels and widths for a table `room` cells wide: 80 columns get the narrow ones (64 cells of text);
    what more there is goes first to the long labels of the numbers, then to the names, up to each
    column's most, so 160 columns show whole labels and long names instead of a ragged right margin."""
    widths = [w for _, _, w, _ in COLUMNS]
    spare = room - PADDING - sum(widths)
    wide = [max(len(long), w) for (_, long, w, _) in COLUMNS]
    if spare >= sum(wide) - sum(widths):  # room for every long label
        spare -= sum(wide) - sum(widths)
        widths = wide
    labels = [long if width >= len(long) else short for (short, long, _, _), width in zip(COLUMNS, widths)]
    grow = min(spare, COLUMNS[0][3] - widths[0]) if spare > 0 else 0
    widths[0] += grow
    return list(zip(labels, widths))
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


def cells(row: IdentityRow) -> list[Text]:
    s = row.stats
    bounce = "—" if s.bounce_rate is None else f"{s.bounce_rate:g}%"
    inboxes = f"{row.inboxes_connected}/{row.inboxes}" if row.inboxes else "none"
    return [literal(s.name, "bold"), Text(row.linkedin, style=LINKEDIN_STYLE.get(row.linkedin, "")),
            Text(inboxes, style="" if row.inboxes_connected == row.inboxes else "yellow"),
            Text(f"{s.connections_accepted}/{s.connections_sent}"), Text(f"{s.messages_sent}/{s.messages_allowed}"),
            Text(str(s.replied)), Text(bounce, style="red" if (s.bounce_rate or 0) >= 5 else "")]


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

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="identities-status")
        table = DataTable(id="identities-table", cursor_type="row", zebra_stripes=True)
        for key, _, width, _ in COLUMNS:
            table.add_column(key, width=width, key=key)
        yield table
        yield BindingsFooter()

    async def on_mount(self) -> None:
        self._fit(self.size.width)
        await self.refresh_data()

    def on_resize(self, event) -> None:
        self._fit(event.size.width)
        if self.is_mounted:
            self._status()

    def _fit(self, room: int) -> None:
        table = self.query_one(DataTable)
        fitted = column_widths(room)
        self.legend = LEGEND if fitted[3][0] == COLUMNS[3][0] else WIDE_LEGEND
        for (key, *_), (label, width) in zip(COLUMNS, fitted):
            column = table.columns[key]  # type: ignore[index]
            column.label, column.width, column.auto_width = Text(label), width, False
        table.refresh(layout=True)

    async def on_screen_resume(self) -> None:
        await self.refresh_data()

    async def refresh_data(self) -> None:
        reader, now, (first, last), search = self.ctx.reader, self.ctx.now(), self.period, self.search
        self.rows = await asyncio.to_thread(lambda: identity_rows(reader.db(), now, first, last, search))
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for row in self.rows:
            table.add_row(*cells(row), key=str(row.stats.id))
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
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
