"""`enginy tracking serve`: the small HTTP endpoint for opens, clicks and one-click unsubscribes.

Put it behind your public HTTPS address and set `[tracking] base_url` in
enginy.toml to that address; only then are links rewritten and the pixel
added (for campaigns that enable tracking). Routes:
  GET  /o/TOKEN.gif     open pixel
  GET  /c/TOKEN/N       click → 302 to the N-th link of that email
  GET  /u/TOKEN         unsubscribe page (a button: mail scanners prefetch GETs)
  POST /u/TOKEN         one-click unsubscribe (RFC 8058) or the page's button
  GET|POST /s/ID/SECRET an identity's share link (`enginy identity share`, cli/share_page.py)
"""

from __future__ import annotations

import re
import sys

import typer

from sequences.limits import PORT_MAX
from cli.output import UserError
from cli.workspace import open_ws

app = typer.Typer(help="Open/click tracking and one-click unsubscribe endpoint.", no_args_is_help=True,
                  rich_markup_mode=None)

_ROUTE = re.compile(r"^/(?:(o)/([A-Za-z0-9_-]{8,64})\.gif|(c)/([A-Za-z0-9_-]{8,64})/(\d{1,4})|(u)/([A-Za-z0-9_-]{8,64}))$")
_PAGE = """<!DOCTYPE html><html><body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>{title}</h1><p>{text}</p>{form}</body></html>"""


def make_handler(db_path: str, workspace=None):
    """The request handler; with `workspace` (its config and secret store) it also serves share links."""
    from http.server import BaseHTTPRequestHandler

    from runtime.channels.email.tracking import PIXEL
    from runtime.inbound import record_tracking_event as record_event
    from runtime.clock import wall_now
    from storage.db import connect

    class Handler(BaseHTTPRequestHandler):
        server_version = "enginy-tracking"

        def log_message(self, fmt, *args):  # tokens are not secrets, but keep the console quiet
            return

        def _db(self):
            return connect(db_path)

        def _send(self, code: int, body: bytes, ctype: str = "text/html; charset=utf-8", extra=None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _share(self, body: bytes | None) -> None:
            from cli import share_page

            db = self._db()
            try:
                path = self.path.split("?", 1)[0]
                code, page, headers = (share_page.show(db, path) if body is None
                                       else share_page.submit(workspace, db, path, body))
            finally:
                db.conn.close()
            self._send(code, page, extra=headers)

        def do_GET(self) -> None:
            if workspace is not None and self.path.startswith("/s/"):
                return self._share(None)
            m = _ROUTE.match(self.path.split("?", 1)[0])
            if not m:
                return self._send(404, b"not found", "text/plain")
            db = self._db()
            try:
                if m.group(1):
                    record_event(db, m.group(2), "open", wall_now())
                    return self._send(200, PIXEL, "image/gif")
                if m.group(3):
                    known, url = record_event(db, m.group(4), "click", wall_now(), int(m.group(5)))
                    if not known or not url:
                        return self._send(404, b"unknown link", "text/plain")
                    return self._send(302, b"", "text/plain", {"Location": url})
                form = (f'<form method="post" action="/u/{m.group(7)}"><button name="List-Unsubscribe" '
                        'value="One-Click">Unsubscribe</button></form>')
                return self._send(200, _PAGE.format(title="Unsubscribe", text="Stop receiving these emails?",
                                                    form=form).encode())
            finally:
                db.conn.close()

        def do_POST(self) -> None:
            if workspace is not None and self.path.startswith("/s/"):
                return self._share(self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 16_384)))
            m = _ROUTE.match(self.path.split("?", 1)[0])
            if not m or not m.group(6):
                return self._send(404, b"not found", "text/plain")
            length = min(int(self.headers.get("Content-Length") or 0), 4096)
            self.rfile.read(length)
            db = self._db()
            try:
                known, _ = record_event(db, m.group(7), "unsubscribe", wall_now())
            finally:
                db.conn.close()
            if not known:
                return self._send(404, b"unknown link", "text/plain")
            return self._send(200, _PAGE.format(title="Unsubscribed", text="You will not receive further emails.",
                                                form="").encode())

    return Handler


@app.command("serve")
def serve(ctx: typer.Context,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (put a TLS proxy in front)."),
          port: int = typer.Option(8025, "--port", min=1, max=PORT_MAX)) -> None:
    """Serve the tracking endpoint and the identities' share links for this workspace until interrupted."""
    from http.server import ThreadingHTTPServer

    ws = open_ws(ctx)
    ws.open_db().conn.close()  # migrations applied before serving
    try:
        server = ThreadingHTTPServer((host, port), make_handler(str(ws.db_path), ws))
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sys.stderr.write(f"enginy tracking: serving http://{host}:{server.server_address[1]} "
                     f"(public base_url: {ws.config.tracking.base_url or 'not set'})\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
