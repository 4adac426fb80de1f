"""Asking the AI from the app: a request row the runtime answers, watched until it is.

The app never calls the AI (it writes intents, tui/app.py): `AIAsk.start`
checks that an AI is configured and that a runtime runs (the runtime asks),
writes the request through storage/reply_agent.py and reads the row twice a
second, saying "Asking the AI… 3 s" on the screen's status line, with the end of the
answer so far when the endpoint streams it. The answer
goes to `on_ready`, a failure to the status line. Nothing blocks: the user
may keep reading, or leave (an answer that comes after is dropped).
"""

from __future__ import annotations

from typing import Callable

from rich.text import Text

from storage.config import AI_NOT_CONFIGURED
from storage.reply_agent import get_request
from storage.runtime_lease import runtime_alive
from tui.text import literal

TICK = 0.5
GIVE_UP_TICKS = 600  # five minutes: longer than an answer with the client's retries takes
NO_RUNTIME = ("The runtime is not running, and it is what asks the AI: start it (`enginy run`, or reopen "
              "`enginy tui`), or ask from the shell: `enginy conversations suggest ID`.")


class AIAsk:
    """One request at a time for a screen or widget (`owner`, whose timer watches the row; its
    screen's `ctx`); `say` writes the status line."""

    def __init__(self, owner, say: Callable[[Text | str], None], on_ready: Callable[[str], None]) -> None:
        self.owner, self.say, self.on_ready = owner, say, on_ready
        self.request_id: int | None = None
        self.ticks = 0
        self._timer = None

    @property
    def busy(self) -> bool:
        return self.request_id is not None

    def start(self, write: Callable[[], int], what: str = "a suggested reply") -> None:
        """`write` stores the request and returns its id (called only when it can be answered)."""
        ctx = self.owner.screen.ctx
        if self.busy:
            self.say(Text(f"Still asking the AI for {what}…", style="yellow"))
            return
        if not ctx.workspace.config.ai.configured:
            self.say(Text(AI_NOT_CONFIGURED[0].upper() + AI_NOT_CONFIGURED[1:] + ".", style="bold red"))
            return
        if not runtime_alive(ctx.db, ctx.wall()):
            self.say(Text(NO_RUNTIME, style="bold red"))
            return
        self.request_id, self.ticks, self.what = write(), 0, what
        self.say(Text(f"Asking the AI for {what}… (you can keep reading)", style="yellow"))
        self._timer = self.owner.set_interval(TICK, self._poll)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer, self.request_id = None, None

    def _poll(self) -> None:
        if self.request_id is None:
            return
        self.ticks += 1
        request = get_request(self.owner.screen.ctx.db, self.request_id)
        if request is None or request.state == "asked":
            if self.ticks >= GIVE_UP_TICKS or request is None:
                self.stop()
                self.say(Text("No answer from the runtime: is it running? (`enginy run` starts it)", style="bold red"))
            else:
                status = Text(f"Asking the AI for {self.what}… {self.ticks * TICK:.0f} s", style="yellow")
                room = self.owner.screen.size.width - status.cell_len - 4
                if request.text and room > 10:  # streamed: the end of the answer so far, on the one status line
                    status.append("  ")
                    status.append_text(literal("…" + " ".join(request.text.split())[-room:], "italic"))
                self.say(status)
            return
        self.stop()
        if request.state == "failed":
            self.say(Text(f"The AI did not answer: {request.error}", style="bold red"))
        else:
            self.on_ready(request.text or "")
