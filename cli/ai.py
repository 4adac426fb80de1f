"""`enginy ai`: the AI provider — store its key, check that it answers, see how it is set up.

The endpoint is `[ai]` of enginy.toml (any OpenAI-compatible chat-completions
URL and a model); the key is a secret: read from stdin only, kept in the
workspace's secret store, or given by ENGINY_AI_API_KEY; it is never printed.
"""

from __future__ import annotations

import sys

import typer

from cli.output import UserError, emit
from cli.workspace import open_ws

app = typer.Typer(help="The AI provider: store its key, check that it answers.", no_args_is_help=True,
                  rich_markup_mode=None)
_JSON = typer.Option(False, "--json", help="Print JSON.")

CHECK_PROMPT = "Reply with the single word: ok"


@app.command("key")
def key_cmd(ctx: typer.Context,
            stdin: bool = typer.Option(False, "--stdin", help="Read the API key from stdin's first line."),
            delete: bool = typer.Option(False, "--delete", help="Forget the stored key."),
            json_out: bool = _JSON) -> None:
    """Keep the endpoint's API key in the workspace's secret store (keyring or the secrets file).
    E.g. `printf %s "$KEY" | enginy ai key --stdin`. ENGINY_AI_API_KEY, when set, is used instead."""
    from runtime.ai.provider import AI_SECRET
    from runtime.secrets import SecretsError, SecretStore

    ws = open_ws(ctx)
    store = SecretStore.of(ws)
    try:
        if delete:
            store.delete(AI_SECRET)
            emit({"deleted": True}, json_out, "AI key forgotten")
            return
        if not stdin:
            raise UserError("the key is read from stdin only: `printf %s \"$KEY\" | enginy ai key --stdin`")
        key = sys.stdin.readline().strip()
        if not key:
            raise UserError("--stdin: stdin was empty; pipe the key in")
        where = store.save(AI_SECRET, key)
    except SecretsError as exc:
        raise UserError(str(exc)) from None
    emit({"stored": where}, json_out, f"AI key stored ({where}); `enginy ai check` tries it")


@app.command("check")
def check_cmd(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Ask the endpoint for one short completion: exit 0 when it answers; else say why
    (no provider, wrong key, unknown model, unreachable, …) and exit 1. The key is never shown."""
    from runtime.ai.client import AIClient, AIError, Message
    from runtime.ai.provider import endpoint_of, key_source
    from runtime.secrets import SecretsError

    ws = open_ws(ctx)
    ai = ws.config.ai
    report = {"base_url": ai.base_url, "model": ai.model}
    try:
        report["key"] = key_source(ws)
        endpoint = endpoint_of(ws)
        client = AIClient(endpoint)
        try:
            answer = client.complete([Message("user", CHECK_PROMPT)], max_output=16)
        finally:
            client.close()
    except AIError as exc:
        report.update(ok=False, reason=exc.reason, error=str(exc))
        emit(report, json_out, f"AI provider: not working — {exc}")
        raise typer.Exit(1) from None
    except SecretsError as exc:
        raise UserError(str(exc)) from None
    report.update(ok=True, answer=answer.text[:80], answered_by=answer.model)
    emit(report, json_out, f"AI provider answers: {ai.base_url} · model {answer.model} · key from {report['key']}")
