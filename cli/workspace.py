"""Which workspace a command works on, and looking things up in it as a user names them.

Every command group needs these; they live here rather than in cli/main.py so
a group never imports the module that assembles all the groups (cli.main
imports the groups, the groups import this).
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.output import UserError


def workspace_dir(ctx: typer.Context) -> Path:
    """The workspace folder this invocation works on (see the root help for the order)."""
    from storage.workspace import resolve_workspace_dir

    return resolve_workspace_dir(chosen_workspace(ctx))


def chosen_workspace(ctx: typer.Context) -> Path | None:
    """The folder given with --workspace / $ENGINY_HOME, None when neither was."""
    return (ctx.find_root().obj or {}).get("workspace")


_OPENED: list[Path] = []  # the databases this invocation opened: a lock error names who else holds them


def open_ws(ctx: typer.Context):
    """The opened workspace of this invocation; a missing or bad one is a user error."""
    from storage.workspace import WorkspaceError, open_workspace

    try:
        ws = open_workspace(workspace_dir(ctx))
    except WorkspaceError as exc:
        raise UserError(str(exc)) from None
    _OPENED.append(ws.db_path)
    return ws


def opened_database() -> Path | None:
    """The workspace database this invocation opened last, if any."""
    return _OPENED[-1] if _OPENED else None


def open_session(ctx: typer.Context):
    """(workspace, its opened database) of this invocation."""
    ws = open_ws(ctx)
    return ws, ws.open_db()


def require_list(db, name: str):
    """The list called `name`; an unknown name is a user error pointing at `enginy lists list`."""
    from storage.contacts import get_list

    found = get_list(db, name)
    if found is None:
        raise UserError(f"no list {name!r} (see `enginy lists list`)")
    return found


def require_identity(db, ref: str) -> dict:
    """The identity named by id or exact name; an unknown one is a user error listing the known ones."""
    from storage.identities import IdentityError, get_identity

    try:
        return get_identity(db, ref)
    except IdentityError as exc:
        raise UserError(str(exc)) from None


def wall_time():
    """The wall time of this invocation (the one clock: runtime.clock)."""
    from runtime.clock import wall_now

    return wall_now()


def guard(fn):
    """Run a storage call; its user-facing errors (a campaign's, an identity's) become one line and exit 2."""
    from storage.campaigns import CampaignError
    from storage.identities import IdentityError

    try:
        return fn()
    except (CampaignError, IdentityError) as exc:
        raise UserError(str(exc)) from None


def require_lead(db, campaign_id: int, contact: str) -> dict:
    """The enrollment of `contact` (id, email or LinkedIn URL) in the campaign, or a one-line error."""
    from storage.lead_intents import resolve_lead

    row = resolve_lead(db, campaign_id, contact.strip())
    if row is None:
        raise UserError(f"contact {contact!r} is not in this campaign")
    return row
