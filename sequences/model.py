"""The sequence tree: actions and conditions, each a node with a stable id.

A sequence is stored flat (`nodes` + `start`) so nodes keep their ids while
the tree is edited; pointers (`next`, `yes`, `no`) make it a tree, and
`validate` checks that it really is one. `None` as a pointer means "end".
Every node carries the delay that must pass, after the previous action
completed, before it runs ("as soon as possible" = zero).

All structs are msgspec tagged unions (tag field `kind`), so a sequence
round-trips through JSON exactly and has a JSON Schema (`sequence_schema`).
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Literal, Union

import msgspec

from sequences.inert import inert


class Reaction(enum.StrEnum):
    """The reactions of "React to Last Post"; a step may also ask for `MOST_REACTED`."""

    LIKE = "like"
    CELEBRATE = "celebrate"
    SUPPORT = "support"
    LOVE = "love"
    INSIGHTFUL = "insightful"
    FUNNY = "funny"


#: "Most Reacted": the reaction the post received most (the driver is asked with None).
MOST_REACTED = "most_reacted"
REACTIONS = (*(r.value for r in Reaction), MOST_REACTED)
OPERATORS = (
    "equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with",
    "is_empty", "is_not_empty", "greater_than", "less_than",
)


class Delay(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Wait before a node runs, counted from the completion of the previous action."""

    days: int = 0
    hours: int = 0

    @property
    def asap(self) -> bool:
        return self.days == 0 and self.hours == 0

    def as_timedelta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)

    def label(self) -> str:
        if self.asap:
            return "as soon as possible"
        parts = [f"{self.days} day{'s' * (self.days != 1)}"] if self.days else []
        parts += [f"{self.hours} hour{'s' * (self.hours != 1)}"] if self.hours else []
        return "wait " + " ".join(parts)


ASAP = Delay()


class _Node(msgspec.Struct, tag_field="kind", kw_only=True, frozen=True, forbid_unknown_fields=True):
    id: str
    delay: Delay = ASAP


class _Action(_Node, kw_only=True, frozen=True):
    next: str | None = None


class _Condition(_Node, kw_only=True, frozen=True):
    yes: str | None = None
    no: str | None = None


# --- actions -----------------------------------------------------------------


class VisitProfile(_Action, tag="visit_profile", frozen=True):
    pass


class ReactToPost(_Action, tag="react_to_post", frozen=True):
    reaction: Literal[REACTIONS] = "like"  # type: ignore[valid-type]


class ConnectionRequest(_Action, tag="connection_request", frozen=True):
    note: str = ""


class LinkedInMessage(_Action, tag="linkedin_message", frozen=True):
    """Several short chunks are sent one after another, like a real chat."""

    chunks: list[str] = msgspec.field(default_factory=list)


class InMail(_Action, tag="inmail", frozen=True):
    subject: str = ""
    body: str = ""


class LinkedInAttachment(_Action, tag="linkedin_attachment", frozen=True):
    text: str = ""
    file: str = ""


class VoiceMessage(_Action, tag="voice_message", frozen=True):
    file: str = ""


class Email(_Action, tag="email", frozen=True):
    """An empty subject on a follow-up means "reply in the same thread"."""

    subject: str = ""
    body: str = ""
    html: str = ""


class Task(_Action, tag="task", frozen=True):
    """`due_days`: the task is due this many days after the step runs (None: no due date)."""

    title: str = ""
    notes: str = ""
    task_type: Literal["call", "todo", "linkedin", "email", "other"] = "todo"
    due_days: int | None = None


class AddToCampaign(_Action, tag="add_to_campaign", frozen=True):
    campaign: str = ""


# --- conditions --------------------------------------------------------------


class AcceptedConnection(_Condition, tag="accepted_connection", frozen=True):
    """Yes once the lead accepts; No when `within_days` pass after the invitation."""

    within_days: int = 7


class IsConnection(_Condition, tag="is_connection", frozen=True):
    pass


class HasBeenContacted(_Condition, tag="has_been_contacted", frozen=True):
    by: Literal["any_identity", "this_identity"] = "any_identity"
    within_days: int | None = None
    channel: Literal["any", "linkedin", "email"] = "any"


class HasLinkedInProfile(_Condition, tag="has_linkedin_profile", frozen=True):
    """Checks the LinkedIn profile *id*, not the URL (spec)."""


class HasProfessionalEmail(_Condition, tag="has_professional_email", frozen=True):
    pass


class HasMobilePhone(_Condition, tag="has_mobile_phone", frozen=True):
    pass


class CustomCondition(_Condition, tag="custom", frozen=True):
    field: str = ""
    operator: Literal[
        "equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with",
        "is_empty", "is_not_empty", "greater_than", "less_than",
    ] = "equals"
    value: str = ""


Action = Union[
    VisitProfile, ReactToPost, ConnectionRequest, LinkedInMessage, InMail,
    LinkedInAttachment, VoiceMessage, Email, Task, AddToCampaign,
]
Condition = Union[
    AcceptedConnection, IsConnection, HasBeenContacted, HasLinkedInProfile,
    HasProfessionalEmail, HasMobilePhone, CustomCondition,
]
Node = Union[Action, Condition]
ACTION_TYPES: tuple[type, ...] = Action.__args__  # type: ignore[attr-defined]
CONDITION_TYPES: tuple[type, ...] = Condition.__args__  # type: ignore[attr-defined]


class Sequence(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start: str | None = None
    nodes: list[Node] = msgspec.field(default_factory=list)


def is_condition(node: Node) -> bool:
    return isinstance(node, CONDITION_TYPES)


def children(node: Node) -> tuple[str | None, ...]:
    return (node.yes, node.no) if is_condition(node) else (node.next,)


# --- what each action is, for the runtime and the metrics ---------------------

#: channel of each action kind: "linkedin" and "email" go through an identity's
#: queues; "task" and "internal" run at once.
CHANNEL = {
    "visit_profile": "linkedin", "react_to_post": "linkedin", "connection_request": "linkedin",
    "linkedin_message": "linkedin", "inmail": "linkedin", "linkedin_attachment": "linkedin",
    "voice_message": "linkedin", "email": "email", "task": "task", "add_to_campaign": "internal",
}

#: the rate-limit bucket each action spends (spec: "LinkedIn actions that can be rate-limited").
BUCKET = {
    "visit_profile": "profile_visit", "react_to_post": "post_reaction",
    "connection_request": "connection_request", "linkedin_message": "message",
    "inmail": "inmail", "linkedin_attachment": "message", "voice_message": "message",
    "email": "email",
}

#: actions that deliver a message to the lead: they make a lead "Contacted"
#: and, on LinkedIn, deepen the conversation (queue order: message depth first).
MESSAGE_KINDS = frozenset({"linkedin_message", "inmail", "linkedin_attachment", "voice_message", "email"})

LABEL = {
    "visit_profile": "Visit profile", "react_to_post": "React to last post",
    "connection_request": "Send LinkedIn connection", "linkedin_message": "LinkedIn message",
    "inmail": "LinkedIn InMail", "linkedin_attachment": "LinkedIn attachment",
    "voice_message": "LinkedIn voice message", "email": "Email", "task": "Task",
    "add_to_campaign": "Add to another campaign",
    "accepted_connection": "Accepted LinkedIn connection", "is_connection": "Is already a connection",
    "has_been_contacted": "Has been contacted", "has_linkedin_profile": "Has LinkedIn profile",
    "has_professional_email": "Has professional email", "has_mobile_phone": "Has mobile phone",
    "custom": "Custom condition",
}


def kind_of(node: Node) -> str:
    return node.__struct_config__.tag  # type: ignore[attr-defined]


def channel_of(node: Node) -> str:
    """"linkedin" | "email" | "task" | "internal"; conditions are "internal" (they run at once)."""
    return CHANNEL.get(kind_of(node), "internal")


def bucket_of(node: Node) -> str | None:
    """The rate-limit bucket the node spends (profile_visit, post_reaction,
    connection_request, message, inmail, email), None if it spends none."""
    return BUCKET.get(kind_of(node))


def counts_as_message(node: Node) -> bool:
    """True for actions that deliver a message: they make the lead "Contacted"
    and deepen its message depth (the LinkedIn queue's first ordering key)."""
    return kind_of(node) in MESSAGE_KINDS


def settings(node: Node) -> str:
    """What tells this step from another of its kind: a condition's settings, an email's subject."""
    if isinstance(node, AcceptedConnection):
        return f"within {node.within_days} day{'s' * (node.within_days != 1)}"
    if isinstance(node, HasBeenContacted):
        who = "by this identity" if node.by == "this_identity" else "by any identity"
        where = "" if node.channel == "any" else f" on {'LinkedIn' if node.channel == 'linkedin' else 'email'}"
        days = node.within_days
        when = "" if days is None else f" within {days} day{'s' * (days != 1)}"
        return f"{who}{where}{when}"
    if isinstance(node, (Email, InMail)) and node.subject:
        return f"“{node.subject[:40]}”"
    if isinstance(node, Task) and node.title:
        return f"“{node.title[:40]}”"
    if isinstance(node, CustomCondition):
        return f"{node.field[:40]} {node.operator.replace('_', ' ')} {node.value[:40]}".strip()
    return ""


def describe(node: Node) -> str:
    """A short human label naming the node, used in errors and the tree editor."""
    extra = settings(node)
    return inert(f"step {node.id[:40]} ({LABEL[kind_of(node)]}{' ' + extra if extra else ''})")


def step_names(seq: Sequence, order: list[Node] | None = None) -> dict[str, str]:
    """Each step's name as the app shows it wherever steps are listed or chosen: its kind,
    numbered when the kind repeats ("Email 2"), and its settings ("Email 2 · “Re: pricing”",
    "Accepted LinkedIn connection · within 7 days"). `order`: the nodes in the order they are
    numbered (default: as stored)."""
    nodes = order if order is not None else list(seq.nodes)
    repeated = {k for k in {kind_of(n) for n in nodes} if sum(kind_of(m) == k for m in nodes) > 1}
    seen: dict[str, int] = {}
    names = {}
    for node in nodes:
        kind = kind_of(node)
        name = LABEL[kind]
        if kind in repeated:
            seen[kind] = seen.get(kind, 0) + 1
            name += f" {seen[kind]}"
        extra = settings(node)
        names[node.id] = f"{name} · {extra}" if extra else name
    return names


def to_json(seq: Sequence) -> bytes:
    return msgspec.json.encode(seq)


def from_json(data: bytes | str) -> Sequence:
    """Decode a sequence; raises msgspec.ValidationError / DecodeError naming the path."""
    return msgspec.json.decode(data, type=Sequence)


def sequence_schema() -> dict:
    return msgspec.json.schema(Sequence)
