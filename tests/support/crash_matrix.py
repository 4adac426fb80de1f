"""The crash matrix: kill -9 `enginy run` at each point of a send, on both channels, against the
real mail servers and the LinkedIn gateway contract server, then count what was lost or doubled.

Each round starts `enginy run` (a real process, fast clock) and kills it: at a named point of a
send (`ENGINY_CRASH_AT`, runtime/crashpoints.py, at its N-th passage) or at a random moment.
When the rounds are done one last run without faults lets every lead finish, and the witnesses
are read: the recipients' real mailboxes (Dovecot) and the gateway's own record of what it was
asked to do. A step delivered twice is a duplicate; a lead that did not get every step is a loss.

tests/test_crash_matrix.py runs a short version in CI; bench/crash_matrix.py the long one.
"""

from __future__ import annotations

import email
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from runtime.clock import wall_now
from runtime.crashpoints import POINTS
from runtime.secrets import SecretStore, inbox_secret_name, linkedin_secret_name
from runtime.channels.linkedin.http import normalize_base_url
from sequences.model import ConnectionRequest, Delay, Email, InMail, Sequence
from storage.activity import iso
from storage.db import open_db, transaction
from storage.identities import create_identity
from storage.workspace import init_workspace, open_workspace
from tests.support.linkedin_fixtures import ACCOUNT, API_KEY, members, world
from tests.support.mailstack import mailbox
from tests.support.seed import contacts, running_campaign

ROOT = Path(__file__).resolve().parents[2]
SPEED = "600"  # a workspace hour in six real seconds: the follow-ups come within a round or two
EMAIL_POINTS = POINTS
LINKEDIN_POINTS = tuple(p for p in POINTS if not p.startswith("email."))


@dataclass
class Tally:
    """What a matrix run did and found, per channel."""

    kills: Counter = field(default_factory=Counter)  # by point ("random" for timed kills)
    marks: list[tuple[int, str]] = field(default_factory=list)  # the ledger's end after each kill
    wrong: list[str] = field(default_factory=list)  # which recipient and step was lost or doubled
    steps_expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0


def _enginy(ws: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _headless(folder: Path):
    ws = init_workspace(folder)
    ws.config_path.write_text(ws.config_path.read_text().replace('backend = "keyring"', 'backend = "file"'))
    return open_workspace(ws.dir)


def _identity(db, now: datetime) -> int:
    return create_identity(db, "Ana", now=now, actor="matrix", first_name="Ana", timezone="UTC",
                           working_days="mon,tue,wed,thu,fri,sat,sun", work_start="00:00", work_end="23:59",
                           daily_connection_limit=100, daily_message_limit=150)


def email_workspace(stack, folder: Path, leads: int):
    """Ana's real inbox mails `leads` real mailboxes two emails an hour apart."""
    ws = _headless(folder)
    db = ws.open_db()
    now = wall_now()
    ana = stack.new_user("ana")
    recipients = [stack.new_user("lead") for _ in range(leads)]
    _identity(db, now)
    at = iso(now)
    with transaction(db):
        db.execute("INSERT INTO inboxes (id, identity_id, email, provider, imap_host, imap_port, smtp_host, smtp_port,"
                   " tls_mode, ca_file, per_day, per_hour, list_unsubscribe, created_at, updated_at)"
                   " VALUES (1, 1, ?, 'imap', ?, ?, ?, ?, 'starttls', ?, 80, 10, 0, ?, ?)",
                   [ana.address, stack.host, stack.imap_port, stack.host, stack.smtp_port, str(stack.ca_file), at, at])
    SecretStore.of(ws).save(inbox_secret_name(1), ana.password)
    contacts(db, [{"first_name": f"L{i}", "email": r.address} for i, r in enumerate(recipients, 1)], now=now)
    seq = Sequence(start="one", nodes=[Email(id="one", subject="Step one", body="Hello {first_name}", next="two"),
                                       Email(id="two", subject="Step two", body="Following up", delay=Delay(hours=1))])
    running_campaign(db, identity=1, sequence=seq, name="Mail", contact_ids=list(range(1, leads + 1)), now=now)
    db.close()
    return ws.dir, recipients


def linkedin_workspace(gateway, folder: Path, leads: int) -> Path:
    """Ana's gateway account invites `leads` members, then writes each an InMail."""
    # The gateway stamps what it receives with its own clock, and the driver's look-up after a lost
    # answer asks for our messages since the send's first attempt (workspace time). The server's clock
    # must not be behind the runtime's, as LinkedIn's is not at speed 1: under `--speed` the workspace
    # runs ahead of the wall, so the world's clock is set a year ahead.
    ahead = (wall_now() + timedelta(days=365)).isoformat()
    gateway.reset(**{**world(inmail_credits=10 * leads, weekly_invite_limit=10 * leads), "members": members(leads),
                     "now": ahead})
    ws = _headless(folder)
    db = ws.open_db()
    now = wall_now()
    iid = _identity(db, now)
    SecretStore.of(ws).save(linkedin_secret_name(iid), API_KEY)
    with transaction(db):
        db.execute("UPDATE identities SET linkedin_driver = 'gateway', linkedin_connected = 1, linkedin_account_id = ?,"
                   " gateway_url = ? WHERE id = ?", [ACCOUNT, normalize_base_url(gateway.url), iid])
    contacts(db, [{"first_name": f"Lead{i}", "last_name": "Test", "linkedin_url": f"https://www.linkedin.com/in/lead-{i}",
                   "linkedin_id": f"ACoM{i}"} for i in range(1, leads + 1)], now=now)
    seq = Sequence(start="invite", nodes=[ConnectionRequest(id="invite", next="inmail"),
                                          InMail(id="inmail", subject="A question", body="Hello {first_name}")])
    running_campaign(db, identity=iid, sequence=seq, name="LinkedIn", contact_ids=list(range(1, leads + 1)), now=now)
    db.close()
    return ws.dir


def crash_round(ws: Path, point: str, after: int, tally: Tally, *, rng: random.Random, timeout: float = 30.0) -> None:
    """One `enginy run`, killed at `point`'s `after`-th passage ("random": after a random 0.3–3 s)."""
    env = {} if point == "random" else {"ENGINY_CRASH_AT": point, "ENGINY_CRASH_AFTER": str(after)}
    proc = _enginy(ws, "run", "--speed", SPEED, env=env)
    try:
        proc.wait(timeout=rng.uniform(0.3, 3.0) if point == "random" else timeout)
    except subprocess.TimeoutExpired:
        pass
    if proc.poll() is None:
        if point != "random":  # the point was not reached (nothing left to send there): stop it cleanly
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            return
        proc.kill()
        proc.wait()
    if proc.returncode == -signal.SIGKILL:
        tally.kills[point] += 1
        tally.marks.append(ledger_mark(ws))
    else:
        raise AssertionError(f"the runtime ended on its own ({proc.returncode}) at {point}: {proc.stderr.read()}")


def finish(ws: Path, until: str = "3d") -> None:
    """A last run without faults until every lead is through; it must end cleanly."""
    proc = _enginy(ws, "run", "--speed", "3600", "--until", until)
    _, err = proc.communicate(timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"the last run failed ({proc.returncode}): {err}")


def check_email(stack, ws: Path, recipients, tally: Tally) -> None:
    stack.drain_queue()
    for r in recipients:
        subjects = Counter(email.message_from_bytes(raw)["Subject"] for raw in mailbox(stack, r))
        for step in ("Step one", "Step two"):
            _count(tally, f"{r.address} {step}", subjects.get(step, 0))
    _check_outbox(ws)
    assert_never_backwards(ws, tally.marks)


def check_linkedin(gateway, ws: Path, leads: int, tally: Tally) -> None:
    invites = Counter(r["body"]["provider_id"] for r in gateway.requests("POST", ".*/users/invite")
                      if str(r.get("outcome", "")).startswith("2"))
    chats = gateway.state()["accounts"][ACCOUNT]["chats"].values()
    inmails = Counter({c["attendee_provider_id"]: sum(1 for m in c["messages"] if m["is_sender"]) for c in chats})
    for i in range(1, leads + 1):
        for step, got in (("invitation", invites.get(f"ACoM{i}", 0)), ("InMail", inmails.get(f"ACoM{i}", 0))):
            _count(tally, f"ACoM{i} {step}", got)
    _check_outbox(ws)
    assert_never_backwards(ws, tally.marks)


def _count(tally: Tally, what: str, got: int) -> None:
    tally.steps_expected += 1
    tally.delivered += min(got, 1)
    tally.lost += got == 0
    tally.duplicated += max(got - 1, 0)
    if got != 1:
        tally.wrong.append(f"{what}: {got}")


def ledger_mark(ws: Path) -> tuple[int, str]:
    """Where the action ledger ends: its last id and its latest time."""
    db = open_db(ws / "enginy.db")
    try:
        last_id, latest = db.execute("SELECT COALESCE(MAX(id), 0), COALESCE(MAX(at), '') FROM action_ledger").fetchone()
        return last_id, latest
    finally:
        db.close()


def assert_never_backwards(ws: Path, marks: list[tuple[int, str]]) -> None:
    """Every action recorded after a kill is at or after the latest one recorded before it: each
    restart's clock began where the killed run had got to. (Rows are compared by id, not sorted as a
    whole: an uncertain send reconciled later has its old ledger row re-stamped to that later time.)"""
    db = open_db(ws / "enginy.db")
    try:
        for last_id, latest in marks:
            if not latest:
                continue
            early = db.execute("SELECT id, at FROM action_ledger WHERE id > ? AND at < ? LIMIT 1",
                               [last_id, latest]).fetchone()
            assert early is None, f"the clock went back after a kill: ledger row {early} before {latest}"
    finally:
        db.close()


def _check_outbox(ws: Path) -> None:
    """Every cut-off send was settled and every lead went through."""
    db = open_db(ws / "enginy.db")
    try:
        left = db.execute("SELECT state, COUNT(*) FROM outbox WHERE state IN ('sending', 'unknown', 'claimed')"
                          " GROUP BY state").fetchall()
        assert left == [], f"sends left unsettled: {left}"
        stuck = db.execute("SELECT id, status, substatus FROM enrollments WHERE status NOT IN ('finished', 'replied')"
                           ).fetchall()
        assert stuck == [], f"leads that did not finish: {stuck}"
    finally:
        db.close()


def run_matrix(ws: Path, points: tuple[str, ...], *, per_point: int, randoms: int, seed: int, tally: Tally,
               progress=None) -> None:
    """`per_point` kills at each point (at passage 1, 2, 3 … in turn), then `randoms` timed kills; each
    group in a shuffled order. The workspace must hold enough sends for every round to reach its point."""
    rng = random.Random(seed)
    rounds = [(p, 1 + k % 3) for p in points for k in range(per_point)]
    rng.shuffle(rounds)
    rounds += [("random", 0)] * randoms
    started = time.monotonic()
    for n, (point, after) in enumerate(rounds, 1):
        crash_round(ws, point, after, tally, rng=rng)
        if progress:
            progress(n, len(rounds), time.monotonic() - started)
