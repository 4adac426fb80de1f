"""Supervisor: starts and stops actors as the database says, never by being called.

The CLI and the TUI express intents as rows (campaign status, scheduled_at,
identity settings, new or resumed leads). The supervisor polls `PRAGMA
data_version` (microseconds; it changes only for other connections' commits)
every `poll_interval` seconds of workspace time and, on a change:

- flips `scheduled` campaigns whose time has come to `running`;
- starts a CampaignActor per running campaign (and the IdentityActor it
  needs), stops those paused, archived or deleted (their queued outbox rows
  stay; archive cancels them in storage);
- runs an IdentityActor with no campaign for an identity with a reply by hand
  not sent yet (storage/replies.py): a reply to a lead whose campaign no
  longer runs still goes, under the identity's caps and hours;
- restarts an identity's actors when the identity row or one of its inboxes
  changed (limits, working hours, reconnection, an inbox connected) so the
  new settings apply at once;
- wakes every campaign actor (new leads, resumed or retried leads).

A campaign that fails (its sequence cannot be read, or its actor raises while stepping or
planning) is contained here: its leads go to Error / System error (`leads.fail_leads`), it
is logged once, and it is not started again until its row changes (an edit, a re-launch);
every other campaign and identity goes on.

Leads the runtime itself enrolls (Add to another campaign) wake their campaign's
actor directly (`wake_campaign`): its own commits do not change `data_version`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from runtime.actors.campaign import CampaignActor
from runtime.actors.identity import IdentityActor
from runtime.leads import fail_leads, fault_text
from runtime.linkedin_poll import attach as attach_linkedin_poller
from storage.campaigns import running_campaigns, scheduled_due, start_scheduled
from storage.db import data_version, transaction
from storage.identities import identities_running
from storage.inboxes import inbox_versions
from storage.replies import identities_replying

if TYPE_CHECKING:
    from runtime.engine import Runtime

log = logging.getLogger("enginy.runtime")


class Supervisor:
    def __init__(self, rt: "Runtime") -> None:
        self.rt = rt
        self.db = rt.db
        self.identities: dict[int, IdentityActor] = {}
        self.identity_version: dict[int, str] = {}
        self.campaigns: dict[int, CampaignActor] = {}
        self.failed: dict[int, str] = {}  # campaign id -> its updated_at when it failed (not restarted until it changes)
        self._data_version = -1
        self.nursery: trio.Nursery | None = None

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            self.sync()
            task_status.started()
            while True:
                await trio.sleep(self.rt.poll_interval)
                self.poll()

    def poll(self) -> None:
        version = data_version(self.db)
        if version != self._data_version or scheduled_due(self.db, self.rt.clock.now()):
            self._data_version = version
            self.sync()
            for actor in self.campaigns.values():
                actor.wake(intents=True)
            for identity in self.identities.values():
                identity.pick_up_replies()
            self.rt.on_change()

    def sync(self) -> None:
        with transaction(self.db):
            start_scheduled(self.db, self.rt.clock.now())
        rows = {r["id"]: r for r in running_campaigns(self.db)}
        idents = {r["id"]: r for r in identities_running(self.db) + identities_replying(self.db)}
        versions = self._versions(idents)
        for cid in [c for c in self.campaigns if c not in rows]:
            self._stop_campaign(cid)
        for iid, row in idents.items():
            if iid in self.identities and self.identity_version.get(iid) != versions[iid]:
                self._stop_identity(iid)
        for iid in [i for i in self.identities if i not in idents]:
            self._stop_identity(iid)
        for cid, row in rows.items():
            if self.failed.get(cid) == row["updated_at"]:
                continue
            self.failed.pop(cid, None)
            if cid in self.campaigns:
                try:
                    self.campaigns[cid].refresh(row)
                except Exception as exc:  # noqa: BLE001 — its new sequence cannot be read: this campaign only
                    self._campaign_failed(row, exc)
                continue
            actor = self._identity_actor(idents[row["identity_id"]], versions)
            try:
                camp = CampaignActor(self.db, self.rt.clock, row, actor, ai=self.rt.ai_client)
            except Exception as exc:  # noqa: BLE001 — its sequence cannot be read: this campaign only
                self._campaign_failed(row, exc)
                continue
            self.campaigns[cid] = actor.campaigns[cid] = camp
            self.nursery.start_soon(self._run_campaign, camp, row)

        for ident in idents.values():  # those with only a reply by hand to send
            self._identity_actor(ident, versions)

    def _identity_actor(self, ident: dict, versions: dict[int, str]) -> IdentityActor:
        """The identity's running actor, started now if it is not running."""
        actor = self.identities.get(ident["id"])
        if actor is None:
            rt = self.rt
            actor = self.identities[ident["id"]] = IdentityActor(
                self.db, rt.clock, ident, linkedin=rt.linkedin_driver(ident), email=rt.email_driver(ident),
                seed=rt.seed, stopping=lambda: rt.stopping)
            self.identity_version[ident["id"]] = versions[ident["id"]]
            actor.wake_campaign = self.wake_campaign
            attach_linkedin_poller(self.rt, actor)  # acceptances, replies (gateway), withdrawals
            self.nursery.start_soon(actor.run)
        return actor

    async def _run_campaign(self, camp: CampaignActor, row: dict) -> None:
        """The campaign's actor, contained: whatever it raises stops this campaign alone."""
        try:
            await camp.run()
        except Exception as exc:  # noqa: BLE001 — see the module docstring
            self._campaign_failed({**row, "updated_at": camp.info.updated_at}, exc)

    def _campaign_failed(self, row: dict, exc: Exception) -> None:
        """Error the campaign's leads with System error, log it once, stop its actor."""
        cid = row["id"]
        self.failed[cid] = row["updated_at"]
        if cid in self.campaigns:
            self._stop_campaign(cid)
        detail = f"the campaign could not run: {fault_text(exc)}"
        with transaction(self.db):
            n = fail_leads(self.db, cid, row["identity_id"], detail, self.rt.clock.now())
        log.warning("campaign %s stopped: %s; %d lead(s) set to Error / System error; the others run on",
                    cid, fault_text(exc), n)

    def wake_campaign(self, campaign_id: int) -> None:
        """Leads were added to this campaign by the runtime itself (Add to another campaign): its
        commit is this connection's, which `data_version` does not show, so its actor is told here."""
        actor = self.campaigns.get(campaign_id)
        if actor is not None:
            actor.wake()

    def _versions(self, idents: dict[int, dict]) -> dict[int, str]:
        """What an identity actor was built from: the identity row and its inboxes (an inbox
        connected, disconnected or edited while running restarts the actor, which reloads them)."""
        inboxes = inbox_versions(self.db)
        return {iid: f"{row['updated_at']}|{inboxes.get(iid, '')}" for iid, row in idents.items()}

    def _stop_campaign(self, cid: int) -> None:
        actor = self.campaigns.pop(cid)
        actor.cancel_scope.cancel()
        actor.identity.drop_campaign(cid)

    def _stop_identity(self, iid: int) -> None:
        actor = self.identities.pop(iid)
        for cid in list(actor.campaigns):
            if cid in self.campaigns:
                self.campaigns.pop(cid).cancel_scope.cancel()
        actor.cancel_scope.cancel()
