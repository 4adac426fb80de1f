"""`enginy identity …`: add, list, show and edit sender identities; connect them.

Every check lives in storage/identities.py; this module maps options to
fields and prints. New identities take their working hours and LinkedIn limits
from enginy.toml unless given. `connect-linkedin` is cli/linkedin.py's
gateway connection, registered here too because it is an identity setting.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from cli.output import UserError, emit
from cli.workspace import open_session
from sequences import limits as _caps

app = typer.Typer(help="Sender identities: working hours, LinkedIn limits, connections.",
                  no_args_is_help=True, rich_markup_mode=None)

# Options shared by `add` and `edit` (defined once; None = "not given").
_TZ = typer.Option(None, "--timezone", help="IANA time zone of the working hours, e.g. Europe/Madrid.")
_DAYS = typer.Option(None, "--working-days", help="Working days, e.g. mon-fri or mon,wed,fri.")
_HOURS = typer.Option(None, "--hours", help="Working hours START-END, e.g. 09:00-18:00.")
_CONN = typer.Option(None, "--linkedin-daily-connections", help=f"Connection requests per day ({_caps.LINKEDIN_INVITES_PER_DAY.low}-{_caps.LINKEDIN_INVITES_PER_DAY.high}, default {_caps.LINKEDIN_INVITES_PER_DAY.default}).")
_MSGS = typer.Option(None, "--linkedin-daily-messages", help=f"LinkedIn messages per day ({_caps.LINKEDIN_MESSAGES_PER_DAY.low}-{_caps.LINKEDIN_MESSAGES_PER_DAY.high}, default {_caps.LINKEDIN_MESSAGES_PER_DAY.default}).")
_PREMIUM = typer.Option(None, "--premium/--no-premium", help=f"LinkedIn Premium ({_caps.PROFILE_VISITS_PER_DAY_PREMIUM} profile visits a day).")
_SALES_NAV = typer.Option(None, "--sales-navigator/--no-sales-navigator", help="LinkedIn Sales Navigator.")
_INMAIL = typer.Option(None, "--inmail-credits", help="InMail credits available.")
_MONTHLY = typer.Option(None, "--monthly-conversation-limit", help="New conversations per month (0 = no limit).")
_AUTO_WD = typer.Option(None, "--auto-withdraw/--no-auto-withdraw",
                        help="Automatically withdraw pending invitations.")
_WD_DAYS = typer.Option(None, "--withdraw-after-days", help=f"Withdraw invitations pending this many days ({_caps.WITHDRAW_AFTER_DAYS.low}-{_caps.WITHDRAW_AFTER_DAYS.high}).")
_LIKINGS = typer.Option(None, "--likings-opt-out/--no-likings-opt-out",
                        help="Likings opt-out: never like or react to leads' posts (\"React to last post\" steps are skipped).")
_EMAIL = typer.Option(None, "--email", help="The identity's email address.")
_FIRST = typer.Option(None, "--first-name")
_LAST = typer.Option(None, "--last-name")
_TITLE = typer.Option(None, "--job-title")
_COMPANY = typer.Option(None, "--company")
_LI_URL = typer.Option(None, "--linkedin-url")
_PHONE = typer.Option(None, "--phone")
_MEETING = typer.Option(None, "--meeting-url", help="Schedule-a-meeting URL.")
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _fields(timezone, working_days, hours, connections, messages, premium, sales_navigator, inmail_credits,
            monthly, auto_withdraw, withdraw_after_days, email, first_name, last_name, job_title, company,
            linkedin_url, phone, meeting_url, likings_opt_out=None) -> dict[str, Any]:
    """Option values → identity fields, leaving out what was not given."""
    from storage.identities import parse_hours

    fields: dict[str, Any] = {
        "timezone": timezone, "working_days": working_days, "daily_connection_limit": connections,
        "daily_message_limit": messages, "premium": premium, "sales_navigator": sales_navigator,
        "inmail_credits": inmail_credits, "withdraw_enabled": auto_withdraw,
        "withdraw_after_days": withdraw_after_days, "email": email, "first_name": first_name,
        "last_name": last_name, "job_title": job_title, "company": company, "linkedin_url": linkedin_url,
        "phone": phone, "meeting_url": meeting_url, "likings_opt_out": likings_opt_out,
    }
    if monthly is not None:
        fields["monthly_conversation_limit"] = monthly or None
    if hours is not None:
        fields["work_start"], fields["work_end"] = parse_hours(hours)
    return {k: v for k, v in fields.items() if v is not None}


def _summary(ident: dict[str, Any], inboxes: list[dict[str, Any]]) -> dict[str, Any]:
    linkedin = ident["linkedin_driver"] if ident["linkedin_connected"] else "not connected"
    return {
        "id": ident["id"], "name": ident["name"], "first_name": ident["first_name"],
        "last_name": ident["last_name"], "email": ident["email"], "job_title": ident["job_title"],
        "company": ident["company"], "linkedin_url": ident["linkedin_url"], "phone": ident["phone"],
        "meeting_url": ident["meeting_url"],
        "working_hours": {"timezone": ident["timezone"], "days": ident["working_days"].split(","),
                          "start": ident["work_start"], "end": ident["work_end"]},
        "linkedin": {"connection": linkedin, "daily_connections": ident["daily_connection_limit"],
                     "daily_messages": ident["daily_message_limit"], "premium": bool(ident["premium"]),
                     "sales_navigator": bool(ident["sales_navigator"]), "inmail_credits": ident["inmail_credits"],
                     "monthly_conversation_limit": ident["monthly_conversation_limit"],
                     "auto_withdraw": bool(ident["withdraw_enabled"]),
                     "withdraw_after_days": ident["withdraw_after_days"],
                     "queue_paused": bool(ident["linkedin_queue_paused"]),
                     "likings_opt_out": bool(ident["likings_opt_out"])},
        "inboxes": [{"id": b["id"], "email": b["email"], "provider": b["provider"], "per_day": b["per_day"],
                     "per_hour": b["per_hour"], "connected": bool(b["connected"])} for b in inboxes],
    }


def _human(s: dict[str, Any]) -> str:
    wh, li = s["working_hours"], s["linkedin"]
    lines = [f"#{s['id']} {s['name']}" + (f" <{s['email']}>" if s["email"] else ""),
             f"  working hours: {','.join(wh['days'])} {wh['start']}-{wh['end']} {wh['timezone']}",
             f"  LinkedIn: {li['connection']}; {li['daily_connections']} invitations/day, "
             f"{li['daily_messages']} messages/day" + (", premium" if li["premium"] else "")
             + (", Sales Navigator" if li["sales_navigator"] else ""),
             "  auto-withdraw: " + (f"after {li['withdraw_after_days']} days" if li["auto_withdraw"] else "off")
             + ("; likings opt-out (no post reactions)" if li["likings_opt_out"] else "")]
    lines += [f"  inbox: {b['email']} ({b['provider']}, {b['per_day']}/day, {b['per_hour']}/hour)"
              for b in s["inboxes"]]
    return "\n".join(lines)


def _show(db, ident_id: int, json_out: bool) -> None:
    from storage.identities import get_identity, inboxes_of

    s = _summary(get_identity(db, ident_id), inboxes_of(db, ident_id))
    emit(s, json_out, _human(s))


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Identity name (shown on campaigns)."),
    sandbox: bool = typer.Option(False, "--sandbox", help="Connect the simulated LinkedIn and a simulated inbox."),
    timezone: Optional[str] = _TZ, working_days: Optional[str] = _DAYS, hours: Optional[str] = _HOURS,
    connections: Optional[int] = _CONN, messages: Optional[int] = _MSGS, premium: Optional[bool] = _PREMIUM,
    sales_navigator: Optional[bool] = _SALES_NAV, inmail_credits: Optional[int] = _INMAIL,
    monthly: Optional[int] = _MONTHLY, auto_withdraw: Optional[bool] = _AUTO_WD,
    withdraw_after_days: Optional[int] = _WD_DAYS, email: Optional[str] = _EMAIL,
    first_name: Optional[str] = _FIRST, last_name: Optional[str] = _LAST, job_title: Optional[str] = _TITLE,
    company: Optional[str] = _COMPANY, linkedin_url: Optional[str] = _LI_URL, phone: Optional[str] = _PHONE,
    meeting_url: Optional[str] = _MEETING, json_out: bool = _JSON,
) -> None:
    """Add an identity. Working hours and LinkedIn limits default to enginy.toml's."""
    from runtime.clock import wall_now
    from storage.identities import IdentityError, connect_sandbox, create_identity

    ws, db = open_session(ctx)
    cfg = ws.config
    defaults = {"timezone": cfg.working_hours.timezone, "working_days": cfg.working_hours.days,
                "work_start": cfg.working_hours.start, "work_end": cfg.working_hours.end,
                "daily_connection_limit": cfg.linkedin.daily_connection_requests,
                "daily_message_limit": cfg.linkedin.daily_messages}
    try:
        given = _fields(timezone, working_days, hours, connections, messages, premium, sales_navigator,
                        inmail_credits, monthly, auto_withdraw, withdraw_after_days, email, first_name,
                        last_name, job_title, company, linkedin_url, phone, meeting_url)
        now = wall_now()
        from storage.db import transaction

        with transaction(db):
            ident_id = create_identity(db, name, now=now, actor=cfg.user, **{**defaults, **given})
            if sandbox:
                connect_sandbox(db, ident_id, now=now, actor=cfg.user,
                                per_day=cfg.email.per_day, per_hour=cfg.email.per_hour)
    except IdentityError as exc:
        raise UserError(str(exc)) from None
    _show(db, ident_id, json_out)


@app.command("edit")
def edit(
    ctx: typer.Context,
    identity: str = typer.Argument(..., help="Identity id or name."),
    name: Optional[str] = typer.Option(None, "--name", help="New name."),
    timezone: Optional[str] = _TZ, working_days: Optional[str] = _DAYS, hours: Optional[str] = _HOURS,
    connections: Optional[int] = _CONN, messages: Optional[int] = _MSGS, premium: Optional[bool] = _PREMIUM,
    sales_navigator: Optional[bool] = _SALES_NAV, inmail_credits: Optional[int] = _INMAIL,
    monthly: Optional[int] = _MONTHLY, auto_withdraw: Optional[bool] = _AUTO_WD,
    withdraw_after_days: Optional[int] = _WD_DAYS, email: Optional[str] = _EMAIL,
    first_name: Optional[str] = _FIRST, last_name: Optional[str] = _LAST, job_title: Optional[str] = _TITLE,
    company: Optional[str] = _COMPANY, linkedin_url: Optional[str] = _LI_URL, phone: Optional[str] = _PHONE,
    meeting_url: Optional[str] = _MEETING, likings_opt_out: Optional[bool] = _LIKINGS, json_out: bool = _JSON,
) -> None:
    """Change an identity's settings; running campaigns use the new hours and limits at once."""
    from runtime.clock import wall_now
    from storage.identities import IdentityError, update_identity

    ws, db = open_session(ctx)
    try:
        changes = _fields(timezone, working_days, hours, connections, messages, premium, sales_navigator,
                          inmail_credits, monthly, auto_withdraw, withdraw_after_days, email, first_name,
                          last_name, job_title, company, linkedin_url, phone, meeting_url, likings_opt_out)
        if name is not None:
            changes["name"] = name
        if not changes:
            raise UserError("nothing to change: give at least one option (see `enginy identity edit --help`)")
        ident = update_identity(db, identity, now=wall_now(), actor=ws.config.user, **changes)
    except IdentityError as exc:
        raise UserError(str(exc)) from None
    _show(db, ident["id"], json_out)


def _set_paused(ctx: typer.Context, identity: str | None, every: bool, paused: bool, json_out: bool) -> None:
    from runtime.clock import wall_now
    from tui.text import clean
    from storage.identities import IdentityError, get_identity, list_identities, set_linkedin_paused

    if (identity is None) == (not every):
        raise UserError("name one identity, or --all for every identity")
    ws, db = open_session(ctx)
    try:
        idents = list_identities(db) if every else [get_identity(db, identity)]
    except IdentityError as exc:
        raise UserError(str(exc)) from None
    for ident in idents:
        set_linkedin_paused(db, ident["id"], paused, now=wall_now(), actor=ws.config.user)
    rows = [{"id": i["id"], "name": i["name"], "linkedin_queue_paused": paused} for i in idents]
    word = "paused" if paused else "resumed"
    emit(rows, json_out, "\n".join(f"LinkedIn queue {word}: #{r['id']} {clean(r['name'])}" for r in rows)
         or "No identities yet: enginy identity add NAME --sandbox")


@app.command("pause")
def pause(ctx: typer.Context, identity: Optional[str] = typer.Argument(None, help="Identity id or name."),
          every: bool = typer.Option(False, "--all", help="Every identity."), json_out: bool = _JSON) -> None:
    """Pause an identity's LinkedIn queue (email goes on): nothing more goes to LinkedIn until resumed.

    The Queues screen's pause, for scripts. The runtime picks it up within a second; a send
    already on the wire finishes."""
    _set_paused(ctx, identity, every, True, json_out)


@app.command("resume")
def resume(ctx: typer.Context, identity: Optional[str] = typer.Argument(None, help="Identity id or name."),
           every: bool = typer.Option(False, "--all", help="Every identity."), json_out: bool = _JSON) -> None:
    """Resume an identity's LinkedIn queue (also after LinkedIn restricted the account and you checked it)."""
    _set_paused(ctx, identity, every, False, json_out)


@app.command("connect-sandbox")
def connect_sandbox_cmd(
    ctx: typer.Context,
    identity: str = typer.Argument(..., help="Identity id or name."),
    json_out: bool = _JSON,
) -> None:
    """Connect an identity to the simulated LinkedIn and a simulated inbox (nothing real is contacted)."""
    from runtime.clock import wall_now
    from storage.identities import IdentityError, connect_sandbox

    ws, db = open_session(ctx)
    try:
        ident = connect_sandbox(db, identity, now=wall_now(), actor=ws.config.user,
                                per_day=ws.config.email.per_day, per_hour=ws.config.email.per_hour)
    except IdentityError as exc:
        raise UserError(str(exc)) from None
    _show(db, ident["id"], json_out)


@app.command("list")
def list_cmd(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """All identities."""
    from storage.identities import inboxes_of, list_identities

    _, db = open_session(ctx)
    rows = [_summary(r, inboxes_of(db, r["id"])) for r in list_identities(db)]
    human = "\n".join(_human(s) for s in rows) or "No identities yet: enginy identity add NAME --sandbox"
    emit(rows, json_out, human)


@app.command("show")
def show(ctx: typer.Context, identity: str = typer.Argument(..., help="Identity id or name."),
         json_out: bool = _JSON) -> None:
    """One identity's settings and inboxes."""
    from storage.identities import IdentityError, get_identity

    _, db = open_session(ctx)
    try:
        ident = get_identity(db, identity)
    except IdentityError as exc:
        raise UserError(str(exc)) from None
    _show(db, ident["id"], json_out)


def _date(value: str | None, option: str):
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option}: expected a date like 2026-03-31, got {value!r}") from None


def _stats_line(s) -> str:
    from tui.text import clean

    days = s.date_from if s.date_from == s.date_to else f"{s.date_from}..{s.date_to}"
    bounce = "—" if s.bounce_rate is None else f"{s.bounce_rate:g}%"
    return (f"#{s.id} {clean(s.name)} ({days}, {s.timezone})\n"
            f"  connections {s.connections_accepted} accepted / {s.connections_sent} sent · "
            f"messages {s.messages_sent} / {s.messages_allowed} allowed "
            f"(LinkedIn {s.linkedin_messages_sent}, email {s.emails_sent}) · "
            f"replied {s.replied} · bounce rate {bounce}")


@app.command("stats")
def stats(ctx: typer.Context,
          identity: Optional[str] = typer.Argument(None, help="Identity id or name (default: every identity)."),
          date_from: Optional[str] = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default: today)."),
          date_to: Optional[str] = typer.Option(None, "--to", help="Last day, YYYY-MM-DD, included (default: today)."),
          json_out: bool = _JSON) -> None:
    """Connections accepted vs sent, messages sent vs allowed, replied, bounce rate.

    Days are the identity's own: "today" is today in its time zone, and a period
    runs from local midnight of --from to local midnight after --to. Messages
    allowed = (LinkedIn messages per day + each connected inbox's emails per day)
    × the days of the period."""
    from runtime.clock import wall_now
    from storage.identities import IdentityError, get_identity, list_identities
    from storage.identity_stats import stats_of_identities
    from storage.timeline import workspace_time

    _, db = open_session(ctx)
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        idents = [get_identity(db, identity)] if identity is not None else list_identities(db)
        rows = stats_of_identities(db, idents, workspace_time(db, wall_now()), start, end)
    except (IdentityError, ValueError) as exc:
        raise UserError(str(exc)) from None
    emit(rows, json_out, "\n".join(_stats_line(s) for s in rows)
         or "No identities yet: enginy identity add NAME --sandbox")


@app.command("delete")
def delete(ctx: typer.Context, identity: str = typer.Argument(..., help="Identity id or name."),
           yes: bool = typer.Option(False, "--yes", "-y", help="Delete without asking."),
           dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be deleted."),
           json_out: bool = _JSON) -> None:
    """Delete an identity with its campaigns, inboxes, conversations, pending jobs and secrets.

    Says what goes first and asks (or give --yes). One transaction: interrupted, nothing is
    deleted. A running runtime stops the identity's actors within a second; the other identities
    go on. Draft campaigns can be moved to another identity first (`enginy campaigns edit
    CAMPAIGN --identity OTHER`)."""
    from runtime.clock import wall_now
    from runtime.secrets import SecretsError, SecretStore, forget_requested
    from storage.identities import IdentityError
    from storage.identity_delete import deletion_plan, delete_identity
    from tui.text import clean

    ws, db = open_session(ctx)
    try:
        plan = deletion_plan(db, identity)
    except IdentityError as exc:
        raise UserError(str(exc)) from None
    if dry_run:
        emit({**plan.to_dict(), "deleted": False}, json_out, "\n".join(clean(line) for line in plan.lines()))
        return
    if not yes:
        if json_out or not sys.stdin.isatty():
            raise UserError(f"deleting identity {plan.name!r} needs --yes (see what goes with --dry-run)")
        typer.echo("\n".join(clean(line) for line in plan.lines()))
        if not typer.confirm("Delete it?", default=False):
            raise UserError("nothing deleted")
    plan = delete_identity(db, plan.identity_id, now=wall_now(), actor=ws.config.user)
    try:
        forgotten = forget_requested(db, SecretStore.of(ws))
    except SecretsError as exc:  # kept in the purge list: the runtime forgets them later
        forgotten = []
        typer.echo(f"note: secrets not forgotten yet ({exc}); the runtime will", err=True)
    emit({**plan.to_dict(), "deleted": True, "secrets_forgotten": forgotten}, json_out,
         f"deleted identity #{plan.identity_id} {plan.name}: {len(plan.campaigns)} campaign(s), "
         f"{len(plan.inboxes)} inbox(es), {len(forgotten)} secret(s) forgotten")


@app.command("share")
def share(ctx: typer.Context,
          identity: Optional[str] = typer.Argument(None, help="Identity id or name (not needed with --list)."),
          hours: int = typer.Option(_caps.SHARE_LINK_HOURS, "--hours", min=1, max=_caps.SHARE_LINK_HOURS,
                                    help=f"Hours the link stays valid (1-{_caps.SHARE_LINK_HOURS})."),
          ca_file: Optional[str] = typer.Option(None, "--ca-file", help="Extra trusted CA certificate (PEM) for "
                                                "the owner's mail server, e.g. a private CA."),
          base_url: Optional[str] = typer.Option(None, "--base-url", help="Public address of `enginy tracking "
                                                 "serve` (default: [tracking] base_url, else http://127.0.0.1:8025)."),
          gateway: Optional[str] = typer.Option(None, "--gateway", help="LinkedIn gateway base URL: the page also "
                                                "lets the owner log in to LinkedIn (needs --api-key-stdin)."),
          api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help="Read the gateway API key from stdin."),
          revoke: bool = typer.Option(False, "--revoke", help="Cancel the identity's live links instead."),
          list_links: bool = typer.Option(False, "--list", help="List live links (of IDENTITY, or all)."),
          json_out: bool = _JSON) -> None:
    """Make a one-time link with which the identity's owner connects their own inbox, without
    access to the workspace (the spec's "Share Identity Link"); with --gateway, or their LinkedIn.

    The link works once (for one account) and for 24 hours. `enginy tracking serve` serves its
    page (put it behind your public HTTPS address, [tracking] base_url). The owner enters their
    IMAP/SMTP details (checked with their mail server before anything is saved) or their LinkedIn
    login and two-step code (through the gateway); passwords go nowhere but the mail server or
    the gateway, the mail password only to the secret store. Only a hash of the link is kept: it
    is shown now and never again."""
    from cli.workspace import require_identity
    from runtime.clock import wall_now
    from storage.share_links import live_links, make_link, revoke_links
    from storage.timeline import workspace_time
    from tui.text import clean

    if revoke and list_links:
        raise UserError("--revoke and --list cannot go together")
    ws, db = open_session(ctx)
    now = workspace_time(db, wall_now())
    if identity is None and not list_links:
        raise UserError("name the identity (id or name)")
    ident = require_identity(db, identity) if identity is not None else None
    if list_links:
        rows = live_links(db, now, ident["id"] if ident else None)
        emit(rows, json_out, "\n".join(f"link #{r['id']} for {clean(r['identity'])}, valid until {r['expires_at'][:16]}"
                                       for r in rows) or "no live share links")
        return
    if revoke:
        count = revoke_links(db, ident["id"], now)
        emit({"identity": ident["id"], "revoked": count}, json_out,
             f"{count} share link(s) of {clean(ident['name'])} cancelled")
        return
    if ca_file:
        from runtime.channels.email.config import MailConfigError, resolve_ca_file

        try:
            ca_file = resolve_ca_file(ca_file)
        except MailConfigError as exc:
            raise UserError(str(exc)) from None
    base = base_url or ws.config.tracking.base_url
    if base and not base.startswith(("http://", "https://")):
        raise UserError(f"--base-url {base}: an address starting with https:// (or http://)")
    gateway_url, keep_key = _gateway_key(ws, gateway, api_key_stdin)
    link, url = make_link(db, ident["id"], base_url=base, now=now, hours=hours, ca_file=ca_file,
                          gateway_url=gateway_url, keep_key=keep_key)
    emit({"identity": ident["id"], "link": link["id"], "url": url, "expires_at": link["expires_at"],
          "linkedin": bool(gateway_url)}, json_out,
         f"Share link for {clean(ident['name'])} (works once, until {link['expires_at'][:16]} UTC):\n{url}\n"
         "Served by `enginy tracking serve`; send it to the identity's owner over a private channel.")


def _gateway_key(ws, gateway: str | None, api_key_stdin: bool):
    """With --gateway: the gateway's normalised URL and what keeps its API key (read from stdin) under a
    name; else (None, None)."""
    from runtime.channels.linkedin.http import normalize_base_url
    from runtime.secrets import SecretsError, SecretStore

    if not gateway:
        if api_key_stdin:
            raise UserError("--api-key-stdin goes with --gateway URL")
        return None, None
    if not api_key_stdin:
        raise UserError("--gateway needs the gateway's API key on stdin: add --api-key-stdin and pipe it in")
    key = sys.stdin.readline().strip()
    if not key:
        raise UserError("no API key on stdin")
    try:
        url = normalize_base_url(gateway)
    except ValueError as exc:
        raise UserError(f"--gateway {gateway}: {exc}") from None
    store = SecretStore.of(ws)

    def keep(name: str) -> str:
        try:
            return store.save(name, key)
        except SecretsError as exc:
            raise UserError(str(exc)) from None

    return url, keep


def _register_linkedin_connect() -> None:
    from cli.linkedin import connect_linkedin

    app.command("connect-linkedin")(connect_linkedin)


_register_linkedin_connect()
