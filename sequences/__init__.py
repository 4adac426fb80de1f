"""The pure domain of enginy: sequences, their rules and their vocabulary.

No I/O and no clock reads live here (a test enforces it), so the runtime,
the simulator and the TUI all share one definition of how a lead moves.

- `model`: the sequence tree (`Sequence`, action and condition nodes, `Delay`)
- `validate`: `validate(seq) -> list[ValidationError]`
- `render`: personalisation (`render`, `LeadData`, `MissingVariable`, `chunk_message`)
- `preview`: `preview(seq, lead=PREVIEW_LEAD) -> list[PreviewStep]` (each action rendered, or why it would stop)
- `templates`: the built-in templates (`BUILTIN_TEMPLATES`, `find_template`, `save_as_template`)
- `statuses`: lead statuses/substatuses, campaign statuses, priorities
- `step`: `step(seq_or_compiled, state, lead, event, now) -> Transition`; events
  `Start Due ActionDone ActionFailed Replied Bounced OutOfOffice Accepted
  InvitationWithdrawn Paused Resumed Removed Blocked Retry`; see `sequences.step`.

How the runtime drives one enrollment: keep its `State` (a frozen msgspec
Struct, JSON-storable); on `Start`, each job result (`ActionDone` /
`ActionFailed`), each watcher signal and each timer (`Due` when
`now >= state.due_at`) call `step` and store the new state; run the
`Transition.jobs` (at most one per call) under the idempotency key
(enrollment id, `job.node`, `job.attempt`). A lead with `phase == "queued"`
has its job out and no timer; finished/replied leads have neither.
"""

from sequences.model import Delay, Sequence, from_json, sequence_schema, to_json
from sequences.model import bucket_of, channel_of, counts_as_message
from sequences.preview import PreviewStep, preview
from sequences.render import PREVIEW_LEAD, LeadData, MissingVariable, chunk_message, render
from sequences.statuses import CampaignStatus, LeadStatus, Priority, Substatus
from sequences.step import (
    Accepted, ActionDone, ActionFailed, Blocked, Bounced, Compiled, Contact, Due, Event,
    InvitationWithdrawn, Job, LeadFacts, LogEntry, OutOfOffice, Paused, Payload, Removed, Replied,
    Resumed, Retry, Start, State, Transition, compile_sequence, compiled_for, step,
)
from sequences.templates import BUILTIN_TEMPLATES, Template, find_template, save_as_template
from sequences.validate import ValidationError, validate

__all__ = [
    "Accepted", "ActionDone", "ActionFailed", "Blocked", "Bounced", "Contact", "Due", "Event",
    "InvitationWithdrawn", "LogEntry", "OutOfOffice", "Paused", "Payload", "Removed", "Replied",
    "Resumed", "Retry", "Start", "compiled_for",
    "bucket_of", "channel_of", "counts_as_message", "PreviewStep", "preview", "PREVIEW_LEAD", "chunk_message",
    "BUILTIN_TEMPLATES", "CampaignStatus", "Compiled", "Delay", "Job", "LeadData", "LeadFacts",
    "LeadStatus", "MissingVariable", "Priority", "Sequence", "State", "Substatus", "Template",
    "Transition", "ValidationError", "compile_sequence", "find_template", "from_json", "render",
    "save_as_template", "sequence_schema", "step", "to_json", "validate",
]
