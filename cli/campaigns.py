"""`enginy campaigns …`: create, launch, pause, resume, archive, delete, duplicate,
edit (the sequence too, by the tree editor's commands), show the sequence, add
contacts, lead actions, the audience, status, list, export; its AI variables
(`ai-variable`, cli/ai_variables.py).

The rules live in storage/campaigns.py, storage/audience.py,
storage/lead_intents.py and storage/metrics.py; this module parses options,
runs each request in one transaction (so a failing part leaves nothing
written) and prints. Campaigns and identities are named by id or exact name.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import msgspec
import typer

from sequences.limits import ID_MAX
from cli import ai_variables
from cli.output import UserError, emit
from cli.workspace import guard, open_session, require_lead, wall_time

app = typer.Typer(help="Campaigns: create from a template or a sequence file, launch, watch, manage.",
                  no_args_is_help=True, rich_markup_mode=None)
app.add_typer(ai_variables.app, name="ai-variable")

_JSON = typer.Option(False, "--json", help="Print JSON.")
_CAMPAIGN = typer.Argument(..., help="Campaign id or name.")


def _card(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "status", "priority", "identity_id", "folder", "created_at", "launched_at",
            "scheduled_at", "archived_at")
    return {**{k: row[k] for k in keys}, "tags": msgspec.json.decode(row["tags"])}


def _read_sequence(path: Path):
    from storage.campaigns import parse_sequence

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    return guard(lambda: parse_sequence(data, source=str(path)))


def _settings(base, *, skip_prior, track_opens, track_clicks, reply_handling, inboxes, shuffle, prompt=None,
              crm_contacts=None, crm_conversations=None):
    """Apply the settings options that were given onto `base`."""
    from storage.campaigns import Settings

    changes = {k: v for k, v in {"skip_prior_conversations": skip_prior, "track_opens": track_opens,
                                 "track_clicks": track_clicks, "reply_handling": reply_handling,
                                 "shuffle_inboxes": shuffle, "ai_prompt": prompt,
                                 "crm_contacts_sync": crm_contacts,
                                 "crm_conversations_sync": crm_conversations}.items() if v is not None}
    if reply_handling is not None and reply_handling not in ("manual", "copilot", "auto"):
        raise UserError(f"--reply-handling must be manual, copilot or auto, not {reply_handling!r}")
    for option, value in (("--crm-contacts", crm_contacts), ("--crm-conversations", crm_conversations)):
        if value is not None and value not in ("no", "yes", "on_reply"):
            raise UserError(f"{option} must be no, yes or on_reply, not {value!r}")
    if inboxes:
        changes["inboxes"] = inboxes
    return msgspec.structs.replace(base or Settings(), **changes)


def _inbox_ids(db, identity_id: int, refs: list[str] | None) -> list[int]:
    from storage.inboxes import inbox_of_identity

    ids = []
    for ref in refs or []:
        inbox_id = inbox_of_identity(db, identity_id, ref)
        if inbox_id is None:
            raise UserError(f"the campaign's identity has no inbox {ref!r} (see `enginy identity show`)")
        ids.append(inbox_id)
    return ids


_SKIP = typer.Option(None, "--skip-prior-conversations/--no-skip-prior-conversations",
                     help="Do not message contacts who already have a conversation with the identity.")
_OPENS = typer.Option(None, "--track-opens/--no-track-opens", help="Track email opens (a pixel).")
_CLICKS = typer.Option(None, "--track-clicks/--no-track-clicks", help="Track link clicks.")
_REPLIES = typer.Option(None, "--reply-handling", help="After a reply: manual, copilot or auto.")
_INBOX = typer.Option(None, "--inbox", help="Send from this inbox (id or address); repeat; default all.")
_SHUFFLE = typer.Option(None, "--shuffle/--no-shuffle", help="Rotate new leads across the inboxes.")
_PROMPT = typer.Option(None, "--prompt", help="The campaign prompt for the AI agent (offer, tone, goals).")
_CRM_CONTACTS = typer.Option(None, "--crm-contacts", help="CRM sync of contacts: no, yes or on_reply.")
_CRM_CONVERSATIONS = typer.Option(None, "--crm-conversations", help="CRM sync of conversations: no, yes or on_reply.")
_PRIORITY_HELP = "high, medium or low: which campaign's actions go first when limits are tight."


@app.command("create")
def create(
    ctx: typer.Context,
    identity: str = typer.Option(..., "--identity", help="Identity id or name (mandatory)."),
    template: Optional[str] = typer.Option(None, "--template", help="Built-in or saved template name."),
    sequence: Optional[Path] = typer.Option(None, "--sequence", help="Sequence JSON file."),
    scratch: bool = typer.Option(False, "--scratch", help="From scratch: a Draft with no steps yet (build it with "
                                 "`campaigns edit --command` or the app's editor; the launch checks refuse it until then)."),
    list_name: Optional[str] = typer.Option(None, "--list", help="Add this contact list as the audience."),
    name: Optional[str] = typer.Option(None, "--name", help="Default: \"[Identity name]'s Campaign\"."),
    priority: str = typer.Option("medium", "--priority", help=_PRIORITY_HELP),
    tags: Optional[list[str]] = typer.Option(None, "--tag", help="Campaign tag (repeat for several)."),
    folder: str = typer.Option("", "--folder", help="Dashboard folder."),
    skip_prior: Optional[bool] = _SKIP, track_opens: Optional[bool] = _OPENS,
    track_clicks: Optional[bool] = _CLICKS, reply_handling: Optional[str] = _REPLIES,
    inbox: list[str] = _INBOX, shuffle: Optional[bool] = _SHUFFLE, prompt: Optional[str] = _PROMPT,
    crm_contacts: Optional[str] = _CRM_CONTACTS, crm_conversations: Optional[str] = _CRM_CONVERSATIONS,
    json_out: bool = _JSON,
) -> None:
    """Create a Draft campaign from a template, a sequence file or from scratch, optionally with a list as audience."""
    from storage.audience import add_list
    from storage.campaigns import create_campaign, get_campaign
    from storage.db import transaction
    from storage.identities import get_identity

    if [template is not None, sequence is not None, scratch].count(True) != 1:
        raise UserError("give either --template NAME or --sequence FILE.json (or --scratch for a Draft with no steps)")
    from sequences.model import Sequence

    seq = _read_sequence(sequence) if sequence is not None else Sequence() if scratch else None
    ws, db = open_session(ctx)
    now, actor = wall_time(), ws.config.user

    def go():
        with transaction(db):
            ident = get_identity(db, identity)
            settings = _settings(None, skip_prior=skip_prior, track_opens=track_opens, track_clicks=track_clicks,
                                 reply_handling=reply_handling, inboxes=_inbox_ids(db, ident["id"], inbox),
                                 shuffle=shuffle, prompt=prompt, crm_contacts=crm_contacts,
                                 crm_conversations=crm_conversations)
            cid = create_campaign(db, identity=ident["id"], template=template, sequence=seq, name=name,
                                  priority=priority, tags=tags or [], folder=folder, settings=settings, now=now,
                                  actor=actor)
            report = add_list(db, cid, list_name, now=now, actor=actor) if list_name else None
            return get_campaign(db, cid), report

    row, report = guard(go)
    out = {**_card(row), "audience": msgspec.structs.asdict(report) if report else None}
    human = f"Created campaign #{row['id']} {row['name']!r} (draft)"
    if report:
        human += "\n" + report.summary()
    emit(out, json_out, human + f"\nNext: enginy campaigns launch {row['id']}")


def _status_change(ctx: typer.Context, campaign: str, json_out: bool, fn_name: str, verb: str, **kw) -> None:
    import storage.campaigns as campaigns

    ws, db = open_session(ctx)
    row = guard(lambda: getattr(campaigns, fn_name)(db, campaign, now=wall_time(), actor=ws.config.user, **kw))
    emit(_card(row), json_out, f"Campaign #{row['id']} {row['name']!r} {verb}: now {row['status']}"
         + (f" (starts {row['scheduled_at']})" if row["status"] == "scheduled" else ""))


@app.command("launch")
def launch(ctx: typer.Context, campaign: str = _CAMPAIGN,
           at: Optional[str] = typer.Option(None, "--at", "--schedule",
                                            help="Schedule the start (ISO time, e.g. 2026-12-01T09:00+01:00)."),
           force: bool = typer.Option(False, "--force", help="Launch although the audience is empty or the identity "
                                      "lacks a step's channel (leads wait until it is connected); a step's "
                                      "validation error is never forced."),
           checks: bool = typer.Option(False, "--check", hidden=True,
                                       help="(Kept for scripts written before the checks always ran.)"),
           json_out: bool = _JSON) -> None:
    """Launch now (Running) or at a later time (Scheduled), after the launch checks of
    `enginy campaigns check`: no audience, a step with a problem, an identity without the
    channel a step needs. Refused with each problem listed (exit 1) unless --force; a step's
    validation error is always refused."""
    from storage.launch import LaunchRefused, launch as launch_checked

    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise UserError(f"--at: expected an ISO time like 2026-12-01T09:00+01:00, got {at!r}") from None
        if when.tzinfo is None:
            raise UserError("--at: give the time zone too, e.g. 2026-12-01T09:00+01:00 or …Z")
        when = when.astimezone(timezone.utc)
    ws, db = open_session(ctx)
    def attempt() -> Any:
        try:
            return launch_checked(db, campaign, now=wall_time(), actor=ws.config.user, at=when, force=force)
        except LaunchRefused as refused:  # (listed below, not _guard's one line)
            return refused

    row = guard(attempt)
    if isinstance(row, LaunchRefused):
        check = row.check
        forceable = not check.blocking
        if json_out:
            emit({"id": check.campaign_id, "name": check.name, "launched": False, "problems": check.problems,
                  "blocking": check.blocking, "forceable": forceable}, True)
        else:
            typer.echo(f"enginy: campaign #{check.campaign_id} {check.name!r} not launched:\n"
                       + "\n".join(f"  - {p}" for p in check.problems)
                       + ("\n--force launches it anyway: its leads wait until contacts are added or the channel "
                          "is connected." if forceable else "\nFix the sequence first (`enginy campaigns sequence`)."),
                       err=True)
        raise typer.Exit(1)
    emit(_card(row), json_out, f"Campaign #{row['id']} {row['name']!r} launched: now {row['status']}"
         + (f" (starts {row['scheduled_at']})" if row["status"] == "scheduled" else ""))


@app.command("check")
def check(ctx: typer.Context, campaign: str = _CAMPAIGN, json_out: bool = _JSON) -> None:
    """The launch checks that every launch runs: no audience, a step with a problem, an identity
    without the channel a step needs. Prints one line per problem and exits 1 when there is any
    (0: ready to launch)."""
    from storage.launch import launch_check

    ws, db = open_session(ctx)
    report = guard(lambda: launch_check(db, campaign))
    emit({"id": report.campaign_id, "name": report.name, "ready": report.ready, "problems": report.problems,
          "blocking": report.blocking}, json_out,
         "\n".join(report.problems) if report.problems
         else f"Campaign #{report.campaign_id} {report.name!r} is ready to launch")
    if report.problems:
        raise typer.Exit(1)


@app.command("pause")
def pause(ctx: typer.Context, campaign: str = _CAMPAIGN, json_out: bool = _JSON) -> None:
    """Pause the whole campaign: no new action for any lead until resumed."""
    _status_change(ctx, campaign, json_out, "pause_campaign", "paused")


@app.command("resume")
def resume(ctx: typer.Context, campaign: str = _CAMPAIGN, json_out: bool = _JSON) -> None:
    """Resume a paused campaign."""
    _status_change(ctx, campaign, json_out, "resume_campaign", "resumed")


@app.command("archive")
def archive(ctx: typer.Context, campaign: str = _CAMPAIGN, json_out: bool = _JSON) -> None:
    """Archive: the campaign never runs again and cannot be reactivated (it stays visible)."""
    _status_change(ctx, campaign, json_out, "archive_campaign", "archived")


@app.command("delete")
def delete(ctx: typer.Context, campaign: str = _CAMPAIGN,
           yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
           json_out: bool = _JSON) -> None:
    """Delete the campaign, its audience and its log, permanently."""
    from storage.campaigns import delete_campaign, get_campaign

    ws, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    if not yes:
        if not sys.stdin.isatty():
            raise UserError(f"deleting campaign #{row['id']} {row['name']!r} cannot be undone; add --yes to confirm")
        typer.confirm(f"Delete campaign #{row['id']} {row['name']!r} and its audience for good?", abort=True)
    guard(lambda: delete_campaign(db, row["id"], now=wall_time(), actor=ws.config.user))
    emit({"id": row["id"], "name": row["name"], "deleted": True}, json_out,
         f"Deleted campaign #{row['id']} {row['name']!r}")


@app.command("duplicate")
def duplicate(ctx: typer.Context, campaign: str = _CAMPAIGN,
              name: Optional[str] = typer.Option(None, "--name", help="Default: \"<name> (copy)\"."),
              with_audience: bool = typer.Option(False, "--with-audience", help="Copy the contacts too."),
              json_out: bool = _JSON) -> None:
    """A Draft copy with the same sequence and settings (no audience unless --with-audience)."""
    from storage.campaigns import duplicate_campaign, get_campaign

    ws, db = open_session(ctx)
    new_id = guard(lambda: duplicate_campaign(db, campaign, name=name, with_audience=with_audience,
                                               now=wall_time(), actor=ws.config.user))
    row = get_campaign(db, new_id)
    emit(_card(row), json_out, f"Created draft #{row['id']} {row['name']!r}")


@app.command("edit")
def edit(
    ctx: typer.Context, campaign: str = _CAMPAIGN,
    name: Optional[str] = typer.Option(None, "--name"),
    priority: Optional[str] = typer.Option(None, "--priority", help=_PRIORITY_HELP),
    tags: Optional[list[str]] = typer.Option(None, "--tag", help="Replace the tags (repeat for several)."),
    folder: Optional[str] = typer.Option(None, "--folder"),
    sequence: Optional[Path] = typer.Option(
        None, "--sequence", help="New sequence JSON; once launched only delays and message texts may change."),
    commands: Optional[list[str]] = typer.Option(
        None, "--command", help="A tree editor command as JSON, e.g. '{\"command\": \"insert\", \"kind\": \"email\", "
        "\"anchor\": \"n2\"}' (repeat for several; applied in order, all or none; commands: insert, delete, "
        "delete_subtree, move_up, move_down, cut, copy, paste, set_params, set_delay; step ids as "
        "`campaigns sequence` shows them)."),
    skip_prior: Optional[bool] = _SKIP, track_opens: Optional[bool] = _OPENS,
    track_clicks: Optional[bool] = _CLICKS, reply_handling: Optional[str] = _REPLIES,
    inbox: list[str] = _INBOX, shuffle: Optional[bool] = _SHUFFLE, prompt: Optional[str] = _PROMPT,
    crm_contacts: Optional[str] = _CRM_CONTACTS, crm_conversations: Optional[str] = _CRM_CONVERSATIONS,
    identity: Optional[str] = typer.Option(None, "--identity", help="Another identity (a Draft only)."),
    json_out: bool = _JSON,
) -> None:
    """Change name, priority, tags, folder, settings or (delays and texts of) the sequence.

    The sequence changes whole (--sequence FILE) or by the tree editor's commands
    (--command JSON, as the app's editor applies them: a Draft is saved as it is
    being built, a launched campaign takes delays and texts only).
    """
    from storage.campaigns import edit_sequence, get_campaign, settings_of, update_campaign
    from storage.db import transaction

    if sequence is not None and commands:
        raise UserError("give --sequence FILE or --command JSON, not both")
    seq = _read_sequence(sequence) if sequence is not None else None
    ws, db = open_session(ctx)
    now, actor = wall_time(), ws.config.user

    def go():
        with transaction(db):
            row = get_campaign(db, campaign)
            touched = any(v is not None for v in (skip_prior, track_opens, track_clicks, reply_handling, shuffle,
                                                  prompt, crm_contacts, crm_conversations))
            settings = (_settings(settings_of(row), skip_prior=skip_prior, track_opens=track_opens,
                                  track_clicks=track_clicks, reply_handling=reply_handling,
                                  inboxes=_inbox_ids(db, row["identity_id"], inbox), shuffle=shuffle,
                                  prompt=prompt, crm_contacts=crm_contacts, crm_conversations=crm_conversations)
                        if touched or inbox else None)
            new_tags = tags or None  # typer gives [] when --tag is absent
            if all(v is None for v in (name, priority, new_tags, folder, settings, seq, identity)) and not commands:
                raise UserError("nothing to change: give at least one option (see `enginy campaigns edit --help`)")
            row = update_campaign(db, row["id"], name=name, priority=priority, tags=new_tags, folder=folder,
                                  settings=settings, identity=identity, now=now, actor=actor)
            if commands:
                return _apply_commands(db, row, commands, now=now, actor=actor)
            return edit_sequence(db, row["id"], seq, now=now, actor=actor) if seq is not None else row

    row = guard(go)
    emit(_card(row), json_out, f"Updated campaign #{row['id']} {row['name']!r}")


def _apply_commands(db, row: dict[str, Any], commands: list[str], *, now: datetime, actor: str) -> dict[str, Any]:
    """The editor's commands on the stored sequence, then one save (as the app saves after each)."""
    from sequences.editing import EditError, EditorState, decode_command
    from storage.campaigns import save_edited_sequence, sequence_of

    state = EditorState.open(sequence_of(row), locked=row["status"] != "draft")
    for i, raw in enumerate(commands, 1):
        try:
            command = decode_command(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise UserError(f"--command {i} is not an editor command: {exc}") from None
        try:
            state = state.apply(command)
        except EditError as exc:
            raise UserError(f"--command {i} ({type(command).TITLE.lower()}): {exc}") from None
    return save_edited_sequence(db, row["id"], state.sequence, now=now, actor=actor)


def _range(option: str, text: str | None) -> tuple[str | None, str | None]:
    """A date-range option read as the app reads a custom range (tui/date_range.py): (since, until)."""
    if text is None:
        return None, None
    from tui.date_range import parse_range

    try:
        since, until, _ = parse_range(text)
    except ValueError as exc:
        raise UserError(f"{option}: {exc}") from None
    return since, until


@app.command("sequence")
def sequence_cmd(ctx: typer.Context, campaign: str = _CAMPAIGN,
                 contact: Optional[str] = typer.Option(None, "--contact", help="Mark this lead's path: ✔ the steps "
                                                       "it went through, ➤ the one it is at (id, email or LinkedIn URL)."),
                 json_out: bool = _JSON) -> None:
    """The campaign's sequence as the app's tree editor draws it: Start to End, Yes/No branches,
    each step's id, delay and problems (--json: the stored sequence; with --contact, the lead's path)."""
    from sequences.editing import rows
    from sequences.model import kind_of
    from storage.audience_view import lead_path
    from storage.campaigns import get_campaign, sequence_of
    from tui.tree_text import draw, mark_path

    _, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    seq = sequence_of(row)
    path = lead_path(db, require_lead(db, row["id"], contact)["id"]) if contact is not None else None
    if json_out:
        out = msgspec.to_builtins(seq)
        emit(out if path is None else {"sequence": out, "visited": path[0], "at": path[1]}, True)
        return
    shown = rows(seq)
    texts = draw(shown, {n.id: kind_of(n) for n in seq.nodes})
    if path is not None:
        texts = mark_path(shown, texts, *path)
    emit(None, False, "\n".join(text.plain for text in texts))


@app.command("activity")
def activity_cmd(
    ctx: typer.Context, campaign: str = _CAMPAIGN,
    contact: Optional[str] = typer.Option(None, "--contact", help="Only this recipient (id, email or LinkedIn URL)."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Only this step (its id, as `campaigns sequence` shows)."),
    search: str = typer.Option("", "--search", help="Recipient name, company or action contains this."),
    dates: Optional[str] = typer.Option(None, "--dates", help="YYYY-MM-DD..YYYY-MM-DD (UTC days; either end may be "
                                        "left out; one date: that day)."),
    after: Optional[int] = typer.Option(None, "--after", help="Continue after this key (the last page's next_after)."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="Actions per page."),
    json_out: bool = _JSON,
) -> None:
    """The Activity tab for scripts: the campaign's actions, newest first (conditions left out),
    with the same filters — recipient, stage, search, date range; paged by key."""
    from storage.activity_view import ActivityFilter, ActivitySource
    from storage.campaigns import get_campaign
    from storage.reader import Reader
    from tui.text import clean

    ws, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    since, until = _range("--dates", dates)
    contact_id = require_lead(db, row["id"], contact)["contact_id"] if contact is not None else None
    reader = Reader(ws.db_path)
    try:
        source = ActivitySource(reader, ActivityFilter(row["id"], search=search.strip(), node_id=stage,
                                                       contact_id=contact_id, since=since, until=until))
        page = source.after(after, limit + 1)
    finally:
        reader.close()
    more = len(page) > limit
    page = page[:limit]
    failed = {"step_failed", "email_bounced"}
    out = [{"key": a.id, "at": a.at, "action": a.kind, "step": a.node_id, "channel": a.channel,
            "status": "failed" if a.kind in failed else a.status, "contact_id": a.contact_id,
            "recipient": f"{a.first_name or ''} {a.last_name or ''}".strip(), "company": a.company or ""} for a in page]
    human = "\n".join(f"{a['at'][:16]}  {a['action'][:26]:<26} {a['status']:<11} "
                       f"{clean(a['recipient'])[:24]:<24} {clean(a['company'])[:20]}" for a in out) or "No activity."
    if more:
        human += f"\nMore: --after {page[-1].id}"
    emit({"actions": out, "next_after": page[-1].id if more else None}, json_out, human)


@app.command("save-template")
def save_template(ctx: typer.Context, campaign: str = _CAMPAIGN,
                  name: str = typer.Argument(..., help="Template name."),
                  description: str = typer.Option("", "--description"), json_out: bool = _JSON) -> None:
    """Save the campaign's sequence as a template for future campaigns."""
    from storage.campaigns import save_as_template

    ws, db = open_session(ctx)
    tid = guard(lambda: save_as_template(db, campaign, name, description=description, now=wall_time(),
                                          actor=ws.config.user))
    emit({"id": tid, "name": name.strip()}, json_out, f"Saved template {name.strip()!r}")


@app.command("add-contacts")
def add_contacts_cmd(ctx: typer.Context, campaign: str = _CAMPAIGN,
                     list_name: Optional[str] = typer.Option(None, "--list", help="Contact list id or name."),
                     contacts: Optional[list[int]] = typer.Option(None, "--contact", help="Contact id (repeat for several)."),
                     json_out: bool = _JSON) -> None:
    """Add a list's contacts (or single contacts); they start at the beginning of the sequence."""
    from storage.audience import add_contacts, add_list

    if (list_name is None) == (not contacts):
        raise UserError("give either --list NAME or one or more --contact ID")
    ws, db = open_session(ctx)
    now, actor = wall_time(), ws.config.user
    report = guard(lambda: add_list(db, campaign, list_name, now=now, actor=actor) if list_name
                    else add_contacts(db, campaign, contacts, now=now, actor=actor))
    emit(msgspec.structs.asdict(report), json_out, report.summary())


@app.command("leads")
def leads(
    ctx: typer.Context, campaign: str = _CAMPAIGN,
    action: str = typer.Argument(..., help="pause, resume, remove or retry."),
    contacts: Optional[list[str]] = typer.Option(None, "--contact", help="Contact id, email or LinkedIn URL (repeat)."),
    all_leads: bool = typer.Option(False, "--all", help="Every lead the action applies to (not for remove)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm a removal without asking."),
    json_out: bool = _JSON,
) -> None:
    """Pause, resume, remove (for good) or retry leads of a campaign."""
    import storage.lead_intents as intents

    fns = {"pause": intents.pause_leads, "resume": intents.resume_leads, "retry": intents.retry_leads,
           "remove": intents.remove_leads}
    if action not in fns:
        raise UserError(f"unknown lead action {action!r}: use pause, resume, remove or retry")
    if all_leads == bool(contacts):
        raise UserError("give one or more --contact, or --all")
    if action == "remove":
        if all_leads:
            raise UserError("removal is permanent: name the contacts with --contact")
        if not yes:
            if not sys.stdin.isatty():
                raise UserError("removed contacts can never be added back to this campaign; add --yes to confirm")
            typer.confirm(f"Remove {len(contacts)} lead(s) for good?", abort=True)
    ws, db = open_session(ctx)
    report = guard(lambda: fns[action](db, campaign, None if all_leads else contacts, now=wall_time(),
                                        actor=ws.config.user))
    human = f"{action}: {report.changed} lead(s) changed" + "".join(
        f"\n  skipped {s['contact']}: {s['reason']}" for s in report.skipped)
    emit({"action": action, **msgspec.structs.asdict(report)}, json_out, human)


@app.command("audience")
def audience(
    ctx: typer.Context, campaign: str = _CAMPAIGN,
    status_chip: Optional[str] = typer.Option(None, "--status", help="Only this status chip: not_started, in_progress, "
                                              "paused, error, finished or replied (default: every lead)."),
    after: Optional[int] = typer.Option(None, "--after", min=0, max=ID_MAX, help="Continue after this key (the last page's next_after)."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="Leads per page."),
    json_out: bool = _JSON,
) -> None:
    """The Audience tab for scripts: each lead with its status, why it waits, when it is next due and
    its step; paged by key (`--after` the previous page's next_after; null: the last page).

    An In-progress lead that waits says why in "waiting": {"reason", "cap", "until"} — the cap that is
    spent for Identity limits ("invitations 20 per day"), and until when (the refill, the next opening,
    the end of the delay) in the identity's time zone; null when it does not wait."""
    from zoneinfo import ZoneInfo

    from sequences.statuses import Substatus, wait_of
    from storage.identities import get_identity
    from storage.audience_view import AudienceFilter, AudienceSource
    from storage.campaigns import get_campaign
    from storage.metrics import AUDIENCE_KEYS
    from storage.reader import Reader
    from tui.text import clean

    chips = [k for k in AUDIENCE_KEYS if k != "total"]
    if status_chip is not None and status_chip not in chips:
        raise UserError(f"--status: unknown status {status_chip!r} ({', '.join(chips)})")
    ws, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    reader = Reader(ws.db_path)
    try:
        source = AudienceSource(reader, AudienceFilter(row["id"], row["identity_id"], status=status_chip,
                                                       campaign_paused=row["status"] == "paused"))
        page = source.after(after, limit + 1)
    finally:
        reader.close()
    more = len(page) > limit
    page = page[:limit]
    zone = ZoneInfo(get_identity(db, row["identity_id"])["timezone"])

    def waiting(r) -> dict | None:
        """Why an In-progress lead waits and its detail: the cap, until when (in the identity's zone)."""
        wait = wait_of(r.status, r.substatus, r.wait_cap, r.wait_until, r.due_at)
        if wait is None:
            return None
        until = wait.until.astimezone(zone).isoformat(timespec="seconds") if wait.until else None
        return {"reason": wait.reason.label, "cap": wait.cap, "until": until}

    leads_out = [{"contact_id": r.contact_id, "name": f"{r.first_name or ''} {r.last_name or ''}".strip(),
                  "company": r.company or "", "status": r.status, "substatus": r.substatus,
                  "next_due": r.due_at, "step": r.node_id, "key": r.id, "waiting": waiting(r)} for r in page]
    out = {"leads": leads_out, "next_after": page[-1].id if more else None}

    def why(r: dict) -> str:
        if r["waiting"]:
            w = r["waiting"]
            return " · ".join(x for x in (w["reason"], w["cap"], w["until"] and f"until {w['until'][:16]}") if x)
        try:
            return Substatus(r["substatus"]).label if r["substatus"] else ""
        except ValueError:
            return r["substatus"] or ""

    human = "\n".join(
        f"{r['contact_id']:>7}  {clean(r['name'])[:24]:<24} {clean(r['company'])[:18]:<18} {r['status']:<11}"
        f" {clean(why(r)):<26}"
        f" {r['step'] or '':<10} {r['next_due'] or ''}" for r in leads_out) or "No leads."
    if out["next_after"] is not None:
        human += f"\nMore: --after {out['next_after']}"
    emit(out, json_out, human)


@app.command("status")
def status(ctx: typer.Context, campaign: str = _CAMPAIGN, json_out: bool = _JSON) -> None:
    """The campaign's general information, audience chips, metrics and leads per step."""
    from storage.campaigns import get_campaign, settings_of
    from storage.identities import get_identity
    from storage.metrics import campaign_metrics

    _, db = open_session(ctx)
    row = guard(lambda: get_campaign(db, campaign))
    m = campaign_metrics(db, row["id"])
    settings = settings_of(row)
    out = {**_card(row), "identity": get_identity(db, row["identity_id"])["name"],
           "replies": settings.reply_handling, **msgspec.structs.asdict(m),
           "steps": [msgspec.structs.asdict(s) for s in m.steps]}
    emit(out, json_out, _status_text(out))


def _status_text(s: dict[str, Any]) -> str:
    a, m = s["audience"], s["metrics"]
    lines = [f"#{s['id']} {s['name']} — {s['status']}, {s['priority']} priority, identity {s['identity']}",
             "Audience: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in a.items())]
    for channel, figures in m.items():
        lines.append(f"{channel.capitalize():<9}" + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items()))
    lines.append("Progress by action:")
    lines += [f"  {'  ' * st['depth']}{st['step']:<14} {st['label']:<30} {st['leads']:>7}"
              + (f"  ({st['errors']} error)" if st["errors"] else "") for st in s["steps"]]
    return "\n".join(lines)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status_filter: Optional[list[str]] = typer.Option(None, "--status", help="A dashboard tab: active (running + scheduled), draft, "
                                            "running, paused, scheduled or archived; repeat."),
    identity: Optional[str] = typer.Option(None, "--identity", help="Only this identity's campaigns."),
    folder: Optional[str] = typer.Option(None, "--folder"),
    tags: Optional[list[str]] = typer.Option(None, "--tag", help="Campaigns with this tag; repeat: any of them."),
    created: Optional[str] = typer.Option(None, "--created", help="Created within YYYY-MM-DD..YYYY-MM-DD (UTC days; "
                                          "either end may be left out; one date: that day)."),
    search: Optional[str] = typer.Option(None, "--search", help="Campaign or identity name contains this."),
    json_out: bool = _JSON,
) -> None:
    """The campaigns dashboard: newest first, with Started / Contacted / Replied."""
    from sequences.statuses import CAMPAIGN_TABS
    from storage.identities import get_identity
    from storage.metrics import dashboard
    from storage.timeline import workspace_time

    statuses: set[str] = set()
    for s in status_filter or []:
        if s not in CAMPAIGN_TABS:
            raise UserError(f"--status: unknown status {s!r} ({', '.join(CAMPAIGN_TABS)})")
        statuses |= {c.value for c in CAMPAIGN_TABS[s][1]}
    _, db = open_session(ctx)
    ident_id = guard(lambda: get_identity(db, identity)["id"]) if identity else None
    since, until = _range("--created", created)
    rows = dashboard(db, now=workspace_time(db, wall_time()), statuses=tuple(sorted(statuses)), identity_id=ident_id,
                     folder=folder, search=search)
    rows = [r for r in rows if (not tags or set(tags) & set(r["tags"]))
            and (since is None or r["created_at"] >= since) and (until is None or r["created_at"] < until)]
    human = "\n".join(
        f"#{r['id']:<4} {r['name'][:32]:<32} {r['status']:<9} {r['priority']:<6} {r['identity'][:16]:<16} "
        f"{'+'.join(r['channels']):<19} started {r['started']}/{r['total']}, contacted {r['contacted']}, "
        f"replied {r['replied']}  {r['created']}" + (f"  [{', '.join(r['tags'])}]" if r["tags"] else "")
        for r in rows) or "No campaigns yet: enginy campaigns create --template NAME --identity ID"
    emit(rows, json_out, human)


@app.command("export")
def export(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV file to write ('-' for standard output)."),
    campaigns: Optional[list[str]] = typer.Option(None, "--campaign", help="Only these campaigns (id or name; repeat)."),
    json_out: bool = _JSON,
) -> None:
    """Write campaign metrics as CSV: one row per campaign, every Overview figure."""
    from storage.campaign_export import write_csv
    from storage.campaigns import get_campaign

    _, db = open_session(ctx)
    ids = [guard(lambda ref=ref: get_campaign(db, ref)["id"]) for ref in campaigns or []] or None
    if str(file) == "-":
        write_csv(db, sys.stdout, now=wall_time(), campaign_ids=ids)
        return
    tmp = file.with_name(file.name + ".tmp")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as out:
            count = write_csv(db, out, now=wall_time(), campaign_ids=ids)
        tmp.replace(file)
    except OSError as exc:
        raise UserError(f"cannot write {file}: {exc.strerror}") from None
    emit({"file": str(file), "campaigns": count}, json_out, f"Wrote {count} campaign(s) to {file}")
