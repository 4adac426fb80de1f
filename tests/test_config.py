"""enginy.toml and the workspace: every kind of damage gets one line naming the field and line.

The CLI checks run the real `enginy` entry point in a subprocess, so "never a
traceback, exit 2" is tested where the user meets it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.config import DEFAULT_TOML, Config, ConfigError, parse_config
from storage.workspace import CONFIG_NAME, WorkspaceError, init_workspace, open_workspace, resolve_workspace_dir

ROOT = Path(__file__).resolve().parent.parent
ENGINY = [sys.executable, "-c", "from cli.main import run; run()"]


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_default_file_is_the_repo_example_and_decodes_to_the_defaults():
    assert (ROOT / "enginy.toml").read_text(encoding="utf-8") == DEFAULT_TOML
    config = parse_config(DEFAULT_TOML)
    assert config == parse_config("") == Config()
    assert (config.email.per_day, config.email.per_hour) == (30, 5)
    assert (config.linkedin.daily_connection_requests, config.linkedin.daily_messages) == (20, 100)
    assert config.secrets.backend == "keyring"


def test_a_full_valid_file_is_read():
    config = parse_config(
        'name = "Acme"\nuser = "lucia"\n[working_hours]\ntimezone = "Europe/Madrid"\ndays = ["mon", "sat"]\n'
        'start = "08:30"\nend = "17:00"\n[email]\nper_day = 80\nper_hour = 10\n'
        '[secrets]\nbackend = "file"\nfile = "secrets"\n[tracking]\nbase_url = "https://t.acme.io"\n'
    )
    assert config.user == "lucia" and config.working_hours.timezone == "Europe/Madrid"
    assert config.email.per_day == 80 and config.secrets.backend == "file"


def test_unknown_field_names_the_field_and_its_line():
    assert _error('name = "x"\n\n[email]\nper_day = 30\nper_dya = 3\n') == (
        "field `email.per_dya` (line 5): unknown setting (check its spelling)"
    )


def test_unknown_table_names_its_header_line():
    assert _error('name = "x"\n[emial]\nper_day = 30\n').startswith("field `emial` (line 2)")


def test_wrong_type_names_the_field_and_line():
    message = _error('[email]\nper_day = "thirty"\n')
    assert message.startswith("field `email.per_day` (line 2)") and "int" in message


@pytest.mark.parametrize(
    "text, field, line",
    [
        ("[email]\nper_day = 81\n", "email.per_day", 2),
        ("[email]\nper_hour = 11\n", "email.per_hour", 2),
        ("[email]\n\nper_hour = 0\n", "email.per_hour", 3),
        ("[linkedin]\ndaily_connection_requests = 500\n", "linkedin.daily_connection_requests", 2),
    ],
)
def test_out_of_range_names_the_bounds(text, field, line):
    message = _error(text)
    assert message.startswith(f"field `{field}` (line {line}): must be between")


def test_invalid_toml_syntax_names_the_line():
    message = _error('name = "x"\n[email\nper_day = 3\n')
    assert message.startswith("not valid TOML") and "line 2" in message


def test_unknown_time_zone():
    message = _error('[working_hours]   # comment\ntimezone = "Mars/Olympus"\n')
    assert message.startswith("field `working_hours.timezone` (line 2): unknown time zone 'Mars/Olympus'")


def test_bad_working_hours():
    assert "days are" in _error('[working_hours]\ndays = ["mon", "funday"]\n')
    assert "end after it starts" in _error('[working_hours]\nstart = "18:00"\nend = "09:00"\n')
    assert "09:00" in _error('[working_hours]\nstart = "9am"\n')


@pytest.mark.parametrize("key", ["password", "smtp_password", "api_key", "apikey", "token", "client_secret"])
def test_secrets_are_refused_wherever_they_appear(key):
    for text, field in ((f'{key} = "x"\n', key), (f'[email]\n{key} = "x"\n', f"email.{key}")):
        message = _error(text)
        assert message.startswith(f"field `{field}`") and "secrets never go in enginy.toml" in message


def test_secrets_backend_settings_are_not_mistaken_for_secrets():
    assert parse_config('[secrets]\nbackend = "file"\nfile = "s"\n').secrets.file == "s"
    assert "keyring" in _error('[secrets]\nbackend = "vault"\n')


def test_database_must_stay_inside_the_workspace():
    assert "inside the workspace" in _error('database = "../other.db"\n')


# -- workspace --------------------------------------------------------------------


def test_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv("ENGINY_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    chosen = tmp_path / "chosen"
    assert resolve_workspace_dir(chosen) == chosen
    monkeypatch.setenv("ENGINY_HOME", str(tmp_path / "env"))
    assert resolve_workspace_dir(chosen) == chosen
    assert resolve_workspace_dir(None) == tmp_path / "env"
    monkeypatch.delenv("ENGINY_HOME")
    (tmp_path / CONFIG_NAME).write_text("")
    assert resolve_workspace_dir(None) == tmp_path
    (tmp_path / CONFIG_NAME).unlink()
    assert resolve_workspace_dir(None).name == "enginy"  # the platform's user data folder


def test_open_missing_workspace_says_run_init(tmp_path):
    with pytest.raises(WorkspaceError, match="no workspace at .* run `enginy init`"):
        open_workspace(tmp_path / "nowhere")


def test_init_creates_config_and_private_database_and_refuses_to_overwrite(tmp_path):
    workspace = init_workspace(tmp_path / "ws")
    assert workspace.config_path.read_text() == DEFAULT_TOML
    assert workspace.db_path.exists() and (workspace.db_path.stat().st_mode & 0o777) == 0o600
    (workspace.config_path).write_text(DEFAULT_TOML + "\n# mine\n")
    with pytest.raises(WorkspaceError, match="already holds a workspace"):
        init_workspace(tmp_path / "ws")
    assert workspace.config_path.read_text().endswith("# mine\n")


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "ENGINY_HOME"} | (env or {})
    return subprocess.run([*ENGINY, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60)


def test_cli_init_json_then_refusal(tmp_path):
    done = _cli("--workspace", str(tmp_path / "ws"), "init", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert Path(out["config"]).read_text() == DEFAULT_TOML and Path(out["database"]).exists()
    again = _cli("--workspace", str(tmp_path / "ws"), "init", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "already holds a workspace" in again.stderr
    assert "Traceback" not in again.stderr


def test_cli_init_uses_enginy_home(tmp_path):
    done = _cli("init", "--json", cwd=tmp_path, env={"ENGINY_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "home" / CONFIG_NAME).exists()


def test_cli_reports_a_damaged_config_in_one_line(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws)
    (ws / CONFIG_NAME).write_text(DEFAULT_TOML.replace("per_day = 30", "per_day = 300"))
    done = _cli("--workspace", str(ws), "linkedin", "invitations", "1", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "email.per_day" in done.stderr and "between 1 and 80" in done.stderr
