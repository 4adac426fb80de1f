"""`enginy linkedin …`: invitations history, manual bulk withdrawal, connecting an identity.

`connect_linkedin` is the function behind `enginy identity connect-linkedin`
(registered by cli/identity.py); it is also reachable as `enginy linkedin connect`.
Every failure ends in one line (UserError), never a traceback; the gateway API
key is read from stdin only, kept in the secrets store, and never printed.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from sequences.limits import RUN_DAYS_MAX
from cli.output import UserError, emit
from sequences.inert import inert
from cli.workspace import open_ws, require_identity

app = typer.Typer(help="LinkedIn: connect an identity, invitations history, withdraw pending invitations.",
                  no_args_is_help=True, rich_markup_mode=None)


# -- workspace, identity, driver ---------------------------------------------------


def _open(ctx: typer.Context):
    """The workspace (its secret store holds the API keys) and its opened database."""
    workspace = open_ws(ctx)
    return workspace, workspace.open_db()


def _driver(workspace, identity: dict):
    from runtime.channels.linkedin.gateway import GatewayDriver
    from runtime.clock import wall_now
    from runtime.secrets import SecretsError, SecretStore, linkedin_secret_name

    kind = identity.get("linkedin_driver")
    if kind != "gateway" or not identity.get("linkedin_account_id"):
        if kind == "sandbox":
            raise UserError(f"identity {identity['name']!r} uses the sandbox LinkedIn; its invitations "
                            "are handled inside the runtime (`enginy run` / `enginy demo`)")
        raise UserError(f"identity {identity['name']!r} has no LinkedIn gateway connected; connect it with "
                        "`enginy identity connect-linkedin`")
    try:
        key = SecretStore.of(workspace).load(linkedin_secret_name(identity["id"]))
    except SecretsError as exc:
        raise UserError(str(exc)) from None
    if not key:
        raise UserError(f"the gateway API key of identity {identity['name']!r} is not in the secrets store; "
                        "connect it again with `enginy identity connect-linkedin … --api-key-stdin`")
    return GatewayDriver(identity["gateway_url"], key, identity["linkedin_account_id"], now=wall_now)


def _run(fn, *args):
    import trio

    from runtime.channels.linkedin.protocol import LinkedInError
    from runtime.channels.linkedin.connect import ConnectError

    try:
        return trio.run(fn, *args)
    except (LinkedInError, ConnectError) as exc:
        raise UserError(str(exc)) from None


# -- invitations --------------------------------------------------------------------


@app.command("invitations")
def invitations(
    ctx: typer.Context,
    identity: str = typer.Argument(..., help="Identity id or name."),
    state: Optional[str] = typer.Option(None, help="Only pending, accepted, withdrawn or gone."),
    json_mode: bool = typer.Option(False, "--json", help="One JSON document."),
) -> None:
    """History of the identity's LinkedIn invitations (sent, accepted, withdrawn)."""
    from storage import linkedin_invitations as store

    if state is not None and state not in ("pending", "accepted", "withdrawn", "gone"):
        raise UserError("--state must be pending, accepted, withdrawn or gone")
    _, db = _open(ctx)
    ident = require_identity(db, identity)
    rows, after = [], 0
    while True:
        page = store.history(db, ident["id"], state=state, after_id=after)
        rows.extend(page)
        if len(page) < 500:
            break
        after = page[-1]["id"]
    lines = [f"{r['id']:>5}  {r['state']:<9} {r['sent_at'][:16]}  {r['provider_id']}"
             + (f"  withdrawn {r['withdrawn_at'][:10]} ({r['withdrawn_by']}), re-invite after {r['reinvite_after'][:10]}"
                if r["state"] == "withdrawn" else "")
             for r in rows]
    emit({"identity": {"id": ident["id"], "name": ident["name"]}, "invitations": rows}, json_mode,
         "\n".join(lines) if lines else f"no invitations recorded for {ident['name']}")


# -- withdraw -----------------------------------------------------------------------


@app.command("withdraw")
def withdraw_cmd(
    ctx: typer.Context,
    identity: str = typer.Argument(..., help="Identity id or name."),
    older_than: Optional[int] = typer.Option(None, "--older-than", min=0, max=RUN_DAYS_MAX,
                                             help="Only invitations pending at least DAYS days (default: all)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    json_mode: bool = typer.Option(False, "--json"),
) -> None:
    """Withdraw pending LinkedIn invitations in bulk (LinkedIn then blocks a new
    invitation to the same person for 3 weeks)."""
    from runtime.channels.linkedin.withdraw import fact, refresh_pending, withdraw
    from runtime.channels.linkedin.withdraw_policy import older_than as select
    from runtime.clock import wall_now
    from storage import linkedin_invitations as store

    workspace, db = _open(ctx)
    ident = require_identity(db, identity)
    driver = _driver(workspace, ident)
    now = wall_now()

    async def refresh():  # the gateway's pending list is the truth; record what it holds
        return await refresh_pending(db, driver, ident["id"], now)

    try:
        _run(refresh)
    except UserError:
        driver.http.close()
        raise
    rows = {r["id"]: r for r in store.pending(db, ident["id"])}
    chosen = [rows[f.row_id] for f in select([fact(r) for r in rows.values()], now=now, days=older_than)]
    if not chosen:
        driver.http.close()
        emit({"withdrawn": [], "failed": [], "selected": 0}, json_mode, "no pending invitations to withdraw")
        return
    if not yes:
        if not sys.stdin.isatty():
            driver.http.close()
            raise UserError(f"{len(chosen)} invitations would be withdrawn; add --yes to confirm without a terminal")
        for r in chosen:
            typer.echo(inert(f"  {r['sent_at'][:10]}  {r['provider_id']}  {r.get('public_id') or ''}"))
        if not typer.confirm(f"Withdraw these {len(chosen)} invitations? LinkedIn blocks re-inviting them for 3 weeks"):
            driver.http.close()
            raise typer.Exit(1)

    async def go():
        try:
            return await withdraw(db, driver, chosen, now=now, by="manual")
        finally:
            await driver.aclose()

    report = _run(go)
    human = f"withdrew {len(report.withdrawn)} of {len(chosen)} invitations"
    if report.failed:
        human += "\n" + "\n".join(f"  not withdrawn #{rid}: {why}" for rid, why in report.failed)
    if report.stopped:
        human += f"\nstopped early: {report.stopped}"
    emit({"selected": len(chosen), "withdrawn": report.withdrawn,
          "failed": [{"id": i, "error": e} for i, e in report.failed], "stopped": report.stopped},
         json_mode, human)
    if report.stopped:
        raise typer.Exit(1)


# -- connect ------------------------------------------------------------------------


def connect_linkedin(
    ctx: typer.Context,
    identity: str = typer.Argument(..., help="Identity id or name."),
    gateway: Optional[str] = typer.Option(None, "--gateway", help="Gateway base URL, e.g. https://api1.unipile.com:13111"),
    account_id: Optional[str] = typer.Option(None, "--account-id", help="An account the gateway already holds."),
    api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help="Read the gateway API key from stdin's first line."),
    username: Optional[str] = typer.Option(None, "--username", help="Log in with LinkedIn credentials instead of --account-id."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the next stdin line."),
    code: Optional[str] = typer.Option(None, "--code", help="Two-step code, if LinkedIn asks for one."),
    premium: bool = typer.Option(False, "--premium", help="The LinkedIn account has Premium."),
    sales_navigator: bool = typer.Option(False, "--sales-navigator", help="The account has Sales Navigator."),
    manual: bool = typer.Option(False, "--manual", help="No LinkedIn connection: profile data only."),
    linkedin_url: Optional[str] = typer.Option(None, "--linkedin-url", help="Profile URL (manual identities)."),
    json_mode: bool = typer.Option(False, "--json"),
) -> None:
    """Connect an identity's LinkedIn through a gateway (an existing account, or
    username/password with a two-step code), or mark it manual (profile data only)."""
    from runtime.channels.linkedin.connect import check_account, solve_checkpoint, start_login
    from runtime.secrets import SecretsError, SecretStore, linkedin_secret_name
    from runtime.clock import wall_now
    from storage.identities import set_linkedin_gateway, set_linkedin_manual

    workspace, db = _open(ctx)
    ident = require_identity(db, identity)
    now = wall_now().isoformat()

    if manual:
        if gateway or account_id or username:
            raise UserError("--manual takes no gateway, account or credentials")
        set_linkedin_manual(db, ident["id"], linkedin_url=linkedin_url, now=now)
        emit({"identity": ident["id"], "linkedin": "manual"}, json_mode,
             f"{ident['name']}: manual identity (profile data only, no LinkedIn actions)")
        return
    if not gateway:
        raise UserError("--gateway URL is required (or --manual)")
    if bool(account_id) == bool(username):
        raise UserError("give either --account-id (an account the gateway holds) or --username (log in)")
    if not api_key_stdin:
        raise UserError("the API key is read from stdin only: add --api-key-stdin and pipe it in")
    api_key = sys.stdin.readline().strip()
    if not api_key:
        raise UserError("no API key on stdin")

    if username:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif sys.stdin.isatty():
            password = typer.prompt("LinkedIn password", hide_input=True)
        else:
            raise UserError("add --password-stdin and pipe the password after the API key")

        async def login():
            step = await start_login(gateway, api_key, username, password)
            if step.connected:
                return step
            answer = code
            if answer is None:
                if password_stdin or not sys.stdin.isatty():
                    answer = sys.stdin.readline().strip()
                else:
                    answer = typer.prompt(f"LinkedIn asks for a {step.checkpoint} code")
            if not answer:
                raise UserError(f"LinkedIn asks for a {step.checkpoint} code: pass --code or type it")
            step = await solve_checkpoint(gateway, api_key, step.account_id, answer)
            if not step.connected:
                raise UserError(f"LinkedIn asks for another check ({step.checkpoint}); finish it in the "
                                "LinkedIn app, then connect with --account-id")
            return step

        account_id = _run(login).account_id

    info = _run(check_account, gateway, api_key, account_id)
    from runtime.channels.linkedin.http import normalize_base_url

    try:
        where = SecretStore.of(workspace).save(linkedin_secret_name(ident["id"]), api_key)
    except SecretsError as exc:
        raise UserError(str(exc)) from None
    set_linkedin_gateway(
        db, ident["id"], account_id=account_id, gateway_url=normalize_base_url(gateway),
        premium=premium or bool(info.premium), sales_navigator=sales_navigator or bool(info.sales_navigator),
        first_name=info.first_name, last_name=info.last_name,
        linkedin_url=f"https://www.linkedin.com/in/{info.public_id}" if info.public_id else None, now=now)
    emit({"identity": ident["id"], "account_id": account_id, "provider_id": info.provider_id,
          "name": f"{info.first_name} {info.last_name}".strip(), "premium": bool(premium or info.premium),
          "sales_navigator": bool(sales_navigator or info.sales_navigator), "api_key_stored_in": where},
         json_mode,
         f"{ident['name']}: LinkedIn connected as {info.first_name} {info.last_name} "
         f"({info.provider_id}) through {normalize_base_url(gateway)}; API key kept in the {where}")


app.command("connect")(connect_linkedin)
