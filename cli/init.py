"""`enginy init`: create a workspace (enginy.toml + database) in a folder."""

from __future__ import annotations

import typer

from cli.output import UserError, emit
from cli.workspace import chosen_workspace


def init(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print what was created as JSON."),
) -> None:
    """Create a workspace: enginy.toml (every setting explained) and its SQLite database.

    The folder is --workspace DIR, else $ENGINY_HOME, else the current folder.
    An existing workspace is never overwritten.
    """
    from pathlib import Path

    from storage.workspace import WorkspaceError, init_workspace

    folder = chosen_workspace(ctx) or Path.cwd()
    try:
        workspace = init_workspace(folder)
    except WorkspaceError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot create a workspace in {folder}: {exc.strerror}") from None
    emit(
        {"workspace": str(workspace.dir), "config": str(workspace.config_path), "database": str(workspace.db_path)},
        json_out,
        human=f"Created workspace in {workspace.dir}\n  settings: {workspace.config_path}\n  database: {workspace.db_path}\n"
        "Next: enginy contacts import FILE.csv --list NAME",
    )
