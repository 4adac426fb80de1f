"""The virtual table takes focus and keys while one of its threaded page loads is in flight.

The source below holds every read until the test opens its gate, so "a load is
in flight" is a fact here, not a timing: the keys are pressed while the worker
thread is provably still reading.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Input

from tui.widgets.virtual_table import Column, VirtualTable


class GatedSource:
    """Rows 1..n; every read waits for `gate` (open by default)."""

    key_name = "id"

    def __init__(self, n: int) -> None:
        self.ids = list(range(1, n + 1))
        self.gate = threading.Event()
        self.gate.set()

    def _wait(self) -> None:
        assert self.gate.wait(30), "the test never opened the gate"

    def after(self, key: Any, limit: int) -> list[dict[str, Any]]:
        self._wait()
        return [{"id": i} for i in self.ids if key is None or i > key][:limit]

    def before(self, key: Any, limit: int) -> list[dict[str, Any]]:
        self._wait()
        return [{"id": i} for i in reversed(self.ids) if key is None or i < key][:limit]

    def count(self) -> tuple[int, bool]:
        self._wait()
        return len(self.ids), True

    def seek(self, fraction: float) -> Any:
        self._wait()
        return None


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[int] = []

    def compose(self) -> ComposeResult:
        yield Input(id="other")  # gets the screen's automatic focus first, as the tab bar does in the TUI
        yield VirtualTable([Column("Id", None, lambda r: Text(str(r["id"])))], id="table")

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.opened.append(event.row["id"])


async def landed(pilot, table: VirtualTable) -> None:
    for _ in range(1000):
        if not table.fetching:
            return
        await pilot.pause(0.01)
    raise AssertionError("the table never finished loading")


@pytest.mark.asyncio
async def test_focus_asked_while_the_first_page_loads_is_taken() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        source = GatedSource(10)
        source.gate.clear()
        table.set_source(source)
        table.focus()
        await pilot.pause()
        try:
            assert table.fetching  # the read is still held
            assert app.focused is table
        finally:
            source.gate.set()
        await landed(pilot, table)
        await pilot.press("enter")
        await pilot.pause()
        assert app.opened == [1]


@pytest.mark.asyncio
async def test_keys_pressed_during_a_reload_are_acted_on() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        source = GatedSource(10)
        table.set_source(source)
        table.focus()
        await landed(pilot, table)
        source.gate.clear()
        table.reload()  # the runtime moved leads: the window is refetched …
        try:
            assert table.fetching
            await pilot.press("space", "space", "enter")  # … while the user marks two rows and opens the third
            assert table.fetching
            assert table.marked == {1, 2} and table.cursor == 2
        finally:
            source.gate.set()
        await landed(pilot, table)
        await pilot.pause()
        assert app.opened == [3]
        assert table.marked == {1, 2} and table.cursor == 2 and table.current == {"id": 3}
