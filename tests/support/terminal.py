"""enginy in a real terminal: a private tmux server at a given size, keys in, the screen's text out.

What Pilot cannot cover: the real driver, detached runtime processes, quitting.
Each terminal is its own tmux server, its socket in the test's folder, so no
test ever talks to a server a test before it is still closing. The pane outlives the
command and says how it ended, so a test that finds the app gone sees why (a
traceback, an exit status) instead of an empty screen.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.waits import wait_until

ENGINY = str(Path(sys.executable).with_name("enginy"))


class Terminal:
    """One tmux pane running an enginy command; `log` (a runtime.log) is shown when a wait fails."""

    def __init__(self, socket: Path, log: Path | None = None) -> None:
        self.tmux = ["tmux", "-S", str(socket)]
        self.log = log

    def screen(self) -> str:
        """The pane's text; when tmux cannot give it, tmux's own words."""
        shot = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True)
        return shot.stdout if shot.returncode == 0 else f"(no screen: tmux said {shot.stderr.strip()!r})"

    def keys(self, *words: str, literal: bool = False) -> None:
        """tmux send-keys words ("Enter", "C-n", "Escape"), or with `literal` the text as typed."""
        subprocess.run([*self.tmux, "send-keys", "-t", "t", *(["-l"] if literal else []), *words], check=True)

    def wait_for(self, shown: str | Callable[[str], object], timeout: float = 30.0) -> str:
        """The screen, once it shows `shown` (a text, or a predicate on the screen)."""
        holds = shown if callable(shown) else (lambda screen: shown in screen)

        def ready() -> str | None:
            screen = self.screen()
            return screen if holds(screen) else None
        return wait_until(ready, timeout=timeout, interval=0.2, detail=self._detail,
                          what=f"{shown!r} on the screen" if isinstance(shown, str) else "the screen")

    def close(self) -> None:
        """The server goes, and the command with it (as when an SSH session drops)."""
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)

    def _detail(self) -> str:
        text = f"the screen was:\n{self.screen()}"
        if self.log is not None and self.log.exists():
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
            text += f"\n{self.log.name} ended:\n{tail}"
        return text


@contextmanager
def enginy_in_tmux(workspace: Path, args: str, cols: int = 80, rows: int = 24, *,
                   log: Path | None = None) -> Iterator[Terminal]:
    """`enginy --workspace WORKSPACE ARGS` in a `cols`×`rows` terminal; closed afterwards."""
    term = Terminal(workspace.parent / "tmux.sock", log)
    command = f"env -u COLUMNS -u LINES {ENGINY} --workspace {shlex.quote(str(workspace))} {args}"
    subprocess.run([*term.tmux, "new-session", "-d", "-s", "t", "-x", str(cols), "-y", str(rows),
                    f'{command}; echo "[enginy ended: exit status $?]"; sleep 600'], check=True)
    subprocess.run([*term.tmux, "resize-window", "-t", "t", "-x", str(cols), "-y", str(rows)], capture_output=True)
    try:
        yield term
    finally:
        term.close()
