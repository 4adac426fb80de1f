"""The channel packages are leaves: a channel records and sends, the runtime applies.

Inbound effects (a reply, a bounce, an unsubscribe) are applied by
runtime/inbound.py for every channel; a channel module that imported the
runtime's upper modules would be a helper climbing back into its caller, and
SQL in a channel would bypass storage/, which owns the schema. The import rule is
an import-linter contract (pyproject.toml, run by tests/test_architecture.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ROOT / "runtime" / "channels"
SQL = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|BEGIN)\b|\.execute\(|\.query\(")


def test_the_email_channel_and_the_inbound_path_hold_no_sql() -> None:
    files = [*sorted((CHANNELS / "email").rglob("*.py")), ROOT / "runtime" / "inbound.py",
             ROOT / "runtime" / "email_watchers.py"]
    offenders = {str(p.relative_to(ROOT)): [line.strip() for line in p.read_text(encoding="utf-8").splitlines()
                                            if SQL.search(line) and not line.lstrip().startswith("#")]
                 for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
