"""Pure parts of the email channel: inbox choice, composing, secrets, settings checks."""

from __future__ import annotations

import email
import os
import stat
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.channels.email.choice import InboxSlot, choose_inbox
from runtime.channels.email.compose import ComposeError, Tracking, compose
from runtime.channels.email.config import InboxSettings, MailConfigError, check_settings
from runtime.secrets import SecretsError, SecretStore
from sequences.statuses import Substatus

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)


# ------------------------------------------------------------------ inbox choice
def slots(*spec):
    return [InboxSlot(i, c, r) for i, c, r in spec]


def test_sticky_inbox_is_kept_even_when_another_has_more_room():
    inboxes = slots((1, True, 1), (2, True, 30))
    assert choose_inbox(inboxes, sticky=1).inbox_id == 1


def test_sticky_inbox_disconnected_or_gone_is_the_spec_error_never_a_reassignment():
    inboxes = slots((1, False, 30), (2, True, 30))
    assert choose_inbox(inboxes, sticky=1).substatus is Substatus.EMAIL_DISCONNECTED
    assert choose_inbox(inboxes, sticky=7).substatus is Substatus.MISSING_EMAIL


def test_sticky_inbox_at_cap_waits():
    c = choose_inbox(slots((1, True, 0), (2, True, 30)), sticky=1)
    assert (c.inbox_id, c.wait, c.substatus) == (1, True, None)


def test_shuffle_rotates_new_leads_across_the_inboxes_with_room():
    inboxes = slots((1, True, 30), (2, True, 0), (3, True, 2))
    assert [choose_inbox(inboxes, turn=t).inbox_id for t in range(4)] == [1, 3, 1, 3]
    assert choose_inbox(inboxes, allowed=[3]).inbox_id == 3
    assert choose_inbox(inboxes, allowed=[2, 3], turn=0).inbox_id == 3


def test_no_shuffle_takes_the_campaigns_inboxes_in_order_the_first_with_room():
    inboxes = slots((1, True, 30), (2, True, 5), (3, True, 9))
    assert {choose_inbox(inboxes, allowed=[3, 2], shuffle=False, turn=t).inbox_id for t in range(5)} == {3}
    full_first = slots((1, True, 30), (2, True, 5), (3, True, 0))
    assert choose_inbox(full_first, allowed=[3, 2], shuffle=False).inbox_id == 2
    assert choose_inbox(full_first, shuffle=False).inbox_id == 1


def test_no_connected_inbox_and_all_full():
    assert choose_inbox(slots((1, False, 30))).substatus is Substatus.INVALID_IDENTITY_EMAIL
    c = choose_inbox(slots((1, True, 0), (2, True, 0)), turn=1)
    assert (c.inbox_id, c.wait, c.substatus) == (2, True, None)
    c = choose_inbox(slots((1, True, 0), (2, True, 0)), allowed=[2, 1], shuffle=False)
    assert (c.inbox_id, c.wait) == (2, True)


@given(st.lists(st.tuples(st.integers(1, 6), st.booleans(), st.one_of(st.none(), st.integers(0, 3))), max_size=6),
       st.one_of(st.none(), st.integers(1, 8)), st.booleans(), st.integers(0, 50))
@settings(max_examples=200, deadline=None)
def test_choice_invariants(spec, sticky, shuffle, turn):
    inboxes = list({i: InboxSlot(i, c, r) for i, c, r in spec}.values())
    choice = choose_inbox(inboxes, sticky=sticky, shuffle=shuffle, turn=turn)
    if sticky is not None:
        assert choice.inbox_id in (None, sticky)
    if choice.inbox_id is None:
        assert choice.substatus is not None
    else:
        chosen = next(s for s in inboxes if s.id == choice.inbox_id)
        assert chosen.connected and choice.substatus is None
        assert choice.wait == (not chosen.has_room)
        if sticky is None and choice.wait:
            assert not any(s.connected and s.has_room for s in inboxes)


# ------------------------------------------------------------------ composing
def build(**kw):
    base = dict(sender="ana@sender.test", sender_name="Ana", to="bob@lead.test", to_name="Bob", subject="Hi",
                text="Hello Bob,\n\nSee https://acme.test/deck", html="", message_id="<k@sender.test>", now=NOW)
    base.update(kw)
    return compose(**base)


@given(st.text(max_size=60), st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_no_contact_field_can_add_a_header(name, subject):
    evil_name, evil_subject = name + "\r\nBcc: x@evil.test", subject + "\nX-Injected: 1\r\n\r\nbody"
    raw = build(to_name=evil_name, subject=evil_subject).as_bytes()
    msg = email.message_from_bytes(raw)
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert sorted(set(msg.keys())) == sorted({"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                                              "MIME-Version", "Content-Type"})


def test_invalid_recipient_is_refused():
    for bad in ("bob@lead.test\r\nBcc: x@y.test", "not-an-address", "a@b.test, c@d.test"):
        with pytest.raises(ComposeError):
            build(to=bad)


def test_tracking_rewrites_links_adds_pixel_and_one_click_unsubscribe():
    composed = build(tracking=Tracking("https://t.acme.test", "tok123"), unsubscribe_url="https://t.acme.test/u/tok123")
    msg = email.message_from_bytes(composed.as_bytes())
    html = msg.get_payload()[1].get_payload(decode=True).decode()
    assert composed.links == ["https://acme.test/deck"]
    assert 'href="https://t.acme.test/c/tok123/0"' in html and "/o/tok123.gif" in html
    plain = msg.get_payload()[0].get_payload(decode=True).decode()
    assert "https://acme.test/deck" in plain  # the text part keeps the real link
    assert "<https://t.acme.test/u/tok123>" in msg["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Precedence"] is None


# ------------------------------------------------------------------ settings and secrets
def s(**kw):
    base = dict(email="ana@acme.test", imap_host="imap.acme.test", imap_port=993, smtp_host="smtp.acme.test",
                smtp_port=587, tls="starttls")
    base.update(kw)
    return InboxSettings(**base)


@pytest.mark.parametrize("kw,per_day,per_hour,needle", [
    ({"tls": "none"}, 30, 5, "loopback"),
    ({}, 81, 5, "--per-day"),
    ({}, 30, 11, "--per-hour"),
    ({}, 0, 5, "--per-day"),
    ({"tls": "ssl"}, 30, 5, "--tls"),
    ({"email": "no-at-sign"}, 30, 5, "--email"),
    ({"smtp_port": 70000}, 30, 5, "--smtp-port"),
])
def test_bad_settings_are_explained(kw, per_day, per_hour, needle):
    with pytest.raises(MailConfigError) as info:
        check_settings(s(**kw), per_day, per_hour)
    assert needle in str(info.value)


def test_plain_text_is_fine_on_loopback():
    check_settings(s(tls="none", imap_host="127.0.0.1", smtp_host="localhost"), 80, 10)


def test_file_secrets_are_0600_in_a_0700_folder_and_keyring_needs_a_backend(tmp_path):
    store = SecretStore(tmp_path, "file")
    assert store.save("inbox-1", "hunter2") == "file"
    path = tmp_path / ".secrets" / "inbox-1.secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert store.load("inbox-1") == "hunter2"
    store.delete("inbox-1")
    assert store.load("inbox-1") is None
    with pytest.raises(SecretsError) as info:
        store.save("inbox-1", "two\nlines")
    assert "two" not in str(info.value)
