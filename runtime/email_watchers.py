"""The runtime's side of real email: one IMAP watcher per connected inbox, and their effects applied.

    ... in the runtime's nursery:  nursery.start_soon(run_watchers, rt, store)

`run_watchers` runs an `InboxWatcher` per connected inbox (and follows
inboxes connected, disconnected or changed while running) and, after each
recorded batch, applies the inbound effects (reply, out-of-office, bounce,
unsubscribe) through runtime/inbound.py and hands the resulting jobs to the
actors with `rt.after_change`. It lives here, not in the channel package,
because it drives the runtime: the channel only records what it fetched.
"""

from __future__ import annotations

import trio

from runtime import inbound
from runtime.channels.email.smtp import InboxAccount
from runtime.channels.email.watcher import InboxWatcher
from runtime.channels.email.wiring import account_of
from runtime.secrets import SecretStore
from storage.inboxes import watched_inboxes
from storage.identities import list_identities


async def run_watchers(rt, store: SecretStore, *, idle_chunk: float = 5.0, poll_seconds: float = 60.0,
                       task_status=trio.TASK_STATUS_IGNORED) -> None:
    """One watcher per connected IMAP inbox, following the inbox rows while running.

    When the supervisor sees another process's commit (`rt.change_hooks`), the rows are
    read again: an inbox connected since gets a watcher, a disconnected one loses it, and one whose
    settings changed (reconnected, new server) is watched afresh — no restart."""
    db = rt.db
    rescan = trio.Event()

    def apply_effects() -> None:
        for campaign_id, queued in inbound.apply_mail(db, rt.clock.now(), info_for=rt.campaign_info):
            rt.after_change(campaign_id, queued)

    def wanted() -> dict[int, tuple[str, InboxAccount]]:
        identities = {r["id"]: r for r in list_identities(db)}
        out = {}
        for inbox in watched_inboxes(db):
            account = account_of(inbox, identities.get(inbox.identity_id), store)
            if account is not None:
                out[inbox.id] = (inbox.updated_at, account)
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
