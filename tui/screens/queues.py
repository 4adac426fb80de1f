"""The queue monitor: per identity its working-hour clock, bucket bars, lanes with their next jobs, blocked leads.

The runtime publishes each identity's view (runtime/queue_publish.py, at
most once a real second, only when it changed); this screen reads it back
through storage whenever the app's data_version poll sees a commit, so it is
live within a second without ever taking focus. When no runtime runs it says
so and shows the last published view with its age.

Under the clock, the identity's actions per hour over the last day (a
sparkline); at the end, each campaign's forecast (the runtime's last
`enginy forecast`: when it finishes, the cap that holds it back).

Keys: j/k between identities, [ / ] between lanes, enter opens a lane's next
jobs with why each waits, / filters identities (by identity or campaign
name), z pauses or resumes the highlighted identity's LinkedIn queue, Z all of
them — both confirmed, written as an intent the runtime picks up.
At 80 columns one identity fills the page (scroll for more); from 140
columns they stand side by side.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Header, Static

from storage.identities import list_identities, set_linkedin_paused
from storage.queue_view import Bucket, Forecast, IdentityQueue, Lane, published
from storage.db import database_path
from storage.runtime_lease import runtime_alive, why_runtime_waits
from tui.commands import Command
from tui.screens.modals import ConfirmScreen, PromptScreen
from sequences.wording import ago
from tui.text import literal, parse_time
from tui.widgets.footer import BindingsFooter

WIDE = 140  # columns from which identities stand side by side
BAR = 12


class Snapshot(NamedTuple):
    """What one refresh read: the published views, who is paused, whether a runtime runs."""

    views: list[tuple[IdentityQueue, str]]
    paused: dict[int, bool]
    running: bool


def read(db, wall: datetime) -> Snapshot:
    views = [(p.view, p.published_at) for p in published(db)]
    paused = {r["id"]: bool(r["linkedin_queue_paused"]) for r in list_identities(db)}
    return Snapshot(views, paused, runtime_alive(db, wall))


def bar(bucket: Bucket) -> Text:
    """used/limit as a bar: green with room, yellow near the cap, red when spent."""
    if not bucket.limit:
        return Text("·" * BAR, style="dim")
    ratio = min(bucket.used / bucket.limit, 1.0)
    full = round(ratio * BAR)
    style = "red" if ratio >= 1 else "yellow" if ratio >= 0.8 else "green"
    return Text.assemble(("█" * full, style), ("░" * (BAR - full), "dim"))


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: list[int]) -> Text:
    """One character per hour, the highest hour full height; an hour with nothing is a dim dot."""
    top = max(counts, default=0)
    text = Text()
    for n in counts:
        if n == 0:
            text.append("·", style="dim")
        else:
            text.append(SPARKS[min(len(SPARKS) - 1, (n * len(SPARKS) - 1) // top)], style="cyan")
    return text


def activity_line(text: Text, per_hour: list[int]) -> None:
    """'Actions/h  ▁▃█…  peak 15 · 142 in 24 h', 24 hours to now (fits 80 columns)."""
    text.append("Actions/h ", style="bold")
    text.append_text(sparkline(per_hour))
    text.append(f"  peak {max(per_hour)} · {sum(per_hour):,} in {len(per_hour)} h\n", style="dim")


def forecast_lines(text: Text, forecast: Forecast) -> None:
    """Each campaign: when it finishes and the cap that holds it back (the runtime's last forecast)."""
    text.append("Forecast", style="bold underline")
    text.append(f"  (run from {when(forecast.start)}, {forecast.days:g} days)\n", style="dim")
    if not forecast.campaigns:
        text.append("  no running campaign\n", style="dim")
    for c in forecast.campaigns:
        text.append("  ")
        text.append_text(literal(f"{c.name[:20]:<20}", "cyan"))  # a line fits a panel at 80 columns
        done = f" done {when(c.finishes_at)}" if c.finishes_at else f" not within {forecast.days:g} d"
        text.append(f"{done:<18}", style="" if c.finishes_at else "yellow")
        if c.bottleneck:
            text.append(f" · {c.bottleneck} {c.utilization:.0%}", style="dim")
        text.append(f" · {c.remaining_leads:,} left\n", style="dim")


def when(iso: str | None) -> str:
    """'Tue 24 09:00' in the identity's own time zone (the view's times carry it)."""
    return datetime.fromisoformat(iso).strftime("%a %d %H:%M") if iso else "—"


def panel_text(view: IdentityQueue, *, paused: bool, lane: int | None, expanded: set[str]) -> tuple[Text, int]:
    """One identity's panel, and the line of its highlighted lane (`lane`: its index, only in the
    highlighted panel) so the page can scroll to it."""
    wh = view.working_hours
    text = Text(end="")
    text.append_text(literal(view.name, "bold"))
    text.append(f"  {view.timezone}\n", style="dim")
    text.append("● open " if wh.open else "○ closed ", style="bold green" if wh.open else "bold yellow")
    text.append(f"local {when(wh.local_time)}")
    if wh.next_change:
        text.append(f" · {'closes' if wh.open else 'opens'} {when(wh.next_change)}", style="dim")
    if paused:
        text.append("  ⏸ LinkedIn paused", style="bold red")
    text.append("\n")
    if view.per_hour:
        activity_line(text, view.per_hour)
    text.append("Buckets\n", style="bold underline")
    for b in view.buckets:
        name = b.name if len(b.name) <= 26 else "…" + b.name[-25:]  # an inbox's "per day" must show
        text.append_text(literal(f"{name:<26} ", ""))
        text.append_text(bar(b))
        used = f"{b.used:>4} no cap" if b.limit is None else f"{b.used:>4}/{b.limit:<5}"
        text.append(f" {used:<10} /{b.window:<6}")
        if b.next_refill:
            text.append(f" ↻ {when(b.next_refill)}", style="dim")
        text.append("\n")
        if b.warmup:  # the day cap is the warm-up's, not the inbox's configured one
            text.append_text(literal(f"  ↳ capped by warm-up: {b.warmup}", "yellow"))
            text.append("\n")
    lane_row = 0
    text.append("Lanes", style="bold underline")
    text.append("  ([ ] lane, enter: next jobs)\n", style="dim")
    for i, ln in enumerate(view.lanes):
        if i == lane:
            lane_row = text.plain.count("\n")
        lane_line(text, ln, selected=i == lane, open_=ln.name in expanded)
    text.append("Blocked\n", style="bold underline")
    if not view.blocked:
        text.append("  none\n", style="dim")
    for b in view.blocked:
        text.append(f"  {b.reason:<30} {b.count:>7,}\n")
    if view.forecast is not None:
        forecast_lines(text, view.forecast)
    return text, lane_row


def lane_line(text: Text, ln: Lane, *, selected: bool, open_: bool) -> None:
    mark = "▾" if open_ else "▸"
    style = "reverse" if selected else ("" if ln.depth else "dim")
    text.append(f"{'›' if selected else ' '}{mark} ", style=style)
    text.append_text(literal(f"{ln.name[:30]:<30}", style))
    text.append(f" {ln.depth:>6,} queued\n", style=style)
    jobs = ln.next if open_ else ln.next[:1]
    for job in jobs:
        text.append("    ")
        text.append_text(literal(job.campaign[:22], "cyan"))
        text.append(" · ")
        text.append_text(literal(job.lead[:24], "bold"))
        text.append(f" · {job.action}\n", style="dim")
        for part in job.why.split("; "):  # its place, then what it waits for: a line each
            text.append("      ")
            text.append_text(literal(part, "dim italic"))
            text.append("\n")


class QueuesScreen(Screen):
    """Live queue monitor of every identity (the published runtime view)."""

    BINDINGS = [
        Binding("j", "move(1)", "Next identity", id="queues.next", tooltip="Highlight the next identity"),
        Binding("k", "move(-1)", "Previous identity", id="queues.prev", tooltip="Highlight the previous identity"),
        Binding("right_square_bracket", "lane(1)", "Next lane", show=False, id="queues.next_lane"),
        Binding("left_square_bracket", "lane(-1)", "Previous lane", show=False, id="queues.prev_lane"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="queues.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="queues.page_up"),
        Binding("enter", "expand", "Expand lane", id="queues.expand",
                tooltip="Show or hide the highlighted lane's next jobs and why each waits"),
        Binding("slash", "filter", "Filter", id="queues.filter", tooltip="Identities by identity or campaign name"),
        Binding("z", "pause", "Pause/Resume", id="queues.pause",
                tooltip="Pause or resume the highlighted identity's LinkedIn queue (asks first)"),
        Binding("Z", "pause_all", "Pause/Resume all", show=False, id="queues.pause_all",
                tooltip="Pause or resume every identity's LinkedIn queue (asks first)"),
    ]

    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.snap = Snapshot([], {}, False)
        self.shown: list[tuple[IdentityQueue, str]] = []
        self.current = 0  # index in `shown`
        self.lane = 0
        self.expanded: dict[int, set[str]] = {}
        self._lane_row = 0  # line of the highlighted lane in its panel
        self.search = ""
        self.waiting: str | None = None  # what a runtime that stopped beating waits for

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="queues-status")
        yield VerticalScroll(id="queues")
        yield BindingsFooter()

    async def on_mount(self) -> None:
        await self.refresh_data()
        self.set_interval(1.0, self._tick)

    async def on_screen_resume(self) -> None:
        await self.refresh_data()

    def on_resize(self) -> None:
        self._layout()

    # --- data -----------------------------------------------------------------------

    async def refresh_data(self) -> None:
        reader, wall = self.ctx.reader, self.ctx.wall()
        self.snap = await asyncio.to_thread(lambda: read(reader.db(), wall))
        await self._show()

    async def _tick(self) -> None:
        """Once a second: is a runtime still there, and how old is the view (no commit tells us)."""
        reader, wall = self.ctx.reader, self.ctx.wall()

        def state() -> tuple[bool, str | None]:
            db = reader.db()
            return runtime_alive(db, wall), why_runtime_waits(db, wall, database_path(db))

        alive, self.waiting = await asyncio.to_thread(state)
        if alive != self.snap.running:
            self.snap = self.snap._replace(running=alive)
        self._status()

    def _matches(self, view: IdentityQueue) -> bool:
        needle = self.search.casefold()
        return not needle or needle in view.name.casefold() or any(
            needle in job.campaign.casefold() for ln in view.lanes for job in ln.next)

    async def _show(self) -> None:
        keep = self.shown[self.current][0].id if self.shown else None
        self.shown = [(v, at) for v, at in self.snap.views if self._matches(v)]
        ids = [v.id for v, _ in self.shown]
        self.current = ids.index(keep) if keep in ids else min(self.current, max(len(ids) - 1, 0))
        box = self.query_one("#queues", VerticalScroll)
        panels = list(box.query(".queue-panel").results(Static))
        if len(panels) != len(self.shown):
            await box.remove_children()
            panels = [Static(classes="queue-panel") for _ in self.shown]
            await box.mount_all(panels)
        for i, (panel, (view, _)) in enumerate(zip(panels, self.shown)):
            selected = i == self.current
            lanes = view.lanes
            self.lane = min(self.lane, max(len(lanes) - 1, 0)) if selected else self.lane
            text, row = panel_text(view, paused=self.snap.paused.get(view.id, False),
                                   lane=self.lane if selected else None, expanded=self.expanded.get(view.id, set()))
            panel.update(text)
            panel.set_class(selected, "-current")
            if selected:
                self._lane_row = row
        if not self.shown:
            await box.remove_children()
            await box.mount(Static(self._empty(), classes="queue-panel"))
        self._layout()
        self._status()

    def _empty(self) -> Text:
        if self.snap.views:
            return Text("No identity matches the filter (esc clears it).", style="dim")
        return Text("No queue view published yet: start the runtime (enginy run, or open the app with "
                    "`enginy tui`), which publishes each identity's queues.", style="dim")

    def _layout(self) -> None:
        """Wide: every panel, side by side. Narrow: the highlighted identity fills the page."""
        wide = self.size.width >= WIDE
        box = self.query_one("#queues", VerticalScroll)
        box.set_class(wide, "-wide")
        for i, panel in enumerate(box.query(".queue-panel").results(Static)):
            panel.display = wide or i == self.current or not self.shown

    def _status(self) -> None:
        now = self.ctx.now()
        newest = max((parse_time(at) for _, at in self.snap.views), default=None)
        if self.waiting:
            text = Text(f"◐ {self.waiting}", style="bold yellow")
        elif self.snap.running:
            text = Text("● runtime running", style="green")
        else:
            text = Text("○ no runtime is running", style="bold yellow")
        if newest is not None:
            text.append(f" · view published {ago(newest, now)}", style="dim")
        if self.shown:
            text.append(f" · identity {self.current + 1} of {len(self.shown)}", style="dim")
        if self.search:
            text.append(" · filter: ", style="dim")
            text.append_text(literal(self.search, "bold"))
        self.query_one("#queues-status", Static).update(text)

    # --- actions ----------------------------------------------------------------------

    def palette_commands(self) -> list[Command]:
        return [
            Command("Next identity", "Highlight the next identity's queues", lambda: self.action_move(1)),
            Command("Previous identity", "Highlight the previous identity's queues", lambda: self.action_move(-1)),
            Command("Expand lane", "Show the highlighted lane's next jobs", self.action_expand),
            Command("Filter identities", "By identity or campaign name", self.action_filter),
            Command("Pause/resume identity's LinkedIn queue", "Asks first", self.action_pause),
            Command("Pause/resume every LinkedIn queue", "Asks first", self.action_pause_all),
        ]

    async def action_move(self, delta: int) -> None:
        if self.shown:
            self.current = (self.current + delta) % len(self.shown)
            self.lane = 0
            await self._show()
            panels = list(self.query(".queue-panel").results(Static))
            if self.current < len(panels):
                panels[self.current].scroll_visible()

    async def action_lane(self, delta: int) -> None:
        if self.shown and self.shown[self.current][0].lanes:
            self.lane = (self.lane + delta) % len(self.shown[self.current][0].lanes)
            await self._show()
            self._scroll_to_lane()

    def _scroll_to_lane(self) -> None:
        """Keep the highlighted lane (and a few of its jobs) in view."""
        panels = list(self.query(".queue-panel").results(Static))
        if self.current < len(panels):
            top = panels[self.current].virtual_region.y + 1 + self._lane_row
            box = self.query_one("#queues", VerticalScroll)
            box.scroll_to_region(Region(0, top, 1, 4), animate=False)

    def action_page(self, delta: int) -> None:
        box = self.query_one("#queues", VerticalScroll)
        box.scroll_page_down(animate=False) if delta > 0 else box.scroll_page_up(animate=False)

    async def action_expand(self) -> None:
        if not self.shown or not self.shown[self.current][0].lanes:
            return
        view = self.shown[self.current][0]
        opened = self.expanded.setdefault(view.id, set())
        opened ^= {view.lanes[self.lane].name}
        await self._show()
        self._scroll_to_lane()

    def action_filter(self) -> None:
        async def apply(value: str | None) -> None:
            if value is not None:
                self.search = value.strip()
                await self._show()

        self.app.push_screen(PromptScreen("Filter identities (identity or campaign name)", self.search), apply)

    async def action_back(self) -> None:
        """Esc clears the filter first, then goes back to the dashboard."""
        if self.search:
            self.search = ""
            await self._show()
        else:
            self.app.pop_screen()

    def action_pause(self) -> None:
        if not self.shown:
            return
        view = self.shown[self.current][0]
        pause = not self.snap.paused.get(view.id, False)
        verb = "Pause" if pause else "Resume"
        detail = ("No LinkedIn action of this identity starts until you resume it; email keeps sending."
                  if pause else "Its queued LinkedIn actions start again, within its limits and working hours.")
        self.app.push_screen(ConfirmScreen(f"{verb} the LinkedIn queue of {view.name}?", detail, danger=pause),
                             lambda ok: ok and self._set_paused([view.id], pause))

    def action_pause_all(self) -> None:
        ids = list(self.snap.paused)
        if not ids:
            return
        pause = not all(self.snap.paused.values())
        verb = "Pause" if pause else "Resume"
        self.app.push_screen(ConfirmScreen(f"{verb} the LinkedIn queue of all {len(ids)} identities?",
                                           "Email keeps sending either way.", danger=pause),
                             lambda ok: ok and self._set_paused(ids, pause))

    def _set_paused(self, ids: list[int], pause: bool) -> None:
        for identity_id in ids:
            self.ctx.run_intent(set_linkedin_paused, identity_id, pause)
        self.notify(f"LinkedIn queue {'paused' if pause else 'resumed'} for {len(ids)} "
                    f"identit{'y' if len(ids) == 1 else 'ies'}")
        self.run_worker(self.refresh_data(), exclusive=True, group="queues-refresh")
