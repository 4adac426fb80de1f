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


def make_private(folder: Path, database: str) -> None:
    """The files enginy keeps in a workspace 0600, whatever umask made them (a workspace from an
    older enginy, a copy). Only enginy's own files, and the folder only when `enginy init` makes it:
    a workspace may be a folder holding other things too (a project checkout with its enginy.toml),
    which are not ours to change. What enginy creates later is private by the umask its entry
    points set (storage/private.py). A read-only workspace is left as it is: it can still be read."""
    names = [CONFIG_NAME, "runtime.log", *(f"{db}{suffix}" for db in (database, "sandbox.db")
                                             for suffix in ("", "-wal", "-shm", "-journal"))]
    try:
        for path in (folder / n for n in names):
            mode = os.lstat(path).st_mode if os.path.lexists(path) else None
            if mode is not None and stat.S_ISREG(mode) and mode & 0o077:
                os.chmod(path, stat.S_IMODE(mode) & 0o600)
    except OSError:
        pass


def open_workspace(folder: Path | str) -> Workspace:
    folder = Path(folder)
    config_path = folder / CONFIG_NAME
    if not config_path.is_file():
        raise WorkspaceError(f"no workspace at {folder} — run `enginy init` there (or pass --workspace DIR)")
    try:
        text = config_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"{config_path}: not UTF-8 text") from None
    try:
        config = parse_config(text)
    except ConfigError as exc:
        raise WorkspaceError(f"{config_path}: {exc}") from None
    make_private(folder, config.database)
    return Workspace(folder, config)


def init_workspace(folder: Path | str) -> Workspace:
    """Create enginy.toml (with every setting explained) and the database."""
    folder = Path(folder)
    config_path = folder / CONFIG_NAME
    if config_path.exists():
        raise WorkspaceError(f"{folder} already holds a workspace ({CONFIG_NAME}); nothing was changed")
    fresh = not folder.exists()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if fresh or not any(folder.iterdir()):  # a folder of its own: private too
        os.chmod(folder, 0o700)
    tmp = config_path.with_suffix(".toml.tmp")
    tmp.write_text(DEFAULT_TOML, encoding="utf-8")
    tmp.replace(config_path)
    workspace = open_workspace(folder)
    workspace.open_db().close()
    return workspace
