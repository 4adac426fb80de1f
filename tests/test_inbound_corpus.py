"""The classifier against labelled public samples (tests/data/inbound/README.md:
sisimai, PHP-Bounce-Handler, and our own shapes) and one regression per bullet of
issue 16. No automatic message may ever be taken for a human reply."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.inbound_corpus import CORPUS, classify_all, load_labels, score
from runtime.channels.email.inbound.classify import classify_message

LABELS = load_labels()
# Known misses, each explained (docs/email.md): kddi-01 is a Japanese carrier's
# bounce with no structure, no daemon sender and wording we do not read.
KNOWN_MISSES = {"sisimai-lhost-kddi-01.eml": "other"}


def test_the_corpus_is_labelled_and_sizeable():
    assert len(LABELS) >= 100 and all(p.exists() for p in LABELS)
    assert {p.name for p in CORPUS.glob("*.eml")} == {p.name for p in LABELS}
    assert {"reply", "auto_reply", "challenge", "bounce", "delay", "complaint", "spam", "other"} <= set(LABELS.values())


def test_no_automatic_message_is_taken_for_a_human_reply_and_each_label_holds():
    figures = score(classify_all(LABELS))
    assert figures["automatic_as_reply"] == []
    assert {name: got for name, _, got in figures["wrong"]} == KNOWN_MISSES


def _c(name: str):
    return classify_message((CORPUS / name).read_bytes())


@pytest.mark.parametrize("name", ["sisimai-lhost-fml-02.eml", "sisimai-lhost-fml-03.eml"])
def test_mailing_list_manager_refusals_are_bounces(name):
    c = _c(name)
    assert c.kind == "bounce" and "mailing-list manager refusal" in c.signals


@pytest.mark.parametrize("name", sorted(p.name for p in LABELS if "v5sendmail" in p.name or "exchange2003" in p.name))
def test_old_sendmail_and_exchange_bounces(name):
    c = _c(name)
    assert c.kind == "bounce" and c.recipients


def test_a_bare_not_a_valid_user_from_the_null_sender_is_a_bounce_despite_re_and_threading():
    c = _c("enginy-bare-not-valid-user.eml")
    assert (c.kind, c.hard, c.status) == ("bounce", True, "5.1.1")
    assert "null envelope sender" in c.signals


@pytest.mark.parametrize("name, link", [
    ("enginy-challenge-boxbe.eml", "https://www.boxbe.test/anno?tc=81234_5678&c=1"),
    ("enginy-challenge-bluebottle.eml", "https://mail.bluebottle.test/confirm?id=7f3a9c&u=dora"),
    ("enginy-challenge-generic-whitelist.eml", "https://filter.lead.test/approve/0b1c2d3e"),
    ("enginy-challenge-mailinblack-fr.eml", "https://app.mailinblack.test/v/9a8b7c"),
])
def test_challenge_response_notices_keep_their_link(name, link):
    c = _c(name)
    assert c.kind == "challenge" and c.challenge_link == link


def test_a_human_asking_to_be_added_to_a_list_is_not_a_challenge():
    raw = (b"From: a@lead.test\r\nSubject: Re: hi\r\nIn-Reply-To: <m@x.test>\r\n\r\n"
           b"Sure, add me to your allowed senders list and send the deck to https://lead.test/upload\r\n"
           b"I will verify the numbers next week.\r\n" + b"More context from me. " * 200)
    assert classify_message(raw).kind == "reply"


def test_auto_replies_without_rfc3834_headers():
    for name in ("enginy-thank-you-precedence-bulk.eml", "enginy-ticket-autoresponder.eml"):
        c = _c(name)
        assert (c.kind, c.auto) == ("auto_reply", "autoresponder"), name


@pytest.mark.parametrize("name, back", [
    ("enginy-ooo-polish.eml", "2026-08-17"),
    ("enginy-ooo-japanese.eml", "2026-08-20"),
    ("enginy-ooo-turkish.eml", "2026-08-24"),
    ("cfortune-vac3.eml", "2014-09-18"),
])
def test_out_of_office_in_other_languages_with_the_return_date(name, back):
    c = _c(name)
    assert (c.kind, c.auto, c.return_date) == ("auto_reply", "out_of_office", back)


@pytest.mark.parametrize("name", ["enginy-spam-flagged-fake-reply.eml", "enginy-spam-exchange-scl.eml"])
def test_inbound_spam_posing_as_a_reply_is_spam(name):
    assert _c(name).kind == "spam"


@pytest.mark.parametrize("name", sorted(p.name for p, label in LABELS.items() if label == "delay"))
def test_delay_notices_are_delays_never_bounces(name):
    c = _c(name)
    assert c.kind == "delay" and c.hard is False


def test_threading_alone_does_not_make_a_reply():
    raw = (b"Return-Path: <>\r\nFrom: a@lead.test\r\nSubject: Re: hi\r\nIn-Reply-To: <m@x.test>\r\n\r\nok\r\n")
    c = classify_message(raw)
    assert c.kind == "other" and "null envelope sender" in c.signals
    listed = b"From: a@lead.test\r\nList-Id: <team.lead.test>\r\nSubject: Re: hi\r\nIn-Reply-To: <m@x.test>\r\n\r\nok\r\n"
    assert classify_message(listed).kind == "other"


def test_a_malformed_message_prints_no_library_noise(tmp_path):
    bad = tmp_path / "bad.eml"
    bad.write_bytes(b"From: =?utf-8?q?broken\r\nContent-Type: multipart/report; boundary=\"x\r\n"
                    b"Subject: =?x-unknown?B?!!!?=\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n"
                    b"Action: failed\r\nStatus: 5.1.1\r\n\xff\xfe\x00\r\n--x")
    proc = subprocess.run([sys.executable, "-W", "default", "-c", "from cli.main import run; run()", "mail",
                           "classify", str(bad), "--json"], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["kind"]


def test_cli_explains_its_answer():
    proc = subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "mail", "classify",
                           str(CORPUS / "enginy-ooo-polish.eml"), str(CORPUS / "enginy-challenge-boxbe.eml")],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert "auto_reply (out of office, back 2026-08-17)" in proc.stdout
    assert "out-of-office wording (pl)" in proc.stdout
    assert "challenge" in proc.stdout and "https://www.boxbe.test/anno?tc=81234_5678&c=1" in proc.stdout
    assert "never followed" in proc.stdout
