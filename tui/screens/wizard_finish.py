"""The wizard's Finish step: the launch checks, then launch now, schedule, or leave the Draft.

The schedule is typed in the identity's time zone ("YYYY-MM-DD HH:MM") and
shown both ways (there and in UTC) as it is typed; a time that does not
parse or is past says so in one line. Launching itself (with its
confirmation) is the wizard's: this widget only shows and reads the choice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from tui.text import literal

SCHEDULE_FORMAT = "%Y-%m-%d %H:%M"


def parse_schedule(text: str, zone: str, now: datetime) -> datetime:
    """'YYYY-MM-DD HH:MM' in the identity's time zone → an aware time; ValueError with one line otherwise."""
    try:
        local = datetime.strptime(text.strip(), SCHEDULE_FORMAT)
    except ValueError:
        raise ValueError(f"write the date and time as YYYY-MM-DD HH:MM, not {text.strip()!r}") from None
    at = local.replace(tzinfo=ZoneInfo(zone))
    if at <= now:
        raise ValueError(f"{text.strip()} ({zone}) is in the past")
    return at


def both_ways(at: datetime) -> str:
    """A scheduled time in its zone and in UTC ("Tue 01 Dec 2026 09:00 Europe/Paris = 2026-12-01 08:00 UTC")."""
    utc = at.astimezone(ZoneInfo("UTC"))
    return f"{at:%a %d %b %Y %H:%M} {at.tzinfo} = {utc:%Y-%m-%d %H:%M} UTC"


class FinishStep(Vertical):
    """The summary, the launch checks, the three choices and the schedule box."""

    def __init__(self, now: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.now = now  # the workspace time (the app's clock): a schedule must be after it
        self.zone = "UTC"

    def compose(self) -> ComposeResult:
        yield Static(id="finish-summary")
        yield Static(id="finish-problems")
        with RadioSet(id="finish-choice"):
            yield RadioButton("Launch now", id="finish-launch")
            yield RadioButton("Schedule for a date and time", id="finish-schedule")
            yield RadioButton("Leave it a Draft", id="finish-draft", value=True)
        yield Label(id="finish-zone")
        yield Input(id="finish-at", placeholder="YYYY-MM-DD HH:MM")
        yield Static(id="finish-at-check")
        yield Button("Finish (ctrl+s)", id="finish-go", variant="primary", compact=True)

    def show(self, row: dict[str, Any] | None, zone: str) -> None:
        """The campaign (None: not saved yet) and the identity's time zone."""
        summary = Text()
        if row is None:
            summary.append("Not saved yet: go back to step 1 and choose an identity.", style="yellow")
        else:
            summary.append_text(Text.assemble(("Campaign ", "bold"), literal(row["name"], "bold"),
                                              (f"  · status: {row['status']}", "dim"), "\n"))
        self.query_one("#finish-summary", Static).update(summary)
        launched = row is not None and row["status"] != "draft"
        for wid in ("#finish-choice", "#finish-zone", "#finish-at", "#finish-at-check"):
            self.query_one(wid).display = not launched
        self.zone = zone
        self.query_one("#finish-zone", Label).update(
            Text.assemble("Schedule time in ", (zone, "bold"), " (the identity's time zone)"))
        self.query_one("#finish-go", Button).label = "Save (ctrl+s)" if launched else "Finish (ctrl+s)"
        self.check_schedule()

    def show_problems(self, problems: list[str], *, launched: bool, saved: bool) -> None:
        text = Text()
        if launched:
            text.append("Already launched: Finish saves the changes.", style="dim")
        elif problems:
            text.append("Before it can launch:\n", style="bold")
            for line in problems:
                text.append("✗ ", style="red")
                text.append_text(literal(line))
                text.append("\n")
        elif saved:
            text.append("✓ Ready to launch", style="green")
        self.query_one("#finish-problems", Static).update(text)

    def choice(self) -> str:
        """"launch", "schedule" or "draft"."""
        pressed = self.query_one("#finish-choice", RadioSet).pressed_button
        return (pressed.id or "finish-draft").removeprefix("finish-") if pressed else "draft"

    def choose(self, choice: str) -> None:
        self.query_one(f"#finish-{choice}", RadioButton).value = True

    def check_schedule(self) -> datetime | None:
        """The typed time (None when empty or wrong, the line under the box says why)."""
        text = self.query_one("#finish-at", Input).value
        check = self.query_one("#finish-at-check", Static)
        if not text.strip():
            check.update("")
            return None
        try:
            at = parse_schedule(text, self.zone, self.now())
        except ValueError as exc:
            check.update(Text(f"✗ {exc}", style="red"))
            return None
        check.update(Text(f"✓ {both_ways(at)}", style="green"))
        return at

    def focus_time(self) -> None:
        self.call_after_refresh(self.query_one("#finish-at", Input).focus)

    @on(Input.Changed, "#finish-at")
    def _schedule_typed(self) -> None:
        self.check_schedule()
        self.choose("schedule")

    @on(RadioSet.Changed, "#finish-choice")
    def _choice_changed(self, event: RadioSet.Changed) -> None:
        if event.pressed.id == "finish-schedule":
            self.focus_time()
