"""Withdrawals: the pure rules, the history table, and automatic withdrawal through the gateway."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from runtime.channels.linkedin.protocol import InvitationCooldown, LeadRef
from runtime.channels.base import SendKey
from runtime.channels.linkedin.withdraw import auto_withdraw, refresh_pending, reinvites_due, withdraw
from runtime.channels.linkedin.withdraw_policy import (
    MAX_INVITATIONS_PER_MEMBER,
    InvitationFact,
    due_for_withdrawal,
    may_invite,
    older_than,
)
from sequences.limits import INVITATION_COOLDOWN, cooldown_days_left
from storage import linkedin_invitations as store
from storage.db import open_db
from tests.support.linkedin_fixtures import *  # noqa: F401,F403
from tests.support.linkedin_fixtures import ACCOUNT, EPOCH, make_driver

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


# -- pure rules -------------------------------------------------------------


def test_due_for_withdrawal_respects_threshold_and_toggle():
    facts = [InvitationFact("a", T0 - 16 * DAY), InvitationFact("b", T0 - 15 * DAY),
             InvitationFact("c", T0 - 14 * DAY + timedelta(seconds=1)),
             InvitationFact("d", T0 - 30 * DAY, state="accepted")]
    assert [f.provider_id for f in due_for_withdrawal(facts, now=T0, threshold_days=15)] == ["a", "b"]
    assert due_for_withdrawal(facts, now=T0, threshold_days=15, enabled=False) == []
    with pytest.raises(ValueError):
        due_for_withdrawal(facts, now=T0, threshold_days=0)
    assert [f.provider_id for f in older_than(facts, now=T0, days=None)] == ["a", "b", "c"]


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=20), st.integers(min_value=1, max_value=40))
def test_due_is_exactly_the_old_enough_pending(ages, threshold):
    facts = [InvitationFact(f"p{i}", T0 - age * DAY) for i, age in enumerate(ages)]
    due = due_for_withdrawal(facts, now=T0, threshold_days=threshold)
    assert {f.provider_id for f in due} == {f"p{i}" for i, a in enumerate(ages) if a >= threshold}
    assert [f.sent_at for f in due] == sorted(f.sent_at for f in due)


def test_reinvite_waits_three_weeks_and_only_once():
    withdrawn = InvitationFact("a", T0 - 20 * DAY, state="withdrawn", withdrawn_at=T0)
    d = may_invite([withdrawn], now=T0 + 20 * DAY)
    assert not d.allowed and d.not_before == T0 + INVITATION_COOLDOWN
    assert cooldown_days_left(T0, T0 + 20 * DAY) == 1 and cooldown_days_left(T0, T0) == 21
    assert may_invite([withdrawn], now=T0 + INVITATION_COOLDOWN).allowed
    second = InvitationFact("a", T0 + 22 * DAY, state="withdrawn", withdrawn_at=T0 + 40 * DAY)
    assert MAX_INVITATIONS_PER_MEMBER == 2
    assert not may_invite([withdrawn, second], now=T0 + 200 * DAY).allowed
    assert not may_invite([InvitationFact("a", T0)], now=T0 + 200 * DAY).allowed  # still pending


# -- history table ------------------------------------------------------------


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path / "w.db")
    db.execute("INSERT INTO identities (id, name, linkedin_driver, withdraw_enabled, withdraw_after_days,"
               " created_at, updated_at) VALUES (1, 'Ida', 'gateway', 1, 15, ?, ?)", [T0.isoformat()] * 2)
    return db


def test_record_sent_is_idempotent_on_the_outbox_key(db):
    a = store.record_sent(db, identity_id=1, provider_id="ACoM1", sent_at=T0, outbox_key="k1")
    b = store.record_sent(db, identity_id=1, provider_id="ACoM1", sent_at=T0, outbox_key="k1", invitation_id="inv_9")
    assert a == b and store.pending(db, 1)[0]["invitation_id"] == "inv_9"


def test_sync_accept_withdraw_history(db):
    store.record_sent(db, identity_id=1, provider_id="ACoM1", sent_at=T0, outbox_key="k1")
    store.record_sent(db, identity_id=1, provider_id="ACoM2", sent_at=T0, outbox_key="k2")
    counts = store.sync_pending(db, 1, [
        {"invitation_id": "inv_1", "provider_id": "ACoM1", "sent_at": T0},
        {"invitation_id": "inv_x", "provider_id": "ACoM9", "sent_at": T0 - DAY, "note": "by hand"},
    ], now=T0 + DAY)
    assert counts == {"added": 1, "linked": 1, "gone": 1}
    assert store.mark_accepted(db, 1, "ACoM2", T0 + DAY) == 1  # gone because accepted
    [row] = [r for r in store.pending(db, 1) if r["provider_id"] == "ACoM1"]
    store.mark_withdrawn(db, row["id"], T0 + 2 * DAY, "manual")
    hist = store.history(db, 1)
    assert [(h["provider_id"], h["state"], h["source"]) for h in hist] == [
        ("ACoM1", "withdrawn", "enginy"), ("ACoM2", "accepted", "enginy"), ("ACoM9", "pending", "external")]
    assert hist[0]["reinvite_after"] == (T0 + 2 * DAY + INVITATION_COOLDOWN).isoformat()
    assert [h["id"] for h in store.history(db, 1, after_id=hist[0]["id"], limit=1)] == [hist[1]["id"]]


# -- through the gateway -----------------------------------------------------------


@pytest.mark.trio
async def test_auto_withdraw_then_reinvite_after_three_weeks(gateway, db, autojump_clock):
    clock = {"now": EPOCH}
    driver = make_driver(gateway, now=lambda: clock["now"])
    try:
        for i in (1, 2):
            sent = await driver.send_invitation(LeadRef(provider_id=f"ACoM{i}"), None, SendKey(f"k{i}", EPOCH))
            store.record_sent(db, identity_id=1, provider_id=f"ACoM{i}", sent_at=clock["now"],
                              invitation_id=sent.invitation_id, outbox_key=f"k{i}")
            clock["now"] += 5 * DAY
        identity = next(db.query("SELECT * FROM identities WHERE id = 1"))
        clock["now"] = EPOCH + 15 * DAY  # only the first is 15 days old
        report = await auto_withdraw(db, driver, identity, clock["now"])
        assert len(report.withdrawn) == 1 and report.stopped is None
        assert [i.provider_id for i in await driver.sent_invitations()] == ["ACoM2"]
        assert reinvites_due(db, 1, clock["now"] + 20 * DAY) == []
        # LinkedIn itself refuses a re-invite within the cooldown
        with pytest.raises(InvitationCooldown):
            await driver.send_invitation(LeadRef(provider_id="ACoM1"), None, SendKey("r", clock["now"]))
        clock["now"] += INVITATION_COOLDOWN
        [due] = reinvites_due(db, 1, clock["now"])
        assert due["provider_id"] == "ACoM1"
        again = await driver.send_invitation(LeadRef(provider_id="ACoM1"), None, SendKey("r2", clock["now"]))
        assert again.invitation_id and not again.reconciled
        withdrawals = [r for r in gateway.requests("DELETE")]
        assert len(withdrawals) == 1
    finally:
        await driver.aclose()


@pytest.mark.trio
async def test_withdraw_run_stops_on_a_disconnected_account(gateway, db, autojump_clock):
    driver = make_driver(gateway)
    try:
        for i in (1, 2, 3):
            await driver.send_invitation(LeadRef(provider_id=f"ACoM{i}"), None, SendKey(f"k{i}", EPOCH))
        await refresh_pending(db, driver, 1, EPOCH)
        rows = store.pending(db, 1)
        assert len(rows) == 3 and {r["source"] for r in rows} == {"external"}
        gateway.script({"method": "DELETE", "path": ".*", "skip": 1, "times": 9, "respond": {"status": 401}})
        report = await withdraw(db, driver, rows, now=EPOCH, by="manual")
        assert len(report.withdrawn) == 1 and "disconnected" in report.stopped
        assert len(store.pending(db, 1)) == 2
    finally:
        await driver.aclose()
