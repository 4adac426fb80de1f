"""The `enginy` command: the root, the global `--workspace` option, error handling.

Each command or command group lives in its own module, named in `COMMANDS`
with its one-line help. The root imports a module only when its command
runs (`_LazyGroup`), so `enginy campaigns list` never loads the runtime, trio,
httpx or textual, and `enginy --help` lists everything from the table alone:
a command that starts in a tenth of a second stays pleasant in scripts and
shell loops. tests/test_cli_lean.py keeps the table equal to the modules' own
help and the start free of the heavy packages.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Optional

import typer
from typer import _click
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from cli.output import UserError, error_line

COMMANDS: dict[str, tuple[str, str, str]] = {
    # name: (module, its command function or Typer app, the one-line help `enginy --help` shows)
    "init": ("cli.init", "init", "Create a workspace: enginy.toml (every setting explained) and its SQLite database."),
    "tui": ("cli.tui", "tui", "Open the full-screen app on the workspace (starts its runtime in the background if "
                              "none runs)."),
    "demo": ("cli.demo", "demo", "A seeded sandbox workspace + its runtime on a fast clock + the TUI. Nothing real "
                                 "is contacted."),
    "run": ("cli.run", "run", "Run the campaigns of the workspace in the foreground until stopped."),
    "stop": ("cli.run", "stop", "Ask the workspace's runtime to stop cleanly, and wait until it has."),
    "simulate": ("cli.run", "simulate", "Run a throw-away sandbox workspace for DAYS simulated days and check every "
                                        "invariant."),
    "forecast": ("cli.forecast", "forecast", "Project when each campaign finishes, from the workspace's real state, "
                                             "on a sandbox copy."),
    "linkedin": ("cli.linkedin", "app", "LinkedIn: connect an identity, invitations history, withdraw pending "
                                        "invitations."),
    "queue": ("cli.queue", "queue", "Per identity: working hours, every rate-limit bucket, each lane's depth and next "
                                    "jobs, blocked leads."),
    "identity": ("cli.identity", "app", "Sender identities: working hours, LinkedIn limits, connections."),
    "templates": ("cli.templates", "app", "Browse campaign templates: `list`, then `show NAME` for the whole sequence."),
    "campaigns": ("cli.campaigns", "app", "Campaigns: create from a template or a sequence file, launch, watch, manage."),
    "contacts": ("cli.contacts", "app", "Contacts: import a CSV into a list, export, list and search."),
    "lists": ("cli.lists", "app", "Contact lists: list (search, sort, filter), show, rename, tag, untag, delete."),
    "conversations": ("cli.conversations", "app", "Conversations across LinkedIn and email: list, show a thread, "
                                                  "reply by hand, tag."),
    "mail": ("cli.mail", "app", "Email tools: classify inbound messages."),
    "inbox": ("cli.inbox", "app", "Email inboxes of an identity (IMAP to read, SMTP to send)."),
    "tracking": ("cli.tracking", "app", "Open/click tracking and one-click unsubscribe endpoint."),
    "ai": ("cli.ai", "app", "The AI provider: store its key, check that it answers."),
    "tasks": ("cli.tasks", "app", "Tasks from Task steps and made by hand: list, add, done, reopen."),
    "blocklist": ("cli.blocklist", "app", "The blocklist: contacts, emails, domains and companies never to contact."),
}


def load_command(name: str) -> _click.Command:
    """Import the module of command `name` and build its click command, as `add_typer` / `command` would."""
    module, attr, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attr)
    if isinstance(target, typer.Typer):
        return get_group_from_info(TyperInfo(target, name=name), pretty_exceptions_short=app.pretty_exceptions_short,
                                   suggest_commands=True, rich_markup_mode=None)
    return get_command_from_info(CommandInfo(name=name, callback=target),
                                 pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=None)


class _LazyCommands(MutableMapping):
    """The root's commands by name, as click expects them, each built on first lookup."""

    def __init__(self) -> None:
        self._built: dict[str, _click.Command] = {}

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = load_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class _LazyGroup(TyperGroup):
    """The root group: its commands come from `COMMANDS`, each module imported on first use."""

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands()

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """The command list from the table, so `enginy --help` imports no command module."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _click.utils.make_default_short_help(help_, limit)) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="enginy",
    cls=_LazyGroup,
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


#: Exit code of a fault of the environment, not of the command (a locked database, a full disk):
#: sysexits' EX_TEMPFAIL, so a script can tell "try again later" from "wrong command" (2).
EXIT_ENVIRONMENT = 75


def run() -> None:
    """Console entry point: turns user mistakes into one line and exit code 2, faults of the
    workspace's disk or lock into one line and exit code 75."""
    from storage.private import keep_private

    keep_private()
    try:
        code = app(standalone_mode=False)  # without standalone mode click returns a typer.Exit's code
        if isinstance(code, int) and code:
            sys.exit(code)
    except UserError as exc:
        sys.stderr.write(error_line(exc))
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("enginy: aborted\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("enginy: interrupted\n")
        sys.exit(130)
    except _click.ClickException as exc:  # usage errors carry their own formatting
        # typer >= 0.16 vendors click (typer._click): its usage errors are not `click.ClickException`
        # instances, so match the vendored class or a bad option prints a traceback.
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        from cli.workspace import opened_database
        from storage.faults import describe

        reason = describe(exc, opened_database())
        if reason is None:
            raise
        sys.stderr.write(f"enginy: {reason}\n")  # a transaction cut short left nothing half-written
        sys.exit(EXIT_ENVIRONMENT)


if __name__ == "__main__":
    run()
