"""A real mail system on loopback for tests: Dovecot (IMAP, IMAPS, LMTP, Sieve
vacation, SASL for Postfix) and Postfix (SMTP with STARTTLS, SMTPS, genuine
RFC 3464 bounces), each in a private temp dir, on free 127.0.0.1 ports,
started in the foreground and stopped by PID.

Why real servers: the behaviours that matter (IDLE, UIDVALIDITY, what a real
bounce and a real out-of-office look like) are exactly the ones a fake would
get wrong. One stack serves the whole pytest session (the `mail_stack` fixture
of tests/conftest.py); tests stay independent by creating fresh users
(`stack.new_user()`), which Dovecot picks up at once (one passwd-file per user,
opened at each lookup).

Facts this is built on: /work/shared/notes/mail-stack.md.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.orphans import kill_guarded, spawn_guarded
from tests.support.waits import wait_until

DOMAIN = "example.test"
MAIL_UID = 5000
_POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"


def missing_reason() -> str | None:
    """Why the stack cannot run here (None when it can)."""
    if shutil.which("dovecot") is None:
        return "dovecot is not installed (run tools/install-system-deps)"
    if not os.path.exists(_POSTFIX_MASTER):
        return "postfix is not installed (run tools/install-system-deps)"
    if shutil.which("openssl") is None:
        return "openssl is not installed"
    if os.geteuid() != 0:
        return "the real mail stack needs root (Dovecot switches to the mail uid, Postfix's master needs root)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class User:
    address: str
    password: str


@dataclass
class MailStack:
    root: Path
    imap_port: int = field(default_factory=free_port)
    imaps_port: int = field(default_factory=free_port)
    lmtp_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    smtps_port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    #: Set: Dovecot also takes OAuth bearer tokens (XOAUTH2, OAUTHBEARER) on IMAP and, through its
    #: auth service, on Postfix's SMTP AUTH, checking each at this RFC 7662 introspection endpoint.
    introspection_url: str | None = None
    _procs: list[subprocess.Popen] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _users: dict[str, User] = field(default_factory=dict)

    # ---------------------------------------------------------------- paths
    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "cert.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only the stack's self-signed cert."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def home(self, address: str) -> Path:
        return self.root / "mail" / address

    # ---------------------------------------------------------------- users
    def new_user(self, name: str = "user", *, vacation: str | None = None) -> User:
        """A fresh mailbox user (unique address); optional Sieve vacation text."""
        address = f"{name}-{next(self._counter)}@{DOMAIN}"
        user = User(address, f"pw-{os.urandom(6).hex()}")
        self._users[address] = user
        if vacation is not None:
            home = self.home(address)
            home.mkdir(parents=True, exist_ok=True)
            script = home / ".dovecot.sieve"
            body = vacation.replace("\\", "\\\\").replace('"', '\\"')
            script.write_text(
                'require ["vacation","vacation-seconds"];\n'
                f'vacation :seconds 0 :subject "Out of office" "{body}";\n'
            )
            for path in (home, script):
                os.chown(path, MAIL_UID, MAIL_UID)
        self._write_users()
        return user

    def _write_users(self) -> None:
        """One passwd-file per user: Dovecot opens it at each lookup, so a new
        user works at once (a single shared file is re-read only when its
        mtime changes, which misses updates within the same second)."""
        folder = self.root / "dovecot" / "users.d"
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o755)
        for u in self._users.values():
            path = folder / u.address
            if not path.exists():
                tmp = folder / f".{u.address}.tmp"
                tmp.write_text(f"{u.address}:{{PLAIN}}{u.password}::::::\n")
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)

    # ---------------------------------------------------------------- start/stop
    def start(self) -> "MailStack":
        for sub in ("tls", "dovecot/run", "dovecot/state", "mail", "pf/etc", "pf/queue", "pf/data"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        os.chown(self.root / "mail", MAIL_UID, MAIL_UID)
        pw = pwd.getpwnam("postfix")
        os.chown(self.root / "pf" / "data", pw.pw_uid, pw.pw_gid)  # master.lock lives here
        self._make_cert()
        self._write_users()
        self._write_dovecot_conf()
        self._write_postfix_conf()
        self._spawn(["dovecot", "-F", "-c", str(self.root / "dovecot" / "dovecot.conf")], "dovecot.log")
        self._wait_greeting(self.imap_port, b"* OK")
        self._wait_greeting(self.lmtp_port, b"220")
        etc = self.root / "pf" / "etc"
        subprocess.run(
            ["postfix", "-c", str(etc), "check"], check=True, capture_output=True, timeout=30
        )
        self._spawn([_POSTFIX_MASTER, "-c", str(etc), "-s"], "postfix.log")
        self._wait_greeting(self.smtp_port, b"220")
        return self

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_guarded(proc)
            proc.stdin.close()
        self._procs.clear()

    def drain_queue(self, timeout: float = 120.0) -> None:
        """Deliver what Postfix still holds (a delivery deferred under load waits minutes for its
        retry otherwise) and wait until its queue is empty: then every accepted message is in a
        mailbox, and one that is not there was lost, not late."""
        etc = str(self.root / "pf" / "etc")
        subprocess.run(["postqueue", "-c", etc, "-f"], capture_output=True, timeout=30)
        self.wait_for(lambda: "Mail queue is empty" in subprocess.run(
            ["postqueue", "-c", etc, "-p"], capture_output=True, text=True, timeout=30).stdout,
            timeout=timeout, what="Postfix's queue to empty")

    def logs(self) -> str:
        """Both servers' logs (for failure messages)."""
        out = []
        for name in ("dovecot.log", "postfix.log"):
            path = self.root / name
            if path.exists():
                out.append(f"--- {name}\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(out)

    def _spawn(self, argv: list[str], log_name: str) -> None:
        log = open(self.root / log_name, "ab")
        proc = spawn_guarded(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._procs.append(proc)

    def _wait_greeting(self, port: int, prefix: bytes, timeout: float = 20.0) -> None:
        def greeted() -> bool:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"mail server exited early ({proc.args[0]}):\n{self.logs()}")
            try:
                with socket.create_connection((self.host, port), timeout=2) as s:
                    return s.recv(256).startswith(prefix)
            except OSError:
                return False

        wait_until(greeted, timeout=timeout, what=f"a greeting on port {port}", detail=self.logs)

    def _make_cert(self) -> None:
        tls = self.root / "tls"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem"),
            ],
            check=True, capture_output=True, timeout=60,
        )
        os.chmod(tls / "key.pem", 0o644)  # read by Postfix's smtpd (uid postfix) too

    def _write_dovecot_conf(self) -> None:
        r = self.root
        d = r / "dovecot"
        conf = f"""
base_dir = {d}/run
state_dir = {d}/state
instance_name = enginy-{os.getpid()}-{self.imap_port}
log_path = /dev/stderr
listen = 127.0.0.1
protocols = imap lmtp
ssl = yes
ssl_cert = <{r}/tls/cert.pem
ssl_key = <{r}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.introspection_url else ""}
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
first_valid_uid = {MAIL_UID}
last_valid_uid = {MAIL_UID}
{self._oauth_passdb(d)}passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {d}/users.d/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users.d/%u
  default_fields = uid={MAIL_UID} gid={MAIL_UID} home={r}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
submission_host = 127.0.0.1:{self.smtp_port}
postmaster_address = postmaster@{DOMAIN}
hostname = mx.{DOMAIN}
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_extensions = +vacation-seconds
  sieve_vacation_min_period = 0
}}
"""
        (d / "dovecot.conf").write_text(conf)

    def _oauth_passdb(self, d: Path) -> str:
        """Dovecot's oauth2 passdb (dovecot-core 2.3), asking our introspection endpoint about each token
        (POST token=…; the answer's `username` must be the login's user)."""
        if not self.introspection_url:
            return ""
        (d / "oauth2.conf.ext").write_text(
            f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
            "force_introspection = yes\n")
        # Failed logins must not earn Dovecot's growing auth penalty (2 s, 4 s … per client IP): the tests
        # reject tokens on purpose. Closing anvil's penalty socket turns penalties off (Dovecot's docs).
        return ("service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n"
                f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {d}/oauth2.conf.ext\n}}\n")

    def _write_postfix_conf(self) -> None:
        r = self.root
        etc = r / "pf" / "etc"
        main = f"""
compatibility_level = 3.6
queue_directory = {r}/pf/queue
data_directory = {r}/pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
maillog_file = /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{self.lmtp_port}
default_transport = error:no outside delivery
relay_transport = error:no outside delivery
smtp_dns_support_level = disabled
biff = no
delay_warning_time = 0
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {r}/dovecot/run/auth-postfix
smtpd_tls_cert_file = {r}/tls/cert.pem
smtpd_tls_key_file = {r}/tls/key.pem
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
"""
        master = f"""
127.0.0.1:{self.smtp_port} inet n - n - - smtpd
127.0.0.1:{self.smtps_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""
        (etc / "main.cf").write_text(main)
        (etc / "master.cf").write_text(master)
        # Postfix re-reads config files younger than ~1 s, slowing start-up: backdate.
        past = time.time() - 120
        for name in ("main.cf", "master.cf"):
            os.utime(etc / name, (past, past))

    # ---------------------------------------------------------------- helpers
    def wait_for(self, predicate, timeout: float = 15.0, what: str = "condition"):
        """Poll `predicate()` until it returns something truthy (deliveries take a moment);
        on a timeout the failure shows the servers' logs."""
        return wait_until(predicate, timeout=timeout, what=what, interval=0.1, detail=self.logs)


def start_stack(introspection_url: str | None = None) -> MailStack:
    root = Path(tempfile.mkdtemp(prefix="enginy-mailstack-"))
    return MailStack(root, introspection_url=introspection_url).start()


def destroy_stack(stack: MailStack) -> None:
    stack.stop()
    shutil.rmtree(stack.root, ignore_errors=True)


def mailbox(stack: MailStack, user: User, folder: str = "INBOX") -> list[bytes]:
    """Every message in a user's folder (raw), via a verified IMAPS login."""
    import imapclient

    with imapclient.IMAPClient(stack.host, port=stack.imaps_port, ssl=True,
                               ssl_context=stack.ssl_context(), timeout=10) as client:
        client.login(user.address, user.password)
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
        return [data[u][b"BODY[]"] for u in sorted(data)]
