"""Where a workspace lives and how it is opened.

A workspace is a folder holding `enginy.toml` and the SQLite database it
names. The folder comes from `--workspace DIR`, else `$ENGINY_HOME`, else the
current directory when it holds an `enginy.toml`, else the platform's user
data folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs
import sqlite_utils

from storage.config import DEFAULT_TOML, Config, ConfigError, parse_config
from storage.db import open_db

CONFIG_NAME = "enginy.toml"

#: Files a process creates once it has opened a workspace are readable by their owner only: the
#: workspace holds people's names, addresses and conversations, the log and the sandbox included.
PRIVATE_UMASK = 0o077


class WorkspaceError(Exception):
    """The workspace is missing or unusable; the message says what to do."""


def default_workspace_dir() -> Path:
    return Path(platformdirs.user_data_dir("enginy", appauthor=False))


def resolve_workspace_dir(chosen: Path | str | None = None) -> Path:
    if chosen:
        return Path(chosen).expanduser()
    env = os.environ.get("ENGINY_HOME")
    if env:
        return Path(env).expanduser()
    if (Path.cwd() / CONFIG_NAME).is_file():
        return Path.cwd()
    return default_workspace_dir()


class Workspace:
    """An opened workspace: its folder, its decoded config and its database path."""

    def __init__(self, folder: Path, config: Config) -> None:
        self.dir = folder
        self.config = config

    @property
    def db_path(self) -> Path:
        return self.dir / self.config.database

    @property
    def config_path(self) -> Path:
        return self.dir / CONFIG_NAME

    def open_db(self, **kwargs) -> sqlite_utils.Database:
        return open_db(self.db_path, **kwargs)


def make_private(folder: Path) -> None:
    """Folder 0700 and every file under it 0600, whatever the umask it was made with (a workspace
    from an older enginy, a file copied in). Opening a workspace does this, and sets the process's
    umask so what it creates next (databases, -wal files, logs, exports, backups) is private too.
    A read-only workspace is left as it is: it can still be read."""
    os.umask(PRIVATE_UMASK)
    try:
        for path, dirs, files in os.walk(folder):
            for name, private in [(path, 0o700), *((os.path.join(path, f), 0o600) for f in files)]:
                mode = os.lstat(name).st_mode
                if not stat.S_ISLNK(mode) and mode & 0o077:
                    os.chmod(name, stat.S_IMODE(mode) & private)
    except OSError:
        pass


def open_workspace(folder: Path | str) -> Workspace:
    folder = Path(folder)
    config_path = folder / CONFIG_NAME
    if not config_path.is_file():
        raise WorkspaceError(f"no workspace at {folder} — run `enginy init` there (or pass --workspace DIR)")
    make_private(folder)
    try:
        text = config_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"{config_path}: not UTF-8 text") from None
    try:
        config = parse_config(text)
    except ConfigError as exc:
        raise WorkspaceError(f"{config_path}: {exc}") from None
    return Workspace(folder, config)


def init_workspace(folder: Path | str) -> Workspace:
    """Create enginy.toml (with every setting explained) and the database."""
    folder = Path(folder)
    config_path = folder / CONFIG_NAME
    if config_path.exists():
        raise WorkspaceError(f"{folder} already holds a workspace ({CONFIG_NAME}); nothing was changed")
    os.umask(PRIVATE_UMASK)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = config_path.with_suffix(".toml.tmp")
    tmp.write_text(DEFAULT_TOML, encoding="utf-8")
    tmp.replace(config_path)
    workspace = open_workspace(folder)
    workspace.open_db().close()
    return workspace
