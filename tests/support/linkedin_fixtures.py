"""pytest fixtures for LinkedIn tests: the contract gateway process and drivers on it.

Import with `from tests.support.linkedin_fixtures import *` in a test module.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import httpx
import pytest

from runtime.channels.linkedin.gateway import GatewayDriver
from runtime.channels.linkedin.http import HttpPolicy
from tests.support.gateway_server import ContractGateway, start_gateway

EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
API_KEY = "k-secret-0123456789"
ACCOUNT = "acc_1"

# Short real timeouts so "the answer was lost" costs half a second of wall time.
TEST_POLICY = HttpPolicy(connect_timeout=2.0, read_timeout=0.5, write_timeout=2.0, attempts=4,
                         backoff_base=2.0, backoff_max=60.0, chunk_pause=1.0)


def members(n: int = 6) -> list[dict]:
    out = []
    for i in range(1, n + 1):
        out.append({"provider_id": f"ACoM{i}", "public_identifier": f"lead-{i}",
                    "first_name": f"Lead{i}", "last_name": "Test", "headline": "CTO"})
    return out


def world(**account_overrides) -> dict:
    account = {"account_id": ACCOUNT, "api_key": API_KEY, "provider_id": "ACoME",
               "public_identifier": "ida-entity", "premium": True, "inmail_credits": 2,
               **account_overrides}
    return {"now": EPOCH.isoformat(), "accounts": [account], "members": members()}


class NowTransport(httpx.BaseTransport):
    """Sends the test's (simulated) clock to the contract server with each request."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            now = self._now()
        except RuntimeError:  # a Trio clock read from the driver's worker thread
            import trio

            now = trio.from_thread.run_sync(self._now)
        request.headers["X-Contract-Now"] = now.isoformat()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture(scope="module")
def gateway_server():
    gw = start_gateway()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def gateway(gateway_server: ContractGateway) -> ContractGateway:
    gateway_server.reset(**world())
    return gateway_server


def make_driver(gw: ContractGateway, *, now: Callable[[], datetime] = lambda: EPOCH,
                policy: HttpPolicy = TEST_POLICY, api_key: str = API_KEY,
                account_id: str = ACCOUNT) -> GatewayDriver:
    return GatewayDriver(gw.url, api_key, account_id, policy=policy, transport=NowTransport(now), now=now)


__all__ = ["gateway_server", "gateway", "make_driver", "world", "members", "NowTransport",
           "EPOCH", "API_KEY", "ACCOUNT", "TEST_POLICY"]
