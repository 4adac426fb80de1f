"""Word index over contact emails, job titles, LinkedIn URLs and phones, for the Contacts screen's search.

Why: the Contacts screen searches every field, and m041's word index covers
names and company only, so a rare search ("lead-777777", a colleague's email)
walked a million contacts with LIKE: ~460 ms a page, again for the next page.
With this index storage/contacts_view.py starts a rare search from the
contacts whose words start with the typed words (as storage/search.py does for
the audience), a few milliseconds; dense ones still walk in id order.

unicode61 splits "ada.lovelace@example.com" into ada / lovelace / example /
com and a URL into its path's words, so a search for any of them finds the
contact. `detail=none, columnsize=0`: only which contacts have which words
(the queries are single-word prefix terms joined by AND), about a third of
the size of a full index. External content and triggers as in m041: whoever
writes contacts need not know it exists; storage/bulk_load.py rebuilds it
once after a bulk insert.
"""

STATEMENTS = (
    """
CREATE VIRTUAL TABLE contact_details USING fts5(
    email, job_title, linkedin_url, phone,
    content='contacts', content_rowid='id', detail=none, columnsize=0
)
""",
    """
CREATE TRIGGER contact_details_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contact_details (rowid, email, job_title, linkedin_url, phone)
    VALUES (new.id, new.email, new.job_title, new.linkedin_url, new.phone);
END
""",
    """
CREATE TRIGGER contact_details_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contact_details (contact_details, rowid, email, job_title, linkedin_url, phone)
    VALUES ('delete', old.id, old.email, old.job_title, old.linkedin_url, old.phone);
END
""",
    """
CREATE TRIGGER contact_details_update AFTER UPDATE OF email, job_title, linkedin_url, phone ON contacts BEGIN
    INSERT INTO contact_details (contact_details, rowid, email, job_title, linkedin_url, phone)
    VALUES ('delete', old.id, old.email, old.job_title, old.linkedin_url, old.phone);
    INSERT INTO contact_details (rowid, email, job_title, linkedin_url, phone)
    VALUES (new.id, new.email, new.job_title, new.linkedin_url, new.phone);
END
""",
    "INSERT INTO contact_details (contact_details) VALUES ('rebuild')",
)


def migrate(db) -> None:
    for statement in STATEMENTS:
        db.conn.execute(statement)
