"""The virtual table while one of its threaded page loads is in flight: it takes focus and
keys, and a load for a list no longer shown cannot end the current one.

The sources below hold every read until the test opens their gate, so "a load is
in flight" is a fact here, not a timing: the keys are pressed while the worker
thread is provably still reading.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Input
from textual.worker import WorkerState

from tui.widgets.virtual_table import Column, VirtualTable


class Item(msgspec.Struct):
    """A row: any record with the source's key attribute."""

    id: int


class GatedSource:
    """Rows 1..n; every read waits for `gate` (open by default)."""

    key_name = "id"

    def __init__(self, n: int) -> None:
        self.ids = list(range(1, n + 1))
        self.gate = threading.Event()
        self.gate.set()

    def _wait(self) -> None:
        assert self.gate.wait(30), "the test never opened the gate"

    def after(self, key: Any, limit: int) -> list[Item]:
        self._wait()
        return [Item(i) for i in self.ids if key is None or i > key][:limit]

    def before(self, key: Any, limit: int) -> list[Item]:
        self._wait()
        return [Item(i) for i in reversed(self.ids) if key is None or i < key][:limit]

    def count(self) -> tuple[int, bool]:
        self._wait()
        return len(self.ids), True

    def seek(self, fraction: float) -> Any:
        self._wait()
        return None


class FailingSource(GatedSource):
    """Every read fails once the gate opens (the database went away, a query was interrupted …)."""

    def _wait(self) -> None:
        super()._wait()
        raise RuntimeError("no such table: enrollments")


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[int] = []
        self.notes: list[str] = []

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append(message)

    def compose(self) -> ComposeResult:
        yield Input(id="other")  # gets the screen's automatic focus first, as the tab bar does in the TUI
        yield VirtualTable([Column("Id", None, lambda r: Text(str(r.id)))], id="table")

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.opened.append(event.row.id)


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
            await pilot.press("space", "j", "space", "j", "enter")  # … while the user marks two rows and opens the third
            assert table.fetching
            assert table.marked == {1, 2} and table.cursor == 2
        finally:
            source.gate.set()
        await landed(pilot, table)
        await pilot.pause()
        assert app.opened == [3]
        assert table.marked == {1, 2} and table.cursor == 2 and table.current == Item(3)


@pytest.mark.asyncio
async def test_a_list_no_longer_shown_failing_does_not_end_the_load_in_flight() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        gone, shown = FailingSource(10), GatedSource(10)
        gone.gate.clear()
        shown.gate.clear()
        table.set_source(gone)
        failing = table._worker
        table.set_source(shown)  # the user picked another chip before the first list came …
        try:
            gone.gate.set()  # … and the first list's read fails
            for _ in range(1000):
                if failing.state == WorkerState.ERROR:
                    break
                await pilot.pause(0.01)
            await pilot.pause()  # the table has handled that worker's end
            assert table.fetching  # the shown list's read is still held: the table must still say so
            assert app.notes == []  # and no error about a list nobody looks at
        finally:
            shown.gate.set()
        await landed(pilot, table)
        assert table.current == Item(1) and table.total == (10, True)


@pytest.mark.asyncio
async def test_space_marks_in_place_so_mark_up_mark_marks_two_rows() -> None:
    """Space used to mark and move down: mark, up, mark then unmarked the row just marked."""
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        table.set_source(GatedSource(10))
        table.focus()
        await landed(pilot, table)
        await pilot.press("j", "j", "space", "k", "space")
        assert table.marked == {2, 3} and table.cursor == 1
        await pilot.press("space")  # a second press on the same row unmarks it
        assert table.marked == {3}
        await pilot.press("J", "J")  # shift-selection: this row and the ones moved onto
        assert table.marked == {2, 3, 4} and table.cursor == 3


class SlowCountSource(GatedSource):
    """Pages come at once; the count waits for its own gate (a cold count(*) over a million rows)."""

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.count_gate = threading.Event()

    def count(self) -> tuple[int, bool]:
        assert self.count_gate.wait(30), "the test never let the count finish"
        return len(self.ids), True


@pytest.mark.asyncio
async def test_the_first_page_is_shown_before_the_total_is_counted() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        source = SlowCountSource(1000)
        table.set_source(source)
        table.focus()
        try:
            for _ in range(1000):
                if table.current is not None:
                    break
                await pilot.pause(0.01)
            assert table.current == Item(1)  # rows to read and move through while the count runs
            assert table.counting and table.total_label("contact") == "64+ contacts (counting…)"
            await pilot.press("j")
            assert table.current == Item(2)
        finally:
            source.count_gate.set()
        for _ in range(1000):
            if not table.counting and not table.fetching:
                break
            await pilot.pause(0.01)
        assert table.total == (1000, True) and table.total_label("contact") == "1,000 contacts"


@pytest.mark.asyncio
async def test_a_short_list_needs_no_count() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        source = SlowCountSource(5)  # its count would never return
        table.set_source(source)
        await landed(pilot, table)
        assert table.total == (5, True) and not table.counting and table.total_label() == "5"
