"""The two sign-in flows a terminal can run, each the one its provider allows for mail.

* Microsoft 365: the device authorization grant (RFC 8628). `start_device`
  asks for a user code; the user opens the verification URL anywhere (phone,
  laptop) and enters it; `poll_device` polls the token endpoint at the
  server's interval: `authorization_pending` keeps polling, `slow_down` adds
  5 s to the interval, `access_denied` and `expired_token` stop with the
  spec's troubleshooting words.
* Google: its device flow does not grant the mail scope, so the desktop-app
  flow: authorization code with PKCE (RFC 7636) and a loopback redirect
  (RFC 8252). Over SSH the browser is on another machine and cannot reach
  the loopback listener: the user pastes back the address the browser was
  redirected to (the page shows "cannot connect", the address bar has the
  code), as rclone and gcloud do. `LoopbackReceiver` takes whichever comes first.

Both end with the provider's token response, which `oauth.Grant.of_token` keeps.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from runtime.channels.email.oauth import DEVICE_GRANT, OAuthError, Provider, describe, oauth_client

SLOW_DOWN_STEP = 5  # seconds, RFC 8628 §3.5


@dataclass(frozen=True)
class DeviceCode:
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int
    device_code: str = field(repr=False)


def start_device(provider: Provider) -> DeviceCode:
    """Ask the device-authorization endpoint for a user code."""
    if not provider.device_url:
        raise OAuthError(f"{provider.name} does not offer the device flow for mail")
    with oauth_client(provider.client_id) as client:
        try:
            resp = client.request("POST", provider.device_url, data={"client_id": provider.client_id, "scope": provider.scope},
                               withhold_token=True)
        except Exception as exc:
            raise OAuthError(f"cannot reach {provider.device_url} ({type(exc).__name__})") from None
    body = _json(resp)
    if "error" in body:
        raise OAuthError(describe(str(body["error"]), body.get("error_description")))
    try:
        return DeviceCode(str(body["user_code"]), str(body.get("verification_uri") or body["verification_url"]),
                          body.get("verification_uri_complete"), int(body.get("expires_in", 900)),
                          max(1, int(body.get("interval", 5))), str(body["device_code"]))
    except (KeyError, TypeError, ValueError):
        raise OAuthError("the device-authorization endpoint answered without a user code") from None


def poll_device(provider: Provider, code: DeviceCode, *, sleep: Callable[[float], None],
                on_wait: Callable[[int], None] = lambda interval: None) -> dict:
    """Poll until the user approved (the token response), declined or let the code expire (OAuthError).

    `sleep` waits between polls; `on_wait(interval)` is told each new interval (after a slow_down).
    Gives up after `expires_in` seconds of waiting even if the server never says expired_token."""
    from authlib.integrations.base_client import OAuthError as AuthlibError

    interval, waited = code.interval, 0
    with oauth_client(provider.client_id, scope=provider.scope) as client:
        while waited < code.expires_in:
            sleep(interval)
            waited += interval
            try:
                return dict(client.fetch_token(provider.token_url, grant_type=DEVICE_GRANT,
                                               device_code=code.device_code, client_id=provider.client_id))
            except AuthlibError as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    interval += SLOW_DOWN_STEP
                    on_wait(interval)
                    continue
                raise OAuthError(describe(exc.error, exc.description)) from None
            except Exception as exc:
                raise OAuthError(f"cannot reach the token endpoint ({type(exc).__name__})") from None
    raise OAuthError(describe("expired_token"))


# ---------------------------------------------------------------- authorization code + PKCE
@dataclass(frozen=True)
class CodeRequest:
    """One authorization request: where to send the user, and what proves the answer is ours."""

    url: str
    redirect_uri: str
    state: str = field(repr=False)
    verifier: str = field(repr=False)


def start_code(provider: Provider, redirect_uri: str) -> CodeRequest:
    from authlib.common.security import generate_token

    if not provider.authorize_url:
        raise OAuthError(f"{provider.name} has no authorization endpoint configured")
    verifier = generate_token(64)
    with oauth_client(provider.client_id, provider.client_secret, scope=provider.scope, redirect_uri=redirect_uri,
                      code_challenge_method="S256") as client:
        # access_type=offline + prompt=consent: Google returns a refresh token only when asked so.
        url, state = client.create_authorization_url(provider.authorize_url, code_verifier=verifier,
                                                     access_type="offline", prompt="consent")
    return CodeRequest(url, redirect_uri, state, verifier)


def finish_code(provider: Provider, request: CodeRequest, redirected_to: str) -> dict:
    """Exchange the code in the address the browser was redirected to (pasted or caught on loopback)."""
    from authlib.integrations.base_client import OAuthError as AuthlibError

    query = parse_qs(urlsplit(redirected_to.strip()).query)
    if "error" in query:
        raise OAuthError(describe(query["error"][0], (query.get("error_description") or [None])[0]))
    if (query.get("state") or [""])[0] != request.state:
        raise OAuthError("that address is not the answer to this sign-in (its state does not match); paste the "
                         "whole address the browser was redirected to after approving, from this run")
    if not query.get("code"):
        raise OAuthError("that address holds no authorization code; paste the whole address from the browser's "
                         "address bar after approving")
    with oauth_client(provider.client_id, provider.client_secret, scope=provider.scope,
                      redirect_uri=request.redirect_uri, code_challenge_method="S256") as client:
        try:
            return dict(client.fetch_token(provider.token_url, grant_type="authorization_code",
                                           code=query["code"][0], code_verifier=request.verifier,
                                           redirect_uri=request.redirect_uri))
        except AuthlibError as exc:
            raise OAuthError(describe(exc.error, exc.description)) from None
        except Exception as exc:
            raise OAuthError(f"cannot reach the token endpoint ({type(exc).__name__})") from None


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 that catches the browser's redirect (RFC 8252 §7.3)."""

    PAGE = (b"<!doctype html><html lang=en><meta charset=utf-8><title>enginy</title>"
            b"<p>Sign-in received. You can close this tab and return to the terminal.</p></html>")

    def __init__(self) -> None:
        receiver = self
        self.got: str | None = None
        self.arrived = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if "code=" in self.path or "error=" in self.path:
                    receiver.got = f"http://127.0.0.1:{receiver.port}{self.path}"
                    receiver.arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(LoopbackReceiver.PAGE)))
                self.end_headers()
                self.wfile.write(LoopbackReceiver.PAGE)

            def log_message(self, *args) -> None:  # the request line holds the code: never log it
                pass

        self._server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> "LoopbackReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def _json(resp) -> dict:
    try:
        body = resp.json()
    except ValueError:
        raise OAuthError(f"the provider answered {resp.status_code} without JSON") from None
    if not isinstance(body, dict):
        raise OAuthError("the provider answered with something other than a JSON object")
    return body
