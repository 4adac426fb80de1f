"""What the screens of filtered rows share: the Inbox, the Lists and the Tasks screens.

Each reads its rows off the UI thread under a filter (`flt`, a msgspec Struct) into one
DataTable, reads them again when shown again (the app also calls `refresh_data` after a
commit), and changes its filter through `_set`. Those with a search box name it
(`SEARCH_ID`): typing narrows the filter, enter goes back to the rows, `/` comes back to it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
from textual.screen import Screen
from textual.widgets import DataTable, Input


class RowsScreen(Screen):
    TABLE_ID: ClassVar[str]
    SEARCH_ID: ClassVar[str | None] = None

    flt: Any
    rows: list[Any]

    @property
    def table(self) -> DataTable:
        return self.query_one(f"#{self.TABLE_ID}", DataTable)

    async def on_mount(self) -> None:
        self.table.focus()
        await self.refresh_data()

    async def on_screen_resume(self) -> None:
        await self.refresh_data()

    async def refresh_data(self) -> None:
        raise NotImplementedError

    def current(self) -> Any | None:
        """The highlighted row, or None (no rows, or the screen not mounted yet)."""
        if not self.rows or not self.is_mounted:
            return None
        row = self.table.cursor_row
        return self.rows[row] if row is not None and row < len(self.rows) else None

    async def _apply(self, flt: Any) -> None:
        """Show the rows of filter `flt`."""
        self.flt = flt
        await self.refresh_data()

    async def _set(self, **changes: Any) -> None:
        """The filter with `changes` (a msgspec struct's fields)."""
        await self._apply(msgspec.structs.replace(self.flt, **changes))

    async def on_input_changed(self, event: Input.Changed) -> None:
        if self.SEARCH_ID and event.input.id == self.SEARCH_ID and event.value.strip() != self.flt.search:
            await self._set(search=event.value.strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.SEARCH_ID and event.input.id == self.SEARCH_ID:
            self.table.focus()

    def action_search(self) -> None:
        if self.SEARCH_ID:
            self.query_one(f"#{self.SEARCH_ID}", Input).focus()
