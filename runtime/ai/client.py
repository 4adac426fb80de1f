"""A client for any OpenAI-compatible chat-completions endpoint (hosted APIs, Ollama, vLLM,
llama.cpp's server, LiteLLM …) over httpx.

One request is `POST {base_url}/chat/completions` with the model, the messages,
`temperature` and `max_tokens`; the answer is the first choice's message
content. The endpoint is whatever `[ai] base_url` names (with or without the
`/v1` most servers put their API under: the URL is used as given).

Retries: a 429, a 5xx, a timeout or a dropped connection is tried again up to
`max_retries` times, waiting 1, 2, 4 … s (capped at 30 s; a server's
Retry-After wins when longer). Everything else — a refused key, an unknown
model, a request the server calls invalid — fails at once with an `AIError`
whose `reason` says which, in words a user can act on. The sleep between
attempts is the caller's (`time.sleep` by default): a runtime caller on a Trio
clock runs `complete` in a worker thread with a sleep of its own, as the
LinkedIn gateway's transport does (runtime/channels/linkedin/http.py).

Streaming (`on_text`): the request asks for server-sent events and `on_text` is
handed the answer so far as it grows (what a user waiting for a suggestion watches
fill in); the Completion at the end is the same as without. A stream cut off
midway is retried whole, like a dropped connection. The answer's text is data from outside:
control characters are taken out (newlines and tabs kept) before anyone sends or shows it.

The API key is only in the request's Authorization header: never in an error
message (a server's message is shown with the key cut out; a 401's never),
a log line or a repr.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import httpx
import msgspec

from storage.contact_fields import clean_line, clean_text

BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0
MESSAGE_MAX = 300  # characters of a server's error message kept in ours


class Reason:
    """Why a completion failed (`AIError.reason`), one word a script can test."""

    NOT_CONFIGURED = "not_configured"
    AUTH = "auth"  # the key is missing, wrong or not allowed
    MODEL = "model"  # the endpoint does not serve that model
    UNREACHABLE = "unreachable"  # no connection (wrong URL, server down)
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"  # still 429 after the retries
    SERVER = "server"  # still 5xx after the retries
    REFUSED = "refused"  # the server called the request invalid (400, 422 …)
    BAD_ANSWER = "bad_answer"  # an answer that is not a chat completion, or an empty one


#: Reasons worth trying again later (the lead's "AI error, retry"): the others need the user first.
RETRYABLE = frozenset({Reason.UNREACHABLE, Reason.TIMEOUT, Reason.RATE_LIMITED, Reason.SERVER, Reason.BAD_ANSWER})


class AIError(Exception):
    """A completion that did not come; `reason` (a `Reason`) and a one-line message without the key."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def retryable(self) -> bool:
        return self.reason in RETRYABLE


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    finish_reason: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _ChoiceMessage(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    message: _ChoiceMessage
    finish_reason: str | None = None


class _Delta(msgspec.Struct):
    content: str | None = None


class _ChunkChoice(msgspec.Struct):
    delta: _Delta
    finish_reason: str | None = None


class _Chunk(msgspec.Struct):
    """The part of a chat.completion.chunk (one server-sent event of a stream) this client reads."""

    choices: list[_ChunkChoice] = []
    model: str = ""
    usage: _Usage | None = None


class _Answer(msgspec.Struct):
    """The part of a chat.completion object this client reads (the rest is ignored)."""

    choices: list[_Choice]
    model: str = ""
    usage: _Usage | None = None


@dataclass(frozen=True)
class Endpoint:
    """Where and how to ask: `[ai]` of enginy.toml plus the key (None: the server wants none)."""

    base_url: str
    model: str
    key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    max_retries: int = 3
    temperature: float = 0.7
    max_output: int = 600

    @property
    def url(self) -> str:
        return self.base_url.strip().rstrip("/") + "/chat/completions"


class _Retry(Exception):
    def __init__(self, error: AIError, hint: float | None) -> None:
        self.error, self.hint = error, hint


def backoff(attempt: int, hint: float | None = None) -> float:
    """Seconds before retry number `attempt` (1-based): exponential, capped; a Retry-After hint wins when longer."""
    wait = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** (attempt - 1)))
    return max(wait, min(hint, BACKOFF_MAX)) if hint is not None else wait


class AIClient:
    """Chat completions from one endpoint over a sync `httpx.Client` (thread-safe)."""

    def __init__(self, endpoint: Endpoint, *, transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = endpoint
        headers = {"Authorization": f"Bearer {endpoint.key}"} if endpoint.key else {}
        self._http = httpx.Client(headers=headers, transport=transport,
                                  timeout=httpx.Timeout(endpoint.timeout, connect=min(10.0, endpoint.timeout)))

    def __repr__(self) -> str:
        return f"AIClient({self.endpoint.base_url!r}, model={self.endpoint.model!r})"

    def close(self) -> None:
        self._http.close()

    def complete(self, messages: list[Message], *, max_output: int | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        """The endpoint's answer to `messages`, retried on 429/5xx/timeouts; AIError otherwise.
        With `on_text`, streamed: it is called with the answer so far as it grows."""
        for attempt in range(1, self.endpoint.max_retries + 2):
            try:
                return self.ask_once(messages, max_output=max_output, on_text=on_text)
            except _Retry as retry:
                if attempt > self.endpoint.max_retries:
                    raise retry.error from None
                sleep(backoff(attempt, retry.hint))
        raise AssertionError("unreachable")

    def ask_once(self, messages: list[Message], *, max_output: int | None = None,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        """One request. AIError when it cannot succeed; `_Retry` (internal) when trying again may help."""
        e = self.endpoint
        body = {"model": e.model, "messages": [{"role": m.role, "content": m.content} for m in messages],
                "temperature": e.temperature, "max_tokens": max_output or e.max_output, "stream": on_text is not None}
        try:
            with self._http.stream("POST", e.url, json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._failure(response)
                if on_text is not None and response.headers.get("content-type", "").startswith("text/event-stream"):
                    return self._streamed(response, on_text)
                response.read()
                return self._completion(response)
        except httpx.TimeoutException:
            raise _Retry(AIError(Reason.TIMEOUT, f"no answer from {e.base_url} within {e.timeout:g} s"), None)
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise _Retry(AIError(Reason.UNREACHABLE, f"cannot reach {e.base_url}: {type(exc).__name__}"), None)

    def _streamed(self, response: httpx.Response, on_text: Callable[[str], None]) -> Completion:
        """Server-sent events (`data: {chunk}` lines, `data: [DONE]` last): the deltas joined."""
        text, model, finish, usage = "", "", None, _Usage()
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue  # blank separators, comments (": keep-alive"), event names
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = msgspec.json.decode(data, type=_Chunk)
            except msgspec.DecodeError:
                raise _Retry(AIError(Reason.BAD_ANSWER, "the endpoint's stream is not chat completion chunks"), None)
            model, usage = chunk.model or model, chunk.usage or usage
            for choice in chunk.choices[:1]:
                finish = choice.finish_reason or finish
                if choice.delta.content:
                    text += choice.delta.content
                    on_text(text)
        if not text.strip():
            raise _Retry(AIError(Reason.BAD_ANSWER, "the endpoint answered with no text"), None)
        return Completion(text=clean_text(text), model=clean_line(model)[:100] or self.endpoint.model, finish_reason=finish,
                          prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)

    def _completion(self, response: httpx.Response) -> Completion:
        try:
            answer = msgspec.json.decode(response.content, type=_Answer)
        except msgspec.DecodeError:
            raise _Retry(AIError(Reason.BAD_ANSWER, "the endpoint's answer is not a chat completion"), None)
        if not answer.choices or not (answer.choices[0].message.content or "").strip():
            raise _Retry(AIError(Reason.BAD_ANSWER, "the endpoint answered with no text"), None)
        usage = answer.usage or _Usage()
        return Completion(text=clean_text(answer.choices[0].message.content), model=clean_line(answer.model)[:100] or self.endpoint.model,
                          finish_reason=answer.choices[0].finish_reason, prompt_tokens=usage.prompt_tokens,
                          completion_tokens=usage.completion_tokens)

    def _failure(self, response: httpx.Response) -> Exception:
        status, said = response.status_code, self._said(response)
        model = self.endpoint.model
        if status in (401, 403):
            hint = "no key is set (`enginy ai key --stdin`)" if not self.endpoint.key else "check the key"
            return AIError(Reason.AUTH, f"the endpoint refused the key (HTTP {status}): {hint}")
        if status == 404 or (status in (400, 422) and "model" in said.lower()):
            return AIError(Reason.MODEL, f"the endpoint does not serve model {model!r} (HTTP {status})"
                           + (f": {said}" if said else ""))
        if status == 429:
            hint = _retry_after(response)
            return _Retry(AIError(Reason.RATE_LIMITED, "the endpoint is rate-limiting (HTTP 429)"
                                  + (f": {said}" if said else "")), hint)
        if status >= 500:
            return _Retry(AIError(Reason.SERVER, f"the endpoint failed (HTTP {status})"
                                  + (f": {said}" if said else "")), _retry_after(response))
        return AIError(Reason.REFUSED, f"the endpoint refused the request (HTTP {status})"
                       + (f": {said}" if said else ""))

    def _said(self, response: httpx.Response) -> str:
        """The server's own error message, without the key, on one line, shortened."""
        try:
            data = response.json()
            error = data.get("error") if isinstance(data, dict) else None
            text = error.get("message", "") if isinstance(error, dict) else (error if isinstance(error, str) else "")
        except ValueError:
            text = ""
        text = str(text)
        if self.endpoint.key:
            text = text.replace(self.endpoint.key, "…")
        return clean_line(text)[:MESSAGE_MAX]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
