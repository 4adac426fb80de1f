"""An OAuth 2.0 authorization server of our own, for tests: real HTTP on 127.0.0.1.

It speaks what enginy's sign-in flows and mail logins meet at Microsoft and Google:
- `POST /devicecode` and the device grant at `POST /token` (RFC 8628), with
  `authorization_pending` until the test approves the user code, a scripted
  number of `slow_down` answers, `access_denied` and `expired_token`;
- `GET /authorize` (authorization code + PKCE S256, RFC 7636): the "browser"
  visiting it is answered at once with a 302 to the redirect URI, as if the
  user signed in as `sign_in_as` (or declined, with `decline_next`);
- refresh tokens at `POST /token`, refused with `invalid_grant` once revoked;
- `POST /introspect` (RFC 7662, form `token=…`): what Dovecot's oauth2 passdb
  asks (`introspection_mode = post`), answering `{"active", "username"}`.

Test control is by method calls (the server runs in the test's process, in a
thread): `approve`, `deny`, `expire_access_tokens` (the server forgets they
were valid: a token "expires" while enginy still holds it), `revoke`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "enginy-test-client"


@dataclass
class DeviceRequest:
    user_code: str
    scope: str
    state: str = "pending"  # pending | approved | denied | expired
    username: str = ""


@dataclass
class AuthServer:
    interval: int = 1
    expires_in: int = 3600
    slow_downs: int = 0  # answer slow_down this many times before anything else
    sign_in_as: str = ""
    decline_next: bool = False
    devices: dict[str, DeviceRequest] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    access: dict[str, str] = field(default_factory=dict)  # active access token -> username
    refresh: dict[str, str] = field(default_factory=dict)  # valid refresh token -> username
    counts: dict[str, int] = field(default_factory=dict)  # grant type / path -> requests seen
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _n: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ---------------------------------------------------------------- control
    def start(self) -> "AuthServer":
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def approve(self, user_code: str, username: str) -> None:
        with self._lock:
            for d in self.devices.values():
                if d.user_code == user_code:
                    d.state, d.username = "approved", username

    def deny(self, user_code: str) -> None:
        self._set_device(user_code, "denied")

    def expire_code(self, user_code: str) -> None:
        self._set_device(user_code, "expired")

    def _set_device(self, user_code: str, state: str) -> None:
        with self._lock:
            for d in self.devices.values():
                if d.user_code == user_code:
                    d.state = state

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.access.clear()

    def revoke(self, username: str) -> None:
        """The user (or an admin) revoked the grant: its tokens stop working, refreshing fails."""
        with self._lock:
            self.access = {t: u for t, u in self.access.items() if u != username}
            self.refresh = {t: u for t, u in self.refresh.items() if u != username}

    def tokens_seen(self) -> list[str]:
        with self._lock:
            return list(self.access) + list(self.refresh)

    # ---------------------------------------------------------------- endpoints
    def _issue(self, username: str, scope: str) -> dict:
        access, refresh = f"at-{secrets.token_urlsafe(18)}", f"rt-{secrets.token_urlsafe(18)}"
        self.access[access] = username
        self.refresh[refresh] = username
        return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                "expires_in": self.expires_in, "scope": scope}

    def device_code(self, form: dict) -> tuple[int, dict]:
        if form.get("client_id") != CLIENT_ID:
            return 400, {"error": "invalid_client"}
        device, user_code = f"dc-{secrets.token_urlsafe(12)}", f"CODE-{next(self._n):04d}"
        with self._lock:
            self.devices[device] = DeviceRequest(user_code, form.get("scope", ""))
        return 200, {"device_code": device, "user_code": user_code, "verification_uri": f"{self.base}/device",
                     "verification_uri_complete": f"{self.base}/device?code={user_code}",
                     "expires_in": 900, "interval": self.interval}

    def token(self, form: dict) -> tuple[int, dict]:
        grant = form.get("grant_type", "")
        with self._lock:
            self.counts[grant] = self.counts.get(grant, 0) + 1
            if form.get("client_id") != CLIENT_ID:
                return 401, {"error": "invalid_client"}
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                return self._device_token(form)
            if grant == "authorization_code":
                return self._code_token(form)
            if grant == "refresh_token":
                username = self.refresh.get(form.get("refresh_token", ""))
                if username is None:
                    return 400, {"error": "invalid_grant", "error_description": "AADSTS70008: the refresh token was revoked"}
                return 200, self._issue(username, form.get("scope", ""))
        return 400, {"error": "unsupported_grant_type"}

    def _device_token(self, form: dict) -> tuple[int, dict]:
        d = self.devices.get(form.get("device_code", ""))
        if d is None:
            return 400, {"error": "invalid_grant"}
        if self.slow_downs > 0:
            self.slow_downs -= 1
            return 400, {"error": "slow_down"}
        if d.state == "pending":
            return 400, {"error": "authorization_pending"}
        if d.state == "denied":
            return 400, {"error": "access_denied", "error_description": "AADSTS65001: The user or administrator has not consented"}
        if d.state == "expired":
            return 400, {"error": "expired_token"}
        del self.devices[form["device_code"]]
        return 200, self._issue(d.username, d.scope)

    def _code_token(self, form: dict) -> tuple[int, dict]:
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != issued["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        return 200, self._issue(issued["username"], issued["scope"])

    def authorize(self, query: dict) -> tuple[int, dict, str]:
        """The browser's visit: a redirect back to the app with a code (or an error)."""
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect.startswith("http://127.0.0.1:"):
            return 400, {"error": "invalid_request"}, ""
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {"error": "invalid_request", "error_description": "PKCE required"}, ""
        with self._lock:
            if self.decline_next:
                self.decline_next = False
                answer = {"error": "access_denied", "state": query.get("state", "")}
            else:
                code = f"ac-{secrets.token_urlsafe(12)}"
                self.codes[code] = {"redirect_uri": redirect, "challenge": query["code_challenge"],
                                    "username": self.sign_in_as, "scope": query.get("scope", "")}
                answer = {"code": code, "state": query.get("state", "")}
        return 302, {}, f"{redirect}?{urlencode(answer)}"

    def introspect(self, form: dict) -> tuple[int, dict]:
        with self._lock:
            self.counts["introspect"] = self.counts.get("introspect", 0) + 1
            username = self.access.get(form.get("token", ""))
        return 200, ({"active": True, "username": username} if username else {"active": False})


def _handler(server: AuthServer):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict, location: str = "") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlsplit(self.path).path.rsplit("/", 1)[-1]  # any prefix: /{tenant}/oauth2/v2.0/token too
            route = {"devicecode": server.device_code, "token": server.token, "introspect": server.introspect}
            if path not in route:
                return self._answer(404, {"error": "not_found"})
            self._answer(*route[path](form))

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            if not parts.path.endswith("/authorize"):
                return self._answer(404, {"error": "not_found"})
            self._answer(*server.authorize({k: v[0] for k, v in parse_qs(parts.query).items()}))

        def log_message(self, *args) -> None:
            pass

    return Handler
