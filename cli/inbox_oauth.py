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
from dataclasses import replace

import typer

from cli.output import UserError
from runtime.channels.email import oauth, oauth_flows
from sequences.inert import inert

CLIENT_ID_ENV = "ENGINY_OAUTH_CLIENT_ID"
CLIENT_SECRET_ENV = "ENGINY_OAUTH_CLIENT_SECRET"


def provider_of(name: str, *, client_id: str | None, client_secret: str | None, tenant: str, authority: str | None,
                authorize_url: str | None, token_url: str | None) -> oauth.Provider:
    client_id = client_id or os.environ.get(CLIENT_ID_ENV)
    if not client_id:
        raise UserError(f"--client-id: give the OAuth client id of your {name} app registration (or set "
                        f"{CLIENT_ID_ENV}); see docs/email.md, 'Google and Microsoft 365'")
    if name == "microsoft":
        provider = oauth.microsoft(client_id, tenant=tenant, authority=authority or "https://login.microsoftonline.com")
        if token_url:
            provider = replace(provider, token_url=token_url)
        return provider
    kwargs = {k: v for k, v in (("authorize_url", authorize_url), ("token_url", token_url)) if v}
    return oauth.google(client_id, client_secret or os.environ.get(CLIENT_SECRET_ENV), **kwargs)


def _say(text: str) -> None:
    """To the user on stderr; what the provider sent (address, code) stays inert text."""
    typer.echo(inert(text, lines=True), err=True)


def sign_in(provider: oauth.Provider, *, browser: bool) -> dict:
    """Run the provider's flow; the token response. OAuthError becomes a one-line UserError."""
    try:
        return _device(provider) if provider.name == "microsoft" else _code(provider, browser=browser)
    except oauth.OAuthError as exc:
        raise UserError(f"{provider.name} sign-in: {exc}") from None


def _device(provider: oauth.Provider) -> dict:
    code = oauth_flows.start_device(provider)
    _say(f"To connect this inbox, open this address in any browser (phone or computer):\n"
         f"  {code.verification_uri}\n"
         f"and enter the code:  {code.user_code}\n"
         f"Sign in with the inbox's Microsoft 365 account (the code works for {code.expires_in // 60} minutes).")
    _qr(code.verification_uri_complete or code.verification_uri)
    _say("Waiting for the sign-in… (Ctrl-C to stop)")
    return oauth_flows.poll_device(provider, code, sleep=time.sleep,
                                   on_wait=lambda s: _say(f"(the server asked to slow down: polling every {s} s)"))


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


def _code(provider: oauth.Provider, *, browser: bool) -> dict:
    with oauth_flows.LoopbackReceiver() as receiver:
        request = oauth_flows.start_code(provider, receiver.redirect_uri)
        opened = browser and not os.environ.get("SSH_CONNECTION") and _open(request.url)
        _say(("A browser window opened; if not, open" if opened else "Open") +
             f" this address in a browser and sign in\nwith the inbox's Google account:\n\n{request.url}\n\n"
             "If the browser is on another machine (SSH), it ends on a page that cannot be\n"
             "reached: copy that page's whole address from the address bar, paste it here\n"
             "and press Enter.")
        return oauth_flows.finish_code(provider, request, _redirected(receiver))


def _open(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except Exception:
        return False


def _redirected(receiver: oauth_flows.LoopbackReceiver, timeout: float = 600.0) -> str:
    """The loopback redirect or a pasted address, whichever comes first."""
    deadline = time.monotonic() + timeout
    stdin_open = True
    while time.monotonic() < deadline:
        if receiver.arrived.wait(0.2):
            return receiver.got or ""
        if stdin_open and select.select([sys.stdin], [], [], 0)[0]:
            line = sys.stdin.readline()
            if not line:
                stdin_open = False  # EOF: only the loopback redirect can answer now
            elif line.strip():
                return line.strip()
    raise oauth.OAuthError("no sign-in arrived within 10 minutes; run the command again")
