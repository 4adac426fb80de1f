"""Text from the outside world is inert in every output: tables, JSON, errors, the log, CSV exports.

The contacts are written straight into the database, as text from the LinkedIn
gateway or a mail server reaches it (the CSV importer already strips controls at
the door; the outputs must not rely on that). Each carries a CSI that clears the
screen, an OSC 52 that would write the clipboard, a C1 CSI (0x9b), a BEL and a
right-to-left override.
"""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest

from runtime.log import InertFormatter
from sequences.inert import inert
from tests.support.campaign_workspace import NOW, enginy, fails, ok_json

HOSTILE = "Ada\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\x9b31m\u202eevil"
FORMULA = "=HYPERLINK(\"http://x.invalid\",\"hi\")"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture
def ws(ws):
    from storage.db import open_db, transaction

    db = open_db(ws / "enginy.db")
    stamp = NOW.isoformat()
    with transaction(db):
        db.execute("INSERT INTO contacts (id, first_name, last_name, company, email, created_at, updated_at)"
                   " VALUES (1, ?, ?, ?, 'ada@example.com', ?, ?)", [HOSTILE, "Lovelace\nFake row", FORMULA, stamp, stamp])
    ok_json(ws, "identity", "add", "Ana", "--sandbox")
    ok_json(ws, "campaigns", "create", "--template", "LinkedIn Only (New)", "--identity", "Ana", "--name", HOSTILE)
    return ws


def assert_inert(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text)


def test_the_contacts_table_shows_controls_as_a_visible_mark(ws):
    out = enginy(ws, "contacts", "list").stdout
    assert_inert(out)
    assert "Ada�[2J�]52;c;cm0gLXJmIH4=��31m�evil"[:30] in out
    assert not any(line.startswith("Fake row") for line in out.splitlines())  # a line break forges no row


def test_json_keeps_the_exact_value_and_escapes_what_a_terminal_would_act_on(ws):
    r = enginy(ws, "contacts", "list", "--json")
    assert_inert(r.stdout)
    first = json.loads(r.stdout)["contacts"][0]
    assert first["first_name"] == HOSTILE  # scripts get the data as it is
    assert "\\u009b" in r.stdout and "\\u202e" in r.stdout


def test_an_error_quoting_outside_text_is_one_inert_line(ws):
    line = fails(ws, "campaigns", "status", "x\x1b[2J\nsecond line")
    assert_inert(line)
    assert "second line" in line  # on the same, single line


def test_campaign_names_are_inert_in_human_output(ws):
    out = enginy(ws, "campaigns", "list").stdout
    assert_inert(out)
    assert "Ada�[2J" in out


def test_exports_are_inert_and_defuse_formulas(ws, tmp_path):
    target = tmp_path / "contacts.csv"
    assert enginy(ws, "contacts", "export", str(target)).returncode == 0
    text = target.read_text()
    assert_inert(text)
    row = next(r for r in csv.DictReader(io.StringIO(text)))
    assert next(v for v in row.values() if "HYPERLINK" in v).startswith("'=")
    campaigns = enginy(ws, "campaigns", "export", "-").stdout
    assert_inert(campaigns)
    assert "Ada�[2J" in campaigns


def test_the_runtime_log_formats_every_message_inert():
    record = logging.LogRecord("enginy.runtime", logging.WARNING, __file__, 1, "campaign %s: %s", (HOSTILE, "a\nb"), None)
    line = InertFormatter("%(levelname)s %(message)s").format(record)
    assert_inert(line)
    assert "\n" not in line and line.startswith("WARNING campaign Ada�[2J")


def test_inert_keeps_lines_only_when_asked():
    assert inert("a\r\nb\tc\x1b") == "a��b�c�"
    assert inert("a\r\nb\tc\x1b", lines=True) == "a\nb\tc�"
    assert inert(None) == ""
