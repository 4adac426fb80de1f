"""Validation of a sequence before launch, with errors a user can act on.

Each error names the step (id and label) and, where the spec has one, the
error substatus a lead would otherwise hit at send time — so a campaign
that would fail lead after lead is refused once, up front.

Length limits: LinkedIn caps a connection note at 300 characters (the
gateway refuses more); messages and InMails are capped at the spec's 1,900.
"""

from __future__ import annotations

import msgspec

from sequences.model import (
    AcceptedConnection, AddToCampaign, ConnectionRequest, CustomCondition, Email, HasBeenContacted,
    InMail, LinkedInAttachment, LinkedInMessage, Node, Sequence, Task, VoiceMessage, children, describe,
)
from sequences.limits import (
    INMAIL_MAX_CHARS, INMAIL_SUBJECT_MAX_CHARS, LINE_MAX_CHARS, MAX_CHUNKS, MAX_STEPS, MAX_WITHIN_DAYS, MESSAGE_MAX_CHARS,
    NOTE_MAX_CHARS, TEXT_MAX_CHARS, delay_problem,
)
from sequences.render import is_known_variable, variables_in
from sequences.statuses import Substatus


class ValidationError(msgspec.Struct, frozen=True):
    """`message` is the whole sentence (CLI, launch checks); `short` the few
    words the tree editor shows on the step's row, with live character counts
    ("message too long 2,104/1,900", "missing subject")."""

    node: str | None
    message: str
    substatus: Substatus | None = None
    short: str = ""

    def __str__(self) -> str:
        return self.message


def _texts(node: Node) -> list[str]:
    if isinstance(node, ConnectionRequest):
        return [node.note]
    if isinstance(node, LinkedInMessage):
        return list(node.chunks)
    if isinstance(node, InMail):
        return [node.subject, node.body]
    if isinstance(node, LinkedInAttachment):
        return [node.text]
    if isinstance(node, Email):
        return [node.subject, node.body, node.html]
    if isinstance(node, Task):
        return [node.title, node.notes]
    return []


def _too_long(what: str, text: str, limit: int) -> str:
    return f"{what} too long {len(text):,}/{limit:,}"


def _content_errors(node: Node, first_email: bool) -> list[ValidationError]:
    where = describe(node)
    errors: list[ValidationError] = []

    def err(text: str, short: str, sub: Substatus | None = None) -> None:
        errors.append(ValidationError(node.id, f"{where}: {text}", sub, short))

    if isinstance(node, ConnectionRequest) and len(node.note) > NOTE_MAX_CHARS:
        err(f"the connection note has {len(node.note)} characters; LinkedIn allows {NOTE_MAX_CHARS}",
            _too_long("note", node.note, NOTE_MAX_CHARS), Substatus.MESSAGE_TOO_LONG)
    elif isinstance(node, LinkedInMessage):
        if not any(c.strip() for c in node.chunks):
            err("the message is empty; write at least one chunk", "empty message", Substatus.MISSING_LINKEDIN_MESSAGE)
        for i, chunk in enumerate(node.chunks, 1):
            if len(chunk) > MESSAGE_MAX_CHARS:
                what = "message" if len(node.chunks) == 1 else f"chunk {i}"
                err(f"chunk {i} has {len(chunk)} characters; the limit is {MESSAGE_MAX_CHARS}",
                    _too_long(what, chunk, MESSAGE_MAX_CHARS), Substatus.MESSAGE_TOO_LONG)
    elif isinstance(node, InMail):
        if not node.subject.strip():
            err("an InMail needs a subject", "missing subject", Substatus.MISSING_INMAIL_SUBJECT)
        elif len(node.subject) > INMAIL_SUBJECT_MAX_CHARS:
            err(f"the InMail subject has {len(node.subject)} characters; the limit is {INMAIL_SUBJECT_MAX_CHARS}",
                _too_long("subject", node.subject, INMAIL_SUBJECT_MAX_CHARS), Substatus.INMAIL_MESSAGE_TOO_LONG)
        if not node.body.strip():
            err("the InMail has no message", "empty message", Substatus.MISSING_INMAIL_MESSAGE)
        elif len(node.body) > INMAIL_MAX_CHARS:
            err(f"the InMail has {len(node.body)} characters; the limit is {INMAIL_MAX_CHARS}",
                _too_long("message", node.body, INMAIL_MAX_CHARS), Substatus.INMAIL_MESSAGE_TOO_LONG)
    elif isinstance(node, LinkedInAttachment):
        if not node.file.strip():
            err("choose the file to attach", "missing file")
        if len(node.text) > MESSAGE_MAX_CHARS:
            err(f"the message has {len(node.text)} characters; the limit is {MESSAGE_MAX_CHARS}",
                _too_long("message", node.text, MESSAGE_MAX_CHARS), Substatus.MESSAGE_TOO_LONG)
    elif isinstance(node, VoiceMessage) and not node.file.strip():
        err("choose the voice recording to send", "missing recording")
    elif isinstance(node, Email):
        if not node.body.strip() and not node.html.strip():
            err("the email is empty", "empty message", Substatus.EMPTY_MESSAGE)
        if first_email and not node.subject.strip():
            err("the first email of a path needs a subject (later ones may reply in its thread)",
                "missing subject", Substatus.MISSING_EMAIL_SUBJECT)
    elif isinstance(node, Task) and not node.title.strip():
        err("a task needs a title", "missing title")
    elif isinstance(node, Task) and node.due_days is not None and not 0 <= node.due_days <= 365:
        err("a task is due between 0 and 365 days after its step", "due in 0–365 days")
    elif isinstance(node, AddToCampaign) and not node.campaign.strip():
        err("choose the campaign to add the lead to", "missing campaign")
    elif isinstance(node, AcceptedConnection) and not 1 <= node.within_days <= 90:
        err("wait between 1 and 90 days for an acceptance", "within 1–90 days")
    elif isinstance(node, HasBeenContacted) and node.within_days is not None and node.within_days < 1:
        err("'within' must be at least one day", "within at least 1 day")
    elif isinstance(node, CustomCondition):
        if not node.field.strip():
            err("a custom condition needs a field", "missing field")
        if node.operator in ("greater_than", "less_than"):
            try:
                float(node.value)
            except ValueError:
                err(f"'{node.operator.replace('_', ' ')}' compares numbers; {node.value!r} is not a number", "value not a number")
    for text in _texts(node):
        for name in variables_in(text):
            if not is_known_variable(name):
                err(f"unknown variable {{{name}}} (contact fields, or {{custom.<field>}})", f"unknown variable {{{name}}}")
    return errors


#: Text fields that hold one line; every other text field may hold up to TEXT_MAX_CHARS.
_LONG_TEXTS = frozenset({"body", "html", "notes", "note", "text"})


def _bound_errors(node: Node) -> list[ValidationError]:
    """What no sequence may hold, not even a Draft being built: values outside the bounds of
    `sequences.limits` (a delay of 10^12 days overflows every date computed from it)."""
    where = describe(node) if len(node.id) <= LINE_MAX_CHARS else "a step"
    errors: list[ValidationError] = []

    def err(text: str, short: str) -> None:
        errors.append(ValidationError(node.id, f"{where}: {text}", Substatus.SYSTEM_ERROR, short))

    problem = delay_problem(node.delay.days, node.delay.hours)
    if problem is not None:
        err(problem, "delay out of range")
    within = getattr(node, "within_days", None)
    if within is not None and not -MAX_WITHIN_DAYS <= within <= MAX_WITHIN_DAYS:
        err(f"'within' can be at most {MAX_WITHIN_DAYS} days", f"within at most {MAX_WITHIN_DAYS} days")
    if isinstance(node, LinkedInMessage) and len(node.chunks) > MAX_CHUNKS:
        err(f"a message has at most {MAX_CHUNKS} chunks, not {len(node.chunks)}", f"more than {MAX_CHUNKS} chunks")
    for field in node.__struct_fields__:
        value = getattr(node, field)
        for text in value if isinstance(value, list) else [value]:
            limit = TEXT_MAX_CHARS if field in _LONG_TEXTS or field == "chunks" else LINE_MAX_CHARS
            if isinstance(text, str) and len(text) > limit:
                err(f"{field} has {len(text):,} characters; at most {limit:,} are kept", _too_long(field, text, limit))
    return errors


def node_errors(node: Node, *, first_email: bool = False) -> list[ValidationError]:
    """The content problems of one step on its own (the step form shows them as
    you type); `first_email` when the step is the first email of its path, which
    needs a subject."""
    return _bound_errors(node) + _content_errors(node, first_email)


def validate(seq: Sequence, *, content: bool = True) -> list[ValidationError]:
    """Every problem in the sequence; an empty list means it can be launched.

    `content=False` checks only that it is a tree (ids, pointers, reachability): what a
    Draft being edited must always be, while its steps may still be empty."""
    errors: list[ValidationError] = []
    if len(seq.nodes) > MAX_STEPS:
        return [ValidationError(None, f"a sequence has at most {MAX_STEPS} steps, not {len(seq.nodes):,}",
                                Substatus.SYSTEM_ERROR, "too many steps")]
    by_id: dict[str, Node] = {}
    for node in seq.nodes:
        errors.extend(_bound_errors(node))
        if node.id in by_id:
            errors.append(ValidationError(node.id, f"two steps share the id {node.id!r}", short="duplicate id"))
        by_id[node.id] = node
    if not seq.nodes:
        return [ValidationError(None, "the sequence has no steps", short="no steps yet")] if content else []
    if seq.start is None or seq.start not in by_id:
        return errors + [ValidationError(None, f"the sequence starts at {seq.start!r}, which is not a step", short="no start")]
    for node in seq.nodes:
        for child in children(node):
            if child is not None and child not in by_id:
                errors.append(ValidationError(node.id, f"{describe(node)}: points to {child!r}, which is not a step", short="points to a missing step"))
    # Walk the tree: each node reached once (a node reached twice is a cycle or a join).
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(seq.start, True)]
    while stack:
        node_id, first_email = stack.pop()
        if node_id in seen:
            errors.append(ValidationError(node_id, f"{describe(by_id[node_id])}: reached twice — a sequence is a tree, without loops or joins",
                                          short="reached twice"))
            continue
        seen.add(node_id)
        node = by_id[node_id]
        if content:
            errors.extend(_content_errors(node, first_email))
        still_first = first_email and not isinstance(node, Email)
        for child in children(node):
            if child is not None and child in by_id:
                stack.append((child, still_first))
    for node in seq.nodes:
        if node.id not in seen:
            errors.append(ValidationError(node.id, f"{describe(node)}: cannot be reached from the start", short="unreachable"))
    return errors
