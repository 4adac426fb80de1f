"""How fast is `sequences.step`? `python -m bench.sequences_step [N]`

The 30-day simulation calls it for a million enrollments, several times each
(start, every completion, every timer), so this drives N leads through the
"LinkedIn + Email + Call" template with every job succeeding and prints
calls per second. No assertion: speed is reported, never tested.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

from sequences.step import ActionDone, Due, LeadFacts, Start, State, compile_sequence, step
from sequences.templates import find_template


def main(n: int = 20_000) -> None:
    compiled = compile_sequence(find_template("LinkedIn + Email + Call").sequence)
    lead = LeadFacts(first_name="Ann", company="Acme", email="ann@acme.test", linkedin_id="ACoAA1")
    t0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    calls = 0
    started = time.perf_counter()
    for _ in range(n):
        tr = step(compiled, State(), lead, Start(), t0)
        state, now = tr.state, t0
        calls += 1
        while state.status.value in ("in_progress", "not_started"):
            if state.phase == "queued":
                event = ActionDone(state.node, now)
            else:
                now = max(now, state.due_at)
                event = Due()
            state = step(compiled, state, lead, event, now).state
            calls += 1
    elapsed = time.perf_counter() - started
    print(f"{n} leads, {calls} step calls in {elapsed:.2f} s: {calls / elapsed:,.0f} calls/s, "
          f"{elapsed / n * 1e6:.0f} µs per lead; 1,000,000 leads ≈ {elapsed / n * 1e6 / 60:.1f} min")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
