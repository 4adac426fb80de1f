"""`enginy campaigns ai-variable …`: the campaign's AI variables — named prompts a message uses as
`{ai: NAME}` — and the texts generated from them.

Each lead gets its own text, written by the AI endpoint of `[ai]` (see `enginy ai check`) when
its step is due, once, from the prompt and the lead's data; a retry reuses it. A step using a
name the campaign has no prompt for stops its leads with "Missing campaign prompt".
The rules live in storage/ai_variables.py; this module parses and prints.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from cli.output import UserError, emit
from cli.workspace import guard, open_session, require_lead, wall_time

app = typer.Typer(help="AI variables of a campaign: the prompts behind {ai: NAME} in its messages.",
                  no_args_is_help=True, rich_markup_mode=None)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_CAMPAIGN = typer.Argument(..., help="Campaign id or name.")
_NAME = typer.Argument(..., help="The variable's name, as messages use it: {ai: NAME}.")


def _uses(row) -> dict[str, list[str]]:
    """Variable -> the steps whose texts use it."""
    from sequences.step import compile_sequence
    from storage.campaigns import sequence_of

    uses: dict[str, list[str]] = {}
    try:
        compiled = compile_sequence(sequence_of(row))
    except ValueError:
        return uses  # a draft's tree that is not whole yet: no step to name
    for node, names in compiled.ai.items():
        for name in names:
            uses.setdefault(name, []).append(node)
    return uses


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


@app.command("list")
def list_cmd(ctx: typer.Context, campaign: str = _CAMPAIGN, json_out: bool = _JSON) -> None:
    """The campaign's AI variables: prompt, steps using it, texts generated so far; and the
    names its steps use without a prompt (their leads would stop with Missing campaign prompt)."""
    from storage.ai_variables import generated_counts, prompts_of
    from storage.campaigns import get_campaign

    _, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    prompts, uses, counts = prompts_of(row), _uses(row), generated_counts(db, row["id"])
    items = [{"name": name, "prompt": prompt, "steps": uses.get(name, []), "generated": counts.get(name, 0)}
             for name, prompt in prompts.items()]
    missing = sorted(name for name in uses if name not in prompts)
    lines = [f"{{ai: {i['name']}}}  used in: {', '.join(i['steps']) or 'no step'}  generated: {i['generated']}\n"
             + _indented(i["prompt"]) for i in items] or [f"Campaign {row['name']!r} has no AI variables."]
    lines += [f"⚠ {{ai: {name}}} is used in {', '.join(uses[name])} but has no prompt: "
              f"`enginy campaigns ai-variable set {row['id']} {name} --prompt …`" for name in missing]
    emit({"campaign": row["id"], "variables": items, "missing": missing}, json_out, "\n".join(lines))


@app.command("set")
def set_cmd(ctx: typer.Context, campaign: str = _CAMPAIGN, name: str = _NAME,
            prompt: Optional[str] = typer.Option(None, "--prompt", "-p",
                                                 help="What the AI should write for each lead, e.g. "
                                                      "'One sentence on their company's latest news'."),
            stdin: bool = typer.Option(False, "--stdin", help="Read the prompt from stdin (several lines)."),
            json_out: bool = _JSON) -> None:
    """Define or change an AI variable. Leads whose text is already generated keep it.

    E.g. `enginy campaigns ai-variable set Q3 opener --prompt "One friendly line about their role"`,
    then write `{ai: opener}` in a message (the step form completes it)."""
    from storage.ai_variables import set_prompt

    if (prompt is None) == (not stdin):
        raise UserError("give the prompt with --prompt TEXT or --stdin (one of them)")
    text = sys.stdin.read() if stdin else prompt or ""
    ws, db = open_session(ctx)
    row, key = guard(lambda: set_prompt(db, campaign, name, text, now=wall_time(), actor=ws.config.user))
    emit({"campaign": row["id"], "name": key, "prompt": text.strip()}, json_out,
         f"Campaign {row['name']!r}: {{ai: {key}}} is set")


@app.command("rm")
def rm_cmd(ctx: typer.Context, campaign: str = _CAMPAIGN, name: str = _NAME,
           yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask, even if a step uses it."),
           json_out: bool = _JSON) -> None:
    """Remove an AI variable. Asks first when a step still uses it (its leads would stop with
    Missing campaign prompt); texts already generated are kept."""
    from sequences.render import ai_name
    from storage.ai_variables import remove_prompt
    from storage.campaigns import get_campaign

    ws, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    used = _uses(row).get(ai_name(name), [])
    if used and not yes:
        used_in = f"{{ai: {ai_name(name)}}} is used in {', '.join(used)}"
        if not sys.stdin.isatty():
            raise UserError(f"{used_in} (its leads would stop with Missing campaign prompt); add --yes to remove it")
        typer.confirm(f"{used_in}: remove its prompt anyway?", abort=True)
    guard(lambda: remove_prompt(db, row["id"], name, now=wall_time(), actor=ws.config.user))
    emit({"campaign": row["id"], "name": ai_name(name), "removed": True}, json_out,
         f"Campaign {row['name']!r}: {{ai: {ai_name(name)}}} removed")


@app.command("values")
def values_cmd(ctx: typer.Context, campaign: str = _CAMPAIGN,
               lead: str = typer.Argument(..., help="The lead: contact id, email or LinkedIn URL."),
               json_out: bool = _JSON) -> None:
    """The texts generated for one lead, step by step (what was sent, or will be)."""
    from storage.ai_variables import values_of
    from storage.campaigns import get_campaign

    _, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    enrollment = require_lead(db, row["id"], lead)
    values = values_of(db, enrollment["id"])
    lines = [f"{node}  {{ai: {name}}}\n" + _indented(text) for node, texts in values.items() for name, text in texts.items()]
    emit({"campaign": row["id"], "contact": enrollment["contact_id"], "values": values}, json_out,
         "\n".join(lines) or "Nothing generated for this lead yet.")
