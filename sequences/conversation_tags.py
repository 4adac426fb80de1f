"""The conversation tags: the standard set, which of them make a reply Positive, and how a tag list is cleaned.

One definition read everywhere: the runtime's rules tag each reply from this
set (runtime/reply_tags.py), a person adds or removes tags (standard or their
own), and a conversation is Positive exactly when one of its tags is in
`POSITIVE` — the Overview's Positive figures, the Tagged conversations widget
and the audience's tag filter all read the same tags
(storage/conversations.py keeps the lead's Positive milestone in step).
"""

from __future__ import annotations

INTERESTED = "Interested"
NOT_INTERESTED = "Not interested"
BAD_TIMING = "Bad timing"
MEETING_BOOKED = "Meeting booked"
OUT_OF_OFFICE = "Out of office"
WRONG_PERSON = "Wrong person"
UNSUBSCRIBE = "Unsubscribe"

STANDARD = (INTERESTED, NOT_INTERESTED, BAD_TIMING, MEETING_BOOKED, OUT_OF_OFFICE, WRONG_PERSON, UNSUBSCRIBE)
"""The outcome tags the rules give (a language tag comes besides, e.g. "English")."""

POSITIVE = frozenset({INTERESTED, MEETING_BOOKED})
"""Tags that make a reply Positive (spec: "Contacts with replies tagged as positive")."""

NEVER_ANSWER = frozenset({UNSUBSCRIBE, NOT_INTERESTED, OUT_OF_OFFICE})
"""Tags after which the AI agent never answers on its own (issue 15): the lead asked to stop,
said no, or is away — an automatic answer there is spam, whatever the campaign's prompt says."""

MAX_LENGTH = 40


class TagError(ValueError):
    pass


def never_answer(tags: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """The tags (in their order) that forbid an automatic answer; empty when one may go."""
    return [t for t in tags if t in NEVER_ANSWER]


def is_positive(tags: list[str] | tuple[str, ...] | set[str]) -> bool:
    return any(t in POSITIVE for t in tags)


def clean_tag(tag: str) -> str:
    """A tag as stored: one line, trimmed, the standard spelling for a standard tag whatever its case."""
    text = " ".join(str(tag).split())
    if not text:
        raise TagError("a tag needs some text")
    if len(text) > MAX_LENGTH:
        raise TagError(f"a tag is at most {MAX_LENGTH} characters")
    if any(ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f for ch in text):
        raise TagError("a tag cannot hold control characters")
    return next((s for s in STANDARD if s.lower() == text.lower()), text)


def merged(tags: list[str], add: list[str] = (), remove: list[str] = ()) -> list[str]:
    """`tags` with `add` appended (once each) and `remove` taken out, compared without case."""
    gone = {clean_tag(t).lower() for t in remove}
    out: list[str] = []
    for t in [*tags, *(clean_tag(t) for t in add)]:
        if t.lower() not in gone and t.lower() not in {o.lower() for o in out}:
            out.append(t)
    return out
