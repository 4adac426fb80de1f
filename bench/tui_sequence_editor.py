"""The tree editor in the app on a 200-step sequence: `python -m bench.tui_sequence_editor`.

Figures only (the issue's budget: 50 ms for opening and for an edit-render cycle).
Drives the real app with Pilot on a fresh workspace whose Draft holds the
200-step sequence of bench/sequences_editing.py (242 rows, branches 40 deep,
so most rows are wider than the screen and wrap), and times, --repeat runs
each, from the call to the first frame the app composes for the editor
(`App._display` is handed every frame; in a headless run it writes nothing):

* bare: the baseline — a screen with the editor's header, footer and keys but no tree;
* open: push the editor screen until its first frame (the tree laid out and drawn);
* edit: one command as a key does it, the cursor on the step — apply, save (one
  transaction on the SQLite file), redraw the tree — until the next frame;
* undo: the same cycle for `u`.

Measured 2026-12-03 on the shared 2-core dev box with other helpers' tests
running (load 4; `--repeat 9`, 160×48), min / median:

                  bare        open         edit        undo
  OptionList    15 / 24    103 / 204     56 / 82     40 / 75
  this tree     12 / 14     40 / 75      15 / 18     14 / 18

What changed: the tree was an OptionList, which made a Textual visual of every
row and wrapped it to know its height before the first frame, then again for
each changed row; it is now a ScrollView rendering only the visible lines,
heights from the rows' lengths (`divide_line` for the long ones), rows'
Texts kept between redraws, and the first layout told the row count so the
rows are not wrapped twice (without and with the scrollbar). What is left of
opening: the screen's mount and CSS (the bare screen), the first drawing of
242 deep rows (~10 ms) and of the visible lines (~8 ms).

Again later that day (load ~2, --repeat 9, min / median): bare 11 / 18, open
36 / 51, edit 16 / 18, undo 15 / 19. Timed inside one open (unloaded): the
screen's show() 9 ms (sequences.editing.rows ~2 ms, tui.tree_text.draw ~6 ms,
both outside the widget), the first layout 4–8 ms (divide_line on the rows
wider than the tree), the 44 visible lines 7 ms (32 rows through Textual's
Content); the rest (~12–25 ms) is the screen's mount and CSS the bare screen
pays too.

Session 3, on an idle machine (load 0.3-0.6), four runs of `--repeat 9`, min / median:
bare 11 / 12, open 34-35 / 37.0, 37.7, 42.2, 42.5 (under the 50 ms goal in every run),
edit 15 / 16, undo 14 / 15. Under load (~1.2 from other work) the open's median was 52.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.sequences_editing import two_hundred_steps
from sequences.editing import SetDelay
from sequences.model import Delay
from storage import campaigns as store
from storage.identities import create_identity
from storage.workspace import init_workspace, open_workspace

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def workspace(folder: Path) -> int:
    db = init_workspace(folder).open_db()
    identity = create_identity(db, "Ada", now=NOW, actor="bench")
    campaign = store.create_campaign(db, identity=identity, template="Email Only", name="Big", now=NOW, actor="bench")
    store.save_edited_sequence(db, campaign, two_hundred_steps(), now=NOW, actor="bench")
    db.conn.close()
    return campaign


class FrameClock:
    """When the app composed each frame: `App._display` is handed every frame (in a headless run
    it writes nothing, but the frame has been laid out and rendered by then)."""

    def __init__(self, app) -> None:
        self.frames: list[tuple[float, object]] = []
        display = app._display

        def timed(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.frames.append((time.perf_counter(), screen))

        app._display = timed

    def first_after(self, start: float, screen: object) -> float:
        """Seconds from `start` to the first frame of `screen` composed after it."""
        return next(t for t, s in self.frames if t >= start and s is screen) - start


async def run(folder: Path, campaign: int, repeat: int) -> dict[str, list[float]]:
    from textual.screen import Screen
    from textual.widgets import Header, Static

    from tui.app import EnginyApp
    from tui.screens.sequence_editor import SequenceEditorScreen
    from tui.widgets.footer import BindingsFooter

    class Bare(Screen):
        """The baseline: a screen with the editor's frame (header, a line, footer, keys) and no tree."""

        BINDINGS = SequenceEditorScreen.BINDINGS

        def compose(self):
            yield Header()
            yield Static("Big", id="editor-header")
            yield Static("", id="sequence-tree")
            yield BindingsFooter()

    times: dict[str, list[float]] = {"bare": [], "open": [], "edit": [], "undo": []}
    app = EnginyApp(open_workspace(folder), wall=lambda: NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        clock = FrameClock(app)
        await pilot.pause(0.5)
        for i in range(repeat):
            start = time.perf_counter()
            await app.push_screen(bare := Bare())
            await pilot.pause()
            times["bare"].append(clock.first_after(start, bare))
            app.pop_screen()
            await pilot.pause()
            start = time.perf_counter()
            await app.push_screen(editor := SequenceEditorScreen(app.ctx, campaign))
            await pilot.pause()
            times["open"].append(clock.first_after(start, editor))
            last = editor.state.sequence.nodes[-1].id
            tree = editor.query_one("#sequence-tree")
            tree.highlighted = [row.node for row in tree.shown].index(last)  # (the cursor on it: j/G)
            await pilot.pause()
            start = time.perf_counter()
            editor.apply(SetDelay(node=last, delay=Delay(days=i + 1)))
            await pilot.pause()
            times["edit"].append(clock.first_after(start, editor))
            start = time.perf_counter()
            editor.action_undo()
            await pilot.pause()
            times["undo"].append(clock.first_after(start, editor))
            app.pop_screen()
            await pilot.pause()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        campaign = workspace(Path(tmp) / "ws")
        times = asyncio.run(run(Path(tmp) / "ws", campaign, args.repeat))
    median = {label: sorted(values)[len(values) // 2] for label, values in times.items()}
    for label, values in times.items():
        print(f"{label:<6} min {min(values) * 1000:7.1f} ms   median {median[label] * 1000:7.1f} ms"
              f"   ({median[label] / median['bare']:.2f}× the bare screen)")


if __name__ == "__main__":
    main()
