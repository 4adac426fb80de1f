"""HTTP transport of the LinkedIn gateway driver: one request, its retries, its errors.

Why sync httpx in a worker thread (and not httpx.AsyncClient)
-------------------------------------------------------------
Tests and `enginy simulate` run on `trio.testing.MockClock(autojump_threshold=0)`,
which jumps simulated time forward whenever every task is blocked — including
while a task waits on a real socket. httpx.AsyncClient's timeouts under Trio
are Trio timers, so on an autojump clock a 30 s read timeout fires *at once*
while a loopback answer is still on its way. Here each request runs in
`trio.to_thread.run_sync` on a sync `httpx.Client`, whose timeouts are OS
socket timeouts in real seconds: a request times out after real seconds
whatever the Trio clock does. Backoff waits between retries, on the other
hand, are `sleep` calls on the Trio clock (simulated in tests, real in a real
run), so a test of "5xx flap, then success" takes no wall time. The price: a
simulated clock may advance while a request is in flight (the network looked
slow), which is harmless, and one thread per concurrent request (LinkedIn
actions are a few per minute per identity).

Sends are not blindly retried: a failure that may have happened after the
gateway applied the request (read timeout, dropped connection, 5xx on a POST)
raises `MaybeApplied`, and the driver looks the action up before sending again.

The API key lives only in the client's default headers: never in a log line,
an exception message or a repr.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping

import httpx
import trio

from runtime.channels.linkedin.protocol import GatewayUnavailable, LinkedInError, RateLimited
from runtime.channels.linkedin.errors import error_from_response

log = logging.getLogger("enginy.linkedin.gateway")


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts (real seconds, socket level) and retry budget (Trio-clock seconds)."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    write_timeout: float = 60.0
    attempts: int = 4
    backoff_base: float = 2.0
    backoff_max: float = 120.0
    chunk_pause: float = 2.0
    """Pause between the chunks of one message, so they arrive like typing."""
    page_limit: int = 100

    def backoff(self, attempt: int, hint: float | None = None) -> float:
        """Wait before retry number `attempt` (1-based): exponential, capped;
        a server's Retry-After hint wins when longer."""
        wait = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        if hint is not None:
            wait = max(wait, min(hint, self.backoff_max))
        return wait


class MaybeApplied(Exception):
    """The request left and no trustworthy answer came back (timeout after
    sending, dropped connection, 5xx on a non-idempotent call): the gateway may
    have applied it. Internal to the gateway driver, which looks up and retries."""

    def __init__(self, message: str, cause: LinkedInError | None = None) -> None:
        super().__init__(message)
        self.cause = cause


def normalize_base_url(url: str) -> str:
    """Accept `https://host:port` or `https://host:port/api/v1` (trailing slash or not)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the gateway URL must start with http:// or https:// (got {url!r})")
    if not url.endswith("/api/v1"):
        url += "/api/v1"
    return url


class GatewayHttp:
    """A Unipile-style REST endpoint: JSON in/out, X-API-KEY header, mapped errors."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: HttpPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = trio.sleep,
        now: Callable[[], datetime] | None = None,
        max_threads: int = 4,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.base_url = normalize_base_url(base_url)
        self.policy = policy or HttpPolicy()
        self._sleep = sleep
        self._now = now
        self._limiter = trio.CapacityLimiter(max_threads)
        p = self.policy
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"X-API-KEY": api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(connect=p.connect_timeout, read=p.read_timeout,
                                  write=p.write_timeout, pool=p.connect_timeout),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never show the key
        return f"GatewayHttp({self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    # -- one exchange -----------------------------------------------------

    def _exchange(self, method: str, path: str, params, json, files) -> httpx.Response:
        return self._client.request(method, path, params=params, json=json, files=files)

    async def _once(self, method: str, path: str, *, params=None, json=None, files=None,
                    action: str) -> Any:
        """One request. Returns decoded JSON (or None). Raises a LinkedInError,
        or `MaybeApplied` when the request may have reached the gateway."""
        try:
            response = await trio.to_thread.run_sync(
                self._exchange, method, path, params, json, files,
                abandon_on_cancel=True, limiter=self._limiter,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing left our side: safe to retry as is.
            raise GatewayUnavailable(
                f"cannot reach the LinkedIn gateway at {self.base_url} ({type(exc).__name__})",
                code="unreachable",
            ) from None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise MaybeApplied(
                f"no answer from the LinkedIn gateway for {method} {path} ({type(exc).__name__})"
            ) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = None
        if response.is_success:
            return body
        now = self._now() if self._now else None
        raise error_from_response(response.status_code, body, response.headers, action=action, now=now)

    # -- with retries -----------------------------------------------------

    async def call(self, method: str, path: str, *, params: Mapping | None = None,
                   json: Any = None, files: Any = None, action: str, idempotent: bool) -> Any:
        """A request with retries on 5xx/network failures (backoff on the Trio clock).

        `idempotent=True` (reads, deletes): a lost answer is simply retried.
        `idempotent=False` (sends): a 5xx or lost answer raises `MaybeApplied`
        at once so the caller can look up before trying again; only failures
        that provably happened before the request left are retried here.
        429 is never retried here: RateLimited goes up so the job stays queued.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(method, path, params=params, json=json, files=files,
                                        action=action)
            except RateLimited:
                raise
            except MaybeApplied:
                if not idempotent or attempt >= self.policy.attempts:
                    if idempotent:
                        raise GatewayUnavailable(
                            f"the LinkedIn gateway did not answer {method} {path} "
                            f"after {attempt} attempts", code="timeout",
                        ) from None
                    raise
                wait = self.policy.backoff(attempt)
            except GatewayUnavailable as exc:
                if exc.status is not None and exc.status >= 500 and not idempotent:
                    raise MaybeApplied(str(exc), cause=exc) from None
                if attempt >= self.policy.attempts:
                    raise
                wait = self.policy.backoff(attempt, exc.retry_after)
            log.info("LinkedIn gateway %s %s: retry %d in %.0fs", method, path, attempt, wait)
            await self._sleep(wait)
