"""Connecting a Google or Microsoft 365 inbox from the identity screen: the CLI's sign-in, in a dialog.

The flow itself is the runtime's (runtime/inbox_connect.py, the one the CLI
drives too); the app may not import the runtime, so `enginy tui` hands it the
`InboxConnection` factory (`AppContext.connect_inbox`) and this dialog only
calls its steps, each on a worker thread (they block on HTTP, IMAP, SMTP):

1. a form: the address, the app registration (client id; Microsoft's tenant
   and sign-in host; Google's secret and endpoints) and, for a server of
   one's own, IMAP/SMTP — empty fields take the provider's defaults;
2. Microsoft 365 (device flow, RFC 8628): the address to open and the code to
   enter on any device, a QR code of it when the terminal is tall enough, and
   the polling state; Google (PKCE): the address to open, and an input to
   paste back the address the browser ended on (over SSH the browser cannot
   reach this machine's loopback listener, which catches the redirect otherwise);
   ctrl+y copies the address (OSC 52, which terminals pass on over SSH);
3. IMAP and SMTP are checked with the sign-in, then the inbox is saved.

A refusal is shown in the spec's words (Approval required, consent,
Conditional Access) and enter starts again with the form as typed. Esc
cancels at any step: the poll stops at its next wait, nothing is saved.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker

from tui.text import literal

PROVIDERS = {"microsoft": "Microsoft 365", "google": "Google"}
#: The form's fields per provider: (name the connection takes, label, placeholder).
SIGN_IN_FIELDS = {
    "microsoft": (("client_id", "Client id", "your app registration (or $ENGINY_OAUTH_CLIENT_ID)"),
                  ("tenant", "Tenant", "organizations (any work account), or your tenant's domain"),
                  ("authority", "Sign-in host", "https://login.microsoftonline.com")),
    "google": (("client_id", "Client id", "your desktop app's id (or $ENGINY_OAUTH_CLIENT_ID)"),
               ("client_secret", "Client secret", "the desktop app's (or $ENGINY_OAUTH_CLIENT_SECRET)"),
               ("authorize_url", "Authorization URL", "https://accounts.google.com/o/oauth2/v2/auth"),
               ("token_url", "Token URL", "https://oauth2.googleapis.com/token")),
}
SERVER_FIELDS = (("imap", "IMAP host:port", "the provider's"), ("smtp", "SMTP host:port", "the provider's"),
                 ("tls", "TLS", "the provider's: implicit | starttls"), ("ca_file", "CA file", "none (a private CA's PEM)"))
QR_MARGIN = 16  # rows the dialog needs around the QR code: the text above it, the status, the borders


class Stopped(Exception):
    """Esc was pressed: the worker's wait ends here."""


def qr_lines(url: str) -> list[str]:
    """A QR code of `url` in half blocks (two modules a character row), for a phone's camera."""
    import segno

    rows = [[bool(m) for m in row] for row in segno.make(url, error="l").matrix]
    width = len(rows[0]) + 4
    quiet = [[False] * width] * 2
    rows = quiet + [[False, False] + r + [False, False] for r in rows] + quiet + [[False] * width]
    glyph = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
    # dark modules are drawn light-on-dark inverted: a terminal's background is the code's light
    return ["".join(glyph[(not a, not b)] for a, b in zip(top, bottom)) for top, bottom in zip(rows[::2], rows[1::2])]


def host_port(text: str, label: str) -> tuple[str | None, int | None]:
    text = text.strip()
    if not text:
        return None, None
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{label}: the port after ':' must be a number from 1 to 65535")
    return host, int(port)


class InboxConnectScreen(ModalScreen[int | None]):
    """Sign in to a Google or Microsoft 365 inbox and connect it; dismissed with the new inbox's id."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="connect.cancel", tooltip="Stop the sign-in; nothing is saved"),
                Binding("ctrl+y", "copy", "Copy address", id="connect.copy",
                        tooltip="Copy the sign-in address to the clipboard (OSC 52: works over SSH too)"),
                Binding("enter", "enter", "Sign in", show=False, id="connect.enter",
                        tooltip="On the form: sign in; after a refusal: back to the form, as typed")]

    def __init__(self, connect_inbox: Any, workspace: Any, identity: dict[str, Any], provider: str) -> None:
        super().__init__()
        self.connect_inbox = connect_inbox  # runtime.inbox_connect.InboxConnection.of_fields, from `enginy tui`
        self.workspace = workspace
        self.identity = identity
        self.provider = provider
        self.phase = "form"  # form | signing-in | failed
        self._stop = threading.Event()
        self._pasted: queue.Queue[str] = queue.Queue()
        self.worker: Worker | None = None
        self.address = ""  # the address the user opens to sign in, once the provider gave it

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="connect"):
            title = Text(f"Connect a {PROVIDERS[self.provider]} inbox to ", style="bold")
            title.append_text(literal(self.identity["name"], "bold"))
            yield Label(title, id="dialog-title")
            with VerticalScroll(id="connect-form"):
                for name, label, hint in (("email", "Address", "name@company.com"), *SIGN_IN_FIELDS[self.provider]):
                    yield self._field(name, label, hint)
                yield Label(Text("Servers — leave empty for the provider's own", style="bold"), classes="connect-sep")
                for name, label, hint in SERVER_FIELDS:
                    yield self._field(name, label, hint)
            with VerticalScroll(id="connect-flow"):
                yield Static(id="connect-steps")
                yield Input(placeholder="paste the whole address the browser ended on, then enter", id="connect-paste")
                yield Static(id="connect-qr")
            yield Static(id="connect-status")
            yield Label(id="connect-hint")

    @staticmethod
    def _field(name: str, label: str, hint: str) -> Horizontal:
        return Horizontal(Label(f"{label:<18}"), Input(placeholder=hint, id=f"connect-{name}"), classes="connect-field")

    def on_mount(self) -> None:
        self._show_form()

    def _show_form(self, error: str = "") -> None:
        self.phase = "form"
        self.query_one("#connect-form").display = True
        self.query_one("#connect-flow").display = False
        self.query_one("#connect-status", Static).update(Text(error, style="bold red") if error else "")
        self._hint("enter: sign in    tab: next field    esc: cancel")
        self.query_one("#connect-email", Input).focus()

    def _hint(self, text: str) -> None:
        self.query_one("#connect-hint", Label).update(Text(text, style="dim"))

    def _status(self, text: Text | str) -> None:
        self.query_one("#connect-status", Static).update(text)

    # ------------------------------------------------------------ the form
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "connect-paste":
            if event.value.strip():
                self._pasted.put(event.value.strip())  # kept in the field: a wrong one can be mended
                self._status(Text("Checking the pasted address…", style="bold"))
            return
        if self.phase == "form":
            self._submit()

    def _value(self, name: str) -> str:
        return self.query_one(f"#connect-{name}", Input).value.strip()

    def _submit(self) -> None:
        if self.connect_inbox is None:
            self._show_form("Connecting an inbox needs the app as `enginy tui` opens it; or use "
                            "`enginy inbox connect --provider " + self.provider + "`")
            return
        if "@" not in self._value("email"):
            self._show_form("Address: give the inbox's email address")
            return
        try:
            imap_host, imap_port = host_port(self._value("imap"), "IMAP host:port")
            smtp_host, smtp_port = host_port(self._value("smtp"), "SMTP host:port")
        except ValueError as exc:
            self._show_form(str(exc))
            return
        fields = {name: self._value(name) for name, _, _ in SIGN_IN_FIELDS[self.provider]}
        fields.update(imap_host=imap_host, imap_port=imap_port, smtp_host=smtp_host, smtp_port=smtp_port,
                      tls=self._value("tls"), ca_file=self._value("ca_file"))
        email = self._value("email")
        self.phase = "signing-in"
        self._stop.clear()  # an earlier try's worker has ended: it failed, which is how the form came back
        self._pasted = queue.Queue()  # nothing pasted for an earlier try counts
        self.query_one("#connect-form").display = False
        flow = self.query_one("#connect-flow")
        flow.display = True
        self.query_one("#connect-steps", Static).update(Text("Asking the provider for a sign-in…", style="bold"))
        self.query_one("#connect-qr").display = False
        self.query_one("#connect-paste").display = False
        self._status("")
        self._hint("esc: cancel")
        flow.focus()
        self.worker = self.run_worker(lambda: self._sign_in(email, fields), thread=True, exclusive=True,
                                      group="inbox-sign-in")

    # ------------------------------------------------------------ the sign-in (a worker thread)
    def _sign_in(self, email: str, fields: dict[str, Any]) -> None:
        try:
            connection = self.connect_inbox(self.workspace, self.identity["id"], email, self.provider, **fields)
            token = self._device(connection) if self.provider == "microsoft" else self._browser(connection)
            self.app.call_from_thread(self._status, Text("Signed in; checking IMAP and SMTP…", style="bold"))
            inbox_id, _kept_in = connection.keep(token)
        except Stopped:
            return
        except Exception as exc:  # the connection's refusals are one line in the spec's words, never a token
            if not self._stop.is_set():
                self.app.call_from_thread(self._failed, str(exc) or type(exc).__name__)
            return
        if not self._stop.is_set():
            self.app.call_from_thread(self.dismiss, inbox_id)

    def _wait(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise Stopped

    def _device(self, connection) -> dict:
        code = connection.device_code()
        self.app.call_from_thread(self._show_code, code)
        polls = [0, code.interval]

        def sleep(seconds: float) -> None:
            self._wait(seconds)
            polls[0] += 1
            self.app.call_from_thread(self._polling, polls[0], polls[1])

        def slowed(interval: int) -> None:
            polls[1] = interval

        self.app.call_from_thread(self._polling, 0, code.interval)
        return connection.wait_for_approval(code, sleep=sleep, on_wait=slowed)

    def _browser(self, connection) -> dict:
        with connection.browser_sign_in() as sign_in:
            self.app.call_from_thread(self._show_url, sign_in.url)
            while True:
                address = self._next_address(sign_in)
                try:
                    return sign_in.finish(address)
                except Exception as exc:  # a wrong paste: say why, keep waiting for the right one
                    if self._stop.is_set():
                        raise Stopped from None
                    self.app.call_from_thread(self._status, Text(str(exc), style="bold red"))

    def _next_address(self, sign_in) -> str:
        """The loopback redirect or a pasted address, whichever comes first."""
        while True:
            if self._stop.is_set():
                raise Stopped
            try:
                return self._pasted.get_nowait()
            except queue.Empty:
                pass
            caught = sign_in.redirected(0.2)
            if caught is not None:
                return caught

    # ------------------------------------------------------------ what the user sees
    def _show_code(self, code) -> None:
        steps = Text()
        steps.append("1. Open this address in any browser (phone or computer):\n   ")
        steps.append_text(literal(code.verification_uri, "bold underline"))
        steps.append("\n2. Enter the code:  ")
        steps.append_text(literal(code.user_code, "bold reverse"))
        steps.append(f"\n3. Sign in with the inbox's Microsoft 365 account.\n"
                     f"The code works for {max(1, code.expires_in // 60)} minutes.", style="")
        self.query_one("#connect-steps", Static).update(steps)
        self.address = code.verification_uri
        self._hint("ctrl+y: copy the address    esc: cancel")
        lines = qr_lines(code.verification_uri_complete or code.verification_uri)
        fits = len(lines) + QR_MARGIN <= self.app.size.height and len(lines[0]) + 8 <= self.app.size.width
        qr = self.query_one("#connect-qr", Static)
        qr.update(Text("\n".join(lines) + "\nor scan this with a phone") if fits else "")
        qr.display = fits

    def _polling(self, polls: int, interval: int) -> None:
        if self.phase != "signing-in":
            return
        checked = "not yet checked" if not polls else f"checked {polls} time{'' if polls == 1 else 's'}"
        self._status(Text(f"Waiting for the sign-in… {checked}, every {interval} s", style="bold"))

    def _show_url(self, url: str) -> None:
        steps = Text("Open this address in a browser and sign in with the inbox's Google account:\n\n")
        steps.append_text(literal(url, "bold"))
        steps.append("\n\nIf the browser is on another machine (SSH), it ends on a page that cannot be reached: "
                     "copy that page's whole address from the address bar and paste it here.")
        self.query_one("#connect-steps", Static).update(steps)
        self.address = url
        paste = self.query_one("#connect-paste", Input)
        paste.display = True
        paste.focus()
        self._status(Text("Waiting for the browser's redirect or a pasted address…", style="bold"))
        self._hint("enter: use the pasted address    ctrl+y: copy the address    esc: cancel")

    def _failed(self, message: str) -> None:
        self.phase = "failed"
        self.query_one("#connect-paste").display = False
        self.query_one("#connect-qr").display = False
        self._status(Text(message, style="bold red"))
        self._hint("enter: start again    esc: close")
        self.query_one("#connect-flow").focus()

    # ------------------------------------------------------------ keys
    def action_enter(self) -> None:
        """Enter where no field takes it (focus left the form's fields, or the refusal is shown)."""
        if self.phase == "failed":
            self._show_form()
        elif self.phase == "form":
            self._submit()

    def action_copy(self) -> None:
        if self.phase == "signing-in" and self.address:
            self.app.copy_to_clipboard(self.address)
            self.notify("Sign-in address copied to the clipboard")

    def action_cancel(self) -> None:
        self._stop.set()
        self.dismiss(None)

    def on_unmount(self) -> None:
        """Leaving the app mid-sign-in: the worker thread ends at its next wait instead of polling on."""
        self._stop.set()
