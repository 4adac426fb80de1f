"""The tree editor's redraw cost on a 200-step sequence: `rows()`, and an apply + rows cycle.

python -m bench.sequences_editing  (figures only; the issue's budget is 50 ms for both)
"""

from __future__ import annotations

import time

from sequences.editing import EditorState, Insert, SetDelay, rows
from sequences.model import Delay, Sequence


def two_hundred_steps() -> Sequence:
    """Chains of messages and emails under conditions: 200 steps, branchy like a real campaign."""
    state = EditorState.open(Sequence())
    anchor: tuple[str | None, str] = (None, "after")
    while len(state.sequence.nodes) < 200:
        state = state.apply(Insert(kind="has_professional_email", anchor=anchor[0], where=anchor[1]))
        cond = state.focus
        state = state.apply(Insert(kind="email", anchor=cond, where="no"))
        for kind in ("linkedin_message", "email", "linkedin_message"):
            state = state.apply(Insert(kind=kind, anchor=state.focus, where="after"))
        anchor = (cond, "yes")
    return state.sequence


def timed(label: str, fn, repeat: int = 200) -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    print(f"{label:<40} {(time.perf_counter() - start) / repeat * 1000:8.3f} ms")


def main() -> None:
    seq = two_hundred_steps()
    print(f"{len(seq.nodes)} steps, {len(rows(seq))} rows")
    timed("rows()", lambda: rows(seq))
    state = EditorState.open(seq)
    last = seq.nodes[-1].id
    days = iter(range(10**9))
    timed("apply(SetDelay) + rows()", lambda: rows(state.apply(SetDelay(node=last, delay=Delay(days=next(days) % 9))).sequence))
    timed("apply(Insert) + rows()", lambda: rows(state.apply(Insert(kind="task", anchor=seq.start, where="before")).sequence))


if __name__ == "__main__":
    main()
