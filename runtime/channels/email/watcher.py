"""The IMAP watcher: one per inbox, sees every inbound message exactly once.

imapclient is blocking, so all network work runs in worker threads; the
Trio side only classifies, writes the database and sleeps. The design keeps
every thread call short so the watcher stays cancellable and works under an
autojump MockClock:

* IDLE (where the server offers it) is waited on in chunks of
  `idle_chunk` seconds; after enough chunks to make `idle_renew` (< 29 min,
  RFC 2177) IDLE is re-issued. Counting chunks means no clock is read.
* Without IDLE, the folder is polled every `poll_seconds`; with IDLE a
  catch-up also runs at least that often (belt and braces).
* After every (re)connect — and after every IDLE wake-up — a catch-up fetches
  everything above the stored last UID. UIDVALIDITY and last UID live in
  `mail_watch`; they advance in the same transaction that records the
  messages, so a crash re-fetches at most an unrecorded batch, and the
  per-inbox fingerprint (Message-ID) makes re-recording a no-op.
* A UIDVALIDITY change (the folder was rebuilt) re-scans recent mail; the
  fingerprint again keeps known messages from being processed twice.
* First contact with an inbox starts at the current end of the folder: mail
  that arrived before the inbox was connected cannot answer our emails.
* A dropped connection is reopened with backoff (1 s doubling to 60 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

import imaplib

import imapclient
import sqlite_utils
import trio

from runtime.channels.email import imap as mail_imap
from runtime.channels.email import store as mail_store
from runtime.channels.email.config import MailConnectError
from runtime.channels.email.inbound.classify import classify_message
from runtime.channels.email.inbound.parse import MAX_PARSE_BYTES, body_text, parse
from runtime.channels.email.smtp import InboxAccount
from storage import mail as mail_db
from storage.db import transaction

FETCH_BATCH = 50
_PARTIAL = f"BODY.PEEK[]<0.{MAX_PARSE_BYTES}>"


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes


@dataclass(frozen=True)
class FolderView:
    uidvalidity: int
    uidnext: int


class InboxWatcher:
    def __init__(self, db: sqlite_utils.Database, account: InboxAccount, now: Callable[[], datetime], *,
                 folder: str = "INBOX", idle_chunk: float = 5.0, idle_renew: float = 24 * 60.0,
                 poll_seconds: float = 60.0, rescan_days: int = 7,
                 after_record: Callable[[], Awaitable[None] | None] | None = None) -> None:
        self.db = db
        self.account = account
        self.now = now
        self.folder = folder
        self.idle_chunk = idle_chunk
        self.idle_renew = idle_renew
        self.poll_seconds = poll_seconds
        self.rescan_days = rescan_days
        self.after_record = after_record
        self.status = "starting"
        self.recorded = 0
        self._client: imapclient.IMAPClient | None = None

    # ------------------------------------------------------------------ trio side
    async def run(self) -> None:
        """Watch until cancelled. Authentication failure ends the watch (inbox must be reconnected)."""
        backoff = 1.0
        while True:
            try:
                self._client = await trio.to_thread.run_sync(mail_imap.connect, self.account.settings,
                                                             self.account.password)
                self.status = "connected"
                backoff = 1.0
                await self.catch_up()
                await self._watch_loop()
            except MailConnectError as exc:
                self.status = f"error: {exc.symptom}"
                if exc.symptom in ("Authentication failed",):
                    raise
            except (OSError, ValueError, imapclient.exceptions.IMAPClientError, imaplib.IMAP4.abort, EOFError) as exc:
                # A dropped socket surfaces as OSError, EOFError, IMAP4.abort or
                # "readline of closed file" (ValueError): reconnect and catch up.
                self.status = f"reconnecting after {type(exc).__name__}"
            finally:
                await self._drop_client()
            await trio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)

    async def _watch_loop(self) -> None:
        client = self._client
        has_idle = client.has_capability("IDLE")
        while True:
            if has_idle:
                await trio.to_thread.run_sync(client.idle)
                # Renew IDLE before 29 min, and catch up at least every poll_seconds
                # even while idling: a server whose IDLE misses a change is covered.
                chunks = max(1, int(min(self.idle_renew, self.poll_seconds) // self.idle_chunk))
                # On cancellation the idle_check thread is abandoned and run() shuts the
                # socket down (which ends that thread); sending DONE here would race
                # the abandoned reader and wait out the socket timeout.
                for _ in range(chunks):
                    responses = await trio.to_thread.run_sync(
                        lambda: client.idle_check(timeout=self.idle_chunk), abandon_on_cancel=True)
                    if any(_is_news(r) for r in responses):
                        break
                await trio.to_thread.run_sync(client.idle_done)
                # News, or IDLE is due for renewal: catch up either way (one UID SEARCH).
                await self.catch_up()
            else:
                await trio.sleep(self.poll_seconds)
                await trio.to_thread.run_sync(client.noop)
                await self.catch_up()

    async def catch_up(self) -> int:
        """Fetch and record everything new; returns how many messages were recorded."""
        client = self._client
        view = await trio.to_thread.run_sync(_select, client, self.folder)
        state = mail_db.watch_state(self.db, self.account.id, self.folder)
        if state is None:
            with transaction(self.db):
                mail_db.set_watch_state(self.db, self.account.id, self.folder, uidvalidity=view.uidvalidity,
                                        last_uid=max(view.uidnext - 1, 0), now=self.now())
            return 0
        if state.uidvalidity != view.uidvalidity:
            since = (self.now() - timedelta(days=self.rescan_days)).date()
            uids = await trio.to_thread.run_sync(lambda: sorted(client.search(["SINCE", since])))
            start_uid = 0
        else:
            uids = await trio.to_thread.run_sync(
                lambda: sorted(u for u in client.search(["UID", f"{state.last_uid + 1}:*"]) if u > state.last_uid))
            start_uid = state.last_uid
        total = 0
        last = start_uid
        for i in range(0, len(uids), FETCH_BATCH):
            batch = uids[i:i + FETCH_BATCH]
            fetched = await trio.to_thread.run_sync(_fetch, client, batch)
            last = max([last] + batch)
            total += self._record(view.uidvalidity, fetched, last)
        if not uids and state.uidvalidity != view.uidvalidity:
            self._record(view.uidvalidity, [], max(view.uidnext - 1, 0))
        if total and self.after_record is not None:
            result = self.after_record()
            if result is not None:
                await result
        return total

    def _record(self, uidvalidity: int, fetched: list[Fetched], last_uid: int) -> int:
        """One transaction: the batch's messages and the new watch position."""
        now = self.now()
        count = 0
        with transaction(self.db):
            for item in fetched:
                c = classify_message(item.raw)
                body = body_text(parse(item.raw)) if c.kind in ("reply", "unsubscribe") else ""
                if mail_store.record(self.db, inbox_id=self.account.id, folder=self.folder,
                                     uidvalidity=uidvalidity, uid=item.uid, raw=item.raw, c=c,
                                     body=body, now=now) is not None:
                    count += 1
            mail_db.set_watch_state(self.db, self.account.id, self.folder, uidvalidity=uidvalidity,
                                    last_uid=last_uid, now=now)
        self.recorded += count
        return count

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with trio.CancelScope(shield=True):
                try:
                    client.shutdown()  # unblocks an abandoned IDLE thread at once
                except Exception:
                    pass


# ---------------------------------------------------------------------- worker-thread side
def _is_news(response) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _select(client: imapclient.IMAPClient, folder: str) -> FolderView:
    info = client.select_folder(folder, readonly=True)
    return FolderView(int(info.get(b"UIDVALIDITY", 0)), int(info.get(b"UIDNEXT", 1)))


def _fetch(client: imapclient.IMAPClient, uids: list[int]) -> list[Fetched]:
    data = client.fetch(uids, [_PARTIAL])
    out = []
    for uid in uids:
        item = data.get(uid) or {}
        raw = next((v for k, v in item.items() if k.startswith(b"BODY[]")), b"") or b""
        out.append(Fetched(uid, raw))
    return out
