"""The import direction and the one-clock rule of DESIGN.md, checked on the source.

The import direction is import-linter's contracts in pyproject.toml; this module runs
the tool (and shows it fails on a forbidden import) and checks what it cannot see:
wall-clock reads, and what importing the core layers loads.

These rules are easy to break by accident (one convenient import), and
breaking them silently costs determinism (simulation) or responsiveness (a UI
stall in the runtime's loop), so they are enforced here rather than hoped for.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("sequences", "storage", "runtime", "tui", "cli")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the tree at `root` with the contracts of its pyproject.toml."""
    tool = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(tool), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_the_import_contracts_of_pyproject_hold() -> None:
    """The layers of docs/architecture.md, checked by import-linter (indirect imports included)."""
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_forbidden_import_breaks_a_contract(tmp_path: Path) -> None:
    """Guards the guard: the same tool on a copy of the tree where storage reaches up into the runtime."""
    for item in ("pyproject.toml", *LAYERS):
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, tmp_path / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / item)
    with (tmp_path / "storage" / "db.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom runtime import clock  # noqa: E402,F401\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "storage never imports the runtime, the app or the CLI, nor Textual or Trio BROKEN" in result.stdout
    assert "storage.db -> runtime.clock" in result.stdout


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
    code = (
        "import sys, importlib, pkgutil, runtime, storage, sequences\n"
        "for pkg in (runtime, storage, sequences):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print('textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


SQL_TEXT = re.compile(  # a statement as this project writes them: upper-case keywords with their syntax
    r"^\s*(SELECT\b.*\bFROM\b|SELECT \d|INSERT (OR \w+ )?INTO\b|UPDATE \w+ SET\b|DELETE FROM\b|REPLACE INTO\b"
    r"|CREATE (UNIQUE )?(TABLE|INDEX|TRIGGER|VIEW|VIRTUAL)\b|DROP (TABLE|INDEX|TRIGGER|VIEW)\b|ALTER TABLE\b"
    r"|PRAGMA \w|WITH \w+ AS\b|BEGIN( IMMEDIATE| TRANSACTION|$))", re.S)
DB_CALLS = {"execute", "executemany", "executescript"}


def _sql_outside_storage(path: Path) -> list[int]:
    """Lines holding an SQL statement's text or a database call (Textual's `query` is not one)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant) \
                and SQL_TEXT.match(str(node.values[0].value)):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DB_CALLS:
            lines.append(node.lineno)
    return sorted(set(lines))


def test_storage_owns_every_sql_statement() -> None:
    """A schema change touches storage/ alone: no statement and no database call in the other layers."""
    offenders = {}
    for package in ("sequences", "runtime", "tui", "cli"):
        for path in _modules(package):
            hits = _sql_outside_storage(path)
            if hits:
                offenders[str(path.relative_to(ROOT))] = hits
    assert offenders == {}


def test_the_sql_detector_sees_statements() -> None:
    """Guards the guard: storage's own modules are full of what the detector looks for."""
    assert _sql_outside_storage(ROOT / "storage" / "outbox.py")
    assert _sql_outside_storage(ROOT / "storage" / "lanes.py")
