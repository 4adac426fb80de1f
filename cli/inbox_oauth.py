"""The terminal side of `enginy inbox connect --provider microsoft|google`: running the sign-in.

What the user sees goes to stderr (stdout stays the command's result, JSON
with --json). Microsoft 365: the verification URL and code, and a QR code of
the URL when stderr is a terminal wide enough; then polling until approved.
Google: the sign-in URL (opened in the local browser unless over SSH or
--no-browser); the redirect is caught on a loopback port, or the user pastes
the address the browser ended on (over SSH the browser cannot reach this
machine's loopback) — whichever comes first.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import time

import typer

from runtime.inbox_connect import ConnectError, InboxConnection
from sequences.inert import inert


def _say(text: str) -> None:
    """To the user on stderr; what the provider sent (address, code) stays inert text."""
    typer.echo(inert(text, lines=True), err=True)


def sign_in(connection: InboxConnection, *, browser: bool) -> dict:
    """Run the provider's flow (runtime/inbox_connect.py) in this terminal; the token response.
    A refusal is the flow's ConnectError, in the spec's words."""
    if connection.provider.name == "microsoft":
        return _device(connection)
    return _code(connection, browser=browser)


def _device(connection: InboxConnection) -> dict:
    code = connection.device_code()
    _say(f"To connect this inbox, open this address in any browser (phone or computer):\n"
         f"  {code.verification_uri}\n"
         f"and enter the code:  {code.user_code}\n"
         f"Sign in with the inbox's Microsoft 365 account (the code works for {code.expires_in // 60} minutes).")
    _qr(code.verification_uri_complete or code.verification_uri)
    _say("Waiting for the sign-in… (Ctrl-C to stop)")
    return connection.wait_for_approval(
        code, sleep=time.sleep, on_wait=lambda s: _say(f"(the server asked to slow down: polling every {s} s)"))


def _qr(url: str) -> None:
    """A QR code of the URL for a phone, where the terminal can show one."""
    if not sys.stderr.isatty():
        return
    try:
        import segno
    except ImportError:
        return
    qr = segno.make(url, error="l")
    width, height = qr.symbol_size(border=2)
    columns, rows = shutil.get_terminal_size((80, 24))
    if width > columns or (height + 1) // 2 + 6 > rows:  # two modules a line; the code must stay on screen
        return
    qr.terminal(out=sys.stderr, compact=True, border=2)


def _code(connection: InboxConnection, *, browser: bool) -> dict:
    with connection.browser_sign_in() as request:
        opened = browser and not os.environ.get("SSH_CONNECTION") and _open(request.url)
        _say(("A browser window opened; if not, open" if opened else "Open") +
             f" this address in a browser and sign in\nwith the inbox's Google account:\n\n{request.url}\n\n"
             "If the browser is on another machine (SSH), it ends on a page that cannot be\n"
             "reached: copy that page's whole address from the address bar, paste it here\n"
             "and press Enter.")
        return request.finish(_redirected(request))


def _open(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except Exception:
        return False


def _redirected(request, timeout: float = 600.0) -> str:
    """The loopback redirect or a pasted address, whichever comes first."""
    deadline = time.monotonic() + timeout
    stdin_open = True
    while time.monotonic() < deadline:
        caught = request.redirected(0.2)
        if caught is not None:
            return caught
        if stdin_open and select.select([sys.stdin], [], [], 0)[0]:
            line = sys.stdin.readline()
            if not line:
                stdin_open = False  # EOF: only the loopback redirect can answer now
            elif line.strip():
                return line.strip()
    raise ConnectError("no sign-in arrived within 10 minutes; run the command again")
