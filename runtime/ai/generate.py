"""Generating a campaign's AI variables for its leads, outside the step's transaction.

The step function (sequences/step.py) leaves a lead whose next step uses AI
variables not generated yet In progress / Generating with AI, still due. Its
campaign actor then calls `generate_leads` after committing the turn: for each
such lead it builds the prompt from the campaign's prompt of that variable and
the lead's data (`messages_for`), asks the endpoint in a worker thread (a sync
httpx client whose timeouts are socket timeouts in real seconds, as the
LinkedIn gateway's transport does; the client's backoff between retries sleeps
on the runtime's Trio clock), keeps each text as soon as it comes
(storage/ai_variables.py: once per lead, step and variable, never replaced),
and steps the lead again in its own transaction: `Due` (the step renders with
the stored texts) or `AIFailed` — Missing campaign prompt when the campaign has
no prompt of that name, AI error when the endpoint failed after its retries or
none is configured. A Retry of the lead reuses whatever was already written.

At most `CONCURRENCY` requests of one campaign are in flight; a slow or failing
endpoint holds up that campaign's actor only, never another campaign's.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

import trio

from runtime.ai.client import AIClient, AIError, Message
from runtime.ai.provider import NOT_CONFIGURED
from runtime.clock import Clock
from runtime.leads import CampaignInfo, QueuedJob, advance, facts, state_of
from sequences.model import LABEL, Node, kind_of
from sequences.statuses import Substatus
from sequences.step import AIFailed, Due, Event, LeadFacts
from storage.ai_variables import store_value, values_of
from storage.contact_fields import clean_line, clean_text
from storage.db import transaction
from storage.leads import lead_rows

if TYPE_CHECKING:
    import sqlite_utils

CONCURRENCY = 4
#: the longest a generated variable may be (a whole LinkedIn message is at most 1,900 characters)
MAX_OUTPUT_TOKENS = 700

SYSTEM = ("You write one piece of a personalised outreach message to one contact, for the sender's campaign. "
          "Answer with that text only, ready to be sent as it is: no quotes, no placeholders, no notes about "
          "what you did. Use only the facts given about the contact; never invent any.")

AIClientSource = Callable[[], "AIClient | None"]


def messages_for(variable: str, prompt: str, node: Node, lead: LeadFacts, campaign_prompt: str = "") -> list[Message]:
    """The chat to ask for `{ai: variable}` in `node` for `lead`: the campaign's context in the
    system message, the variable's own prompt and the lead's data (one fact a line) in the user's."""
    system = SYSTEM + (f"\n\nAbout the campaign (offer, tone, goals):\n{clean_text(campaign_prompt)}"
                       if campaign_prompt.strip() else "")
    facts_lines = [f"{label}: {clean_line(value)}" for label, value in (
        ("First name", lead.first_name), ("Last name", lead.last_name), ("Company", lead.company),
        ("Job title", lead.job_title), ("LinkedIn", lead.linkedin_url),
        *((name, str(value)) for name, value in sorted(lead.custom.items()))) if clean_line(str(value))]
    user = (f"Write {{ai: {variable}}}, part of the message of a \"{LABEL[kind_of(node)]}\" step.\n"
            f"Instructions: {clean_text(prompt)}\n\n"
            "The contact:\n" + ("\n".join(facts_lines) or "(nothing is known about the contact)"))
    return [Message("system", system), Message("user", user)]


async def generate_leads(db: "sqlite_utils.Database", info: CampaignInfo, ids: list[int], clock: Clock,
                         ai: AIClientSource) -> list[QueuedJob]:
    """Generate what each lead's step waits for, then step it; the jobs to hand to the identity."""
    jobs: list[QueuedJob] = []
    limiter = trio.CapacityLimiter(CONCURRENCY)
    client = ai() if ids else None

    async def one(enrollment_id: int) -> None:
        event = await _generate(db, info, enrollment_id, clock, client, limiter)
        if event is None:
            return
        with transaction(db):
            rows = lead_rows(db, [enrollment_id])
            if rows:
                _, queued = advance(db, info, rows[0], event, clock.now(), identity_id=info.identity_id)
                jobs.extend(queued)

    async with trio.open_nursery() as nursery:
        for enrollment_id in ids:
            nursery.start_soon(one, enrollment_id)
    return jobs


async def _generate(db, info: CampaignInfo, enrollment_id: int, clock: Clock, client: AIClient | None,
                    limiter: trio.CapacityLimiter) -> Event | None:
    """Generate and store the lead's missing texts: `Due` when all are there, else `AIFailed`
    (None: the lead no longer waits for them)."""
    rows = lead_rows(db, [enrollment_id])
    if not rows:
        return None
    row, state = rows[0], state_of(rows[0])
    if state.substatus is not Substatus.GENERATING_AI or state.node not in info.compiled.ai:
        return None
    node = info.compiled.nodes[state.node]
    stored = values_of(db, enrollment_id).get(node.id, {})
    missing = [name for name in info.compiled.ai[node.id] if name not in stored]
    prompts: dict[str, str] = info.settings.get("ai_variables") or {}
    undefined = [name for name in missing if not str(prompts.get(name, "")).strip()]
    if undefined:
        return AIFailed(node.id, Substatus.MISSING_CAMPAIGN_PROMPT,
                        f"the campaign has no prompt for {{ai: {undefined[0]}}}: add it with "
                        f"`enginy campaigns ai-variable set CAMPAIGN {undefined[0]} --prompt …`")
    if missing and client is None:
        return AIFailed(node.id, Substatus.AI_ERROR, NOT_CONFIGURED)
    lead = facts(db, info, row)
    for name in missing:
        messages = messages_for(name, prompts[name], node, lead, info.settings.get("ai_prompt") or "")
        ask = functools.partial(client.complete, messages, max_output=MAX_OUTPUT_TOKENS,  # type: ignore[union-attr]
                                sleep=_trio_sleep)
        try:
            completion = await trio.to_thread.run_sync(ask, abandon_on_cancel=True, limiter=limiter)
        except AIError as exc:
            return AIFailed(node.id, Substatus.AI_ERROR, f"{{ai: {name}}}: {exc}")
        with transaction(db):
            store_value(db, enrollment_id, node.id, name, completion.text, model=completion.model, now=clock.now())
    return Due()


def _trio_sleep(seconds: float) -> None:
    """The client's backoff between retries, from its worker thread, on the runtime's Trio clock."""
    trio.from_thread.run(trio.sleep, seconds)
