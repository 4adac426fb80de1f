"""What part of a message its author wrote: the quoted history and the signature, found in plain text.

One definition read by the inbound classifier (a reply's own words decide its
class, never the quoted original) and by the conversation thread (the quoted
history and the signature are folded away). HTML mail reaches here as the
plain text the parser made of it (runtime/channels/email/inbound/parse.py), so
the same markers hold: Gmail's and Apple Mail's "On … wrote:" line in a
dozen languages, ">" lines, "-----Original Message-----", Outlook's header
block ("From: … Sent: …", also "Von:/De:/Da:/Van:") or its underscore rule,
and the "-- " signature delimiter (RFC 3676 §4.3).
"""

from __future__ import annotations

import re
from typing import NamedTuple

QUOTE_START = re.compile(
    r"(?im)^(?:>|-{2,}\s*original message|_{5,}|from:\s|von:\s|de:\s|da:\s|van:\s|on .{0,200}wrote:|"
    r"am .{0,200}schrieb|le .{0,200}a [ée]crit|el .{0,200}escribi[óo]|il .{0,200}ha scritto|op .{0,200}schreef)"
)

# RFC 3676's "-- " line, and the bare "--" or "—" many clients and people write instead.
_SIGNATURE = re.compile(r"(?m)^(?:-- ?|--|—|__)\s*$")
# Mobile footers written by the client, not the person.
_SENT_FROM = re.compile(r"(?im)^\s*(?:sent from my \w+|get outlook for \w+|enviado desde mi \w+|von meinem \w+ gesendet)")


def new_text(body: str) -> str:
    """The part of a reply its author wrote (before the quoted original)."""
    found = QUOTE_START.search(body)
    return body[: found.start()] if found else body


class Folded(NamedTuple):
    """A message split for reading: what the author wrote, their signature, and the quoted history."""

    text: str
    signature: str
    quoted: str


def fold(body: str) -> Folded:
    """Split `body` into the author's words, the signature and the quoted history (each may be empty)."""
    body = (body or "").replace("\r\n", "\n")
    fresh = new_text(body)
    quoted = body[len(fresh):]
    signature = ""
    marks = [m for m in (_SIGNATURE.search(fresh), _SENT_FROM.search(fresh)) if m]
    if marks:
        first = min(marks, key=lambda m: m.start())
        if fresh[: first.start()].strip():  # a message that is all signature keeps its text
            fresh, signature = fresh[: first.start()], fresh[first.start():]
    return Folded(fresh.strip("\n").rstrip(), signature.strip("\n").rstrip(), quoted.strip("\n").rstrip())
