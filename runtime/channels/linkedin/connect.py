"""Connecting an identity to a LinkedIn gateway account, and explaining failures.

Two ways, as the spec's "Add a New Identity" offers them through a gateway:
- an account the gateway already holds (`check_account`): the connection is
  proven at once by reading the account's own profile (GET /users/me);
- credentials (`start_login`, then `solve_checkpoint` when LinkedIn asks for a
  two-step code): POST /accounts {provider: LINKEDIN, username, password} →
  201 AccountCreated, or 202 Checkpoint {type: 2FA | OTP | …} →
  POST /accounts/checkpoint {account_id, code}.
Failures become `ConnectError` with a sentence a user can act on; neither the
API key nor the password ever appears in one.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from runtime.channels.linkedin.protocol import (
    AccountDisconnected,
    AccountInfo,
    AccountRestricted,
    GatewayUnavailable,
    LinkedInError,
    RateLimited,
)
from runtime.channels.linkedin.gateway import GatewayDriver
from runtime.channels.linkedin.http import GatewayHttp, HttpPolicy, MaybeApplied


CONNECT_POLICY = HttpPolicy(attempts=2, backoff_base=1.0)
"""Someone is waiting at the terminal: fail fast and explain rather than retry for long."""


class ConnectError(Exception):
    """A connection attempt failed for a reason the user can fix; the message says which."""


@dataclass(frozen=True)
class LoginStep:
    account_id: str
    checkpoint: str | None = None  # "2FA", "OTP", "IN_APP_VALIDATION" … when a code is needed

    @property
    def connected(self) -> bool:
        return self.checkpoint is None


def _explain(exc: Exception, url: str, account_id: str | None = None) -> ConnectError:
    if isinstance(exc, AccountDisconnected):
        if exc.code in ("missing_credentials", "invalid_api_key", "unauthorized"):
            return ConnectError(f"the gateway at {url} rejected the API key; check the key you piped in")
        return ConnectError(
            f"the gateway says the LinkedIn account {account_id or ''} is disconnected ({exc.code}); "
            "reconnect it at the gateway (or use --username to log in again)")
    if isinstance(exc, AccountRestricted):
        return ConnectError("LinkedIn restricted this account; sort it out on linkedin.com first")
    if isinstance(exc, RateLimited):
        return ConnectError(f"the gateway is rate limiting; try again in {exc.retry_after:.0f} s")
    if isinstance(exc, GatewayUnavailable):
        return ConnectError(f"cannot use the gateway at {url}: {exc.message}")
    if isinstance(exc, MaybeApplied):
        return ConnectError(f"the gateway at {url} did not answer in time; check its dashboard, then retry")
    if isinstance(exc, LinkedInError):
        if exc.status == 404:
            return ConnectError(f"the gateway at {url} has no account {account_id!r}")
        return ConnectError(f"the gateway refused: {exc.message}")
    return ConnectError(str(exc))


async def check_account(url: str, api_key: str, account_id: str, *, policy: HttpPolicy | None = None,
                        transport: httpx.BaseTransport | None = None) -> AccountInfo:
    """Read the account's own profile; any failure is explained."""
    try:
        driver = GatewayDriver(url, api_key, account_id, policy=policy or CONNECT_POLICY, transport=transport)
    except ValueError as exc:
        raise ConnectError(str(exc)) from None
    try:
        return await driver.account()
    except (LinkedInError, MaybeApplied) as exc:
        raise _explain(exc, driver.http.base_url, account_id) from None
    finally:
        await driver.aclose()


def _step(body) -> LoginStep:
    if not isinstance(body, dict) or not body.get("account_id"):
        raise ConnectError("the gateway answered the login without an account id")
    checkpoint = body.get("checkpoint") if body.get("object") == "Checkpoint" else None
    kind = (checkpoint or {}).get("type") if isinstance(checkpoint, dict) else None
    return LoginStep(str(body["account_id"]), (kind or "2FA") if body.get("object") == "Checkpoint" else None)


async def _post(url: str, api_key: str, path: str, payload: dict, *, policy, transport) -> LoginStep:
    try:
        http = GatewayHttp(url, api_key, policy=policy or CONNECT_POLICY, transport=transport)
    except ValueError as exc:
        raise ConnectError(str(exc)) from None
    try:
        body = await http.call("POST", path, json=payload, action="the login", idempotent=False)
    except (LinkedInError, MaybeApplied) as exc:
        if isinstance(exc, AccountDisconnected) and exc.code == "invalid_credentials":
            raise ConnectError("LinkedIn rejected the username or password (social logins such as "
                               "Google/Apple need a direct LinkedIn password first)") from None
        if isinstance(exc, LinkedInError) and exc.code == "invalid_checkpoint_solution":
            raise ConnectError("the two-step code was not accepted; run the command again for a new code") from None
        raise _explain(exc, http.base_url) from None
    finally:
        http.close()
    return _step(body)


async def start_login(url: str, api_key: str, username: str, password: str, *,
                      policy: HttpPolicy | None = None, transport: httpx.BaseTransport | None = None) -> LoginStep:
    if not username or not password:
        raise ConnectError("a LinkedIn username and password are both needed")
    return await _post(url, api_key, "/accounts",
                       {"provider": "LINKEDIN", "username": username, "password": password},
                       policy=policy, transport=transport)


async def solve_checkpoint(url: str, api_key: str, account_id: str, code: str, *,
                           policy: HttpPolicy | None = None,
                           transport: httpx.BaseTransport | None = None) -> LoginStep:
    if not code.strip():
        raise ConnectError("the two-step code is empty")
    return await _post(url, api_key, "/accounts/checkpoint",
                       {"provider": "LINKEDIN", "account_id": account_id, "code": code.strip()},
                       policy=policy, transport=transport)
