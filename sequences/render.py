"""Personalisation: `{first_name}`-style variables filled from a lead's data.

Variables: the contact fields in `CONTACT_FIELDS` and custom fields as
`{custom.<name>}` (the name as imported, matched exactly), and AI variables as
`{ai: <name>}`: a text the AI writes for each lead from the campaign's prompt of
that name (generated once per lead and step by the runtime, then given to
rendering in `LeadData.ai`; see runtime/ai/generate.py). Names are
forgiving the way people type them: case and spaces do not matter and a few
aliases are accepted (`{First Name}` and `{first name}` — the spec's own
spelling — mean `{first_name}`; `{company_name}` means `{company}`, `{title}`
`{job_title}`, `{mobile_phone}` `{phone}`; see `ALIASES`). A fallback after a
bar is used when the value is empty: `Hi {first_name|there}`. A variable with no value and no fallback is a lead
error with a clear reason (`MissingVariable`), never a crash or a message
with a hole in it. `{{` and `}}` write literal braces; a brace that does not
enclose an identifier-like name (CSS, `{}`) is plain text.
"""

from __future__ import annotations

import functools
import re
from typing import Mapping

import msgspec

from sequences.limits import MESSAGE_MAX_CHARS

CONTACT_FIELDS = (
    "first_name", "last_name", "full_name", "company", "job_title",
    "email", "phone", "linkedin_url",
)

ALIASES = {
    "firstname": "first_name", "lastname": "last_name", "name": "full_name", "fullname": "full_name",
    "company_name": "company", "companyname": "company", "title": "job_title", "jobtitle": "job_title",
    "mobile_phone": "phone", "mobile": "phone", "phone_number": "phone", "professional_email": "email",
    "linkedin": "linkedin_url", "linkedin_profile_url": "linkedin_url",
}


@functools.lru_cache(maxsize=4096)
def canonical(name: str) -> str:
    """The variable a typed name means: `First Name` -> `first_name`; custom names kept as typed."""
    name = name.strip()
    if name[:3].casefold() == "ai:" or name[:2].casefold() == "ai" and name[2:].lstrip()[:1] == ":":
        return AI_PREFIX + ai_name(name.split(":", 1)[1])
    if name[:7].casefold() == "custom.":
        return "custom." + name[7:].strip()
    key = re.sub(r"[\s\-]+", "_", name.casefold())
    return ALIASES.get(key, key)


AI_PREFIX = "ai:"


def ai_name(name: str) -> str:
    """An AI variable's name as stored and matched: `Opener`, ` opener ` and `opener` are one."""
    return re.sub(r"[\s\-]+", "_", name.strip().casefold())


#: `{{`, `}}`, or a variable: an identifier-like name (letters, digits, `_`, and
#: spaces or dashes for the forgiving `{first name}` form; `custom.<name>` for a
#: custom field) with an optional `|fallback`. Any other brace is text, so CSS in
#: an HTML body (`p { color: red }`) or a literal `{}` is sent as written.
_VARIABLE = re.compile(
    r"\{\{|\}\}|\{(\s*(?:[Cc][Uu][Ss][Tt][Oo][Mm]\.\s*|[Aa][Ii]\s*:\s*)?\w[\w \t\-]*)(?:\|([^{}]*))?\}")


class LeadData(msgspec.Struct, frozen=True, kw_only=True):
    """What personalisation may read about a lead."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    job_title: str = ""
    email: str = ""
    phone: str = ""
    linkedin_url: str = ""
    custom: Mapping[str, str] = msgspec.field(default_factory=dict)
    #: the AI variables' values for the text being rendered (name -> text); absent = not generated yet
    ai: Mapping[str, str] = msgspec.field(default_factory=dict)

    def value(self, name: str) -> str | None:
        """The value of a variable, '' when empty, None when no such variable exists."""
        name = canonical(name)
        if name.startswith("custom."):
            return str(self.custom.get(name[len("custom."):], "") or "")
        if name.startswith(AI_PREFIX):
            return self.ai.get(name[len(AI_PREFIX):], "")
        if name == "full_name":
            return " ".join(p for p in (self.first_name, self.last_name) if p)
        if name in CONTACT_FIELDS:
            return getattr(self, name) or ""
        return None


class MissingVariable(msgspec.Struct, frozen=True):
    """A variable the text needs has no value for this lead."""

    variable: str

    @property
    def reason(self) -> str:
        return f"the lead has no value for {{{self.variable}}} (add a fallback like {{{self.variable}|…}} or enrich the contact)"


def variables_in(text: str) -> list[str]:
    """Every variable a text uses, in order (for validation and the editor)."""
    return [m.group(1).strip() for m in _VARIABLE.finditer(text) if m.group(1) is not None]


def ai_variables_in(text: str) -> list[str]:
    """The AI variables a text uses (their names, each once, in order): what must be generated first."""
    return list(dict.fromkeys(part[0][len(AI_PREFIX):] for part in _parse(text)
                              if part.__class__ is tuple and part[0].startswith(AI_PREFIX)))


def is_known_variable(name: str) -> bool:
    name = canonical(name)
    return (name in CONTACT_FIELDS or (name.startswith("custom.") and len(name) > len("custom."))
            or (name.startswith(AI_PREFIX) and len(name) > len(AI_PREFIX)))


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[str | tuple[str, str | None], ...]:
    """A text as literal pieces and (canonical name, fallback) variables, parsed
    once per distinct text: the same few templates render for every lead."""
    parts: list[str | tuple[str, str | None]] = []
    pos = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > pos:
            parts.append(text[pos:match.start()])
        whole = match.group(0)
        parts.append(whole[0] if whole in ("{{", "}}") else (canonical(match.group(1)), match.group(2)))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def render(text: str, lead: LeadData) -> str | MissingVariable:
    parts = _parse(text)
    if len(parts) == 1 and parts[0].__class__ is str:
        return parts[0]  # type: ignore[return-value]
    out: list[str] = []
    for part in parts:
        if part.__class__ is str:
            out.append(part)  # type: ignore[arg-type]
            continue
        name, fallback = part  # type: ignore[misc]
        value = lead.value(name)
        if value:
            out.append(value)
        elif fallback is not None:
            out.append(fallback)
        else:
            return MissingVariable(name)
    return "".join(out)


def render_pieces(text: str, lead: LeadData) -> list[tuple[str, str | None]]:
    """The text rendered for `lead` as (text, missing) pieces, every missing variable kept.

    `render` stops at the first variable without a value (that is what a send
    needs); an editor's preview wants them all, each marked where it stands:
    a piece with `missing` set is a variable with no value and no fallback,
    and its text is the variable as written."""
    out: list[tuple[str, str | None]] = []
    for part in _parse(text):
        if part.__class__ is str:
            out.append((part, None))  # type: ignore[arg-type]
            continue
        name, fallback = part  # type: ignore[misc]
        value = lead.value(name)
        if value:
            out.append((value, None))
        elif fallback is not None:
            out.append((fallback, None))
        else:
            out.append((f"{{{name}}}", name))
    return out


def chunk_message(text: str, limit: int = MESSAGE_MAX_CHARS) -> list[str]:
    """Split a long text into chat-sized chunks at paragraph, then sentence, then word breaks."""
    text = text.strip()
    if not text:
        return []
    chunks: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        while len(paragraph) > limit:
            cut = max(paragraph.rfind(". ", 0, limit) + 1, paragraph.rfind(" ", 0, limit))
            if cut <= 0:
                cut = limit
            chunks.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if paragraph:
            chunks.append(paragraph)
    return chunks


#: The sample lead the campaign wizard's preview renders for when the audience
#: is empty (spec "Step 3 — AI Agent: Preview").
PREVIEW_LEAD = LeadData(
    first_name="Alex", last_name="Morgan", company="Northwind", job_title="Head of Sales",
    email="alex.morgan@northwind.example", phone="+1 555 0100",
    linkedin_url="https://www.linkedin.com/in/alex-morgan-example/",
)
