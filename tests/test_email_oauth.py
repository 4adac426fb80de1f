"""Google and Microsoft 365 inboxes by OAuth, for real: the sign-in flows against our own
authorization server (tests/support/oauth_server.py, RFC 8628 and code + PKCE on loopback
HTTP), and IMAP/SMTP logins by XOAUTH2/OAUTHBEARER against Dovecot's oauth2 passdb (which asks
that server's introspection endpoint about every token) with Postfix authenticating through it.
A campaign sends and reads replies with tokens, one token dies mid-run and is refreshed, a
revoked grant errors the leads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

from runtime.channels.email import oauth, oauth_flows
from runtime.channels.email import imap as mail_imap
from runtime.channels.email.config import InboxSettings, MailConnectError
from runtime.channels.email.smtp import open_smtp, quit_smtp
from tests.support.mailstack import destroy_stack, missing_reason, start_stack
from tests.support.oauth_server import CLIENT_ID, AuthServer

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.timeout(150)


@pytest.fixture(scope="module")
def auth():
    server = AuthServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(auth):
    """A mail stack of its own whose Dovecot checks bearer tokens at `auth`'s introspection endpoint."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    s = start_stack(introspection_url=f"{auth.base}/introspect")
    yield s
    destroy_stack(s)


def settings_of(stack, address: str) -> InboxSettings:
    return InboxSettings(address, stack.host, stack.imap_port, stack.host, stack.smtp_port, "starttls",
                         str(stack.ca_file))


def signed_in(auth, username: str, provider: oauth.Provider | None = None) -> oauth.Grant:
    """A grant as a finished sign-in leaves it (through the real device flow)."""
    provider = provider or oauth.microsoft(CLIENT_ID, tenant="t1", authority=auth.base)
    code = oauth_flows.start_device(provider)
    auth.approve(code.user_code, username)
    return oauth.Grant.of_token(provider, oauth_flows.poll_device(provider, code, sleep=lambda s: None),
                                oauth.wall_now())


# ---------------------------------------------------------------- the flows
def test_device_flow_polls_at_the_servers_interval_and_speaks_the_spec_on_refusals(auth):
    provider = oauth.microsoft(CLIENT_ID, tenant="contoso.example", authority=auth.base)
    code = oauth_flows.start_device(provider)
    assert code.verification_uri.startswith(auth.base) and code.interval == 1
    waits: list[float] = []

    def sleep(seconds):  # the user approves after a few polls
        waits.append(seconds)
        if len(waits) == 4:
            auth.approve(code.user_code, "ana@example.test")

    auth.slow_downs = 1
    token = oauth_flows.poll_device(provider, code, sleep=sleep)
    assert token["refresh_token"] and token["access_token"]
    assert waits == [1, 6, 6, 6]  # slow_down adds 5 s for every later poll (RFC 8628 §3.5)

    declined = oauth_flows.start_device(provider)
    auth.deny(declined.user_code)
    with pytest.raises(oauth.OAuthError, match="Approval required") as refused:
        oauth_flows.poll_device(provider, declined, sleep=lambda s: None)
    assert "admin consent" in str(refused.value)
    late = oauth_flows.start_device(provider)
    auth.expire_code(late.user_code)
    with pytest.raises(oauth.OAuthError, match="code expired"):
        oauth_flows.poll_device(provider, late, sleep=lambda s: None)
    never = oauth_flows.start_device(provider)  # the server never says expired_token: we stop at expires_in
    with pytest.raises(oauth.OAuthError, match="code expired"):
        oauth_flows.poll_device(provider, oauth_flows.DeviceCode(never.user_code, never.verification_uri, None, 3, 1,
                                                                 never.device_code), sleep=lambda s: None)


def test_code_flow_with_pkce_takes_the_loopback_redirect_or_a_pasted_address(auth):
    provider = oauth.google(CLIENT_ID, "desktop-secret", authorize_url=f"{auth.base}/authorize",
                            token_url=f"{auth.base}/token")
    auth.sign_in_as = "bob@example.test"
    with oauth_flows.LoopbackReceiver() as receiver:
        request = oauth_flows.start_code(provider, receiver.redirect_uri)
        assert "code_challenge=" in request.url and request.verifier not in request.url
        httpx.get(request.url, follow_redirects=True)  # the browser, landing on our listener
        assert receiver.arrived.is_set()
        assert oauth_flows.finish_code(provider, request, receiver.got)["refresh_token"]
    # Over SSH: the browser cannot reach us; the user pastes the address it ended on.
    request = oauth_flows.start_code(provider, "http://127.0.0.1:9/")
    pasted = httpx.get(request.url).headers["location"]
    other = oauth_flows.start_code(provider, "http://127.0.0.1:9/")
    with pytest.raises(oauth.OAuthError, match="state does not match"):
        oauth_flows.finish_code(provider, other, pasted)  # an answer to another sign-in
    assert oauth_flows.finish_code(provider, request, f"  {pasted}\n")["access_token"]
    auth.decline_next = True
    declined = oauth_flows.start_code(provider, "http://127.0.0.1:9/")
    with pytest.raises(oauth.OAuthError, match="Access denied"):
        oauth_flows.finish_code(provider, declined, httpx.get(declined.url).headers["location"])


def test_tokens_are_refreshed_before_they_end_and_a_revoked_grant_says_reconnect(auth):
    grant = signed_in(auth, "carol@example.test")
    saved: list[str] = []
    clock = [datetime.now(timezone.utc)]
    source = oauth.TokenSource(grant, saved.append, now=lambda: clock[0])
    assert source.access_token() == grant.access_token and saved == []
    clock[0] = datetime.fromtimestamp(grant.expires_at, timezone.utc) - timedelta(minutes=4)
    fresh = source.access_token()  # within 5 minutes of its end: refreshed first, and kept
    assert fresh != grant.access_token and oauth.Grant.of_secret(saved[-1]).access_token == fresh
    assert source.refresh(rejected=grant.access_token) == fresh  # another thread refreshed already: no second call
    auth.revoke("carol@example.test")
    with pytest.raises(oauth.GrantRevoked, match="connect the inbox again"):
        source.refresh(rejected=fresh)
    assert grant.refresh_token not in repr(source) + repr(grant) and fresh not in repr(source)


# ---------------------------------------------------------------- XOAUTH2 against Dovecot and Postfix
def test_imap_and_smtp_log_in_with_tokens_and_refresh_once_when_one_is_rejected(auth, stack):
    ana = stack.new_user("ana")
    grant = signed_in(auth, ana.address)
    source = oauth.TokenSource(grant, lambda text: None)
    client = mail_imap.connect(settings_of(stack, ana.address), source)
    mail_imap.close(client)
    quit_smtp(open_smtp(settings_of(stack, ana.address), source))
    refreshes = auth.counts.get("refresh_token", 0)
    auth.expire_access_tokens()  # the server no longer honours the token enginy holds
    mail_imap.close(mail_imap.connect(settings_of(stack, ana.address), source))
    quit_smtp(open_smtp(settings_of(stack, ana.address), source))
    assert auth.counts["refresh_token"] == refreshes + 1  # IMAP refreshed; SMTP used the new token
    auth.revoke(ana.address)
    with pytest.raises(MailConnectError) as failed:
        mail_imap.connect(settings_of(stack, ana.address), source)
    assert failed.value.symptom == "Authentication failed" and "enginy inbox connect" in str(failed.value)
    bob = stack.new_user("bob")  # a token of one account does not open another
    with pytest.raises(MailConnectError, match="Authentication failed.*signed in with that account"):
        mail_imap.connect(settings_of(stack, bob.address), oauth.TokenSource(signed_in(auth, ana.address),
                                                                             lambda text: None))


# ---------------------------------------------------------------- the command
def enginy_popen(ws: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


@pytest.fixture
def ws(ws):
    toml = ws / "enginy.toml"
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"'))
    done = subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws),
                           "identity", "add", "Ana"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return ws


def servers(stack) -> list[str]:
    return ["--imap-host", stack.host, "--imap-port", str(stack.imap_port), "--smtp-host", stack.host,
            "--smtp-port", str(stack.smtp_port), "--tls", "starttls", "--ca-file", str(stack.ca_file),
            "--client-id", CLIENT_ID, "--json"]


def read_until(stream, needle: str) -> list[str]:
    lines = []
    while not lines or needle not in lines[-1]:
        line = stream.readline()
        assert line, "".join(lines)
        lines.append(line)
    return lines


def assert_no_tokens_anywhere(auth, ws: Path, *texts: str) -> None:
    tokens = auth.tokens_seen()
    assert tokens
    for path in (ws / "enginy.db", ws / "enginy.db-wal", ws / "enginy.toml"):
        if path.exists():
            data = path.read_bytes()
            assert not any(t.encode() in data for t in tokens), path
    assert not any(t in text for t in tokens for text in texts)


def test_connect_microsoft_shows_url_and_code_and_keeps_only_the_sign_in(auth, stack, ws):
    ana = stack.new_user("ana")
    proc = enginy_popen(ws, "inbox", "connect", "Ana", "--email", ana.address, "--provider", "microsoft",
                        "--tenant", "t1", "--authority", auth.base, *servers(stack))
    shown = read_until(proc.stderr, "enter the code:")
    assert f"{auth.base}/device" in shown[1]
    auth.approve(shown[-1].split("enter the code:")[1].strip(), ana.address)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["provider"] == "microsoft" and result["connected"] and result["sign-in_stored_in"] == "file"
    kept = (ws / ".secrets" / f"inbox-{result['inbox']}.secret")
    assert oct(os.stat(kept).st_mode & 0o777) == "0o600" and oauth.Grant.of_secret(kept.read_text()).refresh_token
    assert_no_tokens_anywhere(auth, ws, out, err, "".join(shown))
    run = lambda *args: subprocess.run([sys.executable, "-c", "from cli.main import run; run()",  # noqa: E731
                                        "--workspace", str(ws), *args], capture_output=True, text=True, cwd=ROOT)
    assert run("inbox", "reconnect", str(result["inbox"]), "--json").returncode == 0  # the kept sign-in works
    auth.revoke(ana.address)
    auth.expire_access_tokens()
    refused = run("inbox", "reconnect", str(result["inbox"]))
    assert refused.returncode == 2 and "Authentication failed" in refused.stderr
    assert "--provider microsoft" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize("browser", ["on another machine (SSH): pasted back", "on this machine: loopback"])
def test_connect_google_by_browser_sign_in(auth, stack, ws, browser):
    bob = stack.new_user("bob")
    auth.sign_in_as = bob.address
    proc = enginy_popen(ws, "inbox", "connect", "Ana", "--email", bob.address, "--provider", "google",
                        "--no-browser", "--client-secret", "desktop-secret", "--authorize-url",
                        f"{auth.base}/authorize", "--token-url", f"{auth.base}/token", *servers(stack))
    shown = read_until(proc.stderr, "/authorize?")
    url = shown[-1].strip()
    if browser.endswith("pasted back"):
        landed = httpx.get(url).headers["location"]  # the browser on the user's laptop ends here
        out, err = proc.communicate(landed + "\n", timeout=60)
    else:
        page = httpx.get(url, follow_redirects=True)  # the local browser lands on enginy's loopback listener
        assert "You can close this tab" in page.text
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["provider"] == "google"
    assert_no_tokens_anywhere(auth, ws, out, err)


def test_a_declined_sign_in_is_one_clear_line_and_saves_nothing(auth, stack, ws):
    ana = stack.new_user("ana")
    proc = enginy_popen(ws, "inbox", "connect", "Ana", "--email", ana.address, "--provider", "microsoft",
                        "--tenant", "t1", "--authority", auth.base, *servers(stack))
    shown = read_until(proc.stderr, "enter the code:")
    auth.deny(shown[-1].split("enter the code:")[1].strip())
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "Approval required" in err and "Traceback" not in err and out == ""
    listed = subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws),
                             "inbox", "list", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert json.loads(listed.stdout) == []


# ---------------------------------------------------------------- a campaign over XOAUTH2
def reply_from(stack, user, to: str, text: str) -> None:
    """The lead answers our first email from their own (password) mailbox."""
    import email as email_mod
    import smtplib
    from email.message import EmailMessage

    from tests.support.mailstack import mailbox

    first = email_mod.message_from_bytes(mailbox(stack, user)[0])
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = user.address, to, "Re: " + str(first["Subject"])
    msg["Message-ID"], msg["In-Reply-To"] = f"<answer-{user.address}>", first["Message-ID"]
    msg.set_content(text)
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=10) as conn:
        conn.starttls(context=stack.ssl_context())
        conn.login(user.address, user.password)
        conn.send_message(msg)


def test_a_campaign_sends_and_reads_replies_by_token_survives_an_expiry_and_errors_on_revocation(auth, stack,
                                                                                               tmp_path):
    from sequences.model import Delay, Email, Sequence
    from tests.support.mailstack import mailbox
    from tests.test_email_campaign_e2e import build, run_campaign, statuses

    ana, replier, later = stack.new_user("ana"), stack.new_user("replier"), stack.new_user("later")
    grant = signed_in(auth, ana.address)
    seq = Sequence(start="e1", nodes=[Email(id="e1", subject="Quick question", body="Hi {first_name}", next="e2"),
                                      # six hours (six real seconds): the reply is read, and the token
                                      # expired, before the follow-up can go, however loaded the machine
                                      Email(id="e2", body="Following up.", delay=Delay(hours=6), next="e3"),
                                      Email(id="e3", body="Last note.", delay=Delay(hours=1))])
    db, store = build(tmp_path, stack, ana, [replier.address, later.address], provider="microsoft",
                      secret=grant.to_secret(), seq=seq)
    sent = lambda node: db.execute("SELECT COUNT(*) FROM outbox WHERE node_id = ? AND state = 'sent'",  # noqa: E731
                                   [node]).fetchone()[0]
    seen: dict[str, int] = {}

    async def actions(rt):
        while sent("e1") < 2:
            await trio.sleep(60)
        await trio.to_thread.run_sync(lambda: stack.wait_for(lambda: mailbox(stack, replier)))
        await trio.to_thread.run_sync(reply_from, stack, replier, ana.address, "Yes, let's talk.")
        while statuses(db)[1][0] != "replied":  # read by the watcher, logged in by token
            await trio.sleep(60)
        seen["refreshes"] = auth.counts.get("refresh_token", 0)
        auth.expire_access_tokens()  # mid-run: the token enginy holds dies early
        while sent("e2") < 1:
            await trio.sleep(60)
        seen["after_expiry"] = auth.counts.get("refresh_token", 0)
        auth.revoke(ana.address)

    run_campaign(db, store, lambda d: statuses(d)[2][0] == "error", actions=actions, rate=3600.0)
    s = statuses(db)
    assert s[1][0] == "replied" and s[2] == ("error", "email_disconnected")
    assert sent("e2") == 1 and sent("e3") == 0  # the follow-up went out on a refreshed token; none to the replier
    assert seen["after_expiry"] > seen["refreshes"]
    stack.wait_for(lambda: len(mailbox(stack, later)) == 2, what="both emails in later's mailbox")  # LMTP takes a moment
    assert db.execute("SELECT connected FROM inboxes WHERE id = 1").fetchone()[0] == 0
    error = db.execute("SELECT error FROM outbox WHERE node_id = 'e3'").fetchone()[0]
    assert "Authentication failed" in error and "enginy inbox connect" in error  # the reconnect step, named
    kept = oauth.Grant.of_secret(store.load("inbox-1"))
    assert kept.access_token != grant.access_token  # the refreshed grant was kept for the next run
    dump = "\n".join(db.iterdump())
    assert not any(token in dump for token in auth.tokens_seen() + [grant.access_token, grant.refresh_token])
