"""An inbox's connection settings, their TLS context, and errors in the spec's words.

Certificates are always verified (a custom CA file may be added, never
verification turned off). Plain-text connections (`tls = none`) are only
accepted for loopback hosts, where a test server or a local relay lives.
Every network failure is translated into the troubleshooting vocabulary of
identities.md (authentication failed, cannot connect / timeout, SMTP blocked,
too many login attempts …) — and never carries the password.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass

from storage.inboxes import InboxError, check_rate

TLS_MODES = ("implicit", "starttls", "none")
TIMEOUT = 20.0


class MailConfigError(ValueError):
    """A setting the user must fix; the message says which and how."""


class MailConnectError(Exception):
    """A connection attempt failed; `symptom` is the spec's troubleshooting row."""

    def __init__(self, symptom: str, advice: str, detail: str = "") -> None:
        self.symptom = symptom
        self.advice = advice
        self.detail = detail
        super().__init__(f"{symptom}: {advice}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class InboxSettings:
    email: str
    imap_host: str
    imap_port: int
    smtp_host: str
    smtp_port: int
    tls: str = "implicit"
    ca_file: str | None = None

    @classmethod
    def of_row(cls, row: dict) -> "InboxSettings":
        return cls(row["email"], row["imap_host"], int(row["imap_port"]), row["smtp_host"],
                   int(row["smtp_port"]), row["tls_mode"], row.get("ca_file"))


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_settings(s: InboxSettings, per_day: int, per_hour: int) -> None:
    if "@" not in s.email or any(c in s.email for c in " \r\n<>,;"):
        raise MailConfigError(f"--email: {s.email!r} is not an email address")
    if s.tls not in TLS_MODES:
        raise MailConfigError(f"--tls must be one of {', '.join(TLS_MODES)}")
    for name, host, port in (("imap", s.imap_host, s.imap_port), ("smtp", s.smtp_host, s.smtp_port)):
        if not host or any(c in host for c in " /\r\n"):
            raise MailConfigError(f"--{name}-host: {host!r} is not a host name")
        if not 1 <= port <= 65535:
            raise MailConfigError(f"--{name}-port must be between 1 and 65535")
        if s.tls == "none" and not is_loopback(host):
            raise MailConfigError(
                f"--tls none sends the password in clear text; it is only allowed for loopback hosts "
                f"(not {host}). Use implicit (IMAP 993, SMTP 465) or starttls (SMTP 587)."
            )
    try:
        check_rate(per_day, per_hour, labels=("--per-day", "--per-hour"))
    except InboxError as exc:
        raise MailConfigError(str(exc)) from None


def resolve_ca_file(ca_file: str) -> str:
    """`--ca-file` as given (~ expanded) made absolute, so it still names the file from any folder;
    MailConfigError when there is no such file."""
    path = os.path.abspath(os.path.expanduser(ca_file))
    if not os.path.isfile(path):
        raise MailConfigError(f"--ca-file {ca_file}: no such file")
    return path


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context; `ca_file` adds a trusted CA (self-signed test servers)."""
    ctx = ssl.create_default_context()
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise MailConfigError(f"--ca-file {ca_file}: cannot load it as PEM certificates ({exc.__class__.__name__})") from None
    return ctx


def explain(exc: BaseException, service: str) -> MailConnectError:
    """Translate a low-level failure (service 'IMAP' or 'SMTP') into the spec's terms."""
    import imaplib
    import smtplib

    from runtime.channels.email.oauth import GrantRevoked, OAuthError

    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, MailConnectError):
        return exc
    if isinstance(exc, GrantRevoked):  # its text is ours, in the spec's words, and names no token
        return MailConnectError("Authentication failed", f"{exc}; reconnect it with `enginy inbox connect IDENTITY "
                                "--email ADDRESS --provider microsoft|google`")
    if isinstance(exc, OAuthError):
        return MailConnectError("Cannot connect", str(exc))
    if isinstance(exc, smtplib.SMTPAuthenticationError) or (
        isinstance(exc, imaplib.IMAP4.error) and ("auth" in lowered or "login" in lowered or "credentials" in lowered)
    ) or type(exc).__name__ == "LoginError":
        if "too many" in lowered or "rate" in lowered or "try again later" in lowered:
            return MailConnectError("Too many login attempts", "the provider temporarily locked the login; wait and try again later", service)
        return MailConnectError(
            "Authentication failed",
            f"{service} rejected the email/password. Double-check them; with 2FA, use an App Password",
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError) or "auth extension not supported" in lowered:
        return MailConnectError(
            "SMTP blocked",
            "the SMTP server does not offer login on this port; verify SMTP host/port and SSL/STARTTLS (587 STARTTLS or 465 SSL)",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailConnectError(
            "Cannot connect",
            f"the {service} server's certificate could not be verified ({getattr(exc, 'verify_message', '') or 'untrusted'}); "
            "check the host name, or pass --ca-file for a private CA",
        )
    if isinstance(exc, ssl.SSLError):
        return MailConnectError(
            "Cannot connect",
            f"TLS failed with the {service} server; the port probably expects the other TLS mode (993/465 implicit, 143/587 STARTTLS)",
        )
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return MailConnectError("Cannot connect / timeout",
                                f"no answer from the {service} server; verify host and port, and firewall/VPN restrictions")
    if isinstance(exc, socket.gaierror):
        return MailConnectError("Cannot connect", f"the {service} host name does not resolve; verify the {service} host")
    if isinstance(exc, ConnectionRefusedError):
        return MailConnectError("Cannot connect", f"the {service} server refused the connection; verify the {service} host and port")
    if isinstance(exc, (smtplib.SMTPException,)) and service == "SMTP":
        return MailConnectError("SMTP blocked",
                                "IMAP works but SMTP failed; verify SMTP host/port and that SMTP is enabled for the mailbox",
                                type(exc).__name__)
    if isinstance(exc, OSError):
        return MailConnectError("Cannot connect", f"the {service} connection failed; verify host and port",
                                exc.strerror or type(exc).__name__)
    if "imap" in lowered and "disabled" in lowered:
        return MailConnectError("No sync", "IMAP access is disabled on the mailbox; enable it in the provider settings")
    return MailConnectError("Cannot connect", f"the {service} server answered unexpectedly", type(exc).__name__)
