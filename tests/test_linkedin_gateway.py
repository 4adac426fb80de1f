"""The gateway driver against the contract server: every action, every error mapping,
retries, and "never twice" after a lost answer.

Trio tests run on the autojump clock: the driver's backoff waits are simulated
(no wall time), while HTTP timeouts are real socket timeouts (see
runtime/channels/linkedin/http.py), so a lost answer costs TEST_POLICY.read_timeout.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import trio

from runtime.channels.linkedin.protocol import AccountDisconnected, AccountRestricted, Attachment, Disposition, GatewayUnavailable, InMailCreditsExhausted, InvalidAction, InvitationCooldown, LeadRef, LeadUnreachable, LimitReached, LinkedInDriver, OutcomeUnknown, RateLimited
from sequences.model import Reaction
from sequences.statuses import Substatus
from runtime.channels.base import SendKey
from tests.support.linkedin_fixtures import *  # noqa: F401,F403 — fixtures
from tests.support.linkedin_fixtures import ACCOUNT, API_KEY, EPOCH, make_driver

L1 = LeadRef(provider_id="ACoM1")
L2 = LeadRef(provider_id="ACoM2")


def key(name: str, resumed: bool = False) -> SendKey:
    return SendKey(name, EPOCH, resumed=resumed)


def posts_to(gw, path: str) -> list[dict]:
    return gw.requests("POST", path)


def connect(gw, pid: str) -> None:
    """Make `pid` a 1st-degree connection (invite + immediate acceptance)."""
    gw.control("member", {"provider_id": pid, "accept_after_polls": 0})


@pytest.fixture
def driver(gateway):
    d = make_driver(gateway)
    yield d
    d.http.close()


# --------------------------------------------------------------------------
# actions


@pytest.mark.trio
async def test_driver_satisfies_the_protocol(driver, autojump_clock):
    assert isinstance(driver, LinkedInDriver)
    assert API_KEY not in repr(driver) and API_KEY not in repr(driver.http)


@pytest.mark.trio
async def test_account_reads_own_profile(gateway, driver, autojump_clock):
    info = await driver.account()
    assert info.provider_id == "ACoME" and info.premium is True
    assert gateway.requests()[0]["query"] == {"account_id": ACCOUNT}


@pytest.mark.trio
async def test_visit_notifies_and_profile_does_not(gateway, driver, autojump_clock):
    p = await driver.visit_profile(LeadRef(public_id="lead-3"))
    assert p.provider_id == "ACoM3" and not p.is_connection
    await driver.profile(LeadRef(public_id="lead-4"))
    visits = gateway.state()["accounts"][ACCOUNT]["visits"]
    assert [v["provider_id"] for v in visits] == ["ACoM3"]


@pytest.mark.trio
async def test_react_with_chosen_and_most_used_reaction(gateway, driver, autojump_clock):
    gateway.control("member", {"provider_id": "ACoM1", "posts": [
        {"social_id": "urn:old", "date": "2026-01-01T00:00:00Z", "reactions": {"like": 9}},
        {"social_id": "urn:new", "date": "2026-02-01T00:00:00Z",
         "reactions": {"like": 2, "insightful": 5, "funny": 1}},
    ]})
    chosen = await driver.react_to_last_post(L1, Reaction.CELEBRATE)
    assert chosen.post_id == "urn:new" and chosen.reaction is Reaction.CELEBRATE
    most = await driver.react_to_last_post(L1, None)
    assert most.reaction is Reaction.INSIGHTFUL
    reactions = gateway.state()["accounts"][ACCOUNT]["reactions"]
    assert reactions == [{"post_id": "urn:new", "reaction": "insightful", "at": reactions[0]["at"]}]


@pytest.mark.trio
async def test_react_without_posts_is_a_no_op(gateway, driver, autojump_clock):
    r = await driver.react_to_last_post(L2, Reaction.LIKE)
    assert r.post_id is None and not posts_to(gateway, ".*/posts/reaction")


@pytest.mark.trio
async def test_invitation_with_note_and_listing(gateway, driver, autojump_clock):
    sent = await driver.send_invitation(L1, "Hi Lead1, glad to connect", key("i1"))
    assert sent.invitation_id and not sent.reconciled
    [post] = posts_to(gateway, ".*/users/invite")
    assert post["body"] == {"provider_id": "ACoM1", "account_id": ACCOUNT, "message": "Hi Lead1, glad to connect"}
    [inv] = await driver.sent_invitations()
    assert inv.provider_id == "ACoM1" and inv.note == "Hi Lead1, glad to connect" and inv.sent_at >= EPOCH


@pytest.mark.trio
async def test_invitation_by_public_id_resolves_the_provider_id(gateway, driver, autojump_clock):
    sent = await driver.send_invitation(LeadRef(public_id="lead-5"), None, key("i5"))
    assert sent.provider_id == "ACoM5"
    assert "message" not in posts_to(gateway, ".*/users/invite")[0]["body"]


@pytest.mark.trio
async def test_note_over_300_characters_never_reaches_the_gateway(gateway, driver, autojump_clock):
    with pytest.raises(InvalidAction) as e:
        await driver.send_invitation(L1, "x" * 301, key("i1"))
    assert e.value.substatus == Substatus.MESSAGE_TOO_LONG and e.value.disposition == Disposition.LEAD_ERROR
    assert gateway.requests() == []
    await driver.send_invitation(L1, "y" * 300, key("i1b"))  # the limit itself is fine


@pytest.mark.trio
async def test_message_chunks_go_one_after_another(gateway, driver, autojump_clock):
    connect(gateway, "ACoM1")
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)  # the member accepts
    before = trio.current_time()
    sent = await driver.send_message(L1, ["hi Lead1", "", "quick question?", "no worries if not"], key("m"))
    assert len(sent.message_ids) == 3
    assert trio.current_time() - before >= 2 * 1.0  # typing pauses between chunks (simulated)
    texts = [r["body"]["text"] for r in gateway.requests("POST", r".*/chats.*")]
    assert texts == ["hi Lead1", "quick question?", "no worries if not"]
    # the first starts the chat, the rest continue it
    assert [r["path"] for r in gateway.requests("POST", r".*/chats.*")] == [
        "/api/v1/chats", f"/api/v1/chats/{sent.chat_id}/messages", f"/api/v1/chats/{sent.chat_id}/messages"]
    # a later message continues the same chat
    again = await driver.send_message(L1, ["one more"], key("m2"))
    assert again.chat_id == sent.chat_id


@pytest.mark.trio
async def test_message_validation(gateway, driver, autojump_clock):
    for chunks, sub in [([], Substatus.MISSING_LINKEDIN_MESSAGE), (["  "], Substatus.EMPTY_MESSAGE),
                        (["z" * 1901], Substatus.MESSAGE_TOO_LONG)]:
        with pytest.raises(InvalidAction) as e:
            await driver.send_message(L1, chunks, key("bad"))
        assert e.value.substatus == sub
    assert gateway.requests() == []


@pytest.mark.trio
async def test_inmail_spends_a_credit_and_reports_the_rest(gateway, driver, autojump_clock):
    sent = await driver.send_inmail(L2, "A question", "Hello Lead2, …", key("in1"))
    assert sent.inmail_credits_left == 1
    [post] = posts_to(gateway, "/api/v1/chats")
    assert post["body"]["subject"] == "A question" and post["body"]["linkedin[inmail]"] == "true"
    with pytest.raises(InvalidAction) as e:
        await driver.send_inmail(L2, "", "body", key("in2"))
    assert e.value.substatus == Substatus.MISSING_INMAIL_SUBJECT


@pytest.mark.trio
async def test_attachment_and_voice_message_upload_files(gateway, driver, autojump_clock):
    connect(gateway, "ACoM1")
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)
    await driver.send_attachment(L1, "Our deck", Attachment("deck.pdf", b"%PDF-1.4 ...", "application/pdf"), key("a"))
    await driver.send_voice_message(L1, Attachment("hello.m4a", b"\x00audio", "audio/mp4"), key("v"))
    posts = gateway.requests("POST", r".*/chats.*")
    assert posts[0]["files"][0]["field"] == "attachments" and posts[0]["files"][0]["file_name"] == "deck.pdf"
    assert posts[0]["body"]["text"] == "Our deck"
    assert posts[1]["files"][0]["field"] == "voice_message" and posts[1]["files"][0]["size"] == 6
    with pytest.raises(InvalidAction):
        await driver.send_voice_message(L1, Attachment("empty.m4a", b""), key("v2"))


@pytest.mark.trio
async def test_connection_and_prior_conversation_come_from_the_gateway(gateway, driver, autojump_clock):
    assert not await driver.is_connection(L1)
    assert not await driver.has_prior_conversation(L1)
    connect(gateway, "ACoM1")
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)
    assert await driver.is_connection(L1)
    gateway.control("inbound", {"account_id": ACCOUNT, "provider_id": "ACoM1", "text": "hey"})
    assert await driver.has_prior_conversation(L1)


@pytest.mark.trio
async def test_acceptance_after_n_polls(gateway, driver, autojump_clock):
    gateway.control("member", {"provider_id": "ACoM2", "accept_after_polls": 3})
    await driver.send_invitation(L2, None, key("i"))
    seen = []
    for _ in range(4):
        seen.append([r.provider_id for r in await driver.relations_since(EPOCH)])
    assert seen == [[], [], ["ACoM2"], ["ACoM2"]]
    assert await driver.sent_invitations() == []
    assert await driver.relations_since(EPOCH + timedelta(days=1)) == []


@pytest.mark.trio
async def test_replies_are_found_by_polling_chats(gateway, driver, autojump_clock):
    connect(gateway, "ACoM1")
    gateway.control("member", {"provider_id": "ACoM1", "reply": {"text": "Sure, call me", "after_polls": 1}})
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)
    await driver.send_message(L1, ["hi"], key("m"))
    assert await driver.inbound_messages_since(EPOCH) == []
    [reply] = await driver.inbound_messages_since(EPOCH)
    assert reply.text == "Sure, call me" and reply.sender_provider_id == "ACoM1"


@pytest.mark.trio
async def test_withdraw_then_cooldown_then_reinvite(gateway, driver, autojump_clock):
    sent = await driver.send_invitation(L1, None, key("i1"))
    await driver.withdraw_invitation(sent.invitation_id)
    await driver.withdraw_invitation(sent.invitation_id)  # gone already: fine
    assert await driver.sent_invitations() == []
    with pytest.raises(InvitationCooldown) as e:
        await driver.send_invitation(L1, None, key("i2"))
    assert e.value.code == "cannot_resend_yet" and e.value.disposition == Disposition.RETRY_LATER
    assert e.value.substatus == Substatus.CONNECTION_WITHDRAWN
    later = make_driver(gateway, now=lambda: EPOCH + timedelta(weeks=3, minutes=1))
    try:
        assert (await later.send_invitation(L1, None, SendKey("i3", EPOCH + timedelta(weeks=3)))).invitation_id
    finally:
        await later.aclose()


# --------------------------------------------------------------------------
# error mapping


@pytest.mark.trio
async def test_429_keeps_the_job_queued_with_retry_after_and_does_not_retry(gateway, driver, autojump_clock):
    gateway.script({"method": "POST", "path": ".*/users/invite",
                    "respond": {"status": 429, "headers": {"Retry-After": "90"},
                                "body": {"status": 429, "type": "errors/too_many_requests"}}})
    with pytest.raises(RateLimited) as e:
        await driver.send_invitation(L1, None, key("i"))
    assert e.value.retry_after == 90 and e.value.disposition == Disposition.RETRY_LATER
    assert len(posts_to(gateway, ".*/users/invite")) == 1
    assert (await driver.send_invitation(L1, None, key("i"))).invitation_id  # next try works


@pytest.mark.trio
async def test_429_without_retry_after_gets_a_default_wait(gateway, driver, autojump_clock):
    gateway.script({"path": ".*/users/me", "respond": {"status": 429}})
    with pytest.raises(RateLimited) as e:
        await driver.account()
    assert e.value.retry_after == 60


@pytest.mark.trio
@pytest.mark.parametrize("kind,exc,substatus,disposition", [
    ("cannot_resend_yet", InvitationCooldown, Substatus.CONNECTION_WITHDRAWN, Disposition.RETRY_LATER),
    ("already_invited_recently", InvitationCooldown, Substatus.CONNECTION_WITHDRAWN, Disposition.RETRY_LATER),
    ("limit_exceeded", LimitReached, Substatus.IDENTITY_LIMITS, Disposition.RETRY_LATER),
    ("insufficient_credits", InMailCreditsExhausted, Substatus.INMAIL_CREDITS_LIMIT, Disposition.LEAD_ERROR),
    ("not_allowed_inmail", LeadUnreachable, Substatus.IDENTITY_MISCONFIGURATION, Disposition.LEAD_ERROR),
    ("cannot_invite_attendee", LeadUnreachable, Substatus.SYSTEM_ERROR, Disposition.LEAD_ERROR),
])
async def test_422_types_map_to_substatuses(gateway, driver, kind, exc, substatus, disposition, autojump_clock):
    gateway.script({"method": "POST", "path": ".*/users/invite",
                    "respond": {"status": 422, "body": {"status": 422, "type": f"errors/{kind}",
                                                        "title": kind, "detail": "refused"}}})
    with pytest.raises(exc) as e:
        await driver.send_invitation(L1, None, key("i"))
    assert (e.value.code, e.value.substatus, e.value.disposition) == (kind, substatus, disposition)
    assert len(posts_to(gateway, ".*/users/invite")) == 1  # a refusal is final: no retry


@pytest.mark.trio
async def test_real_422s_from_linkedin_rules(gateway, driver, autojump_clock):
    # already invited: the world refuses a second pending invitation
    await driver.send_invitation(L1, None, key("a"))
    with pytest.raises(InvitationCooldown):
        await driver.send_invitation(L1, None, key("b"))
    # weekly limit
    gateway.control("account", {"account_id": ACCOUNT, "weekly_invite_limit": 2})
    await driver.send_invitation(L2, None, key("c"))
    with pytest.raises(LimitReached) as e:
        await driver.send_invitation(LeadRef(provider_id="ACoM3"), None, key("d"))
    assert e.value.kind == "invite"
    # not invitable
    gateway.control("member", {"provider_id": "ACoM4", "invitable": False})
    with pytest.raises(LeadUnreachable) as e:
        await driver.send_invitation(LeadRef(provider_id="ACoM4"), None, key("e"))
    assert e.value.code == "cannot_invite_attendee"
    # InMail without credits / without Premium
    gateway.control("account", {"account_id": ACCOUNT, "inmail_credits": 0})
    with pytest.raises(InMailCreditsExhausted):
        await driver.send_inmail(L2, "s", "b", key("f"))
    gateway.control("account", {"account_id": ACCOUNT, "premium": False})
    with pytest.raises(LeadUnreachable) as e:
        await driver.send_inmail(L2, "s", "b", key("g"))
    assert e.value.substatus == Substatus.IDENTITY_MISCONFIGURATION


@pytest.mark.trio
async def test_401_disconnected_mid_campaign_and_resume_after_reconnect(gateway, driver, autojump_clock):
    await driver.send_invitation(L1, None, key("a"))
    gateway.control("account", {"account_id": ACCOUNT, "status": "DISCONNECTED"})
    with pytest.raises(AccountDisconnected) as e:
        await driver.send_invitation(L2, None, key("b"))
    assert e.value.disposition == Disposition.IDENTITY_DISCONNECTED
    assert e.value.substatus == Substatus.LINKEDIN_DISCONNECTED
    assert "connect-linkedin" in str(e.value)
    gateway.control("account", {"account_id": ACCOUNT, "status": "OK"})
    assert (await driver.send_invitation(L2, None, key("b"))).invitation_id


@pytest.mark.trio
async def test_wrong_api_key_is_a_disconnection_and_never_echoed(gateway, autojump_clock):
    bad = make_driver(gateway, api_key="k-wrong-secret-999")
    try:
        with pytest.raises(AccountDisconnected) as e:
            await bad.account()
        assert "k-wrong-secret-999" not in str(e.value) and API_KEY not in str(e.value)
    finally:
        await bad.aclose()


@pytest.mark.trio
async def test_403_restricted_pauses_the_identity(gateway, driver, autojump_clock):
    gateway.control("account", {"account_id": ACCOUNT, "status": "RESTRICTED"})
    with pytest.raises(AccountRestricted) as e:
        await driver.visit_profile(L1)
    assert e.value.disposition == Disposition.IDENTITY_RESTRICTED
    assert len(gateway.requests()) == 1  # no retries against a restriction


@pytest.mark.trio
async def test_unknown_profile_is_invalid_linkedin_id(gateway, driver, autojump_clock):
    with pytest.raises(LeadUnreachable) as e:
        await driver.visit_profile(LeadRef(public_id="nobody-here"))
    assert e.value.substatus == Substatus.INVALID_LINKEDIN_ID


@pytest.mark.trio
async def test_5xx_flaps_are_retried_with_backoff(gateway, driver, autojump_clock):
    gateway.script({"path": ".*/users/me", "times": 2,
                    "respond": {"status": 503, "body": {"type": "errors/provider_error"}}})
    start = trio.current_time()
    assert (await driver.account()).provider_id == "ACoME"
    assert len(gateway.requests("GET", ".*/users/me")) == 3
    assert trio.current_time() - start >= 2.0 + 4.0  # exponential backoff on the Trio clock


@pytest.mark.trio
async def test_persistent_5xx_ends_as_gateway_unavailable(gateway, driver, autojump_clock):
    gateway.script({"path": ".*/users/me", "times": 99, "respond": {"status": 500}})
    with pytest.raises(GatewayUnavailable) as e:
        await driver.account()
    assert e.value.disposition == Disposition.RETRY_LATER and e.value.substatus == Substatus.SYSTEM_ERROR
    assert len(gateway.requests()) == 4


@pytest.mark.trio
async def test_slow_answer_times_out_in_real_time_and_is_retried(gateway, driver, autojump_clock):
    gateway.script({"path": ".*/users/me", "delay": 1.5})  # longer than the 0.5 s read timeout
    assert (await driver.account()).provider_id == "ACoME"
    assert len(gateway.requests("GET", ".*/users/me")) == 2


@pytest.mark.trio
async def test_unreachable_gateway(gateway, autojump_clock):
    d = make_driver(gateway)
    d.http._client.base_url = "http://127.0.0.1:9/api/v1"  # discard port: nothing listens
    with pytest.raises(GatewayUnavailable) as e:
        await d.account()
    assert "cannot reach" in str(e.value)
    await d.aclose()


# --------------------------------------------------------------------------
# never twice


@pytest.mark.trio
async def test_lost_answer_on_invite_is_looked_up_not_resent(gateway, driver, autojump_clock):
    gateway.script({"method": "POST", "path": ".*/users/invite", "after": "drop"})
    sent = await driver.send_invitation(L1, "hello", key("i"))
    assert sent.reconciled and sent.invitation_id
    assert len(posts_to(gateway, ".*/users/invite")) == 1
    assert len(gateway.state()["accounts"][ACCOUNT]["invitations"]) == 1


@pytest.mark.trio
async def test_timed_out_invite_is_looked_up_not_resent(gateway, driver, autojump_clock):
    gateway.script({"method": "POST", "path": ".*/users/invite", "after": {"delay": 1.5}})
    sent = await driver.send_invitation(L1, None, key("i"))
    assert sent.reconciled
    assert len(posts_to(gateway, ".*/users/invite")) == 1


@pytest.mark.trio
async def test_5xx_on_invite_not_applied_is_resent_once_after_look_up(gateway, driver, autojump_clock):
    gateway.script({"method": "POST", "path": ".*/users/invite", "respond": {"status": 502}})
    sent = await driver.send_invitation(L1, None, key("i"))
    assert not sent.reconciled
    assert len(posts_to(gateway, ".*/users/invite")) == 2
    assert len(gateway.requests("GET", ".*/users/invite/sent")) == 1  # looked up in between


@pytest.mark.trio
async def test_resumed_key_finds_the_invitation_of_a_killed_attempt(gateway, driver, autojump_clock):
    await driver.send_invitation(L1, None, key("i"))  # the attempt whose answer died with the runtime
    again = await driver.send_invitation(L1, None, key("i", resumed=True))
    assert again.reconciled and len(posts_to(gateway, ".*/users/invite")) == 1


@pytest.mark.trio
async def test_resumed_key_after_acceptance_does_not_reinvite(gateway, driver, autojump_clock):
    connect(gateway, "ACoM1")
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)  # accepted: no longer pending
    again = await driver.send_invitation(L1, None, key("i", resumed=True))
    assert again.reconciled and len(posts_to(gateway, ".*/users/invite")) == 1


@pytest.mark.trio
async def test_lost_answer_mid_chunks_sends_each_chunk_once(gateway, driver, autojump_clock):
    connect(gateway, "ACoM1")
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)
    gateway.script({"method": "POST", "path": r"/api/v1/chats/.*/messages", "after": "drop"})
    sent = await driver.send_message(L1, ["one", "two", "three"], key("m"))
    assert sent.reconciled and len(sent.message_ids) == 3
    chat = gateway.state()["accounts"][ACCOUNT]["chats"][sent.chat_id]
    assert [m["text"] for m in chat["messages"]] == ["one", "two", "three"]


@pytest.mark.trio
async def test_resumed_message_sends_only_the_missing_chunks(gateway, driver, autojump_clock):
    connect(gateway, "ACoM1")
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)
    await driver.send_message(L1, ["earlier step"], SendKey("old", EPOCH - timedelta(days=2)))
    await driver.send_message(L1, ["one"], key("m"))  # killed after the first chunk
    sent = await driver.send_message(L1, ["one", "two", "three"], key("m", resumed=True))
    assert sent.reconciled
    chat = gateway.state()["accounts"][ACCOUNT]["chats"][sent.chat_id]
    assert [m["text"] for m in chat["messages"]] == ["earlier step", "one", "two", "three"]


@pytest.mark.trio
async def test_lost_answer_on_inmail_and_voice_never_doubles(gateway, driver, autojump_clock):
    gateway.script({"method": "POST", "path": "/api/v1/chats", "after": "drop", "times": 2})
    await driver.send_inmail(L2, "Subject", "Body", key("in"))
    connect(gateway, "ACoM1")
    await driver.send_invitation(L1, None, key("i"))
    await driver.relations_since(None)
    await driver.send_voice_message(L1, Attachment("v.m4a", b"abc", "audio/mp4"), key("v"))
    acc = gateway.state()["accounts"][ACCOUNT]
    assert acc["inmail_credits"] == 1
    texts = sorted((c["attendee_provider_id"], len(c["messages"])) for c in acc["chats"].values())
    assert texts == [("ACoM1", 1), ("ACoM2", 1)]


@pytest.mark.trio
async def test_failed_look_up_is_outcome_unknown_not_a_resend(gateway, driver, autojump_clock):
    gateway.script({"method": "POST", "path": ".*/users/invite", "after": "drop"},
                   {"method": "GET", "path": ".*/users/invite/sent", "times": 99, "respond": {"status": 500}})
    with pytest.raises(OutcomeUnknown) as e:
        await driver.send_invitation(L1, None, key("i"))
    assert e.value.disposition == Disposition.OUTCOME_UNKNOWN
    assert len(posts_to(gateway, ".*/users/invite")) == 1


@pytest.mark.trio
async def test_no_error_message_carries_the_api_key(gateway, driver, autojump_clock):
    gateway.script({"path": ".*", "times": 99, "respond": {"status": 500, "body": {"detail": "boom"}}})
    with pytest.raises(GatewayUnavailable) as e:
        await driver.account()
    assert API_KEY not in str(e.value) and API_KEY not in repr(e.value)
