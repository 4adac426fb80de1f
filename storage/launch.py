"""Launching a campaign as a user asks for it: the launch checks, then the launch.

Every launch a user starts — `enginy campaigns launch`, the `l` key of the
dashboard and the campaign view, the wizard's Finish — goes through `launch`,
so none can start a campaign the checks would stop; `enginy campaigns check`
and the app's confirmations show the same `launch_check`. (Internal callers,
the demo's seeding, use `campaigns.launch_campaign` directly.)

Two kinds of problem, as the spec has them:

* blocking — a step with a validation error (it would fail lead after lead;
  `launch_campaign` refuses it too) or no identity: never launched;
* waiting — no audience yet (the spec lets contacts be added after launch),
  the identity lacks the channel a step needs (its leads wait at that step
  until an inbox or LinkedIn is connected), or a step uses an AI variable the
  campaign has no prompt for (its leads stop there with Missing campaign
  prompt until one is set and they are retried): refused unless the user
  forces it (`--force`), knowing what will wait.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils

from sequences.model import channel_of, describe
from sequences.step import ai_variables_of
from sequences.validate import validate
from storage.ai_variables import prompts_of
from storage.campaign_setup import audience_size
from storage.campaigns import CampaignError, get_campaign, launch_campaign, sequence_of
from storage.db import transaction


class LaunchCheck(msgspec.Struct, frozen=True, kw_only=True):
    """What a launch of the campaign would do, and what stands in its way."""

    campaign_id: int
    name: str
    status: str
    identity: str  # the identity's name ("" when it has none)
    leads: int  # contacts in the campaign, not removed
    problems: list[str]  # one line each, in the order the checks run
    blocking: list[str]  # those never launched with; the others only when forced

    @property
    def ready(self) -> bool:
        return not self.problems


class LaunchRefused(CampaignError):
    """The launch checks found problems; `check` says which (one line each)."""

    def __init__(self, check: LaunchCheck, forced: bool) -> None:
        shown = check.blocking if forced else check.problems
        hint = "" if check.blocking else " (--force launches anyway: leads wait until it is fixed)"
        super().__init__(f"{check.name!r} not launched: " + "; ".join(shown) + hint)
        self.check = check


def launch_check(db: sqlite_utils.Database, ref: int | str) -> LaunchCheck:
    """The launch checks of campaign `ref` (id or name; CampaignError if there is none):
    no audience; each step with a validation error; an identity without the channel a step
    needs (a connected inbox for email, LinkedIn for LinkedIn steps)."""
    campaign = get_campaign(db, ref)
    cid = campaign["id"]
    leads = audience_size(db, cid)
    seq = sequence_of(campaign)
    problems = [] if leads else ["No audience: add a list or contacts (step 2)"]
    blocking = [f"Sequence: {error.message}" for error in validate(seq)]
    problems += blocking
    identity = next(db.query("SELECT name, linkedin_connected FROM identities WHERE id = ?",
                             [campaign["identity_id"]]), None)
    if identity is None:
        blocking.append("The campaign has no identity")
        problems.append(blocking[-1])
    else:
        needs: dict[str, str] = {}
        for node in seq.nodes:
            needs.setdefault(channel_of(node), describe(node))
        inboxes = db.execute("SELECT count(*) FROM inboxes WHERE identity_id = ? AND connected = 1",
                             [campaign["identity_id"]]).fetchone()[0]
        if "email" in needs and not inboxes:
            problems.append(f"{identity['name']} has no connected inbox for {needs['email']}")
        if "linkedin" in needs and not identity["linkedin_connected"]:
            problems.append(f"{identity['name']} has no connected LinkedIn account for {needs['linkedin']}")
    prompts = prompts_of(campaign)
    for node in seq.nodes:
        for name in ai_variables_of(node):
            if name not in prompts:
                problems.append(f"{describe(node)} uses {{ai: {name}}}, which has no prompt "
                                f"(`enginy campaigns ai-variable set {cid} {name} --prompt …`)")
    return LaunchCheck(campaign_id=cid, name=campaign["name"], status=campaign["status"],
                       identity=identity["name"] if identity else "", leads=leads, problems=problems,
                       blocking=blocking)


def launch_problems(db: sqlite_utils.Database, campaign_id: int) -> list[str]:
    """Why the campaign should not be launched yet, one line each (empty: ready)."""
    return launch_check(db, campaign_id).problems


def launch(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str,
           at: datetime | None = None, force: bool = False) -> dict[str, Any]:
    """Check, then launch now or schedule for `at`, in one transaction (the checks see what the
    launch does). LaunchRefused on a blocking problem, or on a waiting one unless `force`."""
    with transaction(db):
        check = launch_check(db, ref)
        startable = check.status in ("draft", "scheduled")  # (launch_campaign says why the others are not)
        if startable and (check.blocking or (check.problems and not force)):
            raise LaunchRefused(check, forced=force)
        return launch_campaign(db, check.campaign_id, now=now, actor=actor, at=at)
