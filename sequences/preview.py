"""What every step of a sequence would send to one lead, before launching.

The campaign wizard's preview (spec "Step 3 — AI Agent: Preview") and
`enginy campaigns preview` show each action rendered for a sample lead, and
say plainly which step would stop that lead and why (a variable without a
value, a note too long after personalisation …). It renders with exactly the
code the step function sends with, so the preview cannot drift from what
goes out.
"""

from __future__ import annotations

import msgspec

from sequences.model import Node, Sequence, children, describe, is_condition, kind_of
from sequences.render import PREVIEW_LEAD, LeadData
from sequences.statuses import Substatus
from sequences.step import LeadFacts, Payload, State, _payload, _Stop, ai_variables_of


class PreviewStep(msgspec.Struct, frozen=True):
    """One node of the tree as the lead would get it. `branch` is the path of
    condition answers leading here (e.g. ("has_li: yes", "is_conn: no"))."""

    node: str
    label: str
    kind: str
    branch: tuple[str, ...]
    payload: Payload | None = None
    error: Substatus | None = None
    detail: str = ""


def preview(seq: Sequence, lead: LeadData = PREVIEW_LEAD) -> list[PreviewStep]:
    """Every node in tree order (yes before no), actions rendered for `lead`.

    Conditions are listed without being evaluated (all paths are shown); the
    sequence is expected to be valid (`validate`), unknown pointers are skipped."""
    facts = lead if isinstance(lead, LeadFacts) else LeadFacts(**msgspec.structs.asdict(lead))
    by_id = {n.id: n for n in seq.nodes}
    out: list[PreviewStep] = []
    # (node id, branch path, last email id on the path); a stack walks yes before no.
    stack: list[tuple[str | None, tuple[str, ...], str | None]] = [(seq.start, (), None)]
    seen: set[str] = set()
    while stack:
        node_id, branch, last_email = stack.pop()
        if node_id is None or node_id not in by_id or node_id in seen:
            continue
        seen.add(node_id)
        node: Node = by_id[node_id]
        if is_condition(node):
            out.append(PreviewStep(node.id, describe(node), kind_of(node), branch))
            yes, no = children(node)
            stack.append((no, branch + (f"{node.id}: no",), last_email))
            stack.append((yes, branch + (f"{node.id}: yes",), last_email))
            continue
        # AI variables are written per lead when sent: the preview shows them as written in the step
        ai = {name: f"{{ai: {name}}}" for name in ai_variables_of(node)}
        try:
            payload = _payload(node, msgspec.structs.replace(facts, ai=ai) if ai else facts,
                               State(last_email_node=last_email))
            out.append(PreviewStep(node.id, describe(node), kind_of(node), branch, payload=payload))
        except _Stop as stop:
            out.append(PreviewStep(node.id, describe(node), kind_of(node), branch, error=stop.substatus, detail=stop.detail))
        stack.append((node.next, branch, node.id if kind_of(node) == "email" else last_email))  # type: ignore[union-attr]
    return out
