"""Plugging real email into the runtime: the SMTP driver per identity and one watcher per inbox.

    rt = Runtime(db, workspace=ws_dir, email_factory=lambda ident: smtp_driver(rt, ident, store))
    ... in the runtime's nursery:  nursery.start_soon(run_watchers, rt, store)

`smtp_driver` serves the identity's connected IMAP/SMTP inboxes (passwords
from the secret store; an inbox without a password is treated as
disconnected). `run_watchers` runs an `InboxWatcher` per connected inbox (and
follows inboxes connected, disconnected or changed while running) and,
after each recorded batch, applies the inbound effects (reply, out-of-office,
bounce, unsubscribe) through runtime/inbound.py and hands the resulting jobs
to the actors with `rt.after_change`.
"""

from __future__ import annotations

import secrets as _random
from pathlib import Path

import msgspec
import trio

from runtime.channels.email import store as mail_store
from runtime.channels.email.watcher import InboxWatcher
from runtime.channels.email.smtp import InboxAccount, SmtpEmail
from runtime.channels.email.compose import Tracking
from runtime.channels.email.config import InboxSettings
from runtime.secrets import SecretStore, inbox_secret_name
from storage.activity import iso


def account_of(row: dict, identity: dict | None, store: SecretStore) -> InboxAccount | None:
    if row.get("provider") != "imap" or not row.get("connected") or not row.get("imap_host"):
        return None
    password = store.load(inbox_secret_name(row["id"]))
    if not password:
        return None
    name = " ".join(p for p in ((identity or {}).get("first_name"), (identity or {}).get("last_name")) if p)
    return InboxAccount(row["id"], InboxSettings.of_row(row), password, sender_name=name or (identity or {}).get("name", ""),
                        signature_text=row.get("signature_text") or "", signature_html=row.get("signature_html") or "",
                        list_unsubscribe=bool(row.get("list_unsubscribe", 1)))


def smtp_driver(rt, identity: dict, store: SecretStore, *, base_url: str = "") -> SmtpEmail:
    """The identity's email driver. Inbox rows are re-read per send: a reconnect or
    disconnect takes effect without restarting the runtime."""
    db = rt.db

    def account_for(inbox_id: int) -> InboxAccount | None:
        rows = list(db.query("SELECT * FROM inboxes WHERE id = ? AND identity_id = ?", [inbox_id, identity["id"]]))
        return account_of(rows[0], identity, store) if rows else None

    def tracking_for(email, key) -> Tracking | None:
        if not base_url.startswith("https://") and not base_url.startswith("http://127.0.0.1"):
            return None
        r = db.execute("SELECT k.settings, o.enrollment_id, e.contact_id FROM outbox o JOIN campaigns k ON k.id = o.campaign_id"
                       " LEFT JOIN enrollments e ON e.id = o.enrollment_id WHERE o.key = ?", [key.key]).fetchone()
        if r is None:
            return None
        settings = msgspec.json.decode(r[0] or "{}")
        opens, clicks = bool(settings.get("track_opens")), bool(settings.get("track_clicks"))
        existing = db.execute("SELECT token FROM mail_tracking WHERE outbox_key = ?", [key.key]).fetchone()
        token = existing[0] if existing else _random.token_urlsafe(18)
        if not existing:
            with db.conn:
                db.execute("INSERT INTO mail_tracking (token, outbox_key, enrollment_id, contact_id, created_at)"
                           " VALUES (?, ?, ?, ?, ?)", [token, key.key, r[1], r[2], iso(rt.clock.now())])
        return Tracking(base_url.rstrip("/"), token, opens=opens, clicks=clicks)

    def save_links(tracking: Tracking, key, links: list[str]) -> None:
        with db.conn:
            db.execute("UPDATE mail_tracking SET links = ? WHERE token = ?",
                       [msgspec.json.encode(links).decode(), tracking.token])

    return SmtpEmail(account_for, rt.clock.now, tracking_for=tracking_for, on_tracked_links=save_links)


async def run_watchers(rt, store: SecretStore, *, idle_chunk: float = 5.0, poll_seconds: float = 60.0,
                       task_status=trio.TASK_STATUS_IGNORED) -> None:
    """One watcher per connected IMAP inbox, following the inbox rows while running.

    When the supervisor sees another process's commit (`rt.change_hooks`), the rows are
    read again: an inbox connected since gets a watcher, a disconnected one loses it, and one whose
    settings changed (reconnected, new server) is watched afresh — no restart."""
    db = rt.db
    rescan = trio.Event()

    def apply_effects() -> None:
        for campaign_id, queued in mail_store.apply_pending(db, rt.clock.now(), info_for=rt.campaign_info):
            rt.after_change(campaign_id, queued)

    def wanted() -> dict[int, tuple[str, InboxAccount]]:
        identities = {r["id"]: r for r in db.query("SELECT * FROM identities")}
        out = {}
        for row in db.query("SELECT * FROM inboxes WHERE connected = 1 AND provider = 'imap'"):
            account = account_of(row, identities.get(row["identity_id"]), store)
            if account is not None:
                out[row["id"]] = (row["updated_at"], account)
        return out

    def on_change() -> None:  # inbox rows are written by other processes (`enginy inbox connect`)
        rescan.set()

    running: dict[int, tuple[str, trio.CancelScope]] = {}
    rt.change_hooks.append(on_change)
    try:
        async with trio.open_nursery() as nursery:
            started = False
            while True:
                rescan = trio.Event()
                now_wanted = wanted()
                for inbox_id, (version, scope) in list(running.items()):
                    if now_wanted.get(inbox_id, (None,))[0] != version:
                        scope.cancel()
                        del running[inbox_id]
                for inbox_id, (version, account) in now_wanted.items():
                    if inbox_id not in running:
                        watcher = InboxWatcher(db, account, rt.clock.now, idle_chunk=idle_chunk,
                                               poll_seconds=poll_seconds, after_record=apply_effects)
                        scope = trio.CancelScope()
                        running[inbox_id] = (version, scope)
                        nursery.start_soon(_keep_watching, watcher, scope)
                if not started:
                    apply_effects()  # anything recorded before a crash but not yet applied
                    task_status.started(len(running))
                    started = True
                await rescan.wait()
    finally:
        rt.change_hooks.remove(on_change)


async def _keep_watching(watcher: InboxWatcher, scope: trio.CancelScope) -> None:
    try:
        with scope:
            await watcher.run()
    except Exception:
        # Authentication failed: this inbox stops being watched until it is reconnected;
        # the others go on. (Its status says why.)
        return
