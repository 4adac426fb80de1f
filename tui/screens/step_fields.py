"""What the step form shows for each of the 17 kinds of step: one table, not 17 screens.

Each kind maps to its fields in the order the form lays them out. A field
names the node attribute it edits, how it is edited (a message editor, a
list of chunks, a file, a choice, a number, a line) and, for messages, the
spec's character limit (`sequences.limits`). Choices come from the model's
own `Literal` types, so a value the model gains appears here without an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

from sequences.limits import INMAIL_MAX_CHARS, INMAIL_SUBJECT_MAX_CHARS, MESSAGE_MAX_CHARS, NOTE_MAX_CHARS
from sequences.model import ACTION_TYPES, CONDITION_TYPES, OPERATORS, REACTIONS
from sequences.render import CONTACT_FIELDS

Editor = Literal["text", "chunks", "file", "choice", "number", "line"]

#: Extensions LinkedIn takes for a voice message upload.
AUDIO_EXTENSIONS = (".mp3", ".m4a", ".wav", ".ogg", ".aac", ".opus")

_WORDS = {"linkedin": "LinkedIn", "most_reacted": "Most reacted", "todo": "To-do", "not_equals": "does not equal",
          "not_contains": "does not contain", "any_identity": "Any identity", "this_identity": "This identity",
          "any": "Any channel"}


def choice_label(value: str) -> str:
    """How a stored choice reads in the form: `greater_than` → "Greater than"."""
    return _WORDS.get(value) or value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Field:
    """One editable attribute of a step.

    `limit`: the spec's character limit of a message field (None: no limit, the
    count is still shown). `short`: a one-line-ish text (a subject, a title).
    `low`/`high`: the range a number must be in to be saved at all (outside it
    the value makes no sense: negative days); `optional`: a number may be left
    empty (None). `source`: where a choice's options come from when they are
    the workspace's ("campaigns", "fields"), not the model's."""

    name: str
    label: str
    editor: Editor
    limit: int | None = None
    short: bool = False
    low: int | None = None
    high: int | None = None
    optional: bool = False
    source: str = ""
    audio: bool = False
    help: str = ""


def _literal_values(kind_type: type, name: str) -> tuple[str, ...]:
    info = msgspec.inspect.type_info(kind_type)
    field = next(f for f in info.fields if f.name == name)  # type: ignore[attr-defined]
    return tuple(field.type.values)


FIELDS: dict[str, tuple[Field, ...]] = {
    "visit_profile": (),
    "react_to_post": (Field("reaction", "Reaction", "choice",
                            help="Most reacted uses the reaction the post received most"),),
    "connection_request": (Field("note", "Connection note (optional)", "text", limit=NOTE_MAX_CHARS),),
    "linkedin_message": (Field("chunks", "Message", "chunks", limit=MESSAGE_MAX_CHARS,
                               help="Several short chunks are sent one after another, like a real chat"),),
    "inmail": (Field("subject", "Subject", "text", limit=INMAIL_SUBJECT_MAX_CHARS, short=True),
               Field("body", "Message", "text", limit=INMAIL_MAX_CHARS)),
    "linkedin_attachment": (Field("text", "Message", "text", limit=MESSAGE_MAX_CHARS),
                            Field("file", "File to attach", "file")),
    "voice_message": (Field("file", "Voice recording", "file", audio=True),),
    "email": (Field("subject", "Subject", "text", short=True,
                    help="Empty on a follow-up: the email replies in the previous one's thread"),
              Field("body", "Body", "text"),
              Field("html", "HTML body (optional, sent instead of the text when set)", "text")),
    "task": (Field("title", "Title", "text", short=True),
             Field("task_type", "Type", "choice"),
             Field("due_days", "Due in (days, empty: no due date)", "number", low=0, high=365, optional=True,
                   help="Counted from when the step runs; 0: due that day"),
             Field("notes", "Notes", "text")),
    "add_to_campaign": (Field("campaign", "Target campaign", "choice", source="campaigns"),),
    "accepted_connection": (Field("within_days", "Within (days)", "number", low=1, high=90,
                                  help="No when the invitation is not accepted within this many days (1–90)"),),
    "is_connection": (),
    "has_been_contacted": (Field("by", "Contacted by", "choice"),
                           Field("within_days", "Within (days, empty: ever)", "number", low=1, optional=True),
                           Field("channel", "On channel", "choice")),
    "has_linkedin_profile": (),
    "has_professional_email": (),
    "has_mobile_phone": (),
    "custom": (Field("field", "Field", "choice", source="fields"),
               Field("operator", "Operator", "choice"),
               Field("value", "Value", "line", help="greater/less than compare numbers")),
}

_TYPES = {t.__struct_config__.tag: t for t in (*ACTION_TYPES, *CONDITION_TYPES)}  # type: ignore[attr-defined]
assert set(FIELDS) == set(_TYPES), "every kind of step has its row in FIELDS"


def options(kind: str, field: Field, *, campaigns: list[str], custom_fields: list[str]) -> list[str]:
    """The values a choice field offers, in the order shown."""
    if field.source == "campaigns":
        return list(campaigns)
    if field.source == "fields":
        return [*CONTACT_FIELDS, *(f"custom.{name}" for name in custom_fields)]
    if field.name == "reaction":
        return list(REACTIONS)
    if field.name == "operator":
        return list(OPERATORS)
    return list(_literal_values(_TYPES[kind], field.name))
