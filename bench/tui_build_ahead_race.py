"""Reproduce the crash of `n` right at start: `python -m bench.tui_build_ahead_race [--rounds N]`.

Not a figure: a reproduction for whoever fixes it (issue 13, task "a race seen once"). Each
attempt starts the app on a seeded workspace (Pilot, 120×40), lets the dashboard settle,
then — the timer disabled — sets up the campaign view the way `--mode` says and at once
posts `n` (the template gallery) and `enter` (from scratch: the wizard), `gap` seconds
apart, and records whether the app died. Prints the crashes per mode.

Found 2026-12-03 (2 cores, loaded), 30 attempts per mode:

* `ahead` (EnginyApp._build_campaign_view as on main: install, push, pop): 2–6 crashes
  per 10 attempts — in the *wizard's* widgets, whose mount handlers run before their own
  children exist: "No nodes match '#label' on SelectCurrent", "No nodes match
  'SelectOverlay' on Select(id='set-priority')", "No nodes match '#list-date' on
  AudienceStep"; the reported "No Tab with id '--content-tab-overview'" is the same
  failure on the view's side (its TabbedContent told a tab before its tabs are mounted);
* `register` (the view composed off the stack with no push/pop, App._register): 3 / 30;
* `none` (no view built ahead): 0 / 40.

So composing the kept campaign view off the stack while another screen is being composed
is what breaks; holding the keys until the view is mounted (even until every widget of it
has drained its queue) did not help (5 / 30), so the overlap is not only the view's compose.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from textual import events

MODES = ("ahead", "register", "none")
GAPS = (0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15)


async def attempt(ws: Path, mode: str, gap: float) -> str | None:
    import tui.app as tui_app
    from storage.workspace import open_workspace
    from tests.tui_support import NOW
    from tui.screens.campaign import CampaignScreen

    tui_app.BUILD_AHEAD_SECONDS = 600  # (built by hand below)
    app = tui_app.EnginyApp(open_workspace(ws), wall=lambda: NOW)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            if mode == "ahead":
                app._build_campaign_view()
            elif mode == "register":
                view = CampaignScreen(app.ctx, None)
                app.install_screen(view, tui_app.CAMPAIGN_VIEW)
                app._register(app, view)
            for key, char in (("n", "n"), ("enter", None)):
                app.post_message(events.Key(key, char))
                await asyncio.sleep(gap)
            await pilot.pause(0.5)
    except Exception as exc:  # the app's own crash, re-raised by run_test
        return f"{type(exc).__name__}: {str(exc)[:90]}"
    return None


async def run(rounds: int, modes: list[str]) -> None:
    from tests.tui_support import make

    with tempfile.TemporaryDirectory() as tmp:
        ws = make(Path(tmp) / "ws")
        for mode in modes:
            crashes = []
            for gap in GAPS * rounds:
                if (error := await attempt(ws, mode, gap)) is not None:
                    crashes.append(f"gap {gap}: {error}")
            print(f"{mode:<9} {len(crashes)} crashes in {len(GAPS) * rounds} attempts")
            for line in crashes:
                print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help=f"attempts per mode = {len(GAPS)} × this")
    parser.add_argument("--mode", choices=MODES, action="append", help="default: all")
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.mode or list(MODES)))


if __name__ == "__main__":
    main()
