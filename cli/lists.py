"""`enginy lists …`: the contact lists a campaign's audience is picked from.

The same filters and actions as the app's Lists screen (L on the dashboard):
search, sort, created by, date, tags; rename, tag, untag, delete. Adding a
list to a campaign is `enginy campaigns add-contacts CAMPAIGN --list NAME`
(one storage function for the CLI, the Lists screen and the wizard).
"""

from __future__ import annotations

import sys
from datetime import date
from typing import List, Optional

import typer

from sequences.limits import ID_MAX
from cli.output import UserError, contact_json, contact_line, emit
from cli.workspace import open_ws, require_list

app = typer.Typer(help="Contact lists: list (search, sort, filter), show, rename, tag, untag, delete.",
                  no_args_is_help=True, rich_markup_mode=None)

_JSON = typer.Option(False, "--json", help="Print the result as JSON.")
_NAME = typer.Argument(..., help="The list's name.")


def _list_json(row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "members": row["members"], "created_by": row["created_by"],
            "created_at": row["created_at"], "tags": row["tags"]}


def _day(value: Optional[str], option: str) -> str:
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise UserError(f"{option} {value!r}: give a date as YYYY-MM-DD") from None


@app.command("list")
def list_lists(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(None, "--search", help="Text to find in list names."),
    sort: str = typer.Option("recent", "--sort", help="recent (newest first) or alpha (by name)."),
    created_by: Optional[str] = typer.Option(None, "--created-by", help="Only lists this user created."),
    since: Optional[str] = typer.Option(None, "--since", help="Only lists created on or after this day (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only lists created on or before this day."),
    tag: Optional[str] = typer.Option(None, "--tag", help="Only lists with this tag."),
    json_out: bool = typer.Option(False, "--json", help="Print the lists as JSON."),
) -> None:
    """Lists with their member counts, newest first (or by name), filtered as the app filters them."""
    from storage.campaign_setup import ListFilter, pick_lists

    if sort not in ("recent", "alpha"):
        raise UserError(f"--sort {sort!r}: use recent or alpha")
    flt = ListFilter(search=(search or "").strip(), sort=sort, created_by=created_by or "",  # type: ignore[arg-type]
                     since=_day(since, "--since"), until=_day(until, "--until"), tag=tag or "")
    db = open_ws(ctx).open_db()
    rows = [_list_json(r) for r in pick_lists(db, flt, limit=None)]
    filtered = flt != ListFilter(sort=flt.sort)
    empty = "(no list matches)" if filtered else "(no lists yet: enginy contacts import FILE.csv --list NAME)"
    human = "\n".join(f"{r['id']:>5}  {r['name'][:40]:<40}  {r['members']:>8} contacts  {r['created_at'][:10]}"
                      f"  {r['created_by'] or '-'}" + (f"  [{', '.join(r['tags'])}]" if r["tags"] else "")
                      for r in rows) or empty
    emit({"lists": rows}, json_out, human=human)


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = _NAME,
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Contacts per page."),
    after: Optional[int] = typer.Option(None, "--after", min=0, max=ID_MAX, help="Continue after this contact id."),
    json_out: bool = typer.Option(False, "--json", help="Print the list and a page of its contacts as JSON."),
) -> None:
    """A list's details and one page of its contacts."""
    from storage.contacts import contacts_page, list_size

    db = open_ws(ctx).open_db()
    found = require_list(db, name)
    members = list_size(db, found.id)
    result = contacts_page(db, list_id=found.id, limit=limit, after=(after, after) if after is not None else None)
    next_after = result.after[1] if result.after else None
    lines = [f"{found.name}: {members} contacts, created {found.created_at[:16]} by {found.created_by or '?'}"
             + (f", tags: {', '.join(found.tags)}" if found.tags else "")]
    lines += [contact_line(c) for c in result.rows]
    if next_after is not None:
        lines.append(f"more: enginy lists show {name!r} --after {next_after}")
    emit({"id": found.id, "name": found.name, "members": members, "created_by": found.created_by,
          "created_at": found.created_at, "tags": found.tags, "contacts": [contact_json(c) for c in result.rows],
          "next_after": next_after}, json_out, human="\n".join(lines))


@app.command("rename")
def rename(
    ctx: typer.Context,
    name: str = _NAME,
    new_name: str = typer.Argument(..., help="Its new name (unique)."),
    json_out: bool = _JSON,
) -> None:
    """Give a list another name; its contacts and the campaigns they are in are untouched."""
    from storage.contacts import rename_list

    db = open_ws(ctx).open_db()
    require_list(db, name)
    try:
        renamed = rename_list(db, name, new_name)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    emit({"id": renamed.id, "old_name": name, "name": renamed.name}, json_out,
         human=f"Renamed list {name!r} to {renamed.name!r}")


def _retag(ctx: typer.Context, name: str, tags: list[str], json_out: bool, *, adding: bool) -> None:
    from storage.contacts import set_list_tags

    db = open_ws(ctx).open_db()
    require_list(db, name)
    if not any(t.strip() for t in tags):
        raise UserError("give at least one non-empty tag")
    result = set_list_tags(db, name, **({"add": tags} if adding else {"remove": tags}))
    emit({"name": name, "tags": result}, json_out,
         human=f"List {name!r} tags: {', '.join(result) if result else '(none)'}")


@app.command("tag")
def tag(ctx: typer.Context, name: str = _NAME,
        tags: List[str] = typer.Argument(..., help="One or more tags to add."), json_out: bool = _JSON) -> None:
    """Add tags to a list (the app's and `lists list --tag` filter by them)."""
    _retag(ctx, name, tags, json_out, adding=True)


@app.command("untag")
def untag(ctx: typer.Context, name: str = _NAME,
          tags: List[str] = typer.Argument(..., help="One or more tags to remove."), json_out: bool = _JSON) -> None:
    """Remove tags from a list (a tag it does not have is ignored)."""
    _retag(ctx, name, tags, json_out, adding=False)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str = _NAME,
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
