"""The `enginy` command: the root, the global `--workspace` option, error handling.

Each command group lives in its own module and is registered here with one
`add_typer` line, so groups can grow independently.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cli.output import UserError

app = typer.Typer(
    name="enginy",
    help=(
        "enginy — a local, keyboard-driven outreach engine (LinkedIn + email sequences).\n\n"
        "A workspace is a folder with enginy.toml and its database. It is found from\n"
        "--workspace DIR, else $ENGINY_HOME, else ./enginy.toml, else your user data folder.\n\n"
        "\b\nStart here:\n"
        "  enginy demo                    a seeded sandbox; nothing real is contacted\n"
        "  enginy init                    a new workspace in the current folder\n"
        "  enginy contacts import leads.csv --list 'My leads'\n"
        "  enginy tui                     the full-screen app on your workspace"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Optional[Path] = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Workspace folder (default: $ENGINY_HOME, else ./enginy.toml's folder, else the user data folder).",
        envvar="ENGINY_HOME",
    ),
) -> None:
    ctx.obj = {"workspace": workspace}


def workspace_dir(ctx: typer.Context) -> Path:
    """The workspace folder this invocation works on (see the root help for the order)."""
    from storage.workspace import resolve_workspace_dir

    root_ctx = ctx.find_root()
    chosen = (root_ctx.obj or {}).get("workspace")
    return resolve_workspace_dir(chosen)


def open_ws(ctx: typer.Context):
    """The opened workspace of this invocation; a missing or bad one is a user error."""
    from storage.workspace import WorkspaceError, open_workspace

    try:
        return open_workspace(workspace_dir(ctx))
    except WorkspaceError as exc:
        raise UserError(str(exc)) from None


def run() -> None:
    """Console entry point: turns user mistakes into one line and exit code 2."""
    try:
        app(standalone_mode=False)
    except UserError as exc:
        sys.stderr.write(f"enginy: {exc}\n")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("enginy: aborted\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("enginy: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own formatting
        # typer >= 0.16 vendors click (typer._click), so its usage errors are not
        # `click.ClickException` instances: match either, or a bad option prints a traceback.
        from typer import _click

        if isinstance(exc, _click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


# --- command groups (one line each) ---
from cli import linkedin as _linkedin; app.add_typer(_linkedin.app, name="linkedin")
from cli import init as _init; app.command("init")(_init.init)
from cli import identity as _identity; app.add_typer(_identity.app, name="identity")
from cli import templates as _templates; app.add_typer(_templates.app, name="templates")
from cli import campaigns as _campaigns; app.add_typer(_campaigns.app, name="campaigns")
from cli import contacts as _contacts; app.add_typer(_contacts.app, name="contacts")
from cli import lists as _lists; app.add_typer(_lists.app, name="lists")
from cli import mail as _mail; app.add_typer(_mail.app, name="mail")
from cli import tui as _tui; app.command("tui")(_tui.tui)
from cli import demo as _demo; app.command("demo")(_demo.demo)
from cli import run as _run; app.command("run")(_run.run); app.command("stop")(_run.stop); app.command("simulate")(_run.simulate)
from cli import inbox as _inbox; app.add_typer(_inbox.app, name="inbox")
from cli import tracking as _tracking; app.add_typer(_tracking.app, name="tracking")
from cli import forecast as _forecast; app.command("forecast")(_forecast.forecast)
