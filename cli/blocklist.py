"""`enginy blocklist add|remove|list`: contacts, emails, domains and companies never to contact.

Adding needs no confirmation: it only stops outreach. The leads it matches in
any campaign finish at once as Finished · Blocked, enrolment skips them from
then on, and a running runtime's pre-send check cancels a job it had queued
(runtime/blocklist.py). Removing lets the contact be enrolled again; leads
already finished stay finished.
"""

from __future__ import annotations

from typing import Optional

import typer

from cli.output import UserError, emit
from cli.workspace import open_session

app = typer.Typer(help="The blocklist: contacts, emails, domains and companies never to contact.",
                  no_args_is_help=True, rich_markup_mode=None)

KINDS = {"contact": "lead", "email": "email", "domain": "domain", "company": "company"}
"""The command's words → storage's kinds (a `lead` entry here is always a contact id)."""
_SHOWN = {v: k for k, v in KINDS.items()}

_KIND = typer.Argument(..., metavar="KIND", help="contact (a contact id), email, domain or company.")
_VALUE = typer.Argument(..., metavar="VALUE", help="The contact id, address, domain (acme.com) or company name.")


def _kind(word: str) -> str:
    kind = KINDS.get(word.strip().lower())
    if kind is None:
        raise UserError(f"unknown kind {word!r}: use contact, email, domain or company")
    return kind


def _contact_value(db, kind: str, value: str) -> str:
    """A `contact` is given by its id, which must exist (a typo must not block nobody silently)."""
    if kind != "lead":
        return value
    from storage.contacts import get_contact

    ref = value.strip()
    if not ref.isdigit():
        raise UserError(f"a contact is given by its id (see `enginy contacts list`), not {value!r}")
    if get_contact(db, int(ref)) is None:
        raise UserError(f"no contact with id {ref}")
    return ref


def _shown(entry) -> dict:
    return {"kind": _SHOWN[entry.kind], "value": entry.value, "reason": entry.reason, "created_at": entry.created_at}


@app.command("add")
def add(
    ctx: typer.Context,
    kind: str = _KIND,
    value: str = _VALUE,
    reason: str = typer.Option("", "--reason", help="Why (shown in the list)."),
    json_mode: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Block a contact, an email, a domain or a company; its leads finish as Blocked."""
    from runtime.blocklist import block
    from runtime.clock import wall_now
    from storage.blocklist import BlockValueError

    ws, db = open_session(ctx)
    storage_kind = _kind(kind)
    try:
        done = block(db, storage_kind, _contact_value(db, storage_kind, value), now=wall_now(),
                     reason=reason.strip() or f"added by {ws.config.user}")
    except BlockValueError as exc:
        raise UserError(str(exc)) from None
    shown = _shown(done.entry)
    what = f"{shown['kind']} {shown['value']}"
    leads = f"; {done.finished} lead{'s' if done.finished != 1 else ''} finished as Blocked" if done.finished else ""
    emit({**shown, "added": done.added, "finished": done.finished}, json_mode,
         (f"blocklisted {what}" if done.added else f"{what} was already on the blocklist") + leads)


@app.command("remove")
def remove(
    ctx: typer.Context,
    kind: str = _KIND,
    value: str = _VALUE,
    json_mode: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Take an entry off the blocklist (leads already finished as Blocked stay finished)."""
    from storage.blocklist import BlockValueError, normalise_block_value, remove_block

    _, db = open_session(ctx)
    storage_kind = _kind(kind)
    try:
        normalised = normalise_block_value(storage_kind, value)
        removed = remove_block(db, storage_kind, value)
    except BlockValueError as exc:
        raise UserError(str(exc)) from None
    what = f"{_SHOWN[storage_kind]} {normalised}"
    if not removed:
        raise UserError(f"{what} is not on the blocklist (see `enginy blocklist list`)")
    emit({"kind": _SHOWN[storage_kind], "value": normalised, "removed": True}, json_mode,
         f"removed {what} from the blocklist (leads already finished as Blocked stay finished)")


@app.command("list")
def list_entries(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, "--kind", help="Only contact, email, domain or company entries."),
    json_mode: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every entry, oldest first."""
    from storage.blocklist import blocklist_page

    _, db = open_session(ctx)
    storage_kind = _kind(kind) if kind is not None else None
    entries, after = [], None
    while True:
        page = blocklist_page(db, kind=storage_kind, after=after, limit=500)
        entries += [_shown(e) for e in page.rows]
        if page.after is None:
            break
        after = page.after
    if json_mode:
        emit(entries, True)
        return
    if not entries:
        emit(None, False, "the blocklist is empty" if storage_kind is None else f"no {kind} entries")
        return
    width = max(len(e["value"]) for e in entries)
    emit(None, False, "\n".join(f"{e['kind']:<8} {e['value']:<{width}}  {e['created_at'][:10]}  {e['reason']}".rstrip()
                                for e in entries))
