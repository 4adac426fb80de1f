"""The AI client against the project's own OpenAI-compatible server (real HTTP on loopback): answers,
retries with backoff on 429/5xx, every failure named without the key; the server itself checked
against the official `openai` package's types; `enginy ai key|check` on a real workspace."""

from __future__ import annotations

import socket

import pytest

from runtime.ai.client import AIClient, AIError, Endpoint, Message, Reason, backoff
from storage.config import ConfigError, parse_config
from tests.support.ai_server import start_ai_server
from tests.support.campaign_workspace import enginy, make_workspace

KEY = "sk-test-key-0123456789"


@pytest.fixture(scope="module")
def server():
    s = start_ai_server(key=KEY)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def fresh(server):
    server.script()
    server.requests.clear()


def client(server, **changes) -> AIClient:
    options = {"base_url": server.url, "model": "test-model", "key": KEY, "timeout": 5.0, "max_retries": 3,
               **changes}
    return AIClient(Endpoint(**options))


def test_the_server_speaks_the_openai_protocol(server):
    openai = pytest.importorskip("openai")
    from openai.types import Model
    from openai.types.chat import ChatCompletion

    api = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
    raw = api.chat.completions.with_raw_response.create(model="test-model",
                                                       messages=[{"role": "user", "content": "Write to Ana"}])
    strict = ChatCompletion.model_validate(raw.http_response.json(), strict=False)  # validated, not constructed
    assert strict.choices[0].message.content == "Saw this: Write to Ana" and strict.usage.total_tokens > 0
    assert raw.parse().choices[0].finish_reason == "stop"
    assert [Model.model_validate(m).id for m in api.models.with_raw_response.list().http_response.json()["data"]] \
        == ["test-model"]
    with pytest.raises(openai.AuthenticationError) as wrong:
        openai.OpenAI(base_url=server.url, api_key="sk-wrong", max_retries=0).chat.completions.create(
            model="test-model", messages=[{"role": "user", "content": "x"}])
    assert wrong.value.code == "invalid_api_key"
    with pytest.raises(openai.NotFoundError) as unknown:
        api.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert unknown.value.code == "model_not_found"
    server.script({"status": 429, "error": "slow down"})
    with pytest.raises(openai.RateLimitError):
        api.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "x"}])


def test_the_servers_stream_is_the_openai_stream(server):
    """The official client reads our server-sent events as ChatCompletionChunks (validated, not constructed)."""
    openai = pytest.importorskip("openai")
    from openai.types.chat import ChatCompletionChunk

    api = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
    server.script({"content": "Happy to help with pricing"})
    chunks = list(api.chat.completions.create(model="test-model", stream=True,
                                              messages=[{"role": "user", "content": "x"}]))
    assert all(ChatCompletionChunk.model_validate(c.model_dump(), strict=False) for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Happy to help with pricing"
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"


def test_a_streamed_answer_grows_as_it_comes_and_ends_as_a_plain_one(server):
    import threading

    hold, seen = threading.Event(), []
    server.script({"content": "Thanks Ana, Tuesday works", "hold": hold})

    def grew(text: str) -> None:
        seen.append(text)
        if text == "Thanks Ana, Tuesday":  # all but the last word: the server holds it back until now
            assert server.completions()[0]["json"]["stream"] is True
            hold.set()

    answer = client(server).complete([Message("user", "x")], on_text=grew)
    assert answer.text == "Thanks Ana, Tuesday works" and answer.finish_reason == "stop"
    assert seen == ["Thanks", "Thanks Ana,", "Thanks Ana, Tuesday", "Thanks Ana, Tuesday works"]
    server.script({"status": 500, "error": "boom"})  # a failure before the stream: retried as before
    waits: list[float] = []
    assert client(server).complete([Message("user", "x")], on_text=seen.append, sleep=waits.append).text
    assert waits == [1.0]


def test_control_characters_never_leave_the_client(server):
    server.script({"content": "Hi\x1b[2J there\x07,\r\nsee you"}, {"content": "Hi\x1b[2J there\x07,\r\nsee you"})
    assert client(server).complete([Message("user", "x")]).text == "Hi[2J there,\nsee you"
    assert client(server).complete([Message("user", "x")], on_text=lambda text: None).text == "Hi[2J there,\nsee you"


def test_an_answer_and_what_was_asked(server):
    c = client(server, temperature=0.2, max_output=50)
    answer = c.complete([Message("system", "You write openers."), Message("user", "Lead: Ana at Acme")])
    assert answer.text == "Saw this: Lead: Ana at Acme" and answer.model == "test-model"
    sent = server.completions()[0]
    assert sent["authorization"] == f"Bearer {KEY}"
    assert sent["json"]["messages"][0] == {"role": "system", "content": "You write openers."}
    assert (sent["json"]["temperature"], sent["json"]["max_tokens"]) == (0.2, 50)
    assert KEY not in repr(c) and KEY not in repr(c.endpoint)


def test_retries_with_backoff_on_429_and_5xx_then_answers(server):
    waits: list[float] = []
    server.script({"status": 429, "times": 2}, {"status": 503, "headers": {"Retry-After": "7"}},
                  {"content": "Hi Ana"})
    assert client(server).complete([Message("user", "x")], sleep=waits.append).text == "Hi Ana"
    assert waits == [1.0, 2.0, 7.0]  # exponential, a longer Retry-After wins
    assert len(server.completions()) == 4
    assert [backoff(n) for n in (1, 5, 9)] == [1.0, 16.0, 30.0]


@pytest.mark.parametrize("rule, reason, retryable", [
    ({"status": 429, "times": 9}, Reason.RATE_LIMITED, True),
    ({"status": 500, "times": 9, "error": "boom"}, Reason.SERVER, True),
    ({"garbage": True, "times": 9}, Reason.BAD_ANSWER, True),
    ({"content": "   ", "times": 9}, Reason.BAD_ANSWER, True),
    ({"status": 400, "error": "context too long"}, Reason.REFUSED, False),
])
def test_failures_after_the_retries(server, rule, reason, retryable):
    server.script(rule)
    with pytest.raises(AIError) as failed:
        client(server, max_retries=2).complete([Message("user", "x")], sleep=lambda s: None)
    assert failed.value.reason == reason and failed.value.retryable is retryable
    assert len(server.completions()) == (3 if retryable else 1)  # refusals are not retried


def test_wrong_key_unknown_model_unreachable_and_timeout_say_why_without_the_key(server):
    with pytest.raises(AIError) as wrong:
        client(server, key="sk-secret-wrong-999").complete([Message("user", "x")])
    assert wrong.value.reason == Reason.AUTH and "secret-wrong" not in str(wrong.value)
    assert len(server.completions()) == 1  # never retried
    with pytest.raises(AIError, match="does not serve model 'gpt-9'") as unknown:
        client(server, model="gpt-9").complete([Message("user", "x")])
    assert unknown.value.reason == Reason.MODEL

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(AIError) as down:
        AIClient(Endpoint(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=1)).complete(
            [Message("user", "x")], sleep=lambda s: None)
    assert down.value.reason == Reason.UNREACHABLE and down.value.retryable

    server.script({"delay": 1.5, "content": "late"}, {"drop": True}, {"content": "back"})
    with pytest.raises(AIError) as slow:
        client(server, timeout=0.5, max_retries=0).complete([Message("user", "x")])
    assert slow.value.reason == Reason.TIMEOUT
    assert client(server, max_retries=1).complete([Message("user", "x")], sleep=lambda s: None).text == "back"


def test_ai_settings_are_bounded():
    assert parse_config('[ai]\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = "llama3.1"\n').ai.model == "llama3.1"
    for bad, said in [('[ai]\nbase_url = "127.0.0.1"\nmodel = "m"', "http:// or https://"),
                      ('[ai]\nbase_url = "http://x/v1"', "name the model"),
                      ('[ai]\nmax_retries = 11', "between 0 and 10"),
                      ('[ai]\napi_key = "sk-x"', "secrets never go in enginy.toml")]:
        with pytest.raises(ConfigError, match=said):
            parse_config(bad)


def _configure(ws, url: str, model: str = "test-model") -> None:
    toml = ws / "enginy.toml"
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"')
                    .replace('base_url = ""                # e.g.', f'base_url = "{url}"  # e.g.')
                    .replace('model = ""', f'model = "{model}"'))


def test_ai_check_and_key_cli(server, tmp_path, monkeypatch):
    monkeypatch.delenv("ENGINY_AI_API_KEY", raising=False)
    ws, db = make_workspace(tmp_path)
    db.close()
    none = enginy(ws, "ai", "check", "--json")
    assert none.returncode == 1 and '"reason":"not_configured"' in none.stdout

    _configure(ws, server.url)
    no_key = enginy(ws, "ai", "check")
    assert no_key.returncode == 1 and "no key is set" in no_key.stdout
    assert enginy(ws, "ai", "key", "--stdin", stdin="sk-wrong-key-55555\n").returncode == 0
    wrong = enginy(ws, "ai", "check", "--json")
    assert wrong.returncode == 1 and '"reason":"auth"' in wrong.stdout
    assert "wrong-key-55555" not in wrong.stdout + wrong.stderr  # the server quoted it; we do not

    assert enginy(ws, "ai", "key", "--stdin", stdin=KEY + "\n").returncode == 0
    ok = enginy(ws, "ai", "check")
    assert ok.returncode == 0 and "AI provider answers" in ok.stdout and KEY not in ok.stdout
    assert server.completions()[-1]["authorization"] == f"Bearer {KEY}"
    assert not any(KEY in p.read_text() for p in ws.rglob("*.toml"))

    toml = ws / "enginy.toml"
    toml.write_text(toml.read_text().replace('model = "test-model"', 'model = "gpt-9"'))
    unknown = enginy(ws, "ai", "check", "--json")
    assert unknown.returncode == 1 and '"reason":"model"' in unknown.stdout

    toml.write_text(toml.read_text().replace('model = "gpt-9"', 'model = "test-model"'))
    assert enginy(ws, "ai", "key", "--delete").returncode == 0
    monkeypatch.setenv("ENGINY_AI_API_KEY", KEY)  # scripts: the variable, nothing stored
    from_env = enginy(ws, "ai", "check")
    assert from_env.returncode == 0 and "key from environment" in from_env.stdout
    assert "stdin only" in enginy(ws, "ai", "key").stderr
