"""The classifier against our own corpus of real-world shapes, hostile input,
and the `enginy mail classify` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.channels.email.inbound.classify import KINDS, classify_message, is_unsubscribe

DATA = Path(__file__).parent / "data" / "mail"

# file → (kind, hard, status, recipients, in_reply_to)
EXPECTED = {
    "postfix-dsn-5.1.1.eml": ("bounce", True, "5.1.1", ["bob@shop.test"], "enginy.41.7@sender.test"),
    "gmail-dsn-failure.eml": ("bounce", True, "5.1.1", ["carla@nowhere.test"], "enginy.42.1@sender.test"),
    "exim-prose.eml": ("bounce", True, "5.1.1", ["dan@exim.test"], "enginy.43.1@sender.test"),
    "qmail-failure-notice.eml": ("bounce", True, "5.1.1", ["eve@qmail.test"], "enginy.44.1@sender.test"),
    "sendmail-returned-mail.eml": ("bounce", True, "5.1.1", ["fay@sendmail.test"], "enginy.45.1@sender.test"),
    "exchange-ndr.eml": ("bounce", True, "5.1.1", ["gus@corp.test"], "enginy.46.1@sender.test"),
    "exchange2003-prose-no-dsn.eml": ("bounce", True, "5.1.1", ["hal@old.test"], None),
    "yahoo-failure-notice.eml": ("bounce", True, "5.1.1", ["ivy@yahoo.test"], "enginy.47.1@sender.test"),
    "soft-mailbox-full.eml": ("bounce", False, "4.2.2", ["jo@full.test"], None),
    "delayed-warning.eml": ("delay", False, "4.4.1", ["kim@slow.test"], None),
    "success-dsn.eml": ("other", None, None, [], None),
    "arf-complaint.eml": ("complaint", None, None, ["mo@isp.test"], "enginy.48.1@sender.test"),
    "reply-human.eml": ("reply", None, None, ["zoe@lead.test"], "enginy.51.1@sender.test"),
    "reply-asks-to-stop.eml": ("unsubscribe", None, None, ["al@lead.test"], "enginy.52.1@sender.test"),
    "unsubscribe-mailto.eml": ("unsubscribe", None, None, ["bea@lead.test"], None),
    "newsletter-other.eml": ("other", None, None, [], None),
    "malformed-broken-mime.eml": ("other", None, None, [], None),
    # a flufl.bounce detector raises on it (no From header): the prose reading answers (test_reliability_mime.py)
    "bounce-without-from.eml": ("bounce", True, "5.1.1", ["bob@example.com"], None),
}
OOO = sorted(p.name for p in DATA.glob("ooo-*.eml"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name):
    kind, hard, status, recipients, in_reply_to = EXPECTED[name]
    c = classify_message((DATA / name).read_bytes())
    assert (c.kind, c.hard, c.status, c.recipients, c.in_reply_to) == (kind, hard, status, recipients, in_reply_to)


@pytest.mark.parametrize("name", OOO)
def test_out_of_office_in_many_shapes_is_auto_reply_threaded_to_us(name):
    c = classify_message((DATA / name).read_bytes())
    assert c.kind == "auto_reply", c.reason
    assert c.in_reply_to == "enginy.50.1@sender.test"


def test_corpus_is_covered():
    assert len(OOO) >= 10
    assert set(EXPECTED) | set(OOO) == {p.name for p in DATA.glob("*.eml")}


def test_human_reply_mentioning_vacation_in_a_reply_subject_stays_a_reply():
    raw = (
        b"From: a@lead.test\r\nTo: me@x.test\r\nSubject: Re: Your vacation rental listing\r\n"
        b"In-Reply-To: <m1@x.test>\r\n\r\nYes, I'd like to know more.\r\n"
    )
    assert classify_message(raw).kind == "reply"


def test_quoted_unsubscribe_footer_is_not_a_request():
    assert not is_unsubscribe("Re: hi", "Sounds good!\n\nOn Mon, Ana wrote:\n> reply unsubscribe to stop")
    assert is_unsubscribe("Re: hi", "Bitte nicht mehr kontaktieren.")
    assert is_unsubscribe("Unsubscribe", "")


# ------------------------------------------------------------------ hostile input
def test_enormous_message_is_bounded_and_classified():
    raw = b"From: a@b.test\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n" + b"x" * (30 * 1024 * 1024)
    assert classify_message(raw).kind == "other"


def test_deeply_nested_multipart_does_not_recurse_to_death():
    depth = 3000
    parts = [b"From: a@b.test\r\nSubject: nest\r\n"]
    for i in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    parts.append(b"Content-Type: text/plain\r\n\r\nhello\r\n")
    assert classify_message(b"".join(parts)).kind in KINDS


def test_wrong_charsets_and_raw_8bit_headers():
    raw = (
        "From: =?koi8-r?B?8NLJ18XU?= <p@lead.test>\r\nSubject: =?bogus?Q?Re=3A_hi?= caf\xe9\r\n"
        "In-Reply-To: <x@y>\r\nContent-Type: text/plain; charset=utf-16\r\n\r\n\xff\xfeh\x00i\x00\r\n"
    ).encode("latin-1")
    c = classify_message(raw)
    assert c.kind == "reply"
    json.dumps(c.subject)  # printable, encodable


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes_give_a_kind(raw):
    assert classify_message(raw).kind in KINDS


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_any_headers_and_body_give_a_kind(subject, body):
    raw = f"From: x@y.test\r\nSubject: {subject}\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=q\r\n\r\n--q\r\nContent-Type: message/delivery-status\r\n\r\n{body}\r\n--q--\r\n"
    c = classify_message(raw.encode("utf-8", "surrogatepass"))
    assert c.kind in KINDS


# ------------------------------------------------------------------ command line
def _enginy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from cli.main import run; run()", *args],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent,
    )


def test_cli_prints_one_json_line_per_file_and_reports_unreadable_ones(tmp_path):
    files = [str(DATA / "postfix-dsn-5.1.1.eml"), str(tmp_path / "missing.eml"), str(DATA / "ooo-french.eml")]
    proc = _enginy("mail", "classify", *files, "--json")
    assert proc.returncode == 2
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    assert lines[0] | {} == lines[0] and lines[0]["kind"] == "bounce" and lines[0]["hard"] is True
    assert lines[0]["status"] == "5.1.1" and lines[0]["recipients"] == ["bob@shop.test"]
    assert "error" in lines[1]
    assert lines[2]["kind"] == "auto_reply"
    assert "Traceback" not in proc.stderr and "missing.eml" in proc.stderr


def test_cli_human_output():
    proc = _enginy("mail", "classify", str(DATA / "soft-mailbox-full.eml"))
    assert proc.returncode == 0
    assert "bounce soft 4.2.2 jo@full.test" in proc.stdout
