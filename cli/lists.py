"""`enginy lists …`: the contact lists a campaign's audience is picked from."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from cli.output import UserError, contact_json, contact_line, emit
from cli.workspace import open_ws, require_list

app = typer.Typer(help="Contact lists: list, show, delete.", no_args_is_help=True, rich_markup_mode=None)


def _list_json(row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "members": row["members"], "created_by": row["created_by"],
            "created_at": row["created_at"]}


@app.command("list")
def list_lists(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(None, "--search", help="Text to find in list names."),
    json_out: bool = typer.Option(False, "--json", help="Print the lists as JSON."),
) -> None:
    """All lists, newest first, with their member counts."""
    from storage.contacts import iter_lists

    db = open_ws(ctx).open_db()
    rows = [_list_json(r) for r in iter_lists(db, search=search)]
    human = "\n".join(f"{r['id']:>5}  {r['name'][:40]:<40}  {r['members']:>8} contacts  {r['created_at'][:10]}"
                      for r in rows) or "(no lists yet: enginy contacts import FILE.csv --list NAME)"
    emit({"lists": rows}, json_out, human=human)


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The list's name."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Contacts per page."),
    after: Optional[int] = typer.Option(None, "--after", help="Continue after this contact id."),
    json_out: bool = typer.Option(False, "--json", help="Print the list and a page of its contacts as JSON."),
) -> None:
    """A list's details and one page of its contacts."""
    from storage.contacts import contacts_page, list_size

    db = open_ws(ctx).open_db()
    found = require_list(db, name)
    members = list_size(db, found.id)
    result = contacts_page(db, list_id=found.id, limit=limit, after=(after, after) if after is not None else None)
    next_after = result.after[1] if result.after else None
    lines = [f"{found.name}: {members} contacts, created {found.created_at[:16]} by {found.created_by or '?'}"]
    lines += [contact_line(c) for c in result.rows]
    if next_after is not None:
        lines.append(f"more: enginy lists show {name!r} --after {next_after}")
    emit({"id": found.id, "name": found.name, "members": members, "created_by": found.created_by,
          "created_at": found.created_at, "contacts": [contact_json(c) for c in result.rows],
          "next_after": next_after}, json_out, human="\n".join(lines))


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The list's name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Delete a list (its contacts stay, in other lists and campaigns too)."""
    from storage.contacts import delete_list

    db = open_ws(ctx).open_db()
    require_list(db, name)
    if not yes:
        if not sys.stdin.isatty():
            raise UserError(f"deleting list {name!r} needs confirmation: add --yes")
        if not typer.confirm(f"Delete list {name!r}? Its contacts are kept.", default=False):
            raise UserError("not deleted")
    members = delete_list(db, name)
    emit({"deleted": name, "members": members}, json_out,
         human=f"Deleted list {name!r} ({members} memberships; the contacts are kept)")
