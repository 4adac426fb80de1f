"""Named points of a send where the crash matrix kills the runtime (kill -9: no cleanup, no flush).

SQLite's own crash tests kill a writer at its N-th write; ours kill the runtime at
the N-th time it reaches one of these points, through the environment of the
process under test — `ENGINY_CRASH_AT=<point>` and `ENGINY_CRASH_AFTER=<N>`
(default 1). Without them (every real run) `reached` is a set lookup and nothing
else. The points, in the order a send passes them:

- `claimed`: the claim is committed (the row is `sending`, its key or Message-ID
  and the ledger entry stored) and nothing has gone out yet;
- `email.accepted`: the SMTP server answered 250 to DATA; the copy for the Sent
  folder is not filed yet;
- `performed`: the channel answered (the mail is filed in Sent, the gateway
  replied); the outcome is not recorded;
- `settled`: the outcome and the lead's next step are committed.

bench/crash_matrix.py and tests/test_crash_matrix.py drive them.
"""

from __future__ import annotations

import os
import signal

POINTS = ("claimed", "email.accepted", "performed", "settled")

_AT = os.environ.get("ENGINY_CRASH_AT", "")
_AFTER = int(os.environ.get("ENGINY_CRASH_AFTER", "1") or 1)
_hits = 0


def reached(point: str) -> None:
    """Kill this process here if the crash matrix asked for this point (and this is its N-th time)."""
    global _hits
    if point != _AT:
        return
    _hits += 1
    if _hits >= _AFTER:
        os.kill(os.getpid(), signal.SIGKILL)
