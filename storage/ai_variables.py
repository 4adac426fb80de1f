"""AI variables: the campaign's named prompts, and the texts generated from them per lead and step.

A message uses `{ai: opener}`; the campaign defines what "opener" asks the AI
(`Settings.ai_variables`, name -> prompt; set here, with the campaign's
edit log). The runtime generates the text once per lead and step and keeps
it in `ai_values` (m062): the send renders it, a retry reuses it, the editor's
preview shows it. A generated text is never replaced.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils

from sequences.render import LeadData, ai_name
from storage.activity import iso
from storage.campaigns import CampaignError, get_campaign, settings_of, update_campaign

NAME_MAX = 40
PROMPT_MAX = 4000
_NAME = re.compile(r"\w[\w\- ]*")


def prompts_of(row: dict[str, Any]) -> dict[str, str]:
    """The campaign's AI variables, name -> prompt, sorted by name."""
    return dict(sorted(settings_of(row).ai_variables.items()))


def valid_name(name: str) -> str:
    """The variable's stored name (`Opener ` -> `opener`); CampaignError saying what is wrong."""
    if not _NAME.fullmatch(name.strip()) or len(name.strip()) > NAME_MAX:
        raise CampaignError(f"an AI variable name is letters, digits, '_', '-' or spaces, at most {NAME_MAX} "
                            f"characters (e.g. opener), not {name!r}")
    return ai_name(name)


def parse_prompts(text: str) -> dict[str, str]:
    """The AI variables as the wizard edits them, one a line: `opener: One line about their role`.
    Blank lines are skipped; CampaignError names the first line that cannot be read."""
    prompts: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, colon, prompt = line.partition(":")
        if not colon or not prompt.strip():
            raise CampaignError(f"AI variables, line {number}: write it as 'name: what the AI writes'")
        try:
            key = valid_name(name)
        except CampaignError as exc:
            raise CampaignError(f"AI variables, line {number}: {exc}") from None
        if key in prompts:
            raise CampaignError(f"AI variables, line {number}: {key!r} is defined twice")
        prompts[key] = prompt.strip()[:PROMPT_MAX]
    return prompts


def prompts_text(prompts: dict[str, str]) -> str:
    """The inverse of `parse_prompts` (a prompt's line breaks become spaces: one variable a line)."""
    return "\n".join(f"{name}: {' '.join(prompt.split())}" for name, prompt in sorted(prompts.items()))


def set_prompt(db: sqlite_utils.Database, ref: int | str, name: str, prompt: str, *, now: datetime,
               actor: str) -> tuple[dict[str, Any], str]:
    """Define or change the AI variable `name`; returns (campaign row, stored name). Later
    generations use the new prompt; texts already generated stay as they were written."""
    key, prompt = valid_name(name), prompt.strip()
    if not prompt:
        raise CampaignError(f"the prompt of {{ai: {key}}} is empty: say what the AI should write")
    if len(prompt) > PROMPT_MAX:
        raise CampaignError(f"the prompt has {len(prompt)} characters; at most {PROMPT_MAX}")
    row = get_campaign(db, ref)
    settings = settings_of(row)
    variables = {**settings.ai_variables, key: prompt}
    row = update_campaign(db, row["id"], now=now, actor=actor,
                          settings=msgspec.structs.replace(settings, ai_variables=variables))
    return row, key


def remove_prompt(db: sqlite_utils.Database, ref: int | str, name: str, *, now: datetime,
                  actor: str) -> dict[str, Any]:
    """Remove the AI variable `name`; a step still using it stops its leads with Missing campaign prompt."""
    row = get_campaign(db, ref)
    settings, key = settings_of(row), ai_name(name)
    if key not in settings.ai_variables:
        known = ", ".join(sorted(settings.ai_variables)) or "none"
        raise CampaignError(f"campaign {row['name']!r} has no AI variable {key!r} (it has: {known})")
    variables = {k: v for k, v in settings.ai_variables.items() if k != key}
    return update_campaign(db, row["id"], now=now, actor=actor,
                           settings=msgspec.structs.replace(settings, ai_variables=variables))


# --- generated values ---------------------------------------------------------------


def values_of(db: sqlite_utils.Database, enrollment_id: int) -> dict[str, dict[str, str]]:
    """What was generated for one lead: node id -> {variable -> text}."""
    out: dict[str, dict[str, str]] = {}
    for node, variable, text in db.execute(
            "SELECT node_id, variable, text FROM ai_values WHERE enrollment_id = ?", [enrollment_id]):
        out.setdefault(node, {})[variable] = text
    return out


def store_value(db: sqlite_utils.Database, enrollment_id: int, node_id: str, variable: str, text: str, *,
                model: str, now: datetime) -> bool:
    """Keep a generated text; False when one was already stored (the first one stays)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO ai_values (enrollment_id, node_id, variable, text, model, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)", [enrollment_id, node_id, variable, text, model, iso(now)])
    return cursor.rowcount == 1


def sample_values(db: sqlite_utils.Database, campaign_id: int, node_id: str) -> tuple[LeadData, dict[str, str]] | None:
    """The texts most recently generated for one step, with the lead they were written for (the
    editor's preview shows them for that lead); None when nothing was generated for that step yet."""
    rows = list(db.execute(
        "SELECT c.first_name, c.last_name, c.company, c.job_title, c.email, c.phone, c.linkedin_url, c.custom,"
        " v.enrollment_id FROM ai_values v JOIN enrollments e ON e.id = v.enrollment_id"
        " JOIN contacts c ON c.id = e.contact_id"
        " WHERE e.campaign_id = ? AND v.node_id = ? ORDER BY v.created_at DESC, v.enrollment_id DESC LIMIT 1",
        [campaign_id, node_id]))
    if not rows:
        return None
    *fields, custom, enrollment_id = rows[0]
    names = ("first_name", "last_name", "company", "job_title", "email", "phone", "linkedin_url")
    lead = LeadData(**{k: v or "" for k, v in zip(names, fields)},
                    custom=msgspec.json.decode(custom) if custom and custom != "{}" else {})
    return lead, values_of(db, enrollment_id).get(node_id, {})


def generated_counts(db: sqlite_utils.Database, campaign_id: int) -> dict[str, int]:
    """How many texts each AI variable of the campaign has produced (all steps and leads)."""
    return {variable: n for variable, n in db.execute(
        "SELECT v.variable, COUNT(*) FROM ai_values v JOIN enrollments e ON e.id = v.enrollment_id"
        " WHERE e.campaign_id = ? GROUP BY v.variable", [campaign_id])}
