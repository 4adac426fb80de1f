"""Typed records, keyset paging, value normal forms and the blocklist."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.blocklist import BlockValueError, add_block, blocklist_page, is_blocked, remove_block
from storage.campaign_setup import ListFilter, pick_lists
from storage.contact_fields import clean_line, field_for, normalise_email, normalise_linkedin, split_full_name
from storage.contacts import contacts_page, delete_list, ensure_list, find_contact
from storage.db import connect, migrate, open_db, transaction
from storage.paging import iterate, page
from storage.records import RECORDS, Activity, Contact, Enrollment, Identity

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
STAMP = NOW.isoformat()


@pytest.fixture
def db():
    return open_db(":memory:")


def test_every_m001_column_has_a_field_and_every_field_a_column():
    m001 = connect(":memory:")
    migrate(m001, upto="m001_initial")
    current = open_db(":memory:")
    tables = {r.__table__ for r in RECORDS}
    assert tables == set(m001.table_names()) - {"_migrations"}
    for record in RECORDS:
        fields = set(record.columns())
        assert {c.name for c in m001[record.__table__].columns} <= fields, record.__name__
        assert fields <= {c.name for c in current[record.__table__].columns}, record.__name__


def test_rows_round_trip_with_typed_values(db):
    identity = Identity(name="Ida", premium=True, settings={"signature": "x"}, created_at=STAMP, updated_at=STAMP)
    db["identities"].insert(identity.to_row())
    back = Identity.from_row(next(db.query("SELECT * FROM identities")))
    assert back.premium is True and back.withdraw_enabled is True and back.settings == {"signature": "x"}
    assert back.id == 1 and msgspec_equal(back, identity, ignore={"id"})

    contact = Contact(first_name="Ada", email="ada@ex.com", custom={"k": "v"}, created_at=STAMP, updated_at=STAMP)
    db["contacts"].insert(contact.to_row())
    assert Contact.from_row(next(db.query("SELECT * FROM contacts"))).custom == {"k": "v"}


def test_from_row_rejects_a_malformed_row():
    import msgspec

    with pytest.raises(msgspec.ValidationError):
        Enrollment.from_row({"id": 1, "campaign_id": "not a number", "contact_id": 1,
                             "enrolled_at": STAMP, "updated_at": STAMP})
    with pytest.raises(msgspec.ValidationError):
        Activity.from_row({"at": STAMP})  # kind is required


def msgspec_equal(a, b, ignore: set[str]) -> bool:
    da, db_ = a.to_row(), b.to_row()
    return {k: v for k, v in da.items() if k not in ignore} == {k: v for k, v in db_.items() if k not in ignore}


# -- keyset paging -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(companies=st.lists(st.sampled_from(["", "Acme", "Globex", "acme", "Zed"]), max_size=40),
       limit=st.integers(1, 7), descending=st.booleans())
def test_pages_cover_every_row_once_in_order(companies, limit, descending):
    db = open_db(":memory:")
    with transaction(db):
        for i, company in enumerate(companies):
            db.execute("INSERT INTO contacts (company, created_at, updated_at) VALUES (?, ?, ?)",
                       [company, STAMP, STAMP])
    expected = sorted(((c, i + 1) for i, c in enumerate(companies)), reverse=descending)
    seen, after = [], None
    while True:
        result = page(db, "contacts", key="company", after=after, limit=limit, descending=descending)
        assert len(result.rows) <= limit
        seen += [(r["company"], r["id"]) for r in result.rows]
        if result.after is None:
            break
        after = result.after
    assert seen == expected
    assert [(r["company"], r["id"]) for r in iterate(db, "contacts", key="company", limit=limit,
                                                      descending=descending)] == expected


def test_paging_never_uses_offset(db):
    traced = []
    db.conn.set_trace_callback(traced.append)
    list(iterate(db, "contacts", limit=2))
    contacts_page(db, search="x")
    assert traced and not any("OFFSET" in sql.upper() for sql in traced)


def test_contacts_page_filters_by_list_and_search(db):
    one = ensure_list(db, "One", now=NOW)
    with transaction(db):
        for i, name in enumerate(["Ada", "Bob", "100%", "Ada2"]):
            db.execute("INSERT INTO contacts (first_name, created_at, updated_at) VALUES (?, ?, ?)", [name, STAMP, STAMP])
            if i % 2 == 0:
                db.execute("INSERT INTO list_members VALUES (?, ?, ?)", [one, i + 1, STAMP])
    assert [c.first_name for c in contacts_page(db, list_id=one).rows] == ["Ada", "100%"]
    assert [c.first_name for c in contacts_page(db, search="ada").rows] == ["Ada", "Ada2"]
    assert [c.first_name for c in contacts_page(db, search="0%").rows] == ["100%"]
    assert [c.first_name for c in contacts_page(db, search="ada", list_id=one).rows] == ["Ada"]
    assert ensure_list(db, "One", now=NOW) == one
    assert [r["members"] for r in pick_lists(db, ListFilter())] == [2]
    assert delete_list(db, "One") == 2 and db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 4
    with pytest.raises(KeyError):
        delete_list(db, "One")


# -- value normal forms --------------------------------------------------------------


@pytest.mark.parametrize("header, field", [
    ("First Name", "first_name"), ("firstname", "first_name"), ("Given name", "first_name"),
    ("LAST_NAME", "last_name"), ("Full Name", "full_name"), ("Name", "full_name"),
    ("Company", "company"), ("Company Name", "company"), ("Organization", "company"),
    ("Email", "email"), ("E-mail", "email"), ("Work Email", "email"), ("Professional Email", "email"),
    ("LinkedIn", "linkedin_url"), ("LinkedIn URL", "linkedin_url"), ("Profile URL", "linkedin_url"),
    ("Phone", "phone"), ("Mobile", "phone"), ("Mobile Phone", "phone"),
    ("Title", "job_title"), ("Job Title", "job_title"), ("Position", "job_title"),
    ("Favourite colour", None),
])
def test_header_aliases(header, field):
    assert field_for(header) == field


@pytest.mark.parametrize("raw, url", [
    ("linkedin.com/in/Ada-L", "https://www.linkedin.com/in/ada-l/"),
    ("http://uk.linkedin.com/in/ada-l?trk=abc#x", "https://www.linkedin.com/in/ada-l/"),
    ("https://www.linkedin.com/in/ada-l/details/experience/", "https://www.linkedin.com/in/ada-l/"),
    ("https://de.linkedin.com/in/j%C3%BCrgen/", "https://www.linkedin.com/in/j%C3%BCrgen/"),
    ("https://www.linkedin.com/in/JÜRGEN", "https://www.linkedin.com/in/j%C3%BCrgen/"),
    ("https://www.linkedin.com/sales/lead/ACwAA,NAME_SEARCH?x=1", "https://www.linkedin.com/sales/lead/ACwAA,NAME_SEARCH/"),
    ("https://www.linkedin.com/company/acme", None),
    ("https://notlinkedin.com/in/x", None),
    ("ada-l", None),
])
def test_linkedin_urls(raw, url):
    assert normalise_linkedin(raw) == url


@pytest.mark.parametrize("raw, email", [
    (" Ada@Example.COM ", "ada@example.com"), ("mailto:a@b.co", "a@b.co"), ("<a.b+c@x.io>", "a.b+c@x.io"),
    ("a@b", None), ("a@@b.com", None), ("a..b@x.com", None), ("a b@x.com", None), ("", None),
])
def test_emails(raw, email):
    assert normalise_email(raw) == email


def test_text_cleaning_and_names():
    assert clean_line("\x1b[31mRed\x1b[0m\r\n [b]x[/b]\u202e") == "[31mRed[0m [b]x[/b]"
    assert split_full_name("Ada King Lovelace") == ("Ada", "King Lovelace")
    assert split_full_name("Lovelace, Ada") == ("Ada", "Lovelace")


# -- blocklist -----------------------------------------------------------------------


def test_blocklist_entries_are_normalised_and_matched(db):
    add_block(db, "domain", "@Spam.example", now=NOW, reason="spam")
    add_block(db, "company", " Globex ", now=NOW)
    add_block(db, "lead", "https://uk.linkedin.com/in/Bob?x", now=NOW)
    add_block(db, "lead", "https://uk.linkedin.com/in/Bob?x", now=NOW)  # twice is fine
    assert [(e.kind, e.value) for e in blocklist_page(db).rows] == [
        ("domain", "spam.example"), ("company", "globex"), ("lead", "https://www.linkedin.com/in/bob/")]
    blocked = [
        Contact(email="x@SPAM.example", created_at=STAMP, updated_at=STAMP),
        Contact(company="GLOBEX", created_at=STAMP, updated_at=STAMP),
        Contact(linkedin_url="https://www.linkedin.com/in/bob/", created_at=STAMP, updated_at=STAMP),
    ]
    assert all(is_blocked(db, c) for c in blocked)
    assert not is_blocked(db, Contact(email="x@ok.example", company="Acme", created_at=STAMP, updated_at=STAMP))
    assert remove_block(db, "company", "globex") and not remove_block(db, "company", "globex")
    with pytest.raises(BlockValueError):
        add_block(db, "email", "nope", now=NOW)
    with pytest.raises(BlockValueError):
        add_block(db, "lead", "just a name", now=NOW)


def test_campaign_enrolment_honours_the_entries_added_here(db):
    """storage.audience compares the stored forms; each kind added here must block enrolment there."""
    from storage.audience import add_contacts

    add_block(db, "email", "Ada@Ex.com", now=NOW)
    add_block(db, "domain", "spam.example", now=NOW)
    add_block(db, "company", "Globex", now=NOW)
    add_block(db, "lead", "linkedin.com/in/Bob", now=NOW)
    people = [("ada@ex.com", None, ""), ("x@spam.example", None, ""), (None, None, "GLOBEX"),
              (None, "https://www.linkedin.com/in/bob/", ""), ("ok@fine.example", None, "Acme")]
    with transaction(db):
        for email, url, company in people:
            db.execute("INSERT INTO contacts (email, linkedin_url, company, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?, ?)", [email, url, company, STAMP, STAMP])
        db.execute("INSERT INTO identities (id, name, created_at, updated_at) VALUES (1, 'Ida', ?, ?)", [STAMP, STAMP])
        db.execute("INSERT INTO campaigns (id, name, identity_id, sequence, created_at, updated_at)"
                   " VALUES (1, 'C', 1, '{}', ?, ?)", [STAMP, STAMP])
    report = add_contacts(db, 1, [1, 2, 3, 4, 5], now=NOW, actor="you")
    assert (report.blocklisted, report.added) == (4, 1)
    assert [is_blocked(db, find_contact(db, email=e, linkedin_url=u) or Contact(company=c, created_at=STAMP,
                                                                                  updated_at=STAMP))
            for e, u, c in people] == [True, True, True, True, False]
