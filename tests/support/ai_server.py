"""An OpenAI-compatible chat-completions server of our own, for tests: real HTTP on 127.0.0.1.

It serves what enginy's AI client asks of any provider — `POST /v1/chat/completions`
and `GET /v1/models`, the bodies and error objects of the OpenAI API
(tests/test_ai_client.py checks them against the official `openai` package's
types) — and lets a test script what the provider does:

- `key`: the Bearer key it wants (None: it wants none, as Ollama); a wrong or
  missing one is a 401 `invalid_api_key` whose message quotes the key it was
  given, as real providers do (so tests can prove enginy never shows it).
- `models`: the models it serves; another one is a 404 `model_not_found`.
- `script(*rules)`: what the next completions do, in order, each rule
  once or `times` times: `{"content": text}` answers that text;
  `{"status": 429|500|…, "error": message, "headers": {...}}` fails so;
  `{"delay": s}` waits real seconds, then answers as the next rule (or the default) says;
  `{"drop": True}` closes the connection without an answer; `{"garbage": True}` answers 200 with non-JSON;
  `{"content": text, "hold": threading.Event()}` streamed, waits for the event before the last word.
- A request with `"stream": true` is answered as the API streams: server-sent events, one
  `chat.completion.chunk` a word (the role first, the finish reason last), then `data: [DONE]`.
- Without a rule the answer is `answer(request)`: by default "ok" to the check
  prompt, else a short opener that quotes the prompt's last line, so tests can
  see that the prompt carried the lead's data.

Everything received is kept (`requests`), the Authorization header included.
It runs in a thread of the test process (`start_ai_server()`), stopped by
`stop()`; nothing outlives the test process.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

CREATED = 1_767_225_600  # fixed: answers are reproducible


def default_answer(request: dict) -> str:
    last = (request["json"].get("messages") or [{}])[-1].get("content", "")
    if "single word: ok" in last:
        return "ok"
    return "Saw this: " + last.strip().splitlines()[-1][:200] if last.strip() else "Hello"


class AIServer:
    def __init__(self, *, key: str | None = "sk-test-key-0123456789", models: tuple[str, ...] = ("test-model",),
                 answer: Callable[[dict], str] = default_answer) -> None:
        self.key, self.models, self.answer = key, list(models), answer
        self.lock = threading.Lock()
        self.rules: list[dict] = []
        self.requests: list[dict] = []
        self.ids = itertools.count(1)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def script(self, *rules: dict) -> None:
        with self.lock:
            self.rules = [dict(r) for r in rules]

    def completions(self) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def next_rule(self) -> dict | None:
        with self.lock:
            if not self.rules:
                return None
            rule = self.rules[0]
            rule["times"] = rule.get("times", 1) - 1
            if rule["times"] <= 0:
                self.rules.pop(0)
            return rule

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def error_body(message: str, kind: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def completion_body(server: AIServer, model: str, content: str, prompt: str) -> dict:
    prompt_tokens, completion_tokens = max(1, len(prompt.split())), max(1, len(content.split()))
    return {
        "id": f"chatcmpl-{next(server.ids)}", "object": "chat.completion", "created": CREATED, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "system_fingerprint": None,
    }


def chunk_body(completion_id: str, model: str, delta: dict, finish_reason: str | None) -> dict:
    return {"id": completion_id, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}


def _handler(server: AIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict | bytes, headers: dict | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, str(value))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, model: str, content: str, hold=None) -> None:
            """The answer as server-sent events, a word a chunk; `hold`: wait for it before the last word."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            completion_id = f"chatcmpl-{next(server.ids)}"
            words = content.split(" ")
            deltas = [{"role": "assistant", "content": ""}] + [{"content": (" " if i else "") + w}
                                                               for i, w in enumerate(words)]
            for n, delta in enumerate(deltas):
                if n == len(deltas) - 1 and hold is not None:
                    hold.wait(30)
                event = chunk_body(completion_id, model, delta, None)
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            for event in (json.dumps(chunk_body(completion_id, model, {}, "stop")), "[DONE]"):
                self.wfile.write(f"data: {event}\n\n".encode())
            self.wfile.flush()
            self.close_connection = True

        def _authorized(self) -> bool:
            given = self.headers.get("Authorization", "")
            if server.key is None or given == f"Bearer {server.key}":
                return True
            shown = given.removeprefix("Bearer ").strip()
            self._send(401, error_body(f"Incorrect API key provided: {shown or '(none)'}. You can find your API "
                                       "key at your provider's dashboard.", "invalid_request_error", "invalid_api_key"))
            return False

        def _record(self, payload: dict) -> dict:
            request = {"method": self.command, "path": self.path, "json": payload,
                       "authorization": self.headers.get("Authorization")}
            with server.lock:
                server.requests.append(request)
            return request

        def do_GET(self) -> None:
            self._record({})
            if not self._authorized():
                return
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": m, "object": "model", "created": CREATED,
                                                             "owned_by": "enginy-tests"} for m in server.models]})
            else:
                self._send(404, error_body(f"Unknown path {self.path}", "invalid_request_error", None))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                payload = {}
            request = self._record(payload)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, error_body(f"Unknown path {self.path}", "invalid_request_error", None))
                return
            if not self._authorized():
                return
            model = payload.get("model")
            if model not in server.models:
                self._send(404, error_body(f"The model `{model}` does not exist or you do not have access to it.",
                                           "invalid_request_error", "model_not_found"))
                return
            if not payload.get("messages"):
                self._send(400, error_body("'messages' is a required property", "invalid_request_error", None,
                                           "messages"))
                return
            rule = server.next_rule()
            while rule is not None and "delay" in rule:
                time.sleep(rule["delay"])
                rule = {k: v for k, v in rule.items() if k not in ("delay", "times")} or server.next_rule()
            if rule and rule.get("drop"):
                self.close_connection = True
                self.connection.close()
                return
            if rule and rule.get("garbage"):
                self._send(200, b"<html>not an API</html>")
                return
            if rule and "status" in rule:
                kinds = {429: ("rate_limit_exceeded", "requests"), 500: ("server_error", "server_error")}
                code, kind = kinds.get(rule["status"], (None, "server_error"))
                self._send(rule["status"], error_body(rule.get("error", "scripted failure"), kind, code),
                           rule.get("headers"))
                return
            content = rule["content"] if rule and "content" in rule else server.answer(request)
            if payload.get("stream"):
                self._stream(model, content, rule.get("hold") if rule else None)
                return
            prompt = " ".join(str(m.get("content", "")) for m in payload["messages"])
            self._send(200, completion_body(server, model, content, prompt))

    return Handler


def start_ai_server(**options) -> AIServer:
    return AIServer(**options)
