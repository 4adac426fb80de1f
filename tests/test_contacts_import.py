"""`enginy contacts import` with real files of every kind of damage, through the real CLI.

Each test writes actual bytes (BOMs, UTF-16, cp1252, odd delimiters, quoted
newlines, binary garbage …), runs the `enginy` entry point in a subprocess —
where the user meets it: exit codes, one-line errors, exact --json — and then
checks what landed in the database.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.workspace import init_workspace
from tests.support.waits import wait_until

ROOT = Path(__file__).resolve().parent.parent
ENGINY = [sys.executable, "-c", "from cli.main import run; run()"]


def enginy(ws: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*ENGINY, "--workspace", str(ws), *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def import_json(ws: Path, path: Path, list_name: str = "Leads", *extra: str) -> dict:
    r = enginy(ws, "contacts", "import", str(path), "--list", list_name, "--json", *extra)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"imported", "updated", "skipped", "errors"}
    return out


def rows(ws: Path, sql: str = "SELECT first_name, last_name, email, linkedin_url, company FROM contacts ORDER BY id"):
    conn = sqlite3.connect(ws / "enginy.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def custom(ws: Path) -> list[dict]:
    return [json.loads(r[0]) for r in rows(ws, "SELECT custom FROM contacts ORDER BY id")]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def fails_cleanly(ws: Path, path: Path, expected: str) -> None:
    r = enginy(ws, "contacts", "import", str(path), "--list", "Leads", "--json")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert expected in r.stderr and "nothing was imported" in r.stderr
    assert rows(ws, "SELECT count(*) FROM contacts") == [(0,)]
    assert rows(ws, "SELECT count(*) FROM lists") == [(0,)], "a failed import must not even create the list"


# -- encodings and delimiters ------------------------------------------------------


def test_utf8_bom_semicolons_and_forgiving_headers(ws, tmp_path):
    f = write(tmp_path / "a.csv", "\ufeffFirst Name;LAST_NAME;E-mail;Company Name;Profile URL;Mobile Phone;Team\n"
              "Ada;Lovelace; ADA@Example.COM ;Analytical Engines;https://uk.linkedin.com/in/Ada-L?trk=x;+44 1;R&D\n"
              "Grace;Hopper;grace@navy.example;US Navy;;;\n")
    assert import_json(ws, f) == {"imported": 2, "updated": 0, "skipped": 0, "errors": []}
    assert rows(ws) == [
        ("Ada", "Lovelace", "ada@example.com", "https://www.linkedin.com/in/ada-l/", "Analytical Engines"),
        ("Grace", "Hopper", "grace@navy.example", None, "US Navy"),
    ]
    assert rows(ws, "SELECT phone FROM contacts ORDER BY id") == [("+44 1",), (None,)]
    assert custom(ws) == [{"Team": "R&D"}, {}]
    assert rows(ws, "SELECT l.name, l.created_by, count(*) FROM lists l JOIN list_members m ON m.list_id = l.id") \
        == [("Leads", "you", 2)]


def test_utf16_with_bom_and_tabs(ws, tmp_path):
    f = write(tmp_path / "a.csv", "Given Name\tSurname\tWork Email\tOrganization\nJosé\tGarcía\tjose@ex.es\tÑandú SA\n",
              "utf-16")
    assert f.read_bytes()[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    assert import_json(ws, f)["imported"] == 1
    assert rows(ws) == [("José", "García", "jose@ex.es", None, "Ñandú SA")]


def test_cp1252_and_pipes(ws, tmp_path):
    f = write(tmp_path / "a.csv", "Name|Email|Title\nFrançois Müller|fm@ex.fr|Directeur € ventes\n", "cp1252")
    assert import_json(ws, f)["imported"] == 1
    assert rows(ws, "SELECT first_name, last_name, job_title FROM contacts") == [
        ("François", "Müller", "Directeur € ventes")]


def test_latin1_bytes_that_cp1252_cannot_decode(ws, tmp_path):
    # 0x81 is undefined in cp1252; the file must still import (as Latin-1), not crash.
    f = tmp_path / "a.csv"
    f.write_bytes(b"first name,email\nZo\xeb\x81,zoe@ex.com\n")
    assert import_json(ws, f)["imported"] == 1
    assert rows(ws, "SELECT first_name FROM contacts") == [("Zoë",)]  # the C1 control is stripped


def test_a_late_non_utf8_byte_is_not_a_crash_half_way(ws, tmp_path):
    lines = ["Email,Company"] + [f"p{i}@ex.com,Acme" for i in range(20_000)] + ["last@ex.com,Caf\xe9"]
    f = tmp_path / "a.csv"
    f.write_bytes("\n".join(lines).encode("latin-1"))
    assert import_json(ws, f)["imported"] == 20_001
    assert rows(ws, "SELECT company FROM contacts WHERE email = 'last@ex.com'") == [("Café",)]


# -- bad rows ------------------------------------------------------------------------


def test_bad_rows_are_reported_by_row_number_and_written_to_rejects(ws, tmp_path):
    f = write(tmp_path / "a.csv",
              "First Name,Last Name,Email,LinkedIn\n"
              "Ada,Lovelace,ada@ex.com,\n"           # 2 ok
              ",,,\n"                                 # 3 blank: not a row
              "Bob,,not-an-email,\n"                  # 4 invalid email
              ",,,\n"                                 # 5 blank
              "Carl,Sagan,carl@ex.com\n"              # 6 missing column
              "Dan,Brown,dan@ex.com,,surplus\n"       # 7 extra column with data
              "Eve,Online,eve@ex.com,,\n"             # 8 extra but empty: fine
              ",,,https://example.com/in/x\n"         # 9 not a LinkedIn URL
              ",,,\n"
              "  ,  ,  ,  \n"                         # 11 whitespace only: blank
              f"Fay,{'x' * 10_001},fay@ex.com,\n"     # 12 huge field
              "Gus,\"multi\nline\",,\n")             # 13 no email/url but a name: ok (quoted newline)
    rejects = tmp_path / "rejects.csv"
    out = import_json(ws, f, "Leads", "--rejects", str(rejects))
    assert out["imported"] == 3 and out["updated"] == 0 and out["skipped"] == 0
    assert [(e["row"], e["reason"].split(" ")[0]) for e in out["errors"]] == [
        (4, "invalid"), (6, "wrong"), (7, "wrong"), (9, "invalid"), (12, "field")]
    assert "LinkedIn" in out["errors"][3]["reason"] and "10,000" in out["errors"][4]["reason"]
    assert rows(ws, "SELECT first_name, last_name, email FROM contacts ORDER BY id") == [
        ("Ada", "Lovelace", "ada@ex.com"), ("Eve", "Online", "eve@ex.com"), ("Gus", "multi line", None)]
    with open(rejects, newline="", encoding="utf-8") as fh:
        written = list(csv.reader(fh))
    assert written[0] == ["row", "reason", "First Name", "Last Name", "Email", "LinkedIn"]
    assert [r[0] for r in written[1:]] == ["4", "6", "7", "9", "12"]
    assert written[1][2:] == ["Bob", "", "not-an-email", ""]


def test_a_row_with_nothing_to_identify_a_person(ws, tmp_path):
    f = write(tmp_path / "a.csv", "Email,Company,Phone\n,Acme,+1 555\nx@ex.com,Acme,\n")
    out = import_json(ws, f)
    assert out["imported"] == 1
    assert out["errors"] == [{"row": 2, "reason": "no email, LinkedIn URL or name"}]


def test_human_output_lists_errors_and_exit_code_is_zero(ws, tmp_path):
    f = write(tmp_path / "a.csv", "Email\nbad\nok@ex.com\n")
    r = enginy(ws, "contacts", "import", str(f), "--list", "L")
    assert r.returncode == 0, r.stderr
    assert "1 new" in r.stdout and "1 rejected" in r.stdout and "row 2: invalid email 'bad'" in r.stdout


# -- duplicates ----------------------------------------------------------------------


def test_duplicates_in_the_file_and_against_the_database_merge(ws, tmp_path):
    first = write(tmp_path / "a.csv",
                  "Full Name,Email,LinkedIn URL,Company,Source\n"
                  "Ada Lovelace,ada@ex.com,,,fair\n"
                  "Ada L.,ADA@ex.com,linkedin.com/in/ada,Analytical,\n"          # same email: fills gaps
                  "Someone,,https://de.linkedin.com/in/ADA/?x=1,Other,\n"         # same profile: nothing new
                  "Lovelace, Ada,,,,\n")                                         # wrong count (comma name)
    out = import_json(ws, first)
    assert (out["imported"], out["updated"], out["skipped"], len(out["errors"])) == (1, 1, 1, 1)
    assert rows(ws) == [("Ada", "Lovelace", "ada@ex.com", "https://www.linkedin.com/in/ada/", "Analytical")]
    assert custom(ws) == [{"Source": "fair"}]

    # The same file again into the same list: nothing changes.
    again = import_json(ws, first)
    assert (again["imported"], again["updated"], again["skipped"]) == (0, 0, 3)
    # Into another list: the contact is shared, not doubled.
    other = import_json(ws, first, "Second")
    assert (other["imported"], other["updated"], other["skipped"]) == (0, 1, 2)
    assert rows(ws, "SELECT count(*) FROM contacts") == [(1,)]
    assert rows(ws, "SELECT count(*) FROM list_members") == [(2,)]

    second = write(tmp_path / "b.csv", "email,linkedin,title,Source,Notes\n"
                   "new@ex.com,https://www.linkedin.com/in/ada/,CTO,web,hi\n")
    out = import_json(ws, second)
    assert (out["imported"], out["updated"], out["skipped"]) == (0, 1, 0)
    # Matched by profile: its existing email and custom value stay, the gaps are filled.
    assert rows(ws, "SELECT email, job_title FROM contacts") == [("ada@ex.com", "CTO")]
    assert custom(ws) == [{"Source": "fair", "Notes": "hi"}]


def test_duplicates_across_batches_of_a_large_file(ws, tmp_path):
    lines = ["Email,First Name"] + [f"p{i}@ex.com,P{i}" for i in range(12_000)] + ["P5@EX.COM,Again"]
    f = write(tmp_path / "a.csv", "\n".join(lines) + "\n")
    out = import_json(ws, f)
    assert (out["imported"], out["updated"], out["skipped"]) == (12_000, 0, 1)
    assert rows(ws, "SELECT first_name FROM contacts WHERE email = 'p5@ex.com'") == [("P5",)]


# -- hostile text --------------------------------------------------------------------


def test_terminal_escapes_and_markup_are_stored_verbatim_without_control_characters(ws, tmp_path):
    f = write(tmp_path / "a.csv", 'First Name,Company,Email,Notes\n'
              '"\x1b[31mRed\x1b[0m","[bold]Acme[/bold] \x07Inc","e@ex.com","line1\nline2\x1b"\n')
    assert import_json(ws, f)["imported"] == 1
    assert rows(ws, "SELECT first_name, company FROM contacts") == [("[31mRed[0m", "[bold]Acme[/bold] Inc")]
    assert custom(ws) == [{"Notes": "line1\nline2"}]
    listed = enginy(ws, "contacts", "list")
    assert "\x1b" not in listed.stdout and "[31mRed[0m" in listed.stdout


# -- not a CSV at all ----------------------------------------------------------------


def test_binary_garbage(ws, tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(os.urandom(4096) + b"\x00" * 10)
    fails_cleanly(ws, f, "binary")


def test_a_zip_renamed_to_csv(ws, tmp_path):
    import zipfile

    f = tmp_path / "leads.csv"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("x.csv", "Email\na@ex.com\n")
    fails_cleanly(ws, f, "binary")


def test_empty_file(ws, tmp_path):
    f = write(tmp_path / "a.csv", "")
    fails_cleanly(ws, f, "empty")
    f2 = write(tmp_path / "b.csv", "\n\n\n")
    fails_cleanly(ws, f2, "empty")


def test_no_header_row(ws, tmp_path):
    f = write(tmp_path / "a.csv", "ada@ex.com,Ada,Lovelace\ngrace@ex.com,Grace,Hopper\n")
    fails_cleanly(ws, f, "no usable header")


def test_missing_file(ws, tmp_path):
    fails_cleanly(ws, tmp_path / "nope.csv", "no such file")


def test_unclosed_quote_over_the_parse_limit_costs_its_row_only(ws, tmp_path):
    """The quote swallows more than the 10 MB a field may hold: its line is reported, every row after it is read."""
    f = tmp_path / "a.csv"
    with open(f, "w") as fh:
        fh.write("Email,Notes\nok@ex.com,fine\nbad@ex.com,\"never closed\n")
        for i in range(200_000):
            fh.write(f"p{i}@ex.com,filler filler filler filler filler filler filler\n")
    report = import_json(ws, f)
    assert report["imported"] == 200_001
    assert [e["row"] for e in report["errors"]] == [3] and "line 3" in report["errors"][0]["reason"]


def test_header_only_imports_nothing_successfully(ws, tmp_path):
    f = write(tmp_path / "a.csv", "Email,First Name\n")
    assert import_json(ws, f) == {"imported": 0, "updated": 0, "skipped": 0, "errors": []}


def test_no_workspace_is_one_line(tmp_path):
    f = write(tmp_path / "a.csv", "Email\na@ex.com\n")
    r = enginy(tmp_path / "nowhere", "contacts", "import", str(f), "--list", "L")
    assert r.returncode == 2 and "run `enginy init`" in r.stderr and "Traceback" not in r.stderr


# -- atomicity -----------------------------------------------------------------------


def test_kill_9_mid_import_leaves_nothing_or_everything(ws, tmp_path):
    f = tmp_path / "big.csv"
    n = 300_000
    with open(f, "w") as fh:
        fh.write("Email,First Name,Company\n")
        for i in range(n):
            fh.write(f"person{i}@example.com,P{i},Acme\n")
    proc = subprocess.Popen([*ENGINY, "--workspace", str(ws), "contacts", "import", str(f), "--list", "Big",
                             "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = ws / "enginy.db-wal"
    # Kill once the import has written pages (the WAL grows past its header) but not committed.
    wait_until(lambda: proc.poll() is not None or (wal.exists() and wal.stat().st_size > 1_000_000),
               timeout=60, interval=0.01, what="the import to write pages")
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed, "the import finished before it could be killed; make the file bigger"
    counts = rows(ws, "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM list_members),"
                      " (SELECT count(*) FROM lists)")
    assert counts in ([(0, 0, 0)], [(n, n, 1)])
    # And the workspace is usable afterwards: the same import now completes.
    out = import_json(ws, f, "Big")
    assert out["imported"] + out["skipped"] + out["updated"] == n
    assert rows(ws, "SELECT count(*) FROM contacts") == [(n,)]


# -- export, list, lists -------------------------------------------------------------


def test_export_reimports_to_the_same_contacts(ws, tmp_path):
    f = write(tmp_path / "a.csv", "First Name,Last Name,Email,LinkedIn,Company,Title,Phone,Region,Notes\n"
              'Ada,Lovelace,ada@ex.com,linkedin.com/in/ada,AE,Countess,+44,EU,"two\nlines"\n'
              "Grace,Hopper,,https://www.linkedin.com/in/grace/,Navy,,,US,\n")
    import_json(ws, f)
    out = tmp_path / "out.csv"
    r = enginy(ws, "contacts", "export", str(out), "--list", "Leads")
    assert r.returncode == 0, r.stderr
    assert "Exported 2 contacts" in r.stderr
    stdout_export = enginy(ws, "contacts", "export").stdout
    nowhere = enginy(ws, "contacts", "export", str(tmp_path / "no" / "such" / "dir.csv"))
    assert nowhere.returncode == 2 and "Traceback" not in nowhere.stderr
    assert enginy(ws, "contacts", "export", "x.csv", "--list", "Nope").returncode == 2
    assert stdout_export.replace("\r\n", "\n") == out.read_text(encoding="utf-8").replace("\r\n", "\n")

    other = tmp_path / "ws2"
    init_workspace(other).open_db().conn.close()
    assert import_json(other, out)["imported"] == 2
    query = "SELECT first_name, last_name, email, linkedin_url, company, job_title, phone FROM contacts ORDER BY id"
    assert rows(other, query) == rows(ws, query)
    assert custom(other) == custom(ws) == [{"Region": "EU", "Notes": "two\nlines"}, {"Region": "US"}]


def test_contacts_list_pages_and_searches(ws, tmp_path):
    lines = ["Email,First Name,Company"] + [f"p{i}@ex.com,P{i},{'Acme' if i % 2 else 'Globex_1%'}"
                                             for i in range(7)]
    import_json(ws, write(tmp_path / "a.csv", "\n".join(lines) + "\n"))
    seen, after = [], None
    while True:
        args = ["contacts", "list", "--json", "--limit", "3"] + (["--after", str(after)] if after else [])
        page = json.loads(enginy(ws, *args).stdout)
        seen += [c["email"] for c in page["contacts"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == [f"p{i}@ex.com" for i in range(7)]
    found = json.loads(enginy(ws, "contacts", "list", "--json", "--search", "globex_1%").stdout)["contacts"]
    assert [c["email"] for c in found] == ["p0@ex.com", "p2@ex.com", "p4@ex.com", "p6@ex.com"]
    # LIKE wildcards are literal: "_" must not match any character.
    assert json.loads(enginy(ws, "contacts", "list", "--json", "--search", "Globe_").stdout)["contacts"] == []


def test_lists_list_show_and_delete(ws, tmp_path):
    import_json(ws, write(tmp_path / "a.csv", "Email\na@ex.com\nb@ex.com\n"), "One")
    import_json(ws, write(tmp_path / "b.csv", "Email\nb@ex.com\n"), "Two")
    listed = json.loads(enginy(ws, "lists", "list", "--json").stdout)["lists"]
    assert [(x["name"], x["members"]) for x in listed] == [("Two", 1), ("One", 2)]
    shown = json.loads(enginy(ws, "lists", "show", "One", "--json").stdout)
    assert shown["members"] == 2 and [c["email"] for c in shown["contacts"]] == ["a@ex.com", "b@ex.com"]

    refused = enginy(ws, "lists", "delete", "One")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert enginy(ws, "lists", "delete", "Nope", "--yes").returncode == 2
    done = enginy(ws, "lists", "delete", "One", "--yes", "--json")
    assert json.loads(done.stdout) == {"deleted": "One", "members": 2}
    assert rows(ws, "SELECT count(*) FROM contacts") == [(2,)], "deleting a list keeps its contacts"
    assert [x["name"] for x in json.loads(enginy(ws, "lists", "list", "--json").stdout)["lists"]] == ["Two"]


# -- review fixes: duplicate-mapped columns, accents, blank rows, formula injection --


def test_two_columns_for_email_the_first_non_empty_one_wins(ws, tmp_path):
    f = write(tmp_path / "a.csv", "Email,Work Email,First Name\n"
              ",ada@ex.com,Ada\n"                       # empty first column: the second one is the address
              "grace@ex.com,grace@navy.mil,Grace\n"     # both set and different: the other is kept as custom
              "linus@ex.com,linus@ex.com,Linus\n")      # both the same: nothing extra
    assert import_json(ws, f)["imported"] == 3
    assert rows(ws, "SELECT email FROM contacts ORDER BY id") == [("ada@ex.com",), ("grace@ex.com",), ("linus@ex.com",)]
    assert custom(ws) == [{}, {"Work Email": "grace@navy.mil"}, {}]
    # And so the duplicate check sees Ada's address.
    again = write(tmp_path / "b.csv", "Email,First Name\nADA@ex.com,Ada\n")
    assert (import_json(ws, again)["imported"], rows(ws, "SELECT count(*) FROM contacts")) == (0, [(3,)])


@pytest.mark.parametrize("header, encoding", [
    ("Prénom;Nom;Société;Adresse e-mail;Téléphone;Poste", "utf-8"),
    ("Prénom;Nom;Entreprise;Courriel;Téléphone;Poste", "cp1252"),
    ("Nombre;Apellidos;Empresa;Correo electrónico;Teléfono;Cargo", "utf-8"),
    ("Vorname;Nachname;Unternehmen;E-Mail;Telefon;Position", "utf-8"),
    ("Nome;Sobrenome;Empresa;E-mail;Telefone;Cargo", "utf-8-sig"),
])
def test_accented_and_non_english_headers_are_recognised(ws, tmp_path, header, encoding):
    f = write(tmp_path / "a.csv", f"{header}\nAda;Lovelace;AE;ada@ex.com;+44 1;Comtesse\n", encoding)
    assert import_json(ws, f)["imported"] == 1
    assert rows(ws, "SELECT first_name, last_name, company, email, phone, job_title, custom FROM contacts") == [
        ("Ada", "Lovelace", "AE", "ada@ex.com", "+44 1", "Comtesse", "{}")]


def test_rows_of_only_delimiters_are_ignored_and_not_counted(ws, tmp_path):
    f = write(tmp_path / "a.csv", "Email,First Name,Company\n,,\nada@ex.com,Ada,\n , ,\n,,,,\n\nnot-an-email,B,\n,,\n")
    out = import_json(ws, f)
    assert (out["imported"], out["updated"], out["skipped"]) == (1, 0, 0)
    assert out["errors"] == [{"row": 7, "reason": "invalid email 'not-an-email'"}]  # row numbers still count them
    helptext = " ".join(enginy(ws, "contacts", "import", "--help").stdout.split())
    assert "Blank rows are ignored and not counted" in helptext


def test_export_defuses_spreadsheet_formulas_and_reimports_to_the_same_values(ws, tmp_path):
    f = write(tmp_path / "a.csv", "First Name,Last Name,Email,Company,Title,Phone,Notes\n"
              '"=HYPERLINK(""http://evil/"",""x"")",-Lovelace,ada@ex.com,+Acme,@lead,+44 20,=1+1\n'
              "Grace,'90s,grace@ex.com,'quoted,plain,,-\n")
    import_json(ws, f)
    out = tmp_path / "out.csv"
    assert enginy(ws, "contacts", "export", str(out)).returncode == 0
    with open(out, newline="", encoding="utf-8") as fh:
        exported = list(csv.reader(fh))
    assert exported[1][:4] == ["'=HYPERLINK(\"http://evil/\",\"x\")", "'-Lovelace", "'+Acme", "'@lead"]
    assert exported[0][6:] == ["Phone", "Timezone", "Notes"]
    assert exported[1][6:] == ["'+44 20", "", "'=1+1"]
    assert exported[2][:4] == ["Grace", "'90s", "'quoted", "plain"]  # a quote before anything else is text
    formula_starts = ("=", "+", "-", "@", "\t", "\r")
    assert not any(cell.startswith(formula_starts) for record in exported for cell in record)

    other = tmp_path / "ws2"
    init_workspace(other).open_db().conn.close()
    assert import_json(other, out)["imported"] == 2
    query = "SELECT first_name, last_name, email, company, job_title, phone, custom FROM contacts ORDER BY id"
    assert rows(other, query) == rows(ws, query)
    assert rows(ws, "SELECT first_name, last_name, company FROM contacts ORDER BY id")[0] == (
        '=HYPERLINK("http://evil/","x")', "-Lovelace", "+Acme")


def test_bulk_path_with_rebuilt_indexes_gives_the_same_result_as_the_row_by_row_path(tmp_path, monkeypatch):
    """Big imports drop and re-create the contacts indexes; small ones keep them — same outcome either way.

    And the in-file duplicate detector may over-report (hash collisions): with
    an 8-slot table every row takes the exact merge path, still the same outcome.
    """
    import storage.contact_import as ci
    from datetime import datetime, timezone

    now = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
    existing = write(tmp_path / "old.csv", "Email,LinkedIn,First Name\nold@ex.com,,Old\n,linkedin.com/in/known,Known\n")
    lines = ["Email,LinkedIn,First Name,Company,Notes"]
    for i in range(300):
        lines.append(f"p{i}@ex.com,linkedin.com/in/p{i},P{i},,n{i}")
    lines += ["OLD@ex.com,,,OldCo,",                     # matches an existing contact: fills company
              "new@ex.com,https://uk.linkedin.com/in/KNOWN,,KnownCo,",  # matches by profile: fills email
              "p7@ex.com,,Again,,extra",                 # in-file duplicate, nothing new (name and Notes are set)
              "p8@ex.com,,,Late Co,",                    # in-file duplicate that fills a gap
              ",,Nameless,,", "bad,,X,,"]
    big = write(tmp_path / "big.csv", "\n".join(lines) + "\n")

    def run(threshold: int, slots: int | None = None):
        monkeypatch.setattr(ci, "REBUILD_MIN_ROWS", threshold)
        if slots:
            monkeypatch.setattr(ci._SeenTwice, "MIN_BITS", slots)
            monkeypatch.setattr(ci._SeenTwice, "MAX_BITS", slots)
        db = init_workspace(tmp_path / f"ws{threshold}-{slots}").open_db()
        ci.import_contacts(db, existing, list_name="Old", now=now)
        indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'contacts' ORDER BY name").fetchall()
        report = ci.import_contacts(db, big, list_name="Big", now=now).report()
        state = [db.execute(q).fetchall() for q in (
            "SELECT * FROM contacts ORDER BY id", "SELECT * FROM list_members ORDER BY list_id, contact_id")]
        assert db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'contacts' ORDER BY name"
                          ).fetchall() == indexes
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.conn.close()
        return report, state

    rebuilt, kept, colliding = run(0), run(10**9), run(0, slots=8)
    assert rebuilt == kept == colliding
    report, (contacts, members) = rebuilt
    assert (report["imported"], report["updated"], report["skipped"]) == (301, 3, 1)
    assert report["errors"] == [{"row": 307, "reason": "invalid email 'bad'"}]
    emails = [c[7] for c in contacts]
    assert emails[:2] == ["old@ex.com", "new@ex.com"] and emails[2:5] == ["p0@ex.com", "p1@ex.com", "p2@ex.com"]
    assert [c[1] for c in contacts][-1] == "Nameless"  # new contacts keep the file's order
    assert len(members) == 2 + 303
