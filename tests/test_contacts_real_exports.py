"""Files exported by the tools users come from import with no hand mapping; --map and --dry-run.

The samples in tests/data/exports/ have the real header, preamble, encoding,
delimiter and quoting of each tool's export (see its README.md for where
each shape comes from) with made-up people. Each test imports one as it is
and checks the names, emails, the person's LinkedIn URL (never the
company's page) and the company that landed in the database.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from storage.contact_import import import_contacts, preview_file
from storage.db import open_db
from storage.import_mapping import MappingError, detect
from tests.test_contacts_import import enginy, import_json, rows

EXPORTS = Path(__file__).parent / "data" / "exports"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

EXPECTED = {
    "linkedin_connections.csv": [
        ("Maren", "Lindqvist", None, "https://www.linkedin.com/in/maren-lindqvist-4a7b21/", "Nordlys Analytics"),
        ("Tomasz", "Wierzbicki", "tomasz.w@example.org", "https://www.linkedin.com/in/twierzbicki/",
         "Wierzbicki & Syn, sp. z o.o."),
        ("Aïcha", "Benali", None, "https://www.linkedin.com/in/aicha-benali-92b3/", 'Atelier "Lumière"'),
        ("", "", None, "https://www.linkedin.com/in/hidden-member-77/", ""),
    ],
    "apollo_people.csv": [
        ("Priya", "Raman", "priya.raman@quillfeather.example", "https://www.linkedin.com/in/priyaraman/",
         "Quillfeather Software"),
        ("Jonas", "Feld", "jonas@feldwerk.example", "https://www.linkedin.com/in/jonas-feld-1b2c3d/", "Feldwerk GmbH"),
        ("Lena", "Osei", None, "https://www.linkedin.com/in/lenaosei/", "Brightwell Labs"),
    ],
    "hubspot_contacts.csv": [
        ("Camille", "Durand", "camille.durand@verrerie-durand.example", None, "Verrerie Durand"),
        ("Mateo", "García", "mateo@solnorte.example", None, "Sol Norte Energía"),
        ("Hannah", "O'Brien", "hannah.obrien@example.com", None, ""),
    ],
    "salesforce_contacts_report.csv": [
        ("Grace", "Okafor", "grace.okafor@okaforlogistics.example", None, "Okafor Logistics Ltd"),
        ("Yuki", "Tanaka", "y.tanaka@kumo.example", None, "Kumo Systems KK"),
    ],
    "phantombuster_sales_navigator.csv": [
        ("Sofia", "Marchetti", None, "https://www.linkedin.com/in/acwaab1xyzqbk2mvtpq9/", "Marchetti Forniture S.r.l."),
        ("Daniel", "Kovač", None, "https://www.linkedin.com/in/acwaac7plmraq0on2bwe/", "Adria Freight d.o.o."),
    ],
    "evaboot_sales_navigator.csv": [
        ("Noor", "Haddad", "noor.haddad@cedarpay.example", "https://www.linkedin.com/in/noor-haddad/", "CedarPay"),
        ("Oliver", "Brandt", None, "https://www.linkedin.com/in/oliver-brandt-5c6d/", "Brandt Maschinenbau AG"),
    ],
    "lemlist_leads.csv": [
        ("Inès", "Moreau", "ines.moreau@fromagerie-moreau.example", "https://www.linkedin.com/in/ines-moreau/",
         "Fromagerie Moreau"),
        ("Kwame", "Asante", "kwame@asantebuild.example", "https://www.linkedin.com/in/kwame-asante-78/", "Asante Build"),
    ],
    "instantly_leads.csv": [
        ("Rosa", "Lind", "rosa.lind@tallgrass.example", "https://www.linkedin.com/in/rosalind-tg/", "Tallgrass Outdoor"),
        ("Peter", "Bauer", "pbauer@kessel-werk.example", None, "Kesselwerk"),
    ],
    "excel_de_semicolon.csv": [
        ("Jürgen", "Weiß", "juergen.weiss@baeckerei-weiss.example", "https://www.linkedin.com/in/juergen-weiss/",
         "Bäckerei Weiß GmbH"),
        ("Åsa", "Ström", "asa.strom@example.se", None, "Ström & Söner AB"),
    ],
    "excel_unicode_text.txt": [
        ("Hiroshi", "Sato", "h.sato@sakura-tec.example", "https://www.linkedin.com/in/hiroshi-sato-jp/", "桜テック株式会社"),
        ("Zofia", "Łukasiewicz", "zofia@lukasiewicz.example", "https://www.linkedin.com/in/zofia-lukasiewicz/",
         "Łukasiewicz Sp. J."),
    ],
}

SQL = "SELECT first_name, last_name, email, linkedin_url, company FROM contacts ORDER BY id"


def test_every_sample_has_an_expectation_and_a_readme_entry():
    samples = {p.name for p in EXPORTS.iterdir() if p.name != "README.md"}
    assert samples == set(EXPECTED)
    readme = (EXPORTS / "README.md").read_text()
    for name in samples:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_export_imports_with_no_hand_mapping(ws, name):
    db = open_db(ws / "enginy.db")
    result = import_contacts(db, EXPORTS / name, list_name="Leads", now=NOW)
    assert result.errors == [] and result.error_count == 0
    assert result.imported == len(EXPECTED[name])
    got = [tuple(r) for r in db.execute(SQL).fetchall()]
    assert got == EXPECTED[name]


def test_the_company_linkedin_page_and_the_sales_navigator_link_are_kept_as_custom_fields(ws):
    db = open_db(ws / "enginy.db")
    import_contacts(db, EXPORTS / "phantombuster_sales_navigator.csv", list_name="Leads", now=NOW)
    import_contacts(db, EXPORTS / "apollo_people.csv", list_name="Leads", now=NOW)
    customs = [json.loads(r[0]) for r in db.execute("SELECT custom FROM contacts ORDER BY id")]
    assert customs[0]["profileUrl"].startswith("https://www.linkedin.com/sales/lead/ACwAAB1x")
    assert customs[0]["regularCompanyUrl"] == "https://www.linkedin.com/company/10492817"
    assert customs[2]["Company Linkedin Url"] == "http://www.linkedin.com/company/quillfeather"
    assert "linkedin.com/company" not in str(db.execute("SELECT group_concat(linkedin_url) FROM contacts").fetchone())


def test_linkedin_preamble_rows_keep_spreadsheet_row_numbers(ws, tmp_path):
    text = (EXPORTS / "linkedin_connections.csv").read_text() + "Bad,Row,https://www.linkedin.com/in/x,not-an-email,,,\n"
    f = tmp_path / "Connections.csv"
    f.write_text(text)
    result = import_contacts(open_db(ws / "enginy.db"), f, list_name="Leads", now=NOW)
    # Notes:, the paragraph and the blank line are rows 1-3, the header row 4, four people rows 5-8.
    assert [(e.row, e.reason) for e in result.errors] == [(9, "invalid email 'not-an-email'")]


def test_detect_tells_a_person_linkedin_column_from_a_company_one():
    header = ["Name", "LinkedIn", "Profile link", "Company LinkedIn"]
    rows = [["Ada L", "https://www.linkedin.com/company/acme", "https://www.linkedin.com/in/ada", ""]]
    assert detect(header, rows) == ["full_name", "custom", "linkedin_url", "custom"]


def test_preview_shows_columns_samples_and_rows():
    found = preview_file(EXPORTS / "linkedin_connections.csv")
    assert found.rows == 4 and found.header_row == 4 and found.delimiter == ","
    url = next(c for c in found.columns if c.name == "URL")
    assert url.target == "linkedin_url" and url.samples[0] == "https://www.linkedin.com/in/maren-lindqvist-4a7b21"
    assert next(c for c in found.columns if c.name == "Connected On").target == "custom"


def test_unknown_mapping_column_or_field_is_a_clear_error():
    with pytest.raises(MappingError, match="no column 'Emial' in the file; its columns: 'Record ID', 'First Name'"):
        preview_file(EXPORTS / "hubspot_contacts.csv", {"Emial": "email"})
    with pytest.raises(MappingError, match="unknown field 'emial'"):
        preview_file(EXPORTS / "hubspot_contacts.csv", {"Email": "emial"})


# -- through the CLI ---------------------------------------------------------------


def test_cli_map_changes_a_column_and_skips_another(ws, tmp_path):
    f = tmp_path / "odd.csv"
    f.write_text("Who,Reach me,Employer,Secret\nAda Lovelace,ada@example.com,Engines,x\n")
    out = import_json(ws, f, "Leads", "--map", "Who=full_name", "--map", "Reach me=email",
                      "--map", "4=skip")
    assert out == {"imported": 1, "updated": 0, "skipped": 0, "errors": []}
    assert rows(ws) == [("Ada", "Lovelace", "ada@example.com", None, "Engines")]
    assert rows(ws, "SELECT custom FROM contacts") == [("{}",)]


@pytest.mark.parametrize("option, message", [
    ("Nope=email", "no column 'Nope' in the file"),
    ("Who=favourite_colour", "unknown field 'favourite_colour'"),
    ("Who", "write it as COLUMN=FIELD"),
])
def test_cli_map_errors_are_one_line_and_import_nothing(ws, tmp_path, option, message):
    f = tmp_path / "odd.csv"
    f.write_text("Who,Email\nAda,ada@example.com\n")
    r = enginy(ws, "contacts", "import", str(f), "--list", "Leads", "--map", option)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr
    assert rows(ws, "SELECT count(*) FROM contacts") == [(0,)]
    assert rows(ws, "SELECT count(*) FROM lists") == [(0,)]


def test_cli_dry_run_reports_the_counts_and_writes_nothing(ws, tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("Email,First Name\nada@example.com,Ada\nada@example.com,Ada\nbad-email,Bob\n")
    out = import_json(ws, f, "Leads", "--dry-run")
    assert out == {"imported": 1, "updated": 0, "skipped": 1,
                   "errors": [{"row": 4, "reason": "invalid email 'bad-email'"}]}
    assert rows(ws, "SELECT count(*) FROM contacts") == [(0,)]
    assert rows(ws, "SELECT count(*) FROM lists") == [(0,)]
    assert import_json(ws, f, "Leads")["imported"] == 1


def test_cli_columns_shows_the_detected_mapping(ws):
    r = enginy(ws, "contacts", "columns", str(EXPORTS / "apollo_people.csv"), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    fields = {c["name"]: c["field"] for c in doc["columns"]}
    assert doc["rows"] == 3
    assert fields["Person Linkedin Url"] == "linkedin_url" and fields["Company Linkedin Url"] == "custom"
    assert fields["Company"] == "company" and fields["Title"] == "job_title"


def test_real_export_through_the_cli(ws):
    out = import_json(ws, EXPORTS / "linkedin_connections.csv")
    assert out == {"imported": 4, "updated": 0, "skipped": 0, "errors": []}
    conn = sqlite3.connect(ws / "enginy.db")
    assert conn.execute("SELECT count(*) FROM list_members").fetchone() == (4,)
