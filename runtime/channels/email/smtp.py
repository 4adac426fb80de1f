"""The real email driver: SMTP submission (stdlib smtplib in a worker thread).

Same interface as the sandbox driver (`send(email, key) -> EmailSent`,
`aclose()`), so the identity actor does not care which one it holds.

* One SMTP connection per inbox, reused while warm (idle < `warm_seconds`,
  NOOP still answered), else reopened: a burst does not log in per email.
* The Message-ID in `email` was committed to the outbox before this call.
  After the server's 250 the message is APPENDed to the inbox's Sent folder
  (unless the provider already filed it, as Gmail/Microsoft do) — like a
  mail client, and so that a send whose fate is unknown can be settled:
  a resumed send (`key.resumed`) first searches Sent for its Message-ID and
  reports `reconciled=True` instead of sending again. The window where a
  crash lands after the 250 but before the APPEND is milliseconds; there the
  email would be sent again (documented trade-off; a duplicate needs a crash
  inside that window, a loss would need nothing at all).
* Errors: authentication → `EmailDisconnected` (spec: "Email disconnected");
  connection trouble before DATA → `EmailTransient`; the recipient refused at
  RCPT → `EmailRejected` (a synchronous hard bounce); the connection lost
  after DATA was sent → `EmailOutcomeUnknown` (settle by look-up, not resend).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import trio

from runtime import crashpoints

from runtime.channels.email import imap as mail_imap
from runtime.channels.base import SendKey
from runtime.channels.email.protocol import (EmailDisconnected, EmailOutcomeUnknown, EmailRejected, EmailSent,
                                             EmailTransient, OutgoingEmail)
from runtime.channels.email.compose import ComposeError, Tracking, compose
from runtime.channels.email.config import TIMEOUT, InboxSettings, MailConnectError, explain, ssl_context
from runtime.channels.email.sasl import Credential, Secret, logged_in, smtp_login


@dataclass
class InboxAccount:
    """What sending from one inbox needs. The password (or the OAuth token source) never appears in repr()."""

    id: int
    settings: InboxSettings
    password: Secret = field(repr=False)
    sender_name: str = ""
    signature_text: str = ""
    signature_html: str = ""
    list_unsubscribe: bool = True  # off: vacation responders that skip list mail answer again


def open_smtp(s: InboxSettings, secret: Secret, *, timeout: float = TIMEOUT) -> smtplib.SMTP:
    """A logged-in SMTP session (implicit TLS, STARTTLS or plain on loopback; password or OAuth token)."""
    return logged_in(secret, lambda credential: _open_smtp(s, credential, timeout), "SMTP", s.email)


def _open_smtp(s: InboxSettings, credential: Credential, timeout: float) -> smtplib.SMTP:
    conn: smtplib.SMTP | None = None
    try:
        ctx = ssl_context(s.ca_file)
        if s.tls == "implicit":
            conn = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout, context=ctx)
            conn.ehlo()
        else:
            conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
            conn.ehlo()
            if s.tls == "starttls":
                if not conn.has_extn("starttls"):
                    raise MailConnectError("SMTP blocked", "the server does not offer STARTTLS on this port; try 465 with implicit TLS")
                conn.starttls(context=ctx)
                conn.ehlo()
        if conn.has_extn("auth"):
            smtp_login(conn, s.email, credential)
        elif s.tls != "none":
            raise smtplib.SMTPNotSupportedError("auth extension not supported")
        return conn
    except Exception as exc:
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
        raise explain(exc, "SMTP") from None


def _status_of(reply: bytes | str) -> str | None:
    from runtime.channels.email.inbound.dsn import valid_status

    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return valid_status(text)


class SmtpEmail:
    """One identity's real inboxes."""

    def __init__(self, account_for: Callable[[int], InboxAccount | None], now: Callable[[], datetime], *,
                 tracking_for: Callable[[OutgoingEmail, SendKey], Tracking | None] | None = None,
                 on_tracked_links: Callable[[Tracking, SendKey, list[str]], None] | None = None,
                 on_accepted: Callable[[SendKey], None] | None = None,
                 warm_seconds: float = 60.0) -> None:
        self._account_for = account_for
        self._now = now
        self._tracking_for = tracking_for
        self._on_tracked_links = on_tracked_links
        self._on_accepted = on_accepted  # records the 250 before anything else can go wrong
        self._warm = timedelta(seconds=warm_seconds)
        self._conns: dict[int, tuple[smtplib.SMTP, datetime]] = {}
        self._locks: dict[int, trio.Lock] = {}

    # ------------------------------------------------------------------ public
    async def send(self, email: OutgoingEmail, key: SendKey) -> EmailSent:
        account = self._account_for(email.inbox_id)
        if account is None:
            raise EmailDisconnected("the inbox that started this conversation is not connected")
        lock = self._locks.setdefault(email.inbox_id, trio.Lock())
        async with lock:
            if key.resumed:
                found = await trio.to_thread.run_sync(self._look_up, account, email.message_id)
                if found:
                    return EmailSent(email.message_id, reconciled=True)
            if key.accepted:  # out already; the runtime stopped before filing its copy in Sent
                await trio.to_thread.run_sync(self._file_in_sent, account,
                                              self._composed(account, email, None).as_bytes(),
                                              email.message_id, self._now())
                return EmailSent(email.message_id, reconciled=True)
            tracking = self._tracking_for(email, key) if self._tracking_for else None
            composed = self._composed(account, email, tracking)
            if tracking is not None and self._on_tracked_links is not None:
                self._on_tracked_links(tracking, key, composed.links)
            raw = composed.as_bytes()
            # Clock.now() needs the Trio thread: read it here, hand it to the workers.
            await trio.to_thread.run_sync(self._submit, account, email.to, raw, self._now())
            if self._on_accepted is not None:
                self._on_accepted(key)
            crashpoints.reached("email.accepted")
            await trio.to_thread.run_sync(self._file_in_sent, account, raw, email.message_id, self._now())
            return EmailSent(email.message_id)

    def _composed(self, account: InboxAccount, email: OutgoingEmail, tracking: Tracking | None):
        try:
            return compose(
                sender=account.settings.email, sender_name=account.sender_name, to=email.to, to_name="",
                subject=email.subject, text=email.text, html=email.html, message_id=email.message_id,
                now=self._now(), in_reply_to=email.in_reply_to, references=list(email.references),
                signature_text=account.signature_text, signature_html=account.signature_html,
                unsubscribe_url=(f"{tracking.base_url}/u/{tracking.token}" if tracking else None),
                list_unsubscribe=account.list_unsubscribe,
                tracking=tracking,
            )
        except ComposeError as exc:
            raise EmailRejected(str(exc)) from None

    async def aclose(self) -> None:
        conns, self._conns = self._conns, {}
        for conn, _ in conns.values():
            await trio.to_thread.run_sync(quit_smtp, conn)

    # ------------------------------------------------------------------ worker-thread side
    def _session(self, account: InboxAccount, now: datetime) -> smtplib.SMTP:
        held = self._conns.pop(account.id, None)
        if held is not None:
            conn, last = held
            if now - last < self._warm:
                try:
                    if conn.noop()[0] == 250:
                        return conn
                except (smtplib.SMTPException, OSError):
                    pass
            quit_smtp(conn)
        return open_smtp(account.settings, account.password)

    def _submit(self, account: InboxAccount, to: str, raw: bytes, now: datetime) -> None:
        try:
            conn = self._session(account, now)
        except MailConnectError as exc:
            if exc.symptom in ("Authentication failed",):
                raise EmailDisconnected(str(exc)) from None
            raise EmailTransient(str(exc)) from None
        data_sent = False
        try:
            conn.mail(account.settings.email)[0]
            code, reply = conn.rcpt(to)
            if code >= 500:
                conn.rset()
                self._conns[account.id] = (conn, now)
                raise EmailRejected(f"the server refused {to}: {code} {reply.decode('utf-8', 'replace')[:200]}",
                                    _status_of(reply))
            if code >= 400:
                conn.rset()
                self._conns[account.id] = (conn, now)
                raise EmailTransient(f"recipient deferred: {code}", retry_after=600.0)
            data_sent = True
            code, reply = conn.data(raw)
            if code != 250:
                data_sent = False  # the server answered: it did not take the message
                if code >= 500:
                    raise EmailRejected(f"the server refused the message: {code}", _status_of(reply))
                raise EmailTransient(f"the server deferred the message: {code}", retry_after=600.0)
            self._conns[account.id] = (conn, now)
        except (smtplib.SMTPServerDisconnected, OSError, smtplib.SMTPResponseException) as exc:
            quit_smtp(conn)
            if isinstance(exc, smtplib.SMTPResponseException) and not data_sent:
                raise EmailTransient(f"SMTP error {exc.smtp_code}") from None
            if data_sent:
                # The message left; did it land? Only a look-up can tell.
                if self._look_up(account, _message_id_of(raw)):
                    return
                raise EmailOutcomeUnknown(f"connection lost after DATA ({type(exc).__name__})") from None
            raise EmailTransient(f"connection lost before the message was accepted ({type(exc).__name__})") from None

    def _file_in_sent(self, account: InboxAccount, raw: bytes, message_id: str, now: datetime) -> None:
        client = None
        try:
            client = mail_imap.connect(account.settings, account.password)
            mail_imap.append_sent(client, raw, message_id, now)
        except Exception:
            pass  # the email is sent; a missing Sent copy only weakens a later reconciliation
        finally:
            mail_imap.close(client)

    def _look_up(self, account: InboxAccount, message_id: str) -> bool:
        client = None
        try:
            client = mail_imap.connect(account.settings, account.password)
            return bool(mail_imap.find_message_id(client, mail_imap.sent_folder(client), message_id))
        except MailConnectError as exc:
            if exc.symptom == "Authentication failed":
                raise EmailDisconnected(str(exc)) from None
            raise EmailTransient(f"cannot check the Sent folder: {exc.symptom}") from None
        except Exception as exc:
            raise EmailTransient(f"cannot check the Sent folder ({type(exc).__name__})") from None
        finally:
            mail_imap.close(client)


def _message_id_of(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return ""


def quit_smtp(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError, ssl.SSLError, socket.error):
        try:
            conn.close()
        except Exception:
            pass
