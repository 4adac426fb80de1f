"""The import direction and the one-clock rule of DESIGN.md, checked on the source.

These rules are easy to break by accident (one convenient import), and
breaking them silently costs determinism (simulation) or responsiveness (a UI
stall in the runtime's loop), so they are enforced here rather than hoped for.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("sequences", "storage", "runtime", "tui", "cli")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module)
    return roots


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("package", ["sequences", "storage", "runtime"])
def test_core_layers_never_import_textual_or_the_tui(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imported_roots(path) if _top(n) in {"textual", "tui"})
        for path in _modules(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_sequences_is_pure() -> None:
    """sequences/ may use the standard library's pure parts and msgspec only: no I/O, no clock, no trio."""
    forbidden = {
        "sqlite3", "sqlite_utils", "trio", "httpx", "imapclient", "smtplib", "socket",
        "subprocess", "time", "storage", "runtime", "cli", "tui", "textual", "os", "pathlib",
        "random", "asyncio", "threading",
    }
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imported_roots(path) if _top(n) in forbidden)
        for path in _modules("sequences")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_storage_does_not_reach_up_into_the_runtime() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imported_roots(path) if _top(n) in {"runtime", "cli", "trio"})
        for path in _modules("storage")
    }
    # storage may read the one clock's wall_now() for CLI-facing helpers only
    # through an argument; it never imports the runtime package.
    assert {k: v for k, v in offenders.items() if v} == {}


def test_tui_never_calls_a_channel_driver() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imported_roots(path) if n.startswith("runtime.channels"))
        for path in _modules("tui")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


WALL_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
                    ("time", "time"), ("time", "monotonic"), ("time", "time_ns")}


def _wall_clock_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (owner_name, node.func.attr) in WALL_CLOCK_CALLS:
                lines.append(node.lineno)
    return lines


def test_only_the_clock_module_reads_wall_time() -> None:
    clock = ROOT / "runtime" / "clock.py"
    offenders = {}
    for package in ("sequences", "storage", "runtime", "tui"):
        for path in _modules(package):
            if path == clock:
                continue
            hits = _wall_clock_reads(path)
            if hits:
                offenders[str(path.relative_to(ROOT))] = hits
    assert offenders == {}


def test_the_clock_module_is_where_wall_time_is_read() -> None:
    """Guards the guard: the detector must see the one legitimate read."""
    assert _wall_clock_reads(ROOT / "runtime" / "clock.py")


def test_textual_is_not_loaded_by_importing_the_runtime() -> None:
    import subprocess

    code = (
        "import sys, importlib, pkgutil, runtime, storage, sequences\n"
        "for pkg in (runtime, storage, sequences):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print('textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
