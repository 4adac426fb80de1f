"""The Textual app: a client of one workspace, like a tmux client of its server.

The runtime is another process (see DESIGN.md "Process model"); this app only
reads the database and writes intents through storage functions. Live
updates come from one poll: every ~250 ms it reads `PRAGMA data_version`
(microseconds) on its own connection; when another connection committed, the
current screen's `refresh_data()` runs (its queries on worker threads) and the
next poll is scheduled only after that refresh finished, so refreshes never
pile up and input is never blocked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import sqlite_utils
from textual.app import App
from textual.binding import Binding
from textual.widget import AwaitMount

from runtime.clock import wall_now
from storage.db import database_path
from storage.faults import describe
from storage.runtime_lease import why_runtime_waits
from storage.demo_clock import demo_clock, set_demo_clock
from storage.reader import ChangeWatch, Reader
from storage.timeline import workspace_time
from storage.workspace import Workspace
from tui import textual_fixes
from tui.commands import ScreenCommands
from tui.screens.modals import HelpScreen
from tui.text import clean
from tui.typeahead import KeysInOrder

textual_fixes.apply()

POLL_SECONDS = 0.25
RUNTIME_CHECK_POLLS = 8  # every 2 s: is a runtime stuck waiting (a lock, a full disk)?
CAMPAIGN_VIEW = "campaign"  # the name of the kept campaign view (open_campaign)


@dataclass
class AppContext:
    """What every screen needs: where to read, where to write intents, who acts, what time it is."""

    workspace: Workspace
    db: sqlite_utils.Database  # the main thread's connection: intents only
    reader: Reader  # worker threads' read connections
    actor: str
    extra_status: Callable[[], str] = field(default=lambda: "")
    wall: Callable[[], datetime] = wall_now  # tests pass a fixed time (snapshots)
    # runtime.inbox_connect.InboxConnection.of_fields, handed over by `enginy tui` (the app may not import
    # the runtime); None: the identity screen's inbox sign-in says to use the CLI
    connect_inbox: Callable[..., Any] | None = None

    def now(self) -> datetime:
        """Workspace time: the runtime's clock when it runs ahead of the wall (the demo), else the wall."""
        wall = self.wall()
        try:
            return workspace_time(self.db, wall)
        except sqlite3.OperationalError:
            return wall

    def run_intent(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a storage intent with this user and the workspace time."""
        return fn(self.db, *args, now=self.now(), actor=self.actor, **kwargs)


class EnginyApp(KeysInOrder):
    """Campaigns dashboard → campaign (overview / audience / activity)."""

    CSS_PATH = "app.tcss"
    TITLE = "enginy"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave the app (campaigns keep running)"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys of this screen"),
        Binding("colon", "command_palette", "Commands", id="app.commands", tooltip="Every action by name"),
        Binding("escape", "back", "Back", id="app.back", tooltip="Close the panel or go back"),
        Binding("plus", "demo_speed(2.0)", "Faster", id="demo.faster", tooltip="Demo clock twice as fast"),
        Binding("minus", "demo_speed(0.5)", "Slower", id="demo.slower", tooltip="Demo clock half as fast"),
        Binding("p", "demo_pause", "Pause clock", id="demo.pause", tooltip="Pause or resume the demo clock"),
    ]

    def __init__(self, workspace: Workspace, *, notice: str = "", demo: bool = False,
                 on_exit: Callable[[], None] | None = None, status_line: Callable[[], str] | None = None,
                 wall: Callable[[], datetime] = wall_now, connect_inbox: Callable[..., Any] | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        db = workspace.open_db()
        self.ctx = AppContext(workspace, db, Reader(workspace.db_path), workspace.config.user,
                              status_line or (lambda: ""), wall, connect_inbox)
        self.notice = notice
        self.demo = demo
        if demo:
            self.ctx.extra_status = self._demo_status
        self._on_exit = on_exit
        self._changes: ChangeWatch | None = None
        self.data_version = 0
        self.runtime_waiting: str | None = None  # what a runtime that stopped beating waits for

    def notify(self, message: str, *, title: str = "", severity: str = "information",  # type: ignore[override]
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications often quote campaign or contact names: never parse them as markup."""
        super().notify(clean(message), title=clean(title), severity=severity, timeout=timeout, markup=False)

    def _storage_fault(self, error: BaseException) -> bool:
        """Say a fault of the workspace's disk or lock (another program holds the database, a full
        disk, a read-only workspace) in a notice; True when `error` was one. The write it stopped was
        one transaction, so nothing is half done and the app stays open."""
        reason = describe(error, self.workspace.db_path)
        if reason is not None:
            self.notify(f"Not done — {reason}.", severity="error", timeout=8)
        return reason is not None

    async def _dispatch_action(self, namespace, action_name: str, params) -> bool:
        """Every key, palette entry and click runs its action here: a storage fault becomes a notice."""
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as error:
            if not self._storage_fault(error):
                raise
            return True

    def _handle_exception(self, error: Exception) -> None:
        """Workers and timers report here: a storage fault is a notice; anything else is a bug and
        ends the app as Textual does."""
        if not self._storage_fault(error):
            super()._handle_exception(error)

    def on_mount(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        self.sub_title = f"{self.workspace.config.name} — {self.workspace.dir}"
        self.push_screen(DashboardScreen(self.ctx))
        if self.notice:
            self.notify(self.notice, timeout=8)
        self._changes = ChangeWatch(self.workspace.db_path)
        self.data_version = self._changes.version()
        self.run_worker(self._poll(), group="poll", exit_on_error=False)

    def open_campaign(self, campaign_id: int, tab: str = "overview") -> AwaitMount:
        """Show the campaign view of `campaign_id` on `tab` (the dashboard's enter).

        The view is built once, on the first open, and kept (an installed screen is not
        removed when popped); later opens point it at their campaign (show_campaign()
        empties what the last one left) and push it again: its ~60 widgets are not composed,
        mounted and styled again, nor laid out unless a size changed — that was most of the
        time to open a campaign (~100 ms of the UI thread whatever the campaign's size)."""
        from tui.screens.campaign import CampaignScreen

        if self.is_screen_installed(CAMPAIGN_VIEW):
            view = self.get_screen(CAMPAIGN_VIEW, CampaignScreen)
            if view in self.screen_stack or not view.is_mounted:
                # (shown already, or still being built) a view of its own for this open, not kept
                view = CampaignScreen(self.ctx, campaign_id, tab=tab)
            else:
                view.show_campaign(campaign_id, tab)
        else:
            view = CampaignScreen(self.ctx, campaign_id, tab=tab)
            self.install_screen(view, CAMPAIGN_VIEW)
        return self.push_screen(view)

    async def open_lead(self, campaign_id: int, enrollment_id: int) -> None:
        """The campaign view on its Audience tab with one lead's side panel open."""
        await self.open_campaign(campaign_id, "audience")
        await self.screen.open_lead(enrollment_id)  # type: ignore[attr-defined]

    async def _poll(self) -> None:
        polls = 0
        while True:
            await asyncio.sleep(POLL_SECONDS)
            assert self._changes is not None
            version = self._changes.version()
            if version != self.data_version:
                self.data_version = version
                await self.refresh_screen()
            polls += 1
            if polls % RUNTIME_CHECK_POLLS == 0:
                await self._check_runtime()

    async def _check_runtime(self) -> None:
        """Say it once when the runtime stops beating because it waits (a database locked by another
        program, a full disk), and once when it goes on: otherwise the screens just look frozen."""
        reader, wall = self.ctx.reader, self.ctx.wall()

        def waits() -> str | None:
            db = reader.db()
            return why_runtime_waits(db, wall, database_path(db))

        waiting = await asyncio.to_thread(waits)
        if waiting and waiting != self.runtime_waiting:
            self.notify(f"{waiting[0].upper()}{waiting[1:]}.", severity="warning", timeout=10)
        elif self.runtime_waiting and not waiting:
            self.notify("The runtime goes on.", timeout=5)
        self.runtime_waiting = waiting

    async def refresh_screen(self) -> None:
        """Re-read what the current screen shows (also called right after an intent)."""
        refresh = getattr(self.screen, "refresh_data", None)
        if refresh is not None:
            try:
                await refresh()
            except Exception as exc:  # a failed refresh must not stop the poll
                self.notify(f"Refresh failed: {exc}", severity="error")

    # --- the demo clock (only in `enginy demo`) ---------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("demo_") and not self.demo:
            return None
        return True

    def _demo_state(self) -> tuple[float, bool]:
        return demo_clock(self.ctx.db, self.workspace.config.demo.speed)

    def _demo_status(self) -> str:
        speed, paused = self._demo_state()
        clock = "paused" if paused else f"{speed:,.0f}× ({speed / 3600:.2g} h/s)"
        return f"demo clock {clock} · {self.ctx.now():%Y-%m-%d %H:%M} UTC · +/- speed · p pause"

    async def action_demo_speed(self, factor: float) -> None:
        speed, _ = self._demo_state()
        set_demo_clock(self.ctx.db, speed=min(max(speed * factor, 60.0), 86400.0 * 7))
        self.notify(self._demo_status())
        await self.refresh_screen()

    async def action_demo_pause(self) -> None:
        _, paused = self._demo_state()
        set_demo_clock(self.ctx.db, paused=not paused)
        self.notify(self._demo_status())
        await self.refresh_screen()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen.of(self.screen))

    async def action_back(self) -> None:
        back = getattr(self.screen, "action_back", None)
        if back is not None:
            await back()
        elif len(self.screen_stack) > 2:
            self.pop_screen()

    def on_unmount(self) -> None:
        self.ctx.reader.close()
        if self._changes is not None:
            self._changes.close()
        if self._on_exit is not None:
            self._on_exit()


def run(workspace_dir: Path | str, **kwargs: Any) -> None:
    from storage.workspace import open_workspace

    EnginyApp(open_workspace(workspace_dir), **kwargs).run()
