"""The channel packages are leaves: a channel records and sends, the runtime applies.

Inbound effects (a reply, a bounce, an unsubscribe) are applied by
runtime/inbound.py for every channel; a channel module that imported the
runtime's upper modules would be a helper climbing back into its caller, and
SQL in a channel would bypass storage/, which owns the schema."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ROOT / "runtime" / "channels"
UPPER = ("runtime.inbound", "runtime.leads", "runtime.actors", "runtime.engine", "runtime.email_watchers")
SQL = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|BEGIN)\b|\.execute\(|\.query\(")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_channel_module_imports_the_runtime_above_it() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _imports(p) if n.startswith(UPPER))
                 for p in CHANNELS.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_email_channel_and_the_inbound_path_hold_no_sql() -> None:
    files = [*sorted((CHANNELS / "email").rglob("*.py")), ROOT / "runtime" / "inbound.py",
             ROOT / "runtime" / "email_watchers.py"]
    offenders = {str(p.relative_to(ROOT)): [line.strip() for line in p.read_text(encoding="utf-8").splitlines()
                                            if SQL.search(line) and not line.lstrip().startswith("#")]
                 for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
