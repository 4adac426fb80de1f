"""A table over any number of rows: renders lines on demand, pages rows by keyset on a thread.

Why not DataTable: it builds every row up front (100k rows took 19 s to first
paint here). This widget keeps a window of a few pages of rows around what is
on screen and asks its *source* (storage/audience_view.py, storage/activity_view.py) for more by keyset —
rows after the window's last key, before its first, or from the end for `G` —
so every move costs one indexed page whatever the list's size. Loads run in a
thread worker, one at a time; the next one is decided only when the current
one has landed, so loads never pile up and input is never blocked (a row not
loaded yet shows as a dim "…").

The scrollbar needs a total: the source gives an exact count or an estimate
(shown with "≈" in the footer line). A far jump (scrollbar drag) asks the
source which key sits at that fraction of the list; positions there are as
good as that estimate, and become exact again at either end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from sequences.wording import plural

#: A row is any record (a msgspec Struct, say) whose attribute `key_name` is its key in the list.
Row = Any


class RowSource(Protocol):
    key_name: str  # the rows' attribute that orders them and that after()/before() take

    def after(self, key: Any, limit: int) -> list[Row]: ...
    def before(self, key: Any, limit: int) -> list[Row]: ...
    def count(self) -> tuple[int, bool]: ...
    def seek(self, fraction: float) -> Any: ...


@dataclass(frozen=True)
class Column:
    """A column: header, width in cells (None = share what is left) and how a row becomes a Text;
    `narrow`: its width when the shared columns would get fewer than FLEX_MIN cells (0: left out)."""

    name: str
    width: int | None
    render: Callable[[Row], Text]
    narrow: int | None = None


FLEX_MIN = 30  # cells: a shared column (a contact's name and company) narrower than this reads "Pia Fis…"


@dataclass
class _Loaded:
    generation: int
    kind: str
    rows: list[Row]
    count: tuple[int, bool] | None
    index: int = 0
    seconds: float = 0.0


class VirtualTable(ScrollView, can_focus=True):
    """Rows paged from a `RowSource`; j/k/g/G/pgup/pgdn move, space marks, enter opens."""

    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    VirtualTable > .virtual-table--header { text-style: bold; }
    VirtualTable > .virtual-table--cursor { background: $accent 40%; text-style: bold; }
    VirtualTable > .virtual-table--placeholder { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"virtual-table--header", "virtual-table--cursor", "virtual-table--placeholder"}

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("k,up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("g,home", "top", "Top", show=False, id="table.top"),
        Binding("G,end", "bottom", "End", show=False, id="table.bottom"),
        Binding("space", "mark", "Mark", id="table.mark",
                tooltip="Mark or unmark the highlighted row for a bulk action (the cursor stays)"),
        Binding("shift+down,J", "extend(1)", "Mark down", show=False, id="table.mark_down",
                tooltip="Mark this row and the next (extend the marks downwards)"),
        Binding("shift+up,K", "extend(-1)", "Mark up", show=False, id="table.mark_up",
                tooltip="Mark this row and the previous (extend the marks upwards)"),
        Binding("enter", "open", "Open", id="table.open", tooltip="Open the highlighted row"),
    ]

    PAGE = 64
    MAX_PAGES = 8

    cursor: reactive[int] = reactive(0)
    """Index of the highlighted row in the whole (filtered) list."""

    class Highlighted(Message):
        def __init__(self, table: "VirtualTable", row: Row | None) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> "VirtualTable":
            return self.table

    class Selected(Highlighted):
        """Enter or a click on a row."""

    class Marked(Message):
        """Space marked or unmarked a row: screens showing "N marked" update at once, not at the next page."""

        def __init__(self, table: "VirtualTable") -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> "VirtualTable":
            return self.table

    class Loaded(Message):
        """A page landed (the bench times `first paint` with it)."""

        def __init__(self, table: "VirtualTable", kind: str, seconds: float) -> None:
            super().__init__()
            self.table = table
            self.kind = kind
            self.seconds = seconds

    def __init__(self, columns: list[Column], *, empty: str = "Nothing here.", markable: bool = True,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        """`markable`: False for a list no bulk action works on (space is then not offered)."""
        super().__init__(name=name, id=id, classes=classes)
        self.columns = columns
        self.markable = markable
        self.empty = empty
        self.source: RowSource | None = None
        self.marked: set[Any] = set()
        self._rows: list[Row] = []
        self._base = 0
        self._count = 0
        self._exact = True
        self._generation = 0
        self._busy = False
        self._reload_pending = False
        self._loaded_once = False
        self._blank = False  # lines blank, not "…", until the first page lands (reset())
        self._counting = False  # the first page has landed, its total is being read
        self._worker: Worker | None = None  # the load in flight, or the last one
        self.timings: list[tuple[str, float]] = []
        #: perf_counter() of the last load landing and of the last line drawn (the benchmark's "paint")
        self.landed_at = 0.0
        self.painted_at = 0.0

    # --- public -------------------------------------------------------------------

    @property
    def total(self) -> tuple[int, bool]:
        return self._count, self._exact

    @property
    def counting(self) -> bool:
        """The first page is shown and the list's total is still being read (`total` is a floor)."""
        return self._counting

    def total_label(self, noun: str | None = None) -> str:
        """The list's size as the screens word it: "1,204 leads", "≈1,200 leads" (an estimate),
        "64+ leads (counting…)" while the total of a first page already shown is being read;
        with no noun, the number alone."""
        size = plural(self._count, noun) if noun else f"{self._count:,}"
        if self._counting:
            return f"{size.replace(' ', '+ ', 1) if noun else size + '+'} (counting…)"
        return f"{'' if self._exact else '≈'}{size}"

    @property
    def fetching(self) -> bool:
        """A page or the total is being read, or the first page has not landed yet.

        Not named `loading`: that is Textual's own Widget.loading, and a widget that
        reports it is "loading" refuses focus, drops out of the key-binding chain
        (App.focused is None) and ignores clicks — so every threaded page load made
        focus requests, enter, space and j/k made meanwhile silently vanish."""
        return self._busy or not self._loaded_once or self._counting

    @property
    def current(self) -> Row | None:
        return self.row_at(self.cursor)

    def row_at(self, index: int) -> Row | None:
        i = index - self._base
        return self._rows[i] if 0 <= i < len(self._rows) else None

    def visible_rows(self) -> list[Row]:
        top = self.scroll_offset.y
        return [r for i in range(top, top + self._body_height()) if (r := self.row_at(i)) is not None]

    def set_total(self, count: int, exact: bool) -> None:
        """A better total arrived (the chip counts): resize the scrollbar without reloading rows."""
        if (count, exact) == (self._count, self._exact) or not self._loaded_once:
            return
        self._count, self._exact = max(count, self._base + len(self._rows)), exact
        self._size_rows()
        self.refresh()

    def reset(self, source: RowSource | None, total: int = 0) -> None:
        """Show another list as a newly built table would: blank lines until its first page lands,
        no marks; None = no list at all. `total`, if the caller knows it already (the kept count of
        an unfiltered audience), sizes the scrollbar now.

        Unlike set_source() (a filter of the same list: its old total and "…" lines stay until
        the new page lands), nothing of the last list remains — for a view shown again for
        another campaign. Why a total: the scrollbar then has its size before the first
        page lands, which otherwise shows or resizes the scrollbar and so costs one more
        layout of the whole screen (~15-25 ms) between the page landing and its paint."""
        self._count, self._exact = total, True
        self._size_rows()
        self.set_source(source)
        self._blank = True
        self.refresh()

    def set_source(self, source: RowSource | None, *, keep_marks: bool = False) -> None:
        """Show another list (new filter, chip …): back to the top."""
        self.source = source
        if not keep_marks:
            self.marked.clear()
        self._generation += 1
        self._rows, self._base, self._busy, self._loaded_once, self._counting = [], 0, False, False, False
        self._reload_pending = False
        self.cursor = 0
        self._scroll_y_to(0)
        self._load("reset")

    def reload(self) -> None:
        """The data changed underneath (the runtime moved leads): refetch the window in place."""
        if self.source is None:
            return
        if self._busy:
            # Never drop the load in flight: it may be the user's own jump (G, a
            # seek), and its cursor is waiting for those rows. Refetch after it lands.
            self._reload_pending = True
            return
        self._load("reload")

    # --- loading -----------------------------------------------------------------

    def _load(self, kind: str, index: int = 0) -> None:
        source = self.source
        if source is None or self._busy:
            return
        self._busy = True
        generation = self._generation
        first = getattr(self._rows[0], source.key_name) if self._rows else None
        last = getattr(self._rows[-1], source.key_name) if self._rows else None
        count_known = self._count
        page = self.PAGE

        def work() -> _Loaded:
            started = time.perf_counter()
            count = None
            if kind == "reset":  # the first page alone: its count is read after it is drawn
                rows = source.after(None, page)
                count = (len(rows), True) if len(rows) < page else None
            elif kind == "count":
                rows, count = [], source.count()
            elif kind == "reload":
                count = source.count()
                rows = source.after(_just_before(source, first), max(page, len(self._rows))) if first is not None \
                    else source.after(None, page)
            elif kind == "forward":
                rows = source.after(last, page)
            elif kind == "backward":
                rows = source.before(first, page)[::-1]
            elif kind == "end":
                rows = source.before(None, page)[::-1]
            else:  # seek
                fraction = index / max(count_known, 1)
                rows = source.after(source.seek(fraction), page)
            return _Loaded(generation, kind, rows, count, index, time.perf_counter() - started)

        self._worker = self.run_worker(work, thread=True, group=f"vt-{id(self)}", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != f"vt-{id(self)}":
            return
        event.stop()
        if event.state == WorkerState.ERROR:
            if event.worker is not self._worker:
                return  # a list no longer shown failed; the load in flight is another one
            self._busy = False
            self.notify(f"Could not read the list: {event.worker.error}", severity="error")
            return
        if event.state != WorkerState.SUCCESS:
            return
        result: _Loaded = event.worker.result
        if result.generation != self._generation:
            return  # a load for a list that is no longer shown
        self._busy = False
        self.landed_at = time.perf_counter()
        self._apply(result)
        self._loaded_once, self._blank = True, False
        self.timings.append((result.kind, result.seconds))
        self.refresh()
        self.post_message(self.Loaded(self, result.kind, result.seconds))
        self._highlight()
        if self._reload_pending:
            self._reload_pending = False
            self._load("reload")
        elif self._counting:  # after the first page's paint; a load in flight then asks again as it lands
            self.call_after_refresh(self._load, "count")
        else:
            self.call_after_refresh(self._ensure_loaded)

    def _apply(self, r: _Loaded) -> None:
        page = self.PAGE
        if r.kind == "reset" or r.count is not None:
            self._counting = r.count is None
        if r.count is not None:
            self._count, self._exact = r.count
        if r.kind == "count":
            self._count = max(self._count, self._base + len(self._rows))
            self._size_rows()
            return
        if r.kind in ("reset", "reload"):
            self._rows = r.rows
            if r.kind == "reset":
                self._base = 0
            if len(r.rows) < page and r.kind == "reset":
                self._count, self._exact = len(r.rows), True
        elif r.kind == "forward":
            self._rows += r.rows
            if len(r.rows) < page:  # the real end
                self._count, self._exact = self._base + len(self._rows), True
        elif r.kind == "backward":
            self._rows = r.rows + self._rows
            self._base -= len(r.rows)
            if len(r.rows) < page and self._base != 0:  # the real start: re-index from 0
                self._shift(-self._base)
        elif r.kind == "end":
            self._rows = r.rows
            self._base = max(self._count - len(r.rows), 0)
            if len(r.rows) < page:
                self._base, self._count, self._exact = 0, len(r.rows), True
        else:  # seek
            self._rows, self._base = r.rows, r.index
            if len(r.rows) < page:
                self._count, self._exact = self._base + len(r.rows), self._exact and False
        self._base = max(self._base, 0)
        self._count = max(self._count, self._base + len(self._rows))
        self._trim(keep_front=r.kind == "backward")
        self._size_rows()
        self.cursor = min(self.cursor, max(self._count - 1, 0))

    def _size_rows(self, width: int | None = None) -> None:
        """Set the scrollable size to the list's rows (+ the header) without a layout pass.

        Why: `virtual_size` is a layout reactive, so assigning it re-lays out the whole
        screen (~20 ms for the campaign view, far more on a busy host) although this
        table's place and size do not depend on it; and it changed with every first
        page of a list, between the rows landing and their paint. Only the scrollbar
        depends on it: its thumb is updated here, and if it has to appear or go
        (overflow-y: auto), that change itself asks for the layout it needs."""
        size = Size(self.size.width if width is None else width, self._count + 1)
        if size == self.virtual_size:
            return
        self.set_reactive(VirtualTable.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _scroll_y_to(self, y: int) -> None:
        """Scroll now (scroll_to() inside a key handler was observed to leave the offset unchanged)."""
        y = max(0, min(int(y), self.max_scroll_y))
        self.scroll_target_y = y
        self.scroll_y = y

    def _shift(self, delta: int) -> None:
        self._base += delta
        self.cursor = max(self.cursor + delta, 0)
        self._scroll_y_to(max(self.scroll_offset.y + delta, 0))

    def _trim(self, keep_front: bool) -> None:
        limit = self.PAGE * self.MAX_PAGES
        if len(self._rows) <= limit:
            return
        if keep_front:
            self._rows = self._rows[:limit]
        else:
            drop = len(self._rows) - limit
            self._rows = self._rows[drop:]
            self._base += drop

    def _ensure_loaded(self) -> None:
        """Ask for the page the screen needs next, if any (one load at a time)."""
        if self.source is None or self._busy or not self._loaded_once:
            return
        top = self.scroll_offset.y
        bottom = min(top + self._body_height(), self._count)
        lo, hi = self._base, self._base + len(self._rows)
        if top >= lo and bottom <= hi:
            if hi < self._count and bottom > hi - self.PAGE // 2:
                self._load("forward")
            elif lo > 0 and top < lo + self.PAGE // 4:
                self._load("backward")
            return
        if bottom >= self._count - 1 and self._count > self.PAGE:
            self._load("end")
        elif top < lo and lo - top <= self.PAGE:
            self._load("backward")
        elif top >= hi and top - hi <= self.PAGE:
            self._load("forward")
        else:
            self._load("seek", top)

    # --- rendering -----------------------------------------------------------------

    def _body_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _widths(self, width: int) -> list[int]:
        """Each column's width; 0: left out. While the shared columns would be cut short (80
        columns, or the side panel open) fixed columns take their `narrow` width one at a time:
        first those left out (narrow 0, in column order), then those that shrink."""
        def share(widths: list[int | None]) -> int:
            fixed = sum(w or 0 for w in widths) + 2 * sum(w != 0 for w in widths) + 2
            return (width - fixed) // max(sum(w is None for w in widths), 1)

        widths = [c.width for c in self.columns]
        giving = [i for i, c in enumerate(self.columns) if c.width is not None and c.narrow is not None]
        for i in sorted(giving, key=lambda i: self.columns[i].narrow or 0):
            if share(widths) >= FLEX_MIN:
                break
            widths[i] = self.columns[i].narrow
        flex = max(share(widths), 8)
        return [w if w is not None else flex for w in widths]

    def _line(self, cells: list[Text], marker: str, style: Style, width: int) -> Strip:
        line = Text(marker.ljust(2), end="")
        for cell, w in zip(cells, self._widths(width)):
            if not w:
                continue
            cell = cell.copy()
            cell.truncate(w, overflow="ellipsis", pad=True)
            line.append_text(cell)
            line.append("  ")
        line.truncate(width, pad=True)
        segments = list(line.render(self.app.console, end=""))
        strip = Strip(segments, width)
        return strip.apply_style(style) if style else strip

    def render_line(self, y: int) -> Strip:
        self.painted_at = time.perf_counter()
        width = self.scrollable_content_region.width
        base_style = self.rich_style
        if y == 0:
            return self._line([Text(c.name) for c in self.columns], "", self.get_component_rich_style(
                "virtual-table--header"), width).apply_style(base_style)
        index = self.scroll_offset.y + y - 1
        if index >= self._count or self._blank:
            if index == 0 and self._loaded_once:
                return Strip([Segment(self.empty.ljust(width)[:width], base_style)], width)
            return Strip.blank(width, base_style)
        row = self.row_at(index)
        if row is None:
            self.call_later(self._ensure_loaded)
            return Strip([Segment("  …".ljust(width), base_style + self.get_component_rich_style(
                "virtual-table--placeholder"))], width)
        key = getattr(row, self.source.key_name) if self.source else None
        marker = "●" if key in self.marked else ""
        style = self.get_component_rich_style("virtual-table--cursor") if index == self.cursor and self.has_focus \
            else (Style(reverse=True) if index == self.cursor else Style())
        return self._line([c.render(row) for c in self.columns], marker, style, width).apply_style(base_style)

    def on_resize(self, event: events.Resize) -> None:
        self._size_rows(event.size.width)
        self.call_later(self._ensure_loaded)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.call_later(self._ensure_loaded)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- moving ------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top, height = self.scroll_offset.y, self._body_height()
        if new < top:
            self._scroll_y_to(new)
        elif new >= top + height:
            self._scroll_y_to(new - height + 1)
        self.refresh()
        self._highlight()

    def _highlight(self) -> None:
        self.post_message(self.Highlighted(self, self.current))

    def action_cursor(self, delta: int) -> None:
        self.cursor = min(max(self.cursor + delta, 0), max(self._count - 1, 0))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * self._body_height())

    def action_top(self) -> None:
        if self._base != 0 and self.source is not None:
            self._generation += 1
            self._busy = False
            self._rows, self._base = [], 0
            self._load("reset")
        self.cursor = 0
        self._scroll_y_to(0)
        self.refresh()

    def action_bottom(self) -> None:
        last = max(self._count - 1, 0)
        if self.source is not None and self._base + len(self._rows) < self._count:
            self._generation += 1
            self._busy = False
            self._rows = []
            self._load("end")
        self.cursor = last
        self._scroll_y_to(max(self._count + 1 - self.scrollable_content_region.height, 0))
        self.refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("mark", "extend") and not self.markable:
            return False
        return True

    def _toggle(self, key: Any, on: bool | None = None) -> None:
        """Mark (on=True), unmark (False) or flip (None) one row."""
        if on is None:
            on = key not in self.marked
        (self.marked.add if on else self.marked.discard)(key)

    def action_mark(self) -> None:
        """Flip the highlighted row's mark; the cursor stays (as aerc's `v`).

        Why not move down as well (ranger, mutt): then mark, up, mark unmarked the row
        just marked — the cursor had moved past it. Runs of rows are marked with
        shift+down / shift+up (J / K) instead."""
        row = self.current
        if row is None or self.source is None:
            return
        self._toggle(getattr(row, self.source.key_name))
        self.refresh()
        self.post_message(self.Marked(self))

    def action_extend(self, delta: int) -> None:
        """Mark the highlighted row, move, and mark the row arrived at (a shift-selection)."""
        row = self.current
        if row is None or self.source is None:
            return
        self._toggle(getattr(row, self.source.key_name), True)
        self.action_cursor(delta)
        if (arrived := self.current) is not None:
            self._toggle(getattr(arrived, self.source.key_name), True)
        self.refresh()
        self.post_message(self.Marked(self))

    def clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self.refresh()
            self.post_message(self.Marked(self))

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self, self.current))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        index = self.scroll_offset.y + event.y - 1
        if index < self._count:
            self.cursor = index
            self.action_open()


def _just_before(source: RowSource, key: Any) -> Any:
    """The key from which `after()` returns `key` itself again (ids are integers)."""
    return key + 1 if getattr(source, "descending", False) else key - 1
