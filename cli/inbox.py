"""`enginy inbox …`: connect an identity's mailbox over IMAP + SMTP, list, disconnect, reconnect.

The connection is validated at once (IMAP login, SMTP EHLO + AUTH) and a
failure is told in the spec's troubleshooting words. The password is read
from stdin only (never an argument: it would land in shell history and the
process list) and kept by runtime/secrets.py — never in the database,
enginy.toml or any output.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from cli.output import UserError, emit
from cli.workspace import open_session, require_identity
from sequences.limits import EMAIL_PER_DAY, EMAIL_PER_HOUR, PORT_MAX

app = typer.Typer(help="Email inboxes of an identity (IMAP to read, SMTP to send).", no_args_is_help=True,
                  rich_markup_mode=None)
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _password(from_stdin: bool) -> str:
    if not from_stdin:
        raise UserError("give the password on stdin with --password-stdin "
                        "(e.g. `printf %s \"$PASS\" | enginy inbox connect …`); it is never taken as an argument")
    data = sys.stdin.readline()
    password = data.rstrip("\r\n")
    if not password:
        raise UserError("--password-stdin: stdin was empty; pipe the password (or App Password) in")
    return password


def check_connection(settings, secret) -> None:
    """IMAP login, then SMTP EHLO + AUTH with a password or a token source (runtime/inbox_connect.py).
    Raises UserError in the spec's terms."""
    from runtime.inbox_connect import ConnectError
    from runtime.inbox_connect import check_connection as check

    try:
        check(settings, secret)
    except ConnectError as exc:
        raise UserError(str(exc)) from None


def _row_summary(r: dict[str, Any]) -> dict[str, Any]:
    return {"inbox": r["id"], "identity": r["identity_id"], "email": r["email"], "provider": r["provider"], "imap": f"{r['imap_host']}:{r['imap_port']}",
            "smtp": f"{r['smtp_host']}:{r['smtp_port']}", "tls": r["tls_mode"], "ca_file": r["ca_file"],
            "per_day": r["per_day"], "per_hour": r["per_hour"], "connected": bool(r["connected"])}


def _find_inbox(db, ref: str) -> dict[str, Any]:
    from storage.inboxes import inboxes_matching

    rows = inboxes_matching(db, ref)
    if not rows:
        raise UserError(f"no inbox {ref!r} (see `enginy inbox list`)")
    if len(rows) > 1:
        raise UserError(f"{ref!r} is connected to several identities; use the inbox id "
                        f"({', '.join(str(r['id']) for r in rows)})")
    return rows[0]


@app.command("connect")
def connect(
    ctx: typer.Context,
    identity: str = typer.Argument(..., help="Identity id or name."),
    email: str = typer.Option(..., "--email", help="The inbox address."),
    provider: str = typer.Option("imap", "--provider",
                                 help="imap (password) | microsoft (Microsoft 365: sign in with a code on any device) "
                                      "| google (Google: sign in in a browser)."),
    imap_host: Optional[str] = typer.Option(None, "--imap-host", help="Required for imap; microsoft/google know theirs."),
    imap_port: Optional[int] = typer.Option(None, "--imap-port", min=1, max=PORT_MAX, help="993 (SSL/TLS, recommended) or 143."),
    smtp_host: Optional[str] = typer.Option(None, "--smtp-host", help="Required for imap; microsoft/google know theirs."),
    smtp_port: Optional[int] = typer.Option(None, "--smtp-port", min=1, max=PORT_MAX, help="465 (SSL) or 587 (STARTTLS)."),
    tls: Optional[str] = typer.Option(None, "--tls", help="implicit | starttls | none (none: loopback hosts only)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password (or App Password) from stdin."),
    client_id: Optional[str] = typer.Option(None, "--client-id", help="OAuth client id of your app registration "
                                            "(microsoft/google; or ENGINY_OAUTH_CLIENT_ID)."),
    client_secret: Optional[str] = typer.Option(None, "--client-secret", help="Google desktop clients' secret (not "
                                                "confidential for installed apps; or ENGINY_OAUTH_CLIENT_SECRET)."),
    tenant: str = typer.Option("organizations", "--tenant", help="Microsoft 365 tenant id or domain."),
    authority: Optional[str] = typer.Option(None, "--authority", help="Microsoft sign-in host (default "
                                            "https://login.microsoftonline.com)."),
    authorize_url: Optional[str] = typer.Option(None, "--authorize-url", help="Google authorization endpoint override."),
    token_url: Optional[str] = typer.Option(None, "--token-url", help="Token endpoint override."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Google: open the sign-in page in the local "
                                 "browser (never over SSH)."),
    ca_file: Optional[str] = typer.Option(None, "--ca-file", help="Extra trusted CA certificate (PEM), e.g. a private CA."),
    per_day: Optional[int] = typer.Option(None, "--per-day", help=f"Emails per day from this inbox ({EMAIL_PER_DAY.low}-{EMAIL_PER_DAY.high}, default {EMAIL_PER_DAY.default})."),
    per_hour: Optional[int] = typer.Option(None, "--per-hour", help=f"Emails per hour from this inbox ({EMAIL_PER_HOUR.low}-{EMAIL_PER_HOUR.high}, default {EMAIL_PER_HOUR.default})."),
    signature: Optional[str] = typer.Option(None, "--signature", help="Plain-text signature appended to every email."),
    list_unsubscribe: bool = typer.Option(True, "--list-unsubscribe/--no-list-unsubscribe",
                                          help="Add a List-Unsubscribe header (some vacation responders then stay silent)."),
    json_out: bool = _JSON,
) -> None:
    """Connect an inbox to an identity; the connection is checked before anything is saved.

    imap: give the servers and pipe the password (or App Password) with --password-stdin.
    microsoft: Microsoft 365 takes no passwords; a code is shown to enter at the printed address on any
    device (OAuth device sign-in). google: a browser sign-in (over SSH, paste back the address the
    browser ends on). Only the sign-in's refresh token is kept, in the secret store."""
    from runtime.inbox_connect import ConnectError, InboxConnection, Servers, SignInSettings
    from storage.inboxes import get_inbox

    if provider not in ("imap", "microsoft", "google"):
        raise UserError("--provider must be imap, microsoft or google")
    if provider != "imap" and password_stdin:
        raise UserError(f"--password-stdin is for imap inboxes; {provider} inboxes sign in by OAuth (no password)")
    sign_in = None if provider == "imap" else SignInSettings(provider, client_id, client_secret, tenant, authority,
                                                             authorize_url, token_url)
    ws, db = open_session(ctx)
    ident = require_identity(db, identity)
    try:
        connection = InboxConnection(ws, ident["id"], email, sign_in,
                                     Servers(imap_host, imap_port, smtp_host, smtp_port, tls, ca_file),
                                     per_day=per_day, per_hour=per_hour, list_unsubscribe=list_unsubscribe,
                                     signature=signature.replace("\\n", "\n") if signature is not None else None)
        if sign_in is None:
            secret = _password(password_stdin)
        else:
            from cli.inbox_oauth import sign_in as run_sign_in

            secret = run_sign_in(connection, browser=browser)
        inbox_id, where = connection.keep(secret)
    except ConnectError as exc:
        raise UserError(str(exc)) from None
    summary = _row_summary(get_inbox(db, inbox_id))
    kept = "password" if sign_in is None else "sign-in"
    summary.update({"validated": {"imap": "login ok", "smtp": "auth ok"}, f"{kept}_stored_in": where})
    emit(summary, json_out, f"inbox {inbox_id} {connection.settings.email} connected to {ident['name']} "
                            f"(IMAP login and SMTP auth ok; {kept} in the {where})")


@app.command("list")
def list_(ctx: typer.Context, identity: Optional[str] = typer.Argument(None, help="Only this identity's inboxes."),
          json_out: bool = _JSON) -> None:
    """Inboxes with their servers, caps and connection state."""
    from storage.inboxes import list_inboxes

    _, db = open_session(ctx)
    identity_id = require_identity(db, identity)["id"] if identity is not None else None
    rows = [_row_summary(r) for r in list_inboxes(db, identity_id)]
    human = "\n".join(f"{r['inbox']:>4}  {r['email']:<32} {r['provider']:<9} "
                      f"{'connected' if r['connected'] else 'DISCONNECTED':<13}"
                      f" {r['per_day']}/day {r['per_hour']}/h  imap {r['imap']} smtp {r['smtp']} ({r['tls']})"
                      for r in rows) or "no inboxes yet (`enginy inbox connect IDENTITY --email …`)"
    emit(rows, json_out, human)


@app.command("edit")
def edit(ctx: typer.Context, inbox: str = typer.Argument(..., help="Inbox id or address."),
         per_day: Optional[int] = typer.Option(None, "--per-day", help=f"Emails per day from this inbox ({EMAIL_PER_DAY.low}-{EMAIL_PER_DAY.high}, recommended {EMAIL_PER_DAY.default})."),
         per_hour: Optional[int] = typer.Option(None, "--per-hour", help=f"Emails per hour from this inbox ({EMAIL_PER_HOUR.low}-{EMAIL_PER_HOUR.high}, recommended {EMAIL_PER_HOUR.default})."),
         signature_file: Optional[str] = typer.Option(None, "--signature-file",
                                                      help="Plain-text signature from this file ('-' reads stdin; an empty file removes it)."),
         signature_html_file: Optional[str] = typer.Option(None, "--signature-html-file",
                                                           help="HTML signature from this file (shown in the HTML part; empty removes it)."),
         json_out: bool = _JSON) -> None:
    """Change an inbox's email rate or signature without reconnecting it (the password is not asked).

    A running runtime sends with the new values from its next email."""
    from pathlib import Path

    from runtime.clock import wall_now
    from storage.activity import iso
    from storage.inboxes import InboxError, edit_inbox

    def read(path: str | None, flag: str) -> str | None:
        if path is None:
            return None
        if path == "-":
            return sys.stdin.read()
        try:
            return Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{flag} {path}: cannot read it ({exc.__class__.__name__}: {exc})") from None

    text, html = read(signature_file, "--signature-file"), read(signature_html_file, "--signature-html-file")
    if per_day is None and per_hour is None and text is None and html is None:
        raise UserError("nothing to change: give --per-day, --per-hour, --signature-file or --signature-html-file")
    _, db = open_session(ctx)
    row = _find_inbox(db, inbox)
    try:
        new = edit_inbox(db, row["id"], now=iso(wall_now()), per_day=per_day, per_hour=per_hour,
                         signature_text=text.strip("\n") if text is not None else None,
                         signature_html=html.strip() if html is not None else None,
                         labels=("--per-day", "--per-hour"))
    except InboxError as exc:
        raise UserError(str(exc)) from None
    summary = {**_row_summary(new), "signature_text": new["signature_text"], "signature_html": new["signature_html"]}
    sig = "signature set" if new["signature_text"] or new["signature_html"] else "no signature"
    emit(summary, json_out, f"inbox {new['id']} {new['email']}: {new['per_day']}/day, {new['per_hour']}/hour, {sig}")


@app.command("disconnect")
def disconnect(ctx: typer.Context, inbox: str = typer.Argument(..., help="Inbox id or address."),
               json_out: bool = _JSON) -> None:
    """Stop using an inbox and forget its password (the app's disconnect does the same). Its leads
    mid-sequence error ("Email disconnected") until the same address is reconnected with
    `enginy inbox reconnect INBOX --password-stdin` (they are never moved to another inbox)."""
    from runtime.clock import wall_now
    from runtime.secrets import SecretsError, SecretStore, forget_requested
    from storage.inboxes import DISCONNECT_WARNING, disconnect_inbox, leads_on_inbox
    from tui.text import clean

    ws, db = open_session(ctx)
    row = _find_inbox(db, inbox)
    leads = leads_on_inbox(db, row["id"])
    done = disconnect_inbox(db, row["id"], now=wall_now(), actor=ws.config.user)
    try:
        forget_requested(db, SecretStore.of(ws))
    except SecretsError as exc:  # kept in the purge list: the runtime forgets it later
        typer.echo(f"note: password not forgotten yet ({exc}); the runtime will", err=True)
    active = done["active_leads"]
    listed = "".join(f"\n  {clean(lead['first_name'])} {clean(lead['last_name'])} <{clean(lead['email'] or '')}>"
                     f" · {clean(lead['campaign'])}" for lead in leads)
    more = "\n  …" if active > len(leads) else ""
    emit({"inbox": row["id"], "email": row["email"], "connected": False, "active_leads": active,
          "leads_mid_sequence": [{k: lead[k] for k in ("enrollment_id", "first_name", "last_name", "email",
                                                        "campaign")} for lead in leads],
          "warning": DISCONNECT_WARNING}, json_out,
         f"inbox {row['id']} {clean(row['email'])} disconnected; its password is forgotten.\n"
         f"Warning: {DISCONNECT_WARNING}\n{active} lead(s) mid-sequence on it" + (":" if leads else ".")
         + listed + more + "\nReconnect: " + (f"enginy inbox reconnect {row['id']} --password-stdin" if row["provider"] == "imap"
                                              else f"enginy inbox connect {row['identity_id']} --email {row['email']} "
                                                   f"--provider {row['provider']}"))


@app.command("reconnect")
def reconnect(ctx: typer.Context, inbox: str = typer.Argument(..., help="Inbox id or address."),
              password_stdin: bool = typer.Option(False, "--password-stdin",
                                                  help="A new password (else the stored one is tried)."),
              json_out: bool = _JSON) -> None:
    """Validate and re-enable an inbox (after a password change or a disconnect)."""
    from runtime.channels.email.config import InboxSettings
    from runtime.clock import wall_now
    from runtime.secrets import SecretsError, SecretStore, inbox_secret_name
    from storage.activity import iso
    from storage.inboxes import set_connected

    ws, db = open_session(ctx)
    row = _find_inbox(db, inbox)
    if row["provider"] not in ("imap", "microsoft", "google") or not row["imap_host"]:
        raise UserError(f"inbox {row['id']} is not an IMAP/SMTP inbox; connect it with `enginy inbox connect`")
    store = SecretStore.of(ws)
    if row["provider"] != "imap":
        return _reconnect_oauth(db, row, store, json_out)
    password = _password(True) if password_stdin else store.load(inbox_secret_name(row["id"]))
    if not password:
        raise UserError(f"no stored password for inbox {row['id']}; pass it with --password-stdin")
    check_connection(InboxSettings.of_row(row), password)

    def keep_password() -> None:
        try:
            store.save(inbox_secret_name(row["id"]), password)
        except SecretsError as exc:
            raise UserError(str(exc)) from None

    set_connected(db, row["id"], True, now=iso(wall_now()), keep_secret=keep_password)
    emit({"inbox": row["id"], "email": row["email"], "connected": True}, json_out,
         f"inbox {row['id']} {row['email']} reconnected; retry its errored leads to resume them")


def _reconnect_oauth(db, row: dict[str, Any], store, json_out: bool) -> None:
    """Re-enable a Google / Microsoft 365 inbox whose kept sign-in still works (refreshed if due)."""
    from runtime.channels.email.config import InboxSettings
    from runtime.channels.email.oauth import Grant, TokenSource
    from runtime.clock import wall_now
    from runtime.secrets import inbox_secret_name
    from storage.activity import iso
    from storage.inboxes import set_connected

    name = inbox_secret_name(row["id"])
    grant = Grant.of_secret(store.load(name) or "")
    again = (f"sign in again: enginy inbox connect {row['identity_id']} --email {row['email']} "
             f"--provider {row['provider']}")
    if grant is None:
        raise UserError(f"inbox {row['id']} has no kept sign-in; {again}")
    try:
        check_connection(InboxSettings.of_row(row), TokenSource(grant, lambda text: store.save(name, text)))
    except UserError as exc:
        raise UserError(f"{exc} — {again}") from None
    set_connected(db, row["id"], True, now=iso(wall_now()))
    emit({"inbox": row["id"], "email": row["email"], "connected": True}, json_out,
         f"inbox {row['id']} {row['email']} reconnected; retry its errored leads to resume them")


@app.command("check-dns")
def check_dns(address: str = typer.Argument(..., help="An inbox address or a domain, e.g. ana@acme.com or acme.com."),
              selector: Optional[str] = typer.Option(None, "--selector", help="The DKIM selector your provider signs "
                                                     "with (default: try google, selector1, selector2 and common ones)."),
              nameserver: Optional[str] = typer.Option(None, "--nameserver", help="Ask this name server (IP[:PORT]) "
                                                       "instead of the system's resolver."),
              timeout: float = typer.Option(5.0, "--timeout", min=0.1, max=60.0, help="Seconds to wait for DNS answers."),
              json_out: bool = _JSON) -> None:
    """Check the sending domain's SPF, DKIM and DMARC records and say what is missing.

    Exit status 1 when a record is missing or wrong (so scripts can check), 0 when all three are there."""
    from runtime.channels.email.dns_check import DnsLookupError, check_domain, resolver

    domain = address.rsplit("@", 1)[-1].strip().rstrip(".").lower()
    if not domain or "." not in domain or any(c in domain for c in " /\\\r\n"):
        raise UserError(f"{address!r} is not an email address or a domain")
    host, port = nameserver or "", 53
    if nameserver and ":" in nameserver:
        host, _, text = nameserver.rpartition(":")
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise UserError(f"--nameserver {nameserver}: the port must be a number between 1 and 65535")
        port = int(text)
    try:
        checks = check_domain(resolver(host or None, port, timeout), domain, selector)
    except DnsLookupError as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:  # a malformed --nameserver address
        raise UserError(f"--nameserver {nameserver}: {exc}") from None
    human = "\n".join(f"{c.name:<6} {'ok' if c.ok else 'MISSING' if not c.record else 'WRONG':<8} "
                      + (c.record[:100] if c.ok else c.advice) for c in checks)
    emit({"domain": domain, "ok": all(c.ok for c in checks), "checks": [c.as_dict() for c in checks]}, json_out,
         f"{domain}\n{human}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command("warmup")
def warmup_(ctx: typer.Context, inbox: str = typer.Argument(..., help="Inbox id or address."),
            start: bool = typer.Option(False, "--start", help="Start the warm-up today (or restart it from day 1)."),
            stop: bool = typer.Option(False, "--stop", help="End the warm-up: the configured cap applies at once."),
            days: int = typer.Option(21, "--days", min=14, max=28, help="Days from 5 emails a day to the inbox's cap "
                                     "(two to three weeks; 14-28)."),
            json_out: bool = _JSON) -> None:
    """Show, start or stop an inbox's warm-up: its daily cap ramps from 5 to its configured cap over
    --days days, and is halved (or back to 5) while bounces and complaints rise. A running runtime
    applies a change at once."""
    from zoneinfo import ZoneInfo

    from sequences import warmup
    from runtime.clock import wall_now
    from storage.activity import iso
    from storage.identities import get_identity
    from storage.inboxes import set_warmup, warmup_bounces

    if start and stop:
        raise UserError("--start and --stop cannot go together")
    _, db = open_session(ctx)
    row = _find_inbox(db, inbox)
    today = wall_now().astimezone(ZoneInfo(get_identity(db, row["identity_id"])["timezone"])).date()
    if start or stop:
        row = set_warmup(db, row["id"], start=today.isoformat() if start else None, days=days, now=iso(wall_now()))
    sent, bounced = warmup_bounces(db, row["id"])
    inbox = {**row, "warmup_sent": sent, "warmup_bounced": bounced}
    caps = warmup.ramp_of(inbox, row["per_day"])
    warming = warmup.state(inbox, row["per_day"], today)
    out = {"inbox": row["id"], "email": row["email"], "warming_up": warming is not None, "per_day": row["per_day"],
           "started": row["warmup_start"], "days": row["warmup_days"], "day": warming.day if warming else None,
           "cap_today": warming.cap_today if warming else row["per_day"], "schedule": list(caps),
           "recent_sent": sent, "recent_bounced": bounced, "warning": warmup.WARNING if warming else None}
    if warming is None:
        human = (f"inbox {row['id']} {row['email']}: not warming up ({row['per_day']}/day)"
                 + ("; its warm-up ended" if caps else "") + f". Start one: enginy inbox warmup {row['id']} --start")
    else:
        weeks = ", ".join(f"day {i + 1}: {caps[i]}" for i in range(0, len(caps), 7)) + f", day {len(caps)}: {caps[-1]}"
        push = (f"\nBounces and complaints: {bounced} of the last {sent} emails — the ramp is stepped down"
                if warming.stepped_down else "")
        human = (f"inbox {row['id']} {row['email']}: warming up, day {warming.day} of {warming.days}, "
                 f"{warming.cap_today} emails today (then {row['per_day']}/day)\nSchedule: {weeks}{push}\n"
                 f"Warning: {warmup.WARNING}")
    emit(out, json_out, human)
