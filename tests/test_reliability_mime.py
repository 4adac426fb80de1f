"""Third-party noise stays out of the terminal: a library failing on a malformed message is
contained, logged once at debug level, and the classification still answers.

`bounce-without-from.eml` is a Postfix bounce whose From header a relay dropped: flufl.bounce's
Yale detector raises IndexError on it, and flufl logs the traceback at ERROR before re-raising —
on today's `main` that traceback lands in the user's terminal. `malformed-broken-mime.eml` has a
base64 encoded word the standard library cannot decode.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runtime.channels.email.inbound import parse as mp
from runtime.channels.email.inbound.classify import classify_message
from tests.support.campaign_workspace import enginy

MAIL = Path(__file__).parent / "data" / "mail"


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(mp, "_REPORTED", set())


def test_the_command_prints_the_answer_and_nothing_else(tmp_path):
    r = enginy(tmp_path, "mail", "classify", str(MAIL / "bounce-without-from.eml"), str(MAIL / "malformed-broken-mime.eml"))
    assert r.returncode == 0 and r.stderr == ""
    answers = [line for line in r.stdout.splitlines() if not line.startswith("  ")]  # without the signals lines
    assert answers == [f"{MAIL / 'bounce-without-from.eml'}: bounce hard 5.1.1 bob@example.com",
                                     f"{MAIL / 'malformed-broken-mime.eml'}: other"]


def test_a_library_failure_is_logged_once_at_debug_and_the_classification_still_answers(fresh, caplog):
    raw = (MAIL / "bounce-without-from.eml").read_bytes()
    with caplog.at_level(logging.DEBUG):
        answers = [classify_message(raw) for _ in range(3)]
    assert {(c.kind, c.status, tuple(c.recipients)) for c in answers} == {("bounce", "5.1.1", ("bob@example.com",))}
    ours = [r for r in caplog.records if r.name == "enginy.mail"]
    assert len(ours) == 1 and ours[0].levelno == logging.DEBUG and "flufl.bounce" in ours[0].getMessage()
    assert not [r for r in caplog.records if r.name.startswith("flufl")]  # its own traceback stays out


def test_a_message_the_whole_parser_chokes_on_still_gets_an_answer_from_its_headers(fresh, caplog, monkeypatch):
    def boom(msg):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(mp, "body_text", boom)  # a failure deep in reading the body, with no guard of its own
    raw = b"From: Ada <ada@example.com>\nSubject: Re: hello\nIn-Reply-To: <m1@enginy>\n\nsure\n"
    with caplog.at_level(logging.DEBUG, logger="enginy.mail"):
        c = classify_message(raw)
    assert (c.kind, c.from_addr, c.subject, c.in_reply_to) == ("other", "ada@example.com", "Re: hello", "m1@enginy")
    assert [(r.levelno, "RecursionError" in r.getMessage()) for r in caplog.records] == [(logging.DEBUG, True)]
