"""What may change in the sequence of a launched campaign.

Spec ("Editing an Active Campaign"): once launched, the sequence is locked —
no step added or removed. Delays and message texts may still change, and only
future steps see the change (leads already waiting keep their scheduled time;
done actions are history). So a launched sequence may differ from the stored
one only in:

* a node's `delay`, and the acceptance timeout (`within_days` of "Accepted
  LinkedIn connection", the invitation's waiting time);
* the text fields of message steps (connection note, message chunks, InMail
  subject/body, attachment text, email subject/body/html, task title/notes).

Everything else — the set of node ids, each node's kind, the tree's pointers,
the start, reactions, files, condition fields — is structure, and a change
there is refused with a message naming the step.

Pure, so the store (`storage.campaigns.edit_sequence`) and the sequence
editor (`sequences.editing`) refuse the same changes with the same words.
"""

from __future__ import annotations

import msgspec

from sequences.model import Sequence, describe, kind_of

EDITABLE_FIELDS: dict[str, frozenset[str]] = {
    "connection_request": frozenset({"note"}),
    "linkedin_message": frozenset({"chunks"}),
    "inmail": frozenset({"subject", "body"}),
    "linkedin_attachment": frozenset({"text"}),
    "email": frozenset({"subject", "body", "html"}),
    "task": frozenset({"title", "notes"}),
    "accepted_connection": frozenset({"within_days"}),
}
ALWAYS_EDITABLE = frozenset({"delay"})

HINT = "a launched campaign's steps are locked; duplicate it and edit the copy to change the flow"


def lock_message(problems: list[str]) -> str:
    """The one-line refusal for `locked_changes`' problems, shared by the store and the editor."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{problems[0]}{more} — {HINT}"


def locked_changes(old: Sequence, new: Sequence) -> list[str]:
    """Why `new` cannot replace `old` in a launched campaign; [] when only delays and texts changed."""
    problems: list[str] = []
    before = {n.id: n for n in old.nodes}
    after = {n.id: n for n in new.nodes}
    # In the sequences' own order (not a set's), so the refusal reads the same every time.
    problems += [f"{describe(n)} was removed" for n in old.nodes if n.id not in after]
    problems += [f"{describe(n)} was added" for n in new.nodes if n.id not in before]
    if old.start != new.start:
        problems.append(f"the sequence now starts at {new.start!r} instead of {old.start!r}")
    for node_id in sorted(before.keys() & after.keys()):
        a, b = before[node_id], after[node_id]
        if kind_of(a) != kind_of(b):
            problems.append(f"{describe(a)} became {describe(b)}")
            continue
        allowed = ALWAYS_EDITABLE | EDITABLE_FIELDS.get(kind_of(a), frozenset())
        fa, fb = msgspec.structs.asdict(a), msgspec.structs.asdict(b)
        changed = sorted(f for f in fa if f not in allowed and fa[f] != fb[f])
        if changed:
            problems.append(f"{describe(a)}: {', '.join(changed)} cannot change")
    return problems
