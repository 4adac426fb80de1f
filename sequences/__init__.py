"""The pure domain of enginy: sequences, their rules and their vocabulary.

Import the modules themselves (`from sequences.step import step`): this package
re-exports nothing, so importing one of them does not load the others.

No I/O and no clock reads live here (a test enforces it), so the runtime,
the simulator and the TUI all share one definition of how a lead moves.

- `model`: the sequence tree (`Sequence`, action and condition nodes, `Delay`)
- `validate`: `validate(seq) -> list[ValidationError]`
- `render`: personalisation (`render`, `LeadData`, `MissingVariable`, `chunk_message`)
- `preview`: `preview(seq, lead=PREVIEW_LEAD) -> list[PreviewStep]` (each action rendered, or why it would stop)
- `templates`: the built-in templates (`BUILTIN_TEMPLATES`, `find_template`, `save_as_template`)
- `statuses`: lead statuses/substatuses, campaign statuses, priorities
- `lock`: what may change in a launched campaign's sequence (`locked_changes`, `lock_message`)
- `editing`: the sequence tree editor's pure core (commands, undo/redo, the rows it draws)
- `limits`: every limit of the spec (content lengths, caps with defaults and maxima)
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
