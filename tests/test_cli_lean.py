"""The CLI starts lean: `enginy --help` lists every command from cli/main.py's table, that
table says what the modules say, and importing the root loads none of the heavy packages
(a command that needs them imports them itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import COMMANDS, load_command

ROOT = Path(__file__).resolve().parent.parent
ENGINY = [sys.executable, "-c", "from cli.main import run; run()"]
HEAVY = ("trio", "httpx", "textual", "imapclient", "flufl", "keyring", "rich", "sqlite_utils", "runtime.engine",
         "pydantic")


def _enginy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ENGINY, *args], capture_output=True, text=True, cwd=ROOT)


def test_help_lists_every_command_with_its_one_line_help() -> None:
    out = _enginy("--help")
    assert out.returncode == 0, out.stderr
    listed = out.stdout.split("Commands:", 1)[1].splitlines()
    names = [line.split()[0] for line in listed if line.strip()]
    assert names == list(COMMANDS)
    for line in listed:
        if line.strip():
            name, short = line.split(None, 1)
            assert COMMANDS[name][2].startswith(short.rstrip(".").rstrip()), (name, short)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_says_what_each_module_says(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    first_paragraph = " ".join(command.help.split("\n\n")[0].split())
    assert first_paragraph == COMMANDS[name][2]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_has_its_own_help(name: str) -> None:
    out = _enginy(name, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: ") and f" {name} " in out.stdout.splitlines()[0]


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_importing_the_root_loads_no_heavy_package() -> None:
    assert _heavy(_loaded_after("import cli.main")) == []


def test_the_root_help_loads_no_command_module() -> None:
    loaded = _loaded_after("from cli.main import run\ntry:\n    sys.argv = ['enginy', '--help']; run()\n"
                           "except SystemExit:\n    pass")
    assert _heavy(loaded) == []
    assert [m for m in loaded if m.startswith("cli.") and m not in ("cli.main", "cli.output")] == []


def test_a_workspace_command_loads_neither_the_runtime_nor_the_tui(tmp_path: Path) -> None:
    assert _enginy("--workspace", str(tmp_path), "init").returncode == 0
    loaded = _loaded_after(f"from cli.main import run\ntry:\n    sys.argv = ['enginy', '--workspace', {str(tmp_path)!r},"
                           " 'campaigns', 'list', '--json']; run()\nexcept SystemExit:\n    pass")
    assert [m for m in loaded if m.split(".")[0] in ("trio", "httpx", "textual", "imapclient", "tui", "pydantic")
            or m.startswith("runtime.") and m != "runtime.clock"] == []
