"""Ana's email campaign on the real mail stack, run by the real runtime while another thread acts.

The set-up the end-to-end email tests share: a workspace whose secrets go to a
file (headless: no keyring), Ana working all week (the tests do not depend on
today's date), her leads, the two-email sequence, her real inbox, and
`run_service_while`: the runtime's Service in this thread while `drive` plays
another process (the app, the CLI, a lead) and ends the run with `enginy stop`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from email.message import Message

import sqlite_utils

from runtime.clock import wall_now
from runtime.lease import request_stop
from runtime.sandbox.world import SandboxWorld
from runtime.secrets import SecretStore, inbox_secret_name
from runtime.service import Service
from sequences.model import Delay, Email, Sequence
from storage.activity import iso
from storage.db import open_db, transaction
from storage.identities import create_identity
from storage.workspace import Workspace, init_workspace, open_workspace
from tests.support.seed import contacts

RATE = 600.0  # pacing minutes pass in a fraction of a second; the 2-day follow-up stays far away

#: the first email, and a follow-up two days later that a reply must stop
TWO_EMAILS = Sequence(start="e1", nodes=[Email(id="e1", subject="Quick question", body="Hi {first_name}", next="e2"),
                                         Email(id="e2", body="Just following up.", delay=Delay(days=2))])


def ana_workspace(folder, leads: list[dict]) -> tuple[Workspace, sqlite_utils.Database]:
    """A new workspace with the identity Ana (id 1, working every hour of every day) and `leads` as
    contacts 1, 2, …; its database opened for use from the runtime's thread and the driver's."""
    ws = init_workspace(folder)
    ws.config_path.write_text(ws.config_path.read_text().replace('backend = "keyring"', 'backend = "file"'))
    ws = open_workspace(ws.dir)
    db = ws.open_db(check_same_thread=False)
    now = wall_now()
    create_identity(db, "Ana", now=now, actor="you", first_name="Ana", timezone="UTC",
                    working_days="mon,tue,wed,thu,fri,sat,sun", work_start="00:00", work_end="23:59")
    contacts(db, leads, now=now)
    return ws, db


def connect_ana(db, ws, mail_stack, ana) -> None:
    """What `enginy inbox connect` writes: the inbox row and its password in the secret store."""
    at = iso(wall_now())
    with transaction(db):
        db.execute("INSERT INTO inboxes (id, identity_id, email, provider, imap_host, imap_port, smtp_host, smtp_port,"
                   " tls_mode, ca_file, per_day, per_hour, list_unsubscribe, created_at, updated_at)"
                   " VALUES (1, 1, ?, 'imap', ?, ?, ?, ?, 'starttls', ?, 80, 10, 0, ?, ?)",
                   [ana.address, mail_stack.host, mail_stack.imap_port, mail_stack.host, mail_stack.smtp_port,
                    str(mail_stack.ca_file), at, at])
    SecretStore.of(ws).save(inbox_secret_name(1), ana.password)


def run_service_while(db, ws: Workspace, drive: Callable[[sqlite_utils.Database], None]) -> SandboxWorld:
    """Run the workspace's Service (sandbox world, clock at RATE) until `drive` has run in another
    thread on its own connection and asked the runtime to stop, as `enginy stop` does. Returns
    the (closed) sandbox world, whose deliveries a test may read."""
    def driver() -> None:
        other = open_db(ws.db_path)
        try:
            drive(other)
        finally:
            request_stop(other)
            other.close()

    world = SandboxWorld(1, path=ws.dir / "sandbox.db")
    t = threading.Thread(target=driver, daemon=True)
    t.start()
    try:
        Service(db, world=world, speed=RATE, workspace=ws.dir).run(until=timedelta(days=1))  # a day: 144 s away
    finally:
        world.close()
    t.join(10)
    return world


def body_text(message: Message) -> str:
    """The text of a plain or multipart email (its first part)."""
    part = message.get_payload(0) if message.is_multipart() else message
    return part.get_payload(decode=True).decode()
